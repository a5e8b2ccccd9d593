// Production sign-in: the OpenID Connect authorization code flow with PKCE, state and nonce,
// through openid-client (discovery, the code exchange and the ID token's checks are its own). The
// user's roles come from a groups claim of the ID token (OIDC_GROUPS_CLAIM): a user in none of the
// configured groups (developer, supervisor, dialer) is refused. The provider's issuer must be
// https, except on this machine.
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import type { ConsoleUser } from './auth.js';
import { rolesFromGroups } from './auth.js';
import type { OidcSettings } from './config.js';
import { isLoopbackHost } from '../sip/livekit/server-target.js';

export const FLOW_COOKIE = 'callbridge_console_signin';
const FLOW_SECONDS = 600;

interface PendingSignIn {
  verifier: string;
  state: string;
  nonce: string;
  expiresAt: number;
}

export class OidcSignIn {
  private config: oidc.Configuration | undefined;
  private readonly pending = new Map<string, PendingSignIn>();

  constructor(private readonly settings: OidcSettings) {}

  private async configuration(): Promise<oidc.Configuration> {
    if (this.config) return this.config;
    const { issuer, clientId, clientSecret } = this.settings;
    const local = isLoopbackHost(issuer.hostname);
    if (issuer.protocol !== 'https:' && !local) {
      throw new Error(`OIDC_ISSUER_URL must be https:// (${issuer.hostname})`);
    }
    this.config = await oidc.discovery(issuer, clientId, clientSecret, undefined, {
      execute: local ? [oidc.allowInsecureRequests] : [],
    });
    return this.config;
  }

  /** Where to send the browser, and the flow id to keep in a short-lived cookie. */
  async start(): Promise<{ redirect: URL; flowId: string; maxAgeSeconds: number }> {
    const config = await this.configuration();
    const verifier = oidc.randomPKCECodeVerifier();
    const flow: PendingSignIn = {
      verifier,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      expiresAt: Date.now() + FLOW_SECONDS * 1000,
    };
    const flowId = randomBytes(24).toString('base64url');
    for (const [k, p] of this.pending) if (p.expiresAt <= Date.now()) this.pending.delete(k);
    this.pending.set(flowId, flow);
    const redirect = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri.href,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    return { redirect, flowId, maxAgeSeconds: FLOW_SECONDS };
  }

  /**
   * Completes a sign-in from the provider's redirect back (`callbackUrl`, with its code and
   * state): the user, or an Error whose message says why not (never a secret).
   */
  async finish(flowId: string | undefined, callbackUrl: URL): Promise<ConsoleUser> {
    const flow = flowId ? this.pending.get(flowId) : undefined;
    if (flowId) this.pending.delete(flowId);
    if (!flow || flow.expiresAt <= Date.now()) throw new Error('sign-in expired; start again');
    const config = await this.configuration();
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error('the provider sent no ID token');
    const s = this.settings;
    const roles = rolesFromGroups(claims[s.groupsClaim], {
      developer: s.developerGroup,
      supervisor: s.supervisorGroup,
      dialer: s.dialerGroup,
    });
    if (roles.length === 0) throw new Error('this account is in no console group');
    const name = [claims.name, claims.email, claims.sub].find((v) => typeof v === 'string');
    return { id: claims.sub, name: String(name), roles };
  }
}
