// The SMA handler's configuration: read once at cold start from the environment, validated, typed.
// A missing or malformed variable stops start-up with a message naming it.
import * as z from 'zod';
import { callerKeySecret } from '../../contracts/callers.js';
import { callTokenSecret } from '../../contracts/call-token.js';
import { bucketName } from '../../contracts/recordings.js';
import { loadUseCases, type UseCaseCatalog } from '../../contracts/use-cases.js';
import { loadTelemetryConfig, type TelemetryConfig } from '../../otel/config.js';
import { loggingEnv } from '../../otel/logging.js';
import type { DecideConfig } from './decide/index.js';
import type { Owner } from './invoker.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The handler's production budgets for DynamoDB (JOURNAL_TIMEOUT_MS, ADMISSION_TIMEOUT_MS): what
 * one event's journal writes, and one admission's (or one handoff claim's) requests, may take.
 */
export const SMA_BUDGETS_MS = { journal: 300, admission: 300 } as const;

const seconds = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);

/** The variables the handler reads (docs/configuration.md lists each). */
export const envSchema = z.object({
  CALLS_TABLE: z.string().min(3).max(255),
  VOICE_CONNECTOR_ARN: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:chime:[a-z0-9-]+:\d{12}:vc\/[a-zA-Z0-9]+$/,
      'must be a Voice Connector ARN (arn:aws:chime:<region>:<account>:vc/<id>)',
    ),
  USE_CASES_FILE: z.string().min(1).optional(),
  // The use cases in the calls table are read again this often, in the background.
  USE_CASES_REFRESH_SECONDS: z.coerce.number().int().min(5).max(300).default(30),
  USE_CASES_READ_TIMEOUT_MS: z.coerce.number().int().min(10).max(5000).default(500),
  AI_RING_TIMEOUT_SECONDS: seconds(30, 120),
  QUEUE_RING_TIMEOUT_SECONDS: seconds(30, 120),
  JOURNAL_TIMEOUT_MS: z.coerce.number().int().min(10).max(3000).default(SMA_BUDGETS_MS.journal),
  CALL_RECORD_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  CALL_TOKEN_SECRET: callTokenSecret,
  // Outlives the longest call: an update carrying an expired token is refused.
  CALL_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(604_800).default(14_400),
  CALLER_KEY_SECRET: callerKeySecret,
  // The deployment's cap on calls with the agent at once; unset: only the use cases' caps.
  MAX_CONCURRENT_CALLS: z.coerce.number().int().min(1).max(100_000).optional(),
  // Admission is on the caller's path to the agent: past its budget, a check is skipped.
  ADMISSION_TIMEOUT_MS: z.coerce.number().int().min(10).max(3000).default(SMA_BUDGETS_MS.admission),
  // Where call recordings go (use cases with `recording.enabled`); unset: nothing is recorded.
  RECORDINGS_BUCKET: bucketName.optional(),
  SMA_APPLICATION_ID: z.string().min(1).optional(),
  AWS_ACCOUNT_ID: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
    .optional(),
  ...loggingEnv,
});

export interface SmaConfig {
  decide: DecideConfig;
  /** Who may invoke the handler; an unset id is not checked. */
  owner: Owner;
  callsTable: string;
  journalTimeoutMs: number;
  recordTtlSeconds: number;
  /** How the use cases in the table are read (store/use-case-cache.ts). */
  useCaseCache: { refreshMs: number; timeoutMs: number };
  /** What the admission adapter needs (lambdas/sma/admission/dynamo-admission.ts). */
  admission: { timeoutMs: number; callerKeySecret: string; maxConcurrentCalls?: number };
  logLevel: string;
  logPii: boolean;
  /** OTEL_* variables (otel/config.ts): exporters, endpoints, flush budget. */
  telemetry: TelemetryConfig;
}

/** What the agent's goodbye and its `max_duration` hang-up take after the longest call. */
const TOKEN_GRACE_SECONDS = 120;

