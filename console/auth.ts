// Who is signed in to the console. A sign-in (a one-time link locally, the OpenID Connect code flow
// in production) opens a session: a random id in an HttpOnly cookie, kept in this process's memory
// with the user and their roles until it expires or is signed out. Nothing in the cookie is
// readable or forgeable: it is 32 random bytes, and the server holds what they stand for.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { CONSOLE_ROLES, type ConsoleRole } from '../contracts/console.js';

export const SESSION_COOKIE = 'callbridge_console';

export interface ConsoleUser {
  /** A stable, non-personal id: the provider's subject, or `local`. */
  id: string;
  /** What the pages show: a name or an e-mail address from the provider. */
  name: string;
  roles: ConsoleRole[];
}

export interface Session {
  user: ConsoleUser;
  expiresAt: number;
}

const newSecret = () => randomBytes(32).toString('base64url');
/** Stored as its hash, so a memory dump shows no usable link or cookie. */
const digest = (secret: string) => createHash('sha256').update(secret).digest();

/**
 * Sessions and one-time sign-in links, in memory: a console restart signs everyone out, and one
 * console process serves its users (a deployment that runs several puts them behind a sticky
 * load balancer, docs/console.md).
 */
export class Sessions {
  private readonly sessions = new Map<string, Session>();
  private readonly links = new Map<string, { user: ConsoleUser; expiresAt: number }>();

  constructor(
    private readonly sessionSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A secret for a one-time link that opens a session for `user` (valid `ttlSeconds`, once). */
  issueLink(user: ConsoleUser, ttlSeconds = 600): string {
    const secret = newSecret();
    this.links.set(digest(secret).toString('hex'), {
      user,
      expiresAt: this.now() + ttlSeconds * 1000,
    });
    return secret;
  }

  /** Spends a one-time link: the new session's id, or undefined (unknown, used or expired). */
  redeemLink(secret: string): string | undefined {
    const key = digest(secret).toString('hex');
    const link = this.links.get(key);
    this.links.delete(key);
    if (!link || link.expiresAt <= this.now()) return undefined;
    return this.open(link.user);
  }

  /** Opens a session for a user whose sign-in succeeded; returns its id (the cookie's value). */
  open(user: ConsoleUser): string {
    this.prune();
    const id = newSecret();
    this.sessions.set(digest(id).toString('hex'), {
      user,
      expiresAt: this.now() + this.sessionSeconds * 1000,
    });
    return id;
  }

  /** The live session with this id, or undefined. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const key = digest(id).toString('hex');
    const s = this.sessions.get(key);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(key);
      return undefined;
    }
    return s;
  }

  close(id: string | undefined): void {
    if (id) this.sessions.delete(digest(id).toString('hex'));
  }

  private prune(): void {
    const now = this.now();
    for (const [k, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(k);
    for (const [k, l] of this.links) if (l.expiresAt <= now) this.links.delete(k);
  }
}

/** The value of one cookie in a request's Cookie header. */
export function cookieOf(req: Pick<IncomingMessage, 'headers'>, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The Set-Cookie header of a session: HttpOnly (no script reads it), SameSite=Lax (not sent with a
 * cross-site POST; the OpenID provider's redirect back is a top-level GET), Secure over https.
 */
export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  const attrs = [`${SESSION_COOKIE}=${id}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  attrs.push(`Max-Age=${maxAgeSeconds}`);
  if (secure) attrs.push('Secure');
  return attrs.join('; ');
}

export function clearedCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}

/** The roles a provider's group claim grants: each configured group that the user is in. */
export function rolesFromGroups(
  claim: unknown,
  groups: Record<ConsoleRole, string>,
): ConsoleRole[] {
  const held = Array.isArray(claim)
    ? claim.filter((g): g is string => typeof g === 'string')
    : typeof claim === 'string'
      ? claim.split(/[\s,]+/)
      : [];
  return CONSOLE_ROLES.filter((role) => held.includes(groups[role]));
}
