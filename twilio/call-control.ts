// The agent's call control for a Twilio call (docs/twilio.md): the same CallControl interface the
// SMA's adapter implements (agent/call-control.ts), carried out through Twilio's REST API. A
// transfer updates the live call with a <Dial> to the queue's number from the call's use case (a
// key the agent names, never a number anyone says); a hang-up completes the call. Updating the
// call ends its <Connect><Stream>: the gateway sees the stream stop and hangs up its SIP leg.
// Throttling (429) and server errors are retried with backoff within the budget, as for Chime.
// A transfer with a summary, to a queue with rolling numbers, claims one for the call with its
// context (store/handoff-claims.ts, as the SMA does) and dials it, so the person in Connect gets
// the context (docs/handoff.md); no number free, or the table slow or down: the queue's number.
import type { Context } from '@opentelemetry/api';
import type { Twilio } from 'twilio';
import type { TwilioCall } from '../agent/call-context.js';
import {
  CallControlError,
  retryWithinBudget,
  type CallControl,
  type CallUpdateRequest,
} from '../agent/call-control.js';
import type { HandoffContext } from '../contracts/handoff-context.js';
import { offeredLanguage, type UseCase } from '../contracts/use-cases.js';
import { withCallUpdateSpan } from '../otel/agent-spans.js';
import type { HandoffClaims } from '../store/handoff-claims.js';
import { readRestEnv, twilioClient, type TwilioRestEnv } from './rest.js';
import { dialQueueTwiml } from './twiml.js';

/** The part of Twilio's client the control uses (a fake in unit tests). */
export interface TwilioCalls {
  update(callSid: string, params: { twiml?: string; status?: 'completed' }): Promise<unknown>;
}

export function callsOf(client: Twilio): TwilioCalls {
  return { update: (sid, params) => client.calls(sid).update(params) };
}

export interface TwilioCallControlOptions {
  calls: TwilioCalls | Promise<TwilioCalls>;
  call: TwilioCall;
  useCase: UseCase;
  /** The webhook's dial-status URL (TWILIO_PUBLIC_URL + /twilio/dial-status). */
  dialStatusUrl: string;
  traceContext?: Context;
  budgetMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Rolling-number claims for transfers with context; unset: the queue's number, always. */
  claims?: HandoffClaims;
  /** The call's trace id (32 hex digits), handed to the person with the context. */
  traceId?: string;
  now?: () => number;
}

type TransferRequest = Extract<CallUpdateRequest, { action: 'transfer' }>;

/** Twilio's answer is retryable: throttled, a server error, or no answer at all. */
export function isRetryableTwilio(err: unknown): boolean {
  const e = err as { status?: number; code?: string };
  if (e?.status === 429 || (e?.status !== undefined && e.status >= 500)) return true;
  return e?.code === 'ECONNREFUSED' || e?.code === 'ECONNRESET' || e?.code === 'ETIMEDOUT';
}

export class TwilioCallControl implements CallControl {
  private readonly budgetMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** The language the caller switched to; undefined: the use case's own. */
  private language: string | undefined;

  constructor(private readonly opts: TwilioCallControlOptions) {
    this.budgetMs = opts.budgetMs ?? 3000;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * The control of one Twilio call, its credentials from the environment (read now: a worker
   * without them fails the call's set-up with a message naming the variable, not its transfer).
   * The client loads in the background while the call goes on.
   */
  static forCall(
    call: TwilioCall,
    useCase: UseCase,
    opts: Pick<
      TwilioCallControlOptions,
      'traceContext' | 'budgetMs' | 'sleep' | 'claims' | 'traceId'
    > & {
      env?: TwilioRestEnv;
    } = {},
  ): TwilioCallControl {
    const env = opts.env ?? readRestEnv(process.env);
    const calls = twilioClient(env).then(callsOf);
    calls.catch(() => {}); // reported by the first update that needs it
    return new TwilioCallControl({
      calls,
      call,
      useCase,
      dialStatusUrl: new URL('/twilio/dial-status', env.TWILIO_PUBLIC_URL).toString(),
      ...opts,
    });
  }

  /**
   * Twilio says nothing of the switch now; a transfer's dial carries the language, so that the
   * apology Twilio says when nobody answers is in it (twilio/webhook.ts). Only a language the use
   * case offers is kept.
   */
  languageChanged(language: string): Promise<void> {
    if (offeredLanguage(this.opts.useCase, language).ok) this.language = language;
    return Promise.resolve();
  }

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
      () => this.send(update),
    );
  }

  /** A claimed rolling number of the transfer's queue, or undefined (never rejects). */
  private async rollingNumber(update: TransferRequest): Promise<string | undefined> {
    const { claims, traceId, useCase } = this.opts;
    const queue = Object.hasOwn(useCase.queues, update.queue)
      ? useCase.queues[update.queue]
      : undefined;
    const pool = queue?.rollingNumbers ?? [];
    if (!claims || !traceId || !update.summary || pool.length === 0) return undefined;
    const context: HandoffContext = {
      summary: update.summary,
      topic: update.topic ?? '',
      reason: update.reason,
      verification: update.verification ?? 'unverified',
      traceId,
      useCase: useCase.id,
      queue: update.queue,
    };
    const claimed = await claims
      .claim({
        transactionId: this.opts.call.callSid,
        slots: pool.length,
        context,
        nowMs: (this.opts.now ?? Date.now)(),
      })
      .catch(() => ({ slot: undefined }));
    return claimed.slot === undefined ? undefined : pool[claimed.slot];
  }

  private async params(
    update: CallUpdateRequest,
  ): Promise<{ twiml?: string; status?: 'completed' }> {
    if (update.action === 'hangup') return { status: 'completed' };
    // Messages are the SMA's (RecordAudio); a Twilio call gets none, and the agent says so.
    if (update.action === 'voicemail') {
      throw new CallControlError('call update voicemail failed: not_supported', false, 0);
    }
    const twiml = dialQueueTwiml({
      useCase: this.opts.useCase,
      queue: update.queue,
      target: 'primary',
      statusUrl: this.opts.dialStatusUrl,
      rollingNumber: await this.rollingNumber(update),
      language: update.language ?? this.language,
    });
    // The SMA refuses a queue that is not the use case's; so does this adapter, before any request.
    if (!twiml) throw new CallControlError('call update transfer failed: invalid_queue', false, 0);
    return { twiml };
  }

  private async send(update: CallUpdateRequest): Promise<void> {
    const startedAt = Date.now(); // loading the client is part of the budget
    const params = await this.params(update);
    const calls = await this.opts.calls;
    await retryWithinBudget({
      action: update.action,
      budgetMs: this.budgetMs,
      sleep: this.sleep,
      startedAt,
      attempt: () => calls.update(this.opts.call.callSid, params),
      retryable: isRetryableTwilio,
      describe: (err) => {
        const e = err as { status?: number; name?: string };
        return e.status !== undefined ? `HTTP ${e.status}` : (e.name ?? 'Error');
      },
    });
  }
}
