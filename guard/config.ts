// The call guard's configuration: read once at start from the environment, validated, typed. A
// missing or malformed variable stops start-up with a message naming it. docs/guard.md.
import * as z from 'zod';
import { loadTelemetryConfig, type TelemetryConfig } from '../otel/config.js';
import { LogLevel } from '../otel/logging.js';

export class GuardConfigError extends Error {
  override name = 'GuardConfigError';
}

const millis = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

/** The variables the guard reads (docs/configuration.md lists each). */
export const envSchema = z.object({
  LIVEKIT_URL: z.url({
    protocol: /^(wss?|https?)$/,
    error: 'must be a ws://, wss://, http:// or https:// URL of the LiveKit server',
  }),
  LIVEKIT_API_KEY: z.string().min(1),
  LIVEKIT_API_SECRET: z.string().min(1),
  // Unset: the sweep sees only LiveKit (no ended calls, no orphaned records).
  CALLS_TABLE: z.string().min(3).max(255).optional(),
  GUARD_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be a host name or an IP address')
    .default('127.0.0.1'),
  GUARD_PORT: z.coerce.number().int().min(0).max(65535).default(8090),
  GUARD_GRACE_MS: millis(3000, 0, 60_000),
  GUARD_SWEEP_INTERVAL_MS: millis(10_000, 1000, 300_000),
  GUARD_LIVEKIT_TIMEOUT_MS: millis(2000, 100, 30_000),
  GUARD_DYNAMODB_TIMEOUT_MS: millis(1000, 50, 10_000),
  // Longer than any call (CALL_TOKEN_TTL_SECONDS): older open records were left open by a lost write.
  GUARD_OPEN_CALL_WINDOW_MINUTES: z.coerce.number().int().min(1).max(10_080).default(300),
  // The SMA application whose open records the sweep checks with Chime (and closes when gone).
  SMA_APPLICATION_ID: z.string().min(1).max(256).optional(),
  GUARD_VOICE_API_TIMEOUT_MS: millis(2000, 100, 30_000),
  // Agent workers present it to hold a presence connection (docs/guard.md); unset: presence off.
  GUARD_PRESENCE_SECRET: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
  LOG_LEVEL: LogLevel.default('info'),
});

export interface GuardConfig {
  livekit: { httpUrl: string; apiKey: string; apiSecret: string; timeoutMs: number };
  /** The SMA's calls table, when the sweep may read it. */
  calls: { table: string; timeoutMs: number; openWindowMs: number } | undefined;
  listen: { host: string; port: number };
  /** Chime's Voice API: the SMA application whose records are checked, each request's deadline. */
  voice: { applicationId: string | undefined; timeoutMs: number };
  graceMs: number;
  sweepIntervalMs: number;
  /** Worker presence's shared secret; never logged. */
  presenceSecret: string | undefined;
  logLevel: string;
  /** OTEL_* variables (otel/config.ts). */
  telemetry: TelemetryConfig;
}

/** The server API's URL: the SDK's clients speak HTTP(S) whatever the scheme agents use. */
export function apiUrl(url: string): string {
  return url.replace(/^ws(s?):/, 'http$1:');
}

export function loadGuardConfig(env: Record<string, string | undefined>): GuardConfig {
  // An empty variable (`CALLS_TABLE=` in an env file) counts as unset.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const res = envSchema.safeParse(set);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${String(i.path[0])}: ${i.message}`);
    throw new GuardConfigError(`call guard configuration is invalid:\n${lines.join('\n')}`);
  }
  const e = res.data;
  return {
    livekit: {
      httpUrl: apiUrl(e.LIVEKIT_URL),
      apiKey: e.LIVEKIT_API_KEY,
      apiSecret: e.LIVEKIT_API_SECRET,
      timeoutMs: e.GUARD_LIVEKIT_TIMEOUT_MS,
    },
    calls: e.CALLS_TABLE
      ? {
          table: e.CALLS_TABLE,
          timeoutMs: e.GUARD_DYNAMODB_TIMEOUT_MS,
          openWindowMs: e.GUARD_OPEN_CALL_WINDOW_MINUTES * 60_000,
        }
      : undefined,
    listen: { host: e.GUARD_HOST, port: e.GUARD_PORT },
    voice: { applicationId: e.SMA_APPLICATION_ID, timeoutMs: e.GUARD_VOICE_API_TIMEOUT_MS },
    graceMs: e.GUARD_GRACE_MS,
    sweepIntervalMs: e.GUARD_SWEEP_INTERVAL_MS,
    presenceSecret: e.GUARD_PRESENCE_SECRET,
    logLevel: e.LOG_LEVEL,
    telemetry: loadTelemetryConfig(env, 'guard'),
  };
}
