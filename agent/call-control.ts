// The agent's adapter to the SMA call controller: UpdateSipMediaApplicationCall with the contract's
// arguments (docs/architecture.md), the call's token with every one (the SMA acts only on an update
// whose token verifies for that call: contracts/call-token.ts). Once the caller has switched the
// call's language, the SMA is told at once and every later update carries the language too, so
// that what Chime says itself (a notice, an apology, the message prompts) is in it. Throttling
// (429) and server errors are retried with backoff within a small budget; a caller is waiting on
// the line, so the budget is about 3 s in all.
// https://docs.aws.amazon.com/chime-sdk/latest/APIReference/API_voice-chime_UpdateSipMediaApplicationCall.html
import {
  ChimeSDKVoiceClient,
  UpdateSipMediaApplicationCallCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import { trace, type Context } from '@opentelemetry/api';
import { toCallUpdateArguments, type CallUpdate } from '../contracts/call-update.js';
import { withCallUpdateSpan } from '../otel/agent-spans.js';
import type { SmaCall } from './call-context.js';
import { timeBudget } from '../store/time-budget.js';

type WithoutToken<U> = U extends unknown ? Omit<U, 'token'> : never;

/**
 * An update as the agent decides it: the call's token is the control's to add, and so is the
 * call's language (`languageChanged`); the language update itself is the control's own.
 */
export type CallUpdateRequest = WithoutToken<Exclude<CallUpdate, { action: 'language' }>>;

export interface CallControl {
  update(update: CallUpdateRequest): Promise<void>;
  /**
   * The call went on in `language` (a tag of the use case's `languages`, as switch_language
   * accepted it): later updates carry it, and the call controller is told now. Absent where the
   * controller says nothing itself in another language after a switch.
   */
  languageChanged?(language: string): Promise<void>;
}

export class CallControlError extends Error {
  override name = 'CallControlError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const RETRYABLE_NAMES = new Set([
  'ThrottledClientException',
  'ServiceUnavailableException',
  'ServiceFailureException',
  'TimeoutError',
]);

export function isRetryable(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const status = e?.$metadata?.httpStatusCode;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  if (e?.name && RETRYABLE_NAMES.has(e.name)) return true;
  // Connection refused or reset before any HTTP answer.
  return e?.code === 'ECONNREFUSED' || e?.code === 'ECONNRESET';
}

export interface ChimeCallControlOptions {
  client: ChimeSDKVoiceClient;
  sipMediaApplicationId: string;
  transactionId: string;
  /** The call's token (SmaCall.token), sent back with every update; never logged. */
  token: string;
  /** The call's trace context (CallContext.traceContext): the parent of a decision made outside it. */
  traceContext?: Context;
  /** Total time for all attempts, including backoff. */
  budgetMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export class ChimeCallControl implements CallControl {
  private readonly budgetMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** The language the caller switched the call to; unset while the call is in its use case's. */
  private language: string | undefined;

  constructor(private readonly opts: ChimeCallControlOptions) {
    this.budgetMs = opts.budgetMs ?? 3000;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** A client for the call's SMA region; the endpoint comes from AWS_ENDPOINT_URL_CHIME_SDK_VOICE. */
  static clientFor(region: string): ChimeSDKVoiceClient {
    // Retries are ours (budgeted); the SDK's would stack their own backoff on top.
    return new ChimeSDKVoiceClient({ region, maxAttempts: 1 });
  }

  /** The control of one SMA call: its region's client, its ids and its token. */
  static forCall(
    sma: SmaCall,
    opts: Pick<ChimeCallControlOptions, 'traceContext' | 'budgetMs' | 'sleep'> = {},
  ): ChimeCallControl {
    return new ChimeCallControl({
      client: ChimeCallControl.clientFor(sma.region),
      sipMediaApplicationId: sma.sipMediaApplicationId,
      transactionId: sma.transactionId,
      token: sma.token,
      ...opts,
    });
  }

  /**
   * Sent inside the agent's decision span, whose context replaces `traceparent`: the SMA's
   * transfer spans link to it (docs/architecture.md: the agent's current trace context).
   */
  update(update: CallUpdateRequest): Promise<void> {
    const queue = update.action === 'transfer' ? update.queue : undefined;
    return withCallUpdateSpan(
      {
        action: update.action,
        reason: update.reason,
        queue,
        traceparent: update.traceparent,
        callContext: this.opts.traceContext,
      },
      (traceparent) =>
        this.send({
          ...update,
          traceparent,
          token: this.opts.token,
          ...(this.language && !update.language ? { language: this.language } : {}),
        }),
    );
  }

  /**
   * The SMA keeps the language with the call (its state and state item) and says its own lines in
   * it from then on, a failover included; later updates carry it too, so a lost one costs nothing.
   */
  async languageChanged(language: string): Promise<void> {
    this.language = language;
    await this.send({
      action: 'language',
      language,
      requestedAt: Date.now(),
      token: this.opts.token,
    });
  }

  private async send(update: CallUpdate): Promise<void> {
    const command = new UpdateSipMediaApplicationCallCommand({
      SipMediaApplicationId: this.opts.sipMediaApplicationId,
      TransactionId: this.opts.transactionId,
      Arguments: toCallUpdateArguments(update),
    });
    await retryWithinBudget({
      action: update.action,
      budgetMs: this.budgetMs,
      sleep: this.sleep,
      attempt: (remainingMs) =>
        this.opts.client.send(command, {
          abortSignal: timeBudget(Math.max(remainingMs, 100)).signal,
        }),
      retryable: isRetryable,
      describe: (err) => (err as Error).name ?? 'Error',
    });
  }
}

/**
 * Sends one call update, again after a backoff (150 ms, doubling up to 1 s) while the failure is
 * retryable and the budget has room for the wait; the span's `attempts` says how many it took.
 * Shared by every way a call is controlled (the SMA's Voice API, Twilio's REST API).
 */
export async function retryWithinBudget(o: {
  action: CallUpdate['action'];
  budgetMs: number;
  sleep: (ms: number) => Promise<void>;
  /** One attempt, given the time left in the budget. */
  attempt: (remainingMs: number) => Promise<unknown>;
  retryable: (err: unknown) => boolean;
  /** The failure as the error message names it (an error name, an HTTP status). */
  describe: (err: unknown) => string;
  /** When the budget began (default: now), if the update had work to do before its first send. */
  startedAt?: number;
}): Promise<void> {
  const started = o.startedAt ?? Date.now();
  let delayMs = 150;
  for (let attempt = 1; ; attempt++) {
    trace.getActiveSpan()?.setAttribute('callbridge.call_update.attempts', attempt);
    try {
      await o.attempt(o.budgetMs - (Date.now() - started));
      return;
    } catch (err) {
      const retryable = o.retryable(err);
      const left = o.budgetMs - (Date.now() - started);
      if (!retryable || left < delayMs) {
        throw new CallControlError(
          `call update ${o.action} failed: ${o.describe(err)}`,
          retryable,
          attempt,
          { cause: err },
        );
      }
      await o.sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 1000);
    }
  }
}
