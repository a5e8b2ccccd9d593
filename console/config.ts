// The operator console's configuration: read once at start from the environment, validated,
// typed. A missing or malformed variable stops start-up with a message naming it. Secrets (the
// LiveKit API secret, the OpenID Connect client secret) stay on the server and are never logged.
import * as z from 'zod';
import { DEFAULT_AGENT_NAME } from '../contracts/ids.js';
import { LogLevel, loggingEnv } from '../otel/logging.js';
import { isLoopbackHost } from '../sip/livekit/server-target.js';

export class ConsoleConfigError extends Error {
  override name = 'ConsoleConfigError';
}

const seconds = (min: number, max: number, dflt: number) =>
  z.coerce.number().int().min(min).max(max).default(dflt);

/** The variables the console reads (docs/console.md lists each). */
export const consoleEnvSchema = z.object({
  /** `local`: one-time links printed by the command, loopback only; `oidc`: an OpenID provider. */
  CONSOLE_AUTH: z.enum(['local', 'oidc']).default('local'),
  CONSOLE_HOST: z.string().min(1).default('127.0.0.1'),
  CONSOLE_PORT: z.coerce.number().int().min(0).max(65535).default(7890),
  /** The console's address as browsers reach it (https in production): OIDC's redirect URI. */
  CONSOLE_PUBLIC_URL: z.url().optional(),
  /** How long a sign-in lasts. */
  CONSOLE_SESSION_SECONDS: seconds(60, 86_400, 8 * 3600),
  /** The lifetime of each LiveKit token the console mints: enough to join, not to keep. */
  CONSOLE_TOKEN_TTL_SECONDS: seconds(10, 3600, 120),
  OIDC_ISSUER_URL: z.url().optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** The ID token claim that lists the user's groups. */
  OIDC_GROUPS_CLAIM: z.string().min(1).default('groups'),
  /** Members of this group are developers (dev rooms). */
  OIDC_DEVELOPER_GROUP: z.string().min(1).default('callbridge-developers'),
  /** Members of this group are supervisors (live calls: listen in, barge in). */
  OIDC_SUPERVISOR_GROUP: z.string().min(1).default('callbridge-supervisors'),
  /** Members of this group are dialers (outbound calls: "Call me"). */
  OIDC_DIALER_GROUP: z.string().min(1).default('callbridge-dialers'),
  LIVEKIT_URL: z.string().min(1).optional(),
  LIVEKIT_API_KEY: z.string().min(1).optional(),
  LIVEKIT_API_SECRET: z.string().min(1).optional(),
  AGENT_NAME: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/)
    .default(DEFAULT_AGENT_NAME),
  USE_CASES_FILE: z.string().min(1).optional(),
  /** The SMA's calls table: each live call's phase and use case (optional: rooms alone without). */
  CALLS_TABLE: z.string().min(1).optional(),
  /** The SMA application outbound calls are placed through (unset: "Call me" is off). */
  SMA_APPLICATION_ID: z.string().min(1).max(256).optional(),
  ...loggingEnv,
});

export interface OidcSettings {
  issuer: URL;
  clientId: string;
  clientSecret: string;
  groupsClaim: string;
  developerGroup: string;
  supervisorGroup: string;
  dialerGroup: string;
  /** Where the provider sends the browser back: CONSOLE_PUBLIC_URL + /signin/callback. */
  redirectUri: URL;
}

export interface ConsoleConfig {
  host: string;
  port: number;
  publicUrl: URL | undefined;
  sessionSeconds: number;
  tokenTtlSeconds: number;
  auth: { mode: 'local' } | ({ mode: 'oidc' } & OidcSettings);
  agentName: string;
  useCasesFile: string | undefined;
  callsTable: string | undefined;
  /** The SMA application outbound calls go through; undefined: none are placed. */
  smaApplicationId: string | undefined;
  logLevel: z.infer<typeof LogLevel>;
  /** LOG_PII: keep `pii` log fields (a development setting). */
  logPii: boolean;
}

export type ConsoleEnv = z.infer<typeof consoleEnvSchema>;

/** The console's configuration, or a ConsoleConfigError naming every variable that is wrong. */
export function loadConsoleConfig(env: Record<string, string | undefined>): ConsoleConfig {
  const parsed = consoleEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConsoleConfigError(`console configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const publicUrl = e.CONSOLE_PUBLIC_URL ? new URL(e.CONSOLE_PUBLIC_URL) : undefined;
  return {
    host: e.CONSOLE_HOST,
    port: e.CONSOLE_PORT,
    publicUrl,
    sessionSeconds: e.CONSOLE_SESSION_SECONDS,
    tokenTtlSeconds: e.CONSOLE_TOKEN_TTL_SECONDS,
    auth: authOf(e, publicUrl),
    agentName: e.AGENT_NAME,
    useCasesFile: e.USE_CASES_FILE,
    callsTable: e.CALLS_TABLE,
    smaApplicationId: e.SMA_APPLICATION_ID,
    logLevel: e.LOG_LEVEL,
    logPii: e.LOG_PII,
  };
}

function authOf(e: ConsoleEnv, publicUrl: URL | undefined): ConsoleConfig['auth'] {
  if (e.CONSOLE_AUTH === 'local') {
    // A one-time link proves only that its holder can read this machine's terminal.
    if (!isLoopbackHost(e.CONSOLE_HOST)) {
      throw new ConsoleConfigError(
        `console configuration: CONSOLE_AUTH=local serves only this machine; CONSOLE_HOST ${e.CONSOLE_HOST} is not a loopback address (use CONSOLE_AUTH=oidc)`,
      );
    }
    return { mode: 'local' };
  }
  const missing = (
    [
      ['OIDC_ISSUER_URL', e.OIDC_ISSUER_URL],
      ['OIDC_CLIENT_ID', e.OIDC_CLIENT_ID],
      ['OIDC_CLIENT_SECRET', e.OIDC_CLIENT_SECRET],
      ['CONSOLE_PUBLIC_URL', publicUrl],
    ] as const
  )
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (missing.length > 0) {
    throw new ConsoleConfigError(
      `console configuration: CONSOLE_AUTH=oidc needs ${missing.join(', ')}`,
    );
  }
  if (publicUrl!.protocol !== 'https:' && !isLoopbackHost(publicUrl!.hostname)) {
    throw new ConsoleConfigError(
      'console configuration: CONSOLE_PUBLIC_URL must be https:// off this machine (the session cookie is Secure)',
    );
  }
  return {
    mode: 'oidc',
    issuer: new URL(e.OIDC_ISSUER_URL!),
    clientId: e.OIDC_CLIENT_ID!,
    clientSecret: e.OIDC_CLIENT_SECRET!,
    groupsClaim: e.OIDC_GROUPS_CLAIM,
    developerGroup: e.OIDC_DEVELOPER_GROUP,
    supervisorGroup: e.OIDC_SUPERVISOR_GROUP,
    dialerGroup: e.OIDC_DIALER_GROUP,
    redirectUri: new URL('/signin/callback', publicUrl),
  };
}
