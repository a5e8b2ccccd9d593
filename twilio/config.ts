// The Twilio gateway's configuration (docs/twilio.md): read once at start from the environment,
// validated; a missing or malformed variable stops start-up with a message naming it. Secrets (the
// auth token, the call-token secret) are never logged.
import * as z from 'zod';
import { bucketName } from '../contracts/recordings.js';
import { callerKeySecret } from '../contracts/callers.js';
import { callTokenSecret } from '../contracts/call-token.js';
import { restEnvSchema, TwilioConfigError, type TwilioRestEnv } from './rest.js';
import { STREAM_PATH } from './webhook.js';

/** Every variable the gateway reads (docs/configuration.md): the REST settings and its own. */
export const gatewayEnvSchema = z.object({
  /** The gateway's wss:// stream address as Twilio reaches it; default: TWILIO_PUBLIC_URL's. */
  TWILIO_STREAM_URL: z.url({ protocol: /^wss?$/ }).optional(),
  ...restEnvSchema.shape,
  TWILIO_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  TWILIO_GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(8089),
  /** livekit-sip, host:port: where the gateway's SIP calls go (the Twilio inbound trunk's). */
  TWILIO_SIP_ADDRESS: z.string().regex(/^[a-zA-Z0-9.-]+:\d{1,5}$/, 'host:port'),
  /**
   * The gateway's IPv4 address as livekit-sip sees it: its SIP and RTP are bound there, its SDP
   * names it, and the Twilio trunk admits only it.
   */
  TWILIO_SIP_LOCAL_ADDRESS: z.ipv4().default('127.0.0.1'),
  CALL_TOKEN_SECRET: callTokenSecret,
  CALL_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(604_800).default(14_400),
  /** The calls table: connection items and admission. Unset: neither (open use cases only). */
  CALLS_TABLE: z.string().min(3).max(255).optional(),
  CALLER_KEY_SECRET: callerKeySecret.optional(),
  ADMISSION_TIMEOUT_MS: z.coerce.number().int().min(50).max(3000).default(300),
  MAX_CONCURRENT_CALLS: z.coerce.number().int().min(1).max(5000).optional(),
  CALL_RECORD_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  USE_CASES_FILE: z.string().min(1).optional(),
  USE_CASES_REFRESH_SECONDS: z.coerce.number().int().min(5).max(300).default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  LOG_PII: z.stringbool().default(false),
  // Where call recordings go (use cases with `recording.enabled`); unset: nothing is recorded.
  RECORDINGS_BUCKET: bucketName.optional(),
});

export interface GatewayConfig {
  rest: TwilioRestEnv;
  streamUrl: string;
  host: string;
  port: number;
  sip: { sipAddress: string; localAddress: string };
  callToken: { secret: string; ttlMs: number };
  table:
    | {
        name: string;
        callerKeySecret: string;
        admissionTimeoutMs: number;
        maxConcurrentCalls: number | undefined;
        ttlDays: number;
        useCasesRefreshMs: number;
      }
    | undefined;
  useCasesFile: string | undefined;
  /** RECORDINGS_BUCKET; unset: no call is recorded. */
  recordingsBucket: string | undefined;
  logLevel: string;
  logPii: boolean;
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const res = gatewayEnvSchema.safeParse(env);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new TwilioConfigError(`Twilio gateway configuration is invalid:\n${lines.join('\n')}`);
  }
  const e = res.data;
  if (e.CALLS_TABLE && !e.CALLER_KEY_SECRET) {
    throw new TwilioConfigError(
      'Twilio gateway configuration is invalid:\n  CALLER_KEY_SECRET: required with CALLS_TABLE ' +
        '(the access rules key callers by it)',
    );
  }
  const publicUrl = new URL(e.TWILIO_PUBLIC_URL);
  const streamUrl =
    e.TWILIO_STREAM_URL ??
    `${publicUrl.protocol === 'https:' ? 'wss:' : 'ws:'}//${publicUrl.host}${publicUrl.pathname.replace(/\/$/, '')}${STREAM_PATH}`;
  return {
    rest: {
      TWILIO_ACCOUNT_SID: e.TWILIO_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: e.TWILIO_AUTH_TOKEN,
      TWILIO_PUBLIC_URL: e.TWILIO_PUBLIC_URL,
      TWILIO_API_URL: e.TWILIO_API_URL,
    },
    streamUrl,
    host: e.TWILIO_GATEWAY_HOST,
    port: e.TWILIO_GATEWAY_PORT,
    sip: { sipAddress: e.TWILIO_SIP_ADDRESS, localAddress: e.TWILIO_SIP_LOCAL_ADDRESS },
    callToken: { secret: e.CALL_TOKEN_SECRET, ttlMs: e.CALL_TOKEN_TTL_SECONDS * 1000 },
    table: e.CALLS_TABLE
      ? {
          name: e.CALLS_TABLE,
          callerKeySecret: e.CALLER_KEY_SECRET!,
          admissionTimeoutMs: e.ADMISSION_TIMEOUT_MS,
          maxConcurrentCalls: e.MAX_CONCURRENT_CALLS,
          ttlDays: e.CALL_RECORD_TTL_DAYS,
          useCasesRefreshMs: e.USE_CASES_REFRESH_SECONDS * 1000,
        }
      : undefined,
    useCasesFile: e.USE_CASES_FILE,
    recordingsBucket: e.RECORDINGS_BUCKET,
    logLevel: e.LOG_LEVEL,
    logPii: e.LOG_PII,
  };
}
