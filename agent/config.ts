// The agent worker's configuration: read once at start from the environment, validated, typed. A
// missing or malformed variable stops start-up with a message naming it. Secrets (API keys, the
// call-token secret) are kept here and never logged.
import * as z from 'zod';
import { callTokenSecret } from '../contracts/call-token.js';
import { DEFAULT_AGENT_NAME } from '../contracts/ids.js';
import { loadUseCases, type UseCaseCatalog } from '../contracts/use-cases.js';
import { loadTelemetryConfig, type TelemetryConfig } from '../otel/config.js';
import { loggingEnv } from '../otel/logging.js';
import { REGION_PATTERN, type CallTrust } from './call-context.js';
import {
  MEDIA_LOST_AFTER_MS,
  OUTAGE_LOST_AFTER_MS,
  type LineWatchSettings,
} from './media-watch.js';

export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
}

/** The variables the worker reads (docs/configuration.md lists each). */
export const envSchema = z.object({
  AGENT_NAME: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/)
    .default(DEFAULT_AGENT_NAME),
  /** `auto`: cloud when both cloud keys are set, else local. */
  SPEECH_PROVIDERS: z.enum(['auto', 'local', 'cloud']).default('auto'),
  DEEPGRAM_API_KEY: z.string().min(1).optional(),
  /** Deepgram's API (speech to text and text to speech) at another address: a proxy, the lab. */
  DEEPGRAM_BASE_URL: z.url().optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url().optional(),
  OPENAI_MODEL: z.string().min(1).default('gpt-4.1-mini'),
  CLOUD_TTS: z.enum(['deepgram', 'openai']).default('deepgram'),
  USE_CASES_FILE: z.string().min(1).optional(),
  /**
   * The SMA's calls table: the use cases (read every USE_CASES_REFRESH_SECONDS, the file above
   * until then), caller profiles and conversation records. Unset: the file only, nothing kept.
   */
  CALLS_TABLE: z.string().min(3).max(255).optional(),
  USE_CASES_REFRESH_SECONDS: z.coerce.number().int().min(5).max(300).default(30),
  /** Days a caller's profile is kept after their last call. */
  CALLER_PROFILE_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  /** Days a conversation record is kept: the SMA's CALL_RECORD_TTL_DAYS. */
  CALL_RECORD_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  TRANSFER_RETRY_BUDGET_MS: z.coerce.number().int().min(100).max(10_000).default(3000),
  /**
   * A phone call's inbound audio packets not growing this long mean its line is lost (livekit-sip
   * gone): the caller goes to a person (agent/media-watch.ts). 0 turns the watch off, for phone
   * legs that send no packets while the caller is silent (silence suppression).
   */
  LINE_LOST_AFTER_MS: z.coerce
    .number()
    .int()
    .refine((v) => v === 0 || (v >= 1000 && v <= 15_000), 'must be 0 (off) or 1000 to 15000')
    .default(MEDIA_LOST_AFTER_MS),
  /**
   * How long the agent's own connection to LiveKit may be re-establishing (livekit-server crashed
   * or restarted under the call) before the caller goes to a person through the SMA, which does not
   * need LiveKit (agent/media-watch.ts). 0: the agent waits for the line however long.
   */
  LINE_OUTAGE_AFTER_MS: z.coerce
    .number()
    .int()
    .refine((v) => v === 0 || (v >= 1000 && v <= 15_000), 'must be 0 (off) or 1000 to 15000')
    .default(OUTAGE_LOST_AFTER_MS),
  /**
   * Calls one worker takes at once. Set, the worker reports its load as calls / AGENT_MAX_CALLS
   * and LiveKit stops dispatching to it when full. Unset, the framework's CPU-based load applies.
   */
  AGENT_MAX_CALLS: z.coerce.number().int().min(1).max(1000).optional(),
  /**
   * Job processes kept loaded and waiting for a call (framework default in start mode: the number
   * of cores, at most 4). Each holds the speech models (~150 MB with the local providers).
   */
  AGENT_IDLE_PROCESSES: z.coerce.number().int().min(0).max(64).optional(),
  /**
   * How much lower (in `nice` steps) a job process's CPU priority is while it loads as a spare
   * (agent/spare-priority.ts). 0 loads spares at the worker's priority.
   */
  AGENT_SPARE_NICE: z.coerce.number().int().min(0).max(19).default(10),
  /** The worker's health/status HTTP server (framework defaults: 0.0.0.0, port 8081 in start). */
  AGENT_HTTP_HOST: z.string().min(1).optional(),
  AGENT_HTTP_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /**
   * Job processes share the lines they render through a directory (off by default: with it on, a
   * caller in the ten-call test once heard nothing, cause unknown; docs/decisions/greeting-sharing.md).
   */
  CALLBRIDGE_SHARE_RENDERED_LINES: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** The offline recognizer's directory (agent/providers/moonshine-native.ts reads it). */
  MOONSHINE_DIR: z.string().min(1).optional(),
  /** The offline recognizer's model (agent/providers/moonshine-native.ts reads it): tiny-en unless set. */
  MOONSHINE_MODEL: z.enum(['tiny-en', 'base-en']).optional(),
  /**
   * The secret the SMA signs each call's token with (contracts/call-token.ts): the worker takes a
   * SIP participant as a phone call only with a valid token. Required unless AGENT_DEV_ROOMS_ONLY.
   */
  CALL_TOKEN_SECRET: callTokenSecret.optional(),
  /** The SMA the worker takes calls from; set, a call from another is refused (foreign_sma). */
  SMA_APPLICATION_ID: z.string().min(1).optional(),
  SMA_REGION: z.string().regex(REGION_PATTERN, 'must be an AWS region (us-east-1)').optional(),
  /**
   * The call guard's worker presence endpoint (ws:// or wss://, agent/worker-presence.ts): a dead
   * worker's calls go to a person within seconds. Unset: presence off.
   */
  GUARD_PRESENCE_URL: z
    .url({ protocol: /^wss?$/, error: 'must be a ws:// or wss:// URL' })
    .optional(),
  /** The secret the guard's GUARD_PRESENCE_SECRET is; required with GUARD_PRESENCE_URL. */
  GUARD_PRESENCE_SECRET: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
  /** `true`: dev rooms only; every SIP participant is refused and no secret is needed. */
  AGENT_DEV_ROOMS_ONLY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  ...loggingEnv,
});

