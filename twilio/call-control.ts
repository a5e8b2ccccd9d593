// The agent's call control for a Twilio call (docs/twilio.md): the same CallControl interface the
// SMA's adapter implements (agent/call-control.ts), carried out through Twilio's REST API. A
// transfer updates the live call with a <Dial> to the queue's number from the call's use case (a
// key the agent names, never a number anyone says); a hang-up completes the call. Updating the
// call ends its <Connect><Stream>: the gateway sees the stream stop and empties the room.
// Throttling (429) and server errors are retried with backoff within the budget, as for Chime.
import { trace, type Context } from '@opentelemetry/api';
import type { Twilio } from 'twilio';
import type { TwilioCall } from '../agent/call-context.js';
import {
  CallControlError,
  type CallControl,
  type CallUpdateRequest,
} from '../agent/call-control.js';
import type { UseCase } from '../contracts/use-cases.js';
import { withCallUpdateSpan } from '../otel/agent-spans.js';
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
}

/** Twilio's answer is retryable: throttled, a server error, or no answer at all. */
export function isRetryableTwilio(err: unknown): boolean {
  const e = err as { status?: number; code?: string };
  if (e?.status === 429 || (e?.status !== undefined && e.status >= 500)) return true;
  return e?.code === 'ECONNREFUSED' || e?.code === 'ECONNRESET' || e?.code === 'ETIMEDOUT';
}

export class TwilioCallControl implements CallControl {
  private readonly budgetMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

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
    opts: Pick<TwilioCallControlOptions, 'traceContext' | 'budgetMs' | 'sleep'> & {
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

  private params(update: CallUpdateRequest): { twiml?: string; status?: 'completed' } {
    if (update.action === 'hangup') return { status: 'completed' };
    const twiml = dialQueueTwiml({
      useCase: this.opts.useCase,
      queue: update.queue,
      target: 'primary',
      statusUrl: this.opts.dialStatusUrl,
    });
    // The SMA refuses a queue that is not the use case's; so does this adapter, before any request.
    if (!twiml) throw new CallControlError('call update transfer failed: invalid_queue', false, 0);
    return { twiml };
  }

  private async send(update: CallUpdateRequest): Promise<void> {
    const started = Date.now();
    const params = this.params(update);
    const calls = await this.opts.calls;
    let delayMs = 150;
    for (let attempt = 1; ; attempt++) {
      trace.getActiveSpan()?.setAttribute('callbridge.call_update.attempts', attempt);
      try {
        await calls.update(this.opts.call.callSid, params);
        return;
      } catch (err) {
        const retryable = isRetryableTwilio(err);
        const left = this.budgetMs - (Date.now() - started);
        if (!retryable || left < delayMs) {
          const e = err as { status?: number; name?: string };
          const what = e.status !== undefined ? `HTTP ${e.status}` : (e.name ?? 'Error');
          throw new CallControlError(
            `call update ${update.action} failed: ${what}`,
            retryable,
            attempt,
            {
              cause: err,
            },
          );
        }
        await this.sleep(delayMs);
        delayMs = Math.min(delayMs * 2, 1000);
      }
    }
  }
}
