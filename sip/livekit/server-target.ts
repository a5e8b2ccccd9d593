// Which LiveKit server a command may talk to, decided before anything is sent. The local profile
// points trunks at loopback and the committed development keys (livekit.yaml) are public, so
// neither may reach a server off this machine; and with a server named in LIVEKIT_URL, provisioning
// wants the profile named too, so production trunks are never rewritten by a silent default.
import type { Profile } from './definitions.js';

export interface ServerAccess {
  url: string;
  apiKey: string;
  apiSecret: string;
}

export interface LiveKitEnv {
  LIVEKIT_URL?: string;
  LIVEKIT_API_KEY?: string;
  LIVEKIT_API_SECRET?: string;
}

export type Target =
  { ok: true; profile: Profile; server: ServerAccess } | { ok: false; problems: string[] };

const SCHEMES = new Set(['ws:', 'wss:', 'http:', 'https:']);
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** A host name or address on this machine: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1') return true;
  return IPV4.test(h) && h.startsWith('127.');
}

/**
 * The host of a server URL, or undefined when it is not a ws/wss/http/https URL. The WHATWG
 * parser normalizes shorthand addresses (`127.1`, `2130706433`) to dotted form first.
 */
export function hostOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return SCHEMES.has(u.protocol) && u.hostname !== '' ? u.hostname : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What forbids using `server`: a URL that is no server's, the local profile off this machine, or
 * the development key or secret off this machine. `profile` is absent for commands without one
 * (dev rooms). Empty when the server may be used.
 */
export function accessProblems(
  server: ServerAccess,
  development: Pick<ServerAccess, 'apiKey' | 'apiSecret'>,
  profile?: Profile,
): string[] {
  const host = hostOf(server.url);
  if (host === undefined)
    return [`"${server.url}" is not a ws://, wss://, http:// or https:// URL`];
  if (isLoopbackHost(host)) return [];
  const problems: string[] = [];
  if (profile === 'local') {
    problems.push(
      `the local profile points trunks at loopback; ${host} is not on this machine (use --profile production)`,
    );
  }
  if (server.apiKey === development.apiKey || server.apiSecret === development.apiSecret) {
    problems.push(
      `the development API key or secret (livekit.yaml) is public; use the server's own keys for ${host}`,
    );
  }
  return problems;
}

/** LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET, all or none. */
export function serverFromEnv(env: LiveKitEnv): ServerAccess | undefined | { missing: string[] } {
  const { LIVEKIT_URL: url, LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret } = env;
  if (url && apiKey && apiSecret) return { url, apiKey, apiSecret };
  const names = ['LIVEKIT_URL', 'LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET'] as const;
  const missing = names.filter((n) => !env[n]);
  return missing.length === names.length ? undefined : { missing };
}

/**
 * The profile and server provisioning uses. Without LIVEKIT_* variables, the local stack
 * (`local`: its URL and the development keys) and the local profile unless `profile` says
 * otherwise; with them, that server, and the profile must be named. Either way the server then
 * passes `accessProblems`.
 */
export function provisionTarget(req: {
  profile: Profile | undefined;
  env: LiveKitEnv;
  local: ServerAccess;
}): Target {
  const fromEnv = serverFromEnv(req.env);
  if (fromEnv && 'missing' in fromEnv) {
    const unset = fromEnv.missing.join(', ');
    return { ok: false, problems: [`the LIVEKIT_* variables go together; ${unset} unset`] };
  }
  if (fromEnv && req.profile === undefined) {
    const host = hostOf(fromEnv.url) ?? fromEnv.url;
    const problem = `LIVEKIT_URL names a server (${host}): name the profile, --profile local|production`;
    return { ok: false, problems: [problem] };
  }
  if (!fromEnv && req.profile === 'production') {
    const problem = 'production needs LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET';
    return { ok: false, problems: [problem] };
  }
  const profile = req.profile ?? 'local';
  const server = fromEnv ?? req.local;
  const problems = accessProblems(server, req.local, profile);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, profile, server };
}