export interface AgentConfig {
  agentName: string;
  speech: 'local' | 'cloud';
  /** Why `speech` was chosen, for the start-up log line. */
  speechReason: string;
  deepgramApiKey: string | undefined;
  deepgramBaseURL: string | undefined;
  openai: { apiKey: string | undefined; baseURL: string | undefined; model: string };
  cloudTts: 'deepgram' | 'openai';
  /** The file's use cases: served until the table's are read, and when it holds none. */
  useCases: UseCaseCatalog;
  /** What the worker keeps in the calls table; undefined: nothing (no CALLS_TABLE). */
  table:
    | {
        name: string;
        useCasesRefreshMs: number;
        profileTtlSeconds: number;
        recordTtlSeconds: number;
      }
    | undefined;
  transferRetryBudgetMs: number;
  /** When a phone call's line counts as lost (its audio stalled, its connection out); 0: never. */
  lineWatch: LineWatchSettings;
  maxCalls: number | undefined;
  idleProcesses: number | undefined;
  spareNice: number;
  http: { host: string | undefined; port: number | undefined };
  logLevel: string;
  logPii: boolean;
  shareRenderedLines: boolean;
  /** Which phone calls the worker takes (agent/call-context.ts admitCall); the secret is in it. */
  calls: CallTrust;
  /** The call guard's presence endpoint and its secret (never logged); undefined: off. */
  presence: { url: string; secret: string } | undefined;
  /** OTEL_* variables (otel/config.ts): exporters, the Prometheus endpoint, the environment. */
  telemetry: TelemetryConfig;
}

type AgentEnv = z.infer<typeof envSchema>;