/**
 * A call's token is signed at LEG-A's start; the agent's last update comes up to the ring time,
 * the use case's longest call and the goodbye later. A token that expires before would have that
 * hang-up refused, so such a configuration stops start-up.
 */
function checkTokenOutlivesCalls(ttlS: number, ringS: number, useCases: UseCaseCatalog): void {
  const short = useCases.all.flatMap((uc) => {
    const neededS = uc.limits.maxCallSeconds + ringS + TOKEN_GRACE_SECONDS;
    if (ttlS > neededS) return [];
    return [
      `  CALL_TOKEN_TTL_SECONDS: ${ttlS} s must be longer than use case ${uc.id}'s ` +
        `limits.maxCallSeconds ${uc.limits.maxCallSeconds} s + AI_RING_TIMEOUT_SECONDS ${ringS} s ` +
        `+ ${TOKEN_GRACE_SECONDS} s = ${neededS} s`,
    ];
  });
  if (short.length > 0) {
    throw new ConfigError(`SMA handler configuration is invalid:\n${short.join('\n')}`);
  }
}

/**
 * @param env process.env or a stand-in
 * @param bundledUseCases the use-case file shipped in the bundle, used when USE_CASES_FILE is unset;
 *   either serves until the calls table's use cases are read, and when the table holds none
 */
export function loadSmaConfig(
  env: Record<string, string | undefined>,
  bundledUseCases: unknown,
): SmaConfig {
  const res = envSchema.safeParse(env);
  if (!res.success) {
    const lines = res.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      return env[name] === undefined ? `  ${name}: missing` : `  ${name}: ${i.message}`;
    });
    throw new ConfigError(`SMA handler configuration is invalid:\n${lines.join('\n')}`);
  }
  const e = res.data;
  let telemetry: TelemetryConfig;
  try {
    telemetry = loadTelemetryConfig(env, 'sma');
  } catch (cause) {
    throw new ConfigError(`SMA handler ${(cause as Error).message}`, { cause });
  }
  let useCases: UseCaseCatalog;
  try {
    useCases = loadUseCases(e.USE_CASES_FILE, bundledUseCases);
  } catch (cause) {
    throw new ConfigError(`USE_CASES_FILE: ${(cause as Error).message}`, { cause });
  }
  checkTokenOutlivesCalls(e.CALL_TOKEN_TTL_SECONDS, e.AI_RING_TIMEOUT_SECONDS, useCases);
  return {
    decide: {
      voiceConnectorArn: e.VOICE_CONNECTOR_ARN,
      aiRingTimeoutS: e.AI_RING_TIMEOUT_SECONDS,
      queueRingTimeoutS: e.QUEUE_RING_TIMEOUT_SECONDS,
      useCases,
      callToken: { secret: e.CALL_TOKEN_SECRET, ttlMs: e.CALL_TOKEN_TTL_SECONDS * 1000 },
      callerKeySecret: e.CALLER_KEY_SECRET,
      recordingsBucket: e.RECORDINGS_BUCKET,
    },
    owner: { applicationId: e.SMA_APPLICATION_ID, accountId: e.AWS_ACCOUNT_ID },
    callsTable: e.CALLS_TABLE,
    journalTimeoutMs: e.JOURNAL_TIMEOUT_MS,
    recordTtlSeconds: e.CALL_RECORD_TTL_DAYS * 86_400,
    useCaseCache: {
      refreshMs: e.USE_CASES_REFRESH_SECONDS * 1000,
      timeoutMs: e.USE_CASES_READ_TIMEOUT_MS,
    },
    admission: {
      timeoutMs: e.ADMISSION_TIMEOUT_MS,
      callerKeySecret: e.CALLER_KEY_SECRET,
      maxConcurrentCalls: e.MAX_CONCURRENT_CALLS,
    },
    logLevel: e.LOG_LEVEL,
    logPii: e.LOG_PII,
    telemetry,
  };
}
