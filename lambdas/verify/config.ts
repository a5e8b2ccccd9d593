// The verification API's configuration: read once at cold start from the environment, validated,
// typed. A missing or malformed variable stops start-up with a message naming it, never its value.
import * as z from 'zod';
import { callerKeySecret } from '../../contracts/callers.js';
import { loggingEnv } from '../../otel/logging.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const count = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);
const minutes = (def: number) => z.coerce.number().int().min(1).max(1440).default(def);

/** The variables the handler reads (docs/configuration.md lists each). */
export const envSchema = z.object({
  CALLS_TABLE: z.string().min(3).max(255),
  CALLER_KEY_SECRET: callerKeySecret,
  // A phone number, sender id, pool or their ARN, as End User Messaging SMS takes it.
  SMS_ORIGINATION_IDENTITY: z
    .string()
    .regex(/^[A-Za-z0-9_:/+.-]{1,256}$/, 'must be a phone number, sender id, pool id or ARN'),
  // Said in the SMS and shown on the page; plain characters only, so neither needs escaping rules
  // of its own and every SMS encoding carries it.
  VERIFY_SERVICE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9 .,'&()-]{1,40}$/, "must be 1-40 letters, digits, spaces or . , ' & ( ) -")
    .default('callbridge'),
  VERIFY_SENDS_PER_NUMBER: count(3, 100),
  VERIFY_NUMBER_WINDOW_MINUTES: minutes(15),
  VERIFY_SENDS_PER_SOURCE: count(20, 10_000),
  VERIFY_SOURCE_WINDOW_MINUTES: minutes(60),
  ...loggingEnv,
});

/** A fixed window of at most `max` sends. */
export interface SendLimit {
  max: number;
  windowMs: number;
}

export interface VerifyConfig {
  callsTable: string;
  callerKeySecret: string;
  originationIdentity: string;
  serviceName: string;
  perNumber: SendLimit;
  perSource: SendLimit;
  logLevel: string;
  logPii: boolean;
}

export function loadVerifyConfig(env: Record<string, string | undefined>): VerifyConfig {
  const res = envSchema.safeParse(env);
  if (!res.success) {
    const lines = res.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      return env[name] === undefined ? `  ${name}: missing` : `  ${name}: ${i.message}`;
    });
    throw new ConfigError(`verification API configuration is invalid:\n${lines.join('\n')}`);
  }
  const e = res.data;
  return {
    callsTable: e.CALLS_TABLE,
    callerKeySecret: e.CALLER_KEY_SECRET,
    originationIdentity: e.SMS_ORIGINATION_IDENTITY,
    serviceName: e.VERIFY_SERVICE_NAME,
    perNumber: {
      max: e.VERIFY_SENDS_PER_NUMBER,
      windowMs: e.VERIFY_NUMBER_WINDOW_MINUTES * 60_000,
    },
    perSource: {
      max: e.VERIFY_SENDS_PER_SOURCE,
      windowMs: e.VERIFY_SOURCE_WINDOW_MINUTES * 60_000,
    },
    logLevel: e.LOG_LEVEL,
    logPii: e.LOG_PII,
  };
}