function parseEnv(env: Record<string, string | undefined>): AgentEnv {
  const res = envSchema.safeParse(env);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${String(i.path[0])}: ${i.message}`);
    throw new AgentConfigError(`agent configuration is invalid:\n${lines.join('\n')}`);
  }
  return res.data;
}

/** Local or cloud speech, and why (cloud asked for without both keys stops start-up). */
function chooseSpeech(
  e: AgentEnv,
  env: Record<string, string | undefined>,
): Pick<AgentConfig, 'speech' | 'speechReason'> {
  const haveCloud = e.DEEPGRAM_API_KEY !== undefined && e.OPENAI_API_KEY !== undefined;
  if (e.SPEECH_PROVIDERS === 'cloud' && !haveCloud) {
    const missing = ['DEEPGRAM_API_KEY', 'OPENAI_API_KEY'].filter((k) => env[k] === undefined);
    throw new AgentConfigError(`SPEECH_PROVIDERS=cloud needs ${missing.join(' and ')}`);
  }
  if (e.SPEECH_PROVIDERS !== 'auto') {
    return { speech: e.SPEECH_PROVIDERS, speechReason: `SPEECH_PROVIDERS=${e.SPEECH_PROVIDERS}` };
  }
  return haveCloud
    ? { speech: 'cloud', speechReason: 'cloud keys present' }
    : { speech: 'local', speechReason: 'DEEPGRAM_API_KEY and OPENAI_API_KEY not both set' };
}

function telemetryOf(env: Record<string, string | undefined>): TelemetryConfig {
  try {
    return loadTelemetryConfig(env, 'agent');
  } catch (cause) {
    throw new AgentConfigError(`agent ${(cause as Error).message}`, { cause });
  }
}

function useCasesOf(file: string | undefined, bundledUseCases: unknown): UseCaseCatalog {
  try {
    return loadUseCases(file, bundledUseCases);
  } catch (cause) {
    throw new AgentConfigError(`USE_CASES_FILE: ${(cause as Error).message}`, { cause });
  }
}

function presenceOf(e: AgentEnv): AgentConfig['presence'] {
  if (e.GUARD_PRESENCE_URL === undefined) return undefined;
  if (e.GUARD_PRESENCE_SECRET === undefined) {
    throw new AgentConfigError(
      'agent configuration is invalid:\n  GUARD_PRESENCE_SECRET: required with GUARD_PRESENCE_URL',
    );
  }
  return { url: e.GUARD_PRESENCE_URL, secret: e.GUARD_PRESENCE_SECRET };
}

/** A worker that serves phone calls must hold the SMA's secret; one for dev rooms needs none. */
function callTrustOf(e: AgentEnv): CallTrust {
  if (e.AGENT_DEV_ROOMS_ONLY) {
    return { secret: undefined, applicationId: undefined, region: undefined };
  }
  if (e.CALL_TOKEN_SECRET === undefined) {
    throw new AgentConfigError(
      "agent configuration is invalid:\n  CALL_TOKEN_SECRET: required (the SMA's call-token " +
        'secret) unless AGENT_DEV_ROOMS_ONLY=true',
    );
  }
  return { secret: e.CALL_TOKEN_SECRET, applicationId: e.SMA_APPLICATION_ID, region: e.SMA_REGION };
}

export function loadAgentConfig(
  env: Record<string, string | undefined>,
  bundledUseCases: unknown,
): AgentConfig {
  const e = parseEnv(env);
  const { speech, speechReason } = chooseSpeech(e, env);
  const telemetry = telemetryOf(env);
  const useCases = useCasesOf(e.USE_CASES_FILE, bundledUseCases);
  const calls = callTrustOf(e);
  return {
    agentName: e.AGENT_NAME,
    speech,
    speechReason,
    deepgramApiKey: e.DEEPGRAM_API_KEY,
    deepgramBaseURL: e.DEEPGRAM_BASE_URL,
    openai: { apiKey: e.OPENAI_API_KEY, baseURL: e.OPENAI_BASE_URL, model: e.OPENAI_MODEL },
    cloudTts: e.CLOUD_TTS,
    useCases,
    table: e.CALLS_TABLE
      ? {
          name: e.CALLS_TABLE,
          useCasesRefreshMs: e.USE_CASES_REFRESH_SECONDS * 1000,
          profileTtlSeconds: e.CALLER_PROFILE_TTL_DAYS * 86_400,
          recordTtlSeconds: e.CALL_RECORD_TTL_DAYS * 86_400,
        }
      : undefined,
    transferRetryBudgetMs: e.TRANSFER_RETRY_BUDGET_MS,
    lineWatch: { lostAfterMs: e.LINE_LOST_AFTER_MS, outageAfterMs: e.LINE_OUTAGE_AFTER_MS },
    maxCalls: e.AGENT_MAX_CALLS,
    idleProcesses: e.AGENT_IDLE_PROCESSES,
    spareNice: e.AGENT_SPARE_NICE,
    http: { host: e.AGENT_HTTP_HOST, port: e.AGENT_HTTP_PORT },
    logLevel: e.LOG_LEVEL,
    logPii: e.LOG_PII,
    shareRenderedLines: e.CALLBRIDGE_SHARE_RENDERED_LINES,
    calls,
    presence: presenceOf(e),
    telemetry,
  };
}
