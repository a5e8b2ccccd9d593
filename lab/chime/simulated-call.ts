// A call driven through the SMA handler the way Chime drives it. It numbers events, carries
// TransactionAttributes from each answer to the next event, runs each returned action list and
// reports its outcome (ACTION_SUCCESSFUL after the last action, ACTION_FAILED on the first
// failure, HANGUP for each leg that goes), one invocation at a time. The legs are simulated (no
// SIP, no audio: `npm start` today and the flow tests) unless a `media` carries the actions out
// for real (the lab: lab/chime/voice-connector-media.ts).
//
// Where Chime's documentation leaves an order open (a Hangup action of LEG-B produces both a HANGUP
// event and ACTION_SUCCESSFUL), `hangupEventFirst` picks one, so tests can cover both.
//
// Invocations go as Chime makes them (./lambda-invoker.ts): a handler that is slow gets the same
// event again after 5 s, one that stays silent for 20 s or fails twice ends the call (CALL_DROPPED
// in the timeline). The legs and each action run on them are ./call-legs.ts's.
import { toCallUpdateArguments, type CallUpdate } from '../../contracts/call-update.js';
import { SipHeader } from '../../contracts/headers.js';
import {
  type Action,
  type ActionFailure,
  MAX_ACTIONS_PER_ANSWER,
  tooManyActions,
} from './action-rules.js';
import { CallLegs } from './call-legs.js';
import { chimeEvent, type ChimeCallIdentity, type ChimeLeg } from './events.js';
import {
  CHIME_INVOKE_TIMING,
  type InvokeFailure,
  invokeLikeChime,
  whyDropped,
} from './lambda-invoker.js';
import type { ChimeMedia } from './media.js';

export { AudioSourceError, type BridgeRequest, type ChimeMedia } from './media.js';

interface Answer {
  Actions?: Action[];
  TransactionAttributes?: Record<string, string>;
}

export interface TimelineStep {
  sequence: number;
  type: string;
  actionData?: Record<string, unknown>;
  actions: Action[];
  atMs: number;
  /** How many times the handler got this event, when more than once (Chime's retries). */
  attempts?: number;
  /** CALL_DROPPED: why Chime ended the call. */
  reason?: string;
}

export interface SimulatedCallOptions {
  handler: (event: unknown) => Promise<unknown>;
  call: ChimeCallIdentity;
  caller: string;
  dialed: string;
  now?: () => number;
  /** Does the agent (LiveKit through the Voice Connector) answer? */
  agentAnswers?: boolean;
  /** Does a PSTN number (a human queue) answer? */
  numberAnswers?: (number: string) => boolean;
  hangupEventFirst?: boolean;
  onStep?: (step: TimelineStep) => void;
  /** Carries out bridges and hang-ups for real; without it the legs are simulated. */
  media?: ChimeMedia;
  /** No answer after this long: the same event again (Chime: 5 s). */
  retryAfterMs?: number;
  /** No answer after this long: the call ends (Chime: 20 s). */
  giveUpAfterMs?: number;
}

export class SimulatedChimeCall {
  readonly timeline: TimelineStep[] = [];
  private readonly legs: CallLegs;
  private attributes: Record<string, string> = {};
  private sequence = 0;
  private readonly now: () => number;
  /** Chime invokes the handler for one call at a time: every entry point queues here. */
  private serial: Promise<unknown> = Promise.resolve();
  /** Chime ended the call because the handler did not answer: nothing is invoked any more. */
  private dropped = false;
  /** The call token of the last bridge to the agent: what the agent received and returns. */
  private token: string | undefined;

  constructor(private readonly opts: SimulatedCallOptions) {
    this.now = opts.now ?? Date.now;
    this.legs = new CallLegs({
      ...opts,
      idPrefix: opts.call.transactionId.slice(0, 8),
      transactionId: opts.call.transactionId,
      now: this.now,
    });
  }

  /** LEG-A: the caller (inbound) or the callee (outbound). */
  get legA(): ChimeLeg | undefined {
    return this.legs.legA;
  }

  /** The LEG-B that is up, if any. */
  get legB(): ChimeLeg | undefined {
    return this.legs.legB;
  }

  get ended(): boolean {
    return this.legs.ended;
  }

  /** The call token the handler sent in the agent bridge's SIP headers, once it has. */
  get callToken(): string | undefined {
    return this.token;
  }

  get transactionAttributes(): Record<string, string> {
    return { ...this.attributes };
  }

  /** Resolves once no invocation is running or queued (what the journal holds is then final). */
  async settled(): Promise<void> {
    let current: Promise<unknown>;
    do {
      current = this.serial;
      await current;
    } while (current !== this.serial);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.serial.then(fn, fn);
    this.serial = next.catch(() => {});
    return next;
  }

  startInbound(): Promise<void> {
    return this.exclusive(async () => {
      this.legs.add('LEG-A', this.opts.dialed, this.opts.caller, 'Inbound');
      await this.run(await this.invoke('NEW_INBOUND_CALL'));
    });
  }

  /** A call we place (CreateSipMediaApplicationCall) that the callee answers. */
  async startOutbound(args: Record<string, string>): Promise<void> {
    this.legs.add('LEG-A', this.opts.dialed, this.opts.caller, 'Outbound');
    await this.invoke('NEW_OUTBOUND_CALL', {
      Type: 'CallAndBridge',
      Parameters: { Arguments: args },
    });
    await this.invoke('RINGING');
    // After a drop invoke() answers [] without invoking, so nothing below reaches the handler.
    await this.run(await this.invoke('CALL_ANSWERED'));
  }

  /**
   * UpdateSipMediaApplicationCall reaching the handler with these Arguments as sent (the Voice API
   * stand-in's requests, and tests forging what an agent or anyone else could send).
   */
  update(args: Record<string, string>): Promise<void> {
    return this.exclusive(async () => {
      if (this.ended) return;
      await this.run(
        await this.invoke('CALL_UPDATE_REQUESTED', {
          Type: 'CallUpdateRequest',
          Parameters: { Arguments: args },
        }),
      );
    });
  }

  /** An update as the agent sends it (contracts/call-update.ts). */
  send(update: CallUpdate): Promise<void> {
    return this.update(toCallUpdateArguments(update));
  }

  /** The agent's transfer request, with the contract's arguments and the call's token. */
  requestTransfer(queue = 'general', requestedAt: number | string = Date.now()): Promise<void> {
    return this.send({
      action: 'transfer',
      queue,
      reason: 'caller_asked',
      requestedAt: Number(requestedAt),
      token: this.token ?? '',
    });
  }

  /** The agent ending the call, with the contract's arguments and the call's token. */
  requestHangup(requestedAt: number = Date.now()): Promise<void> {
    return this.send({
      action: 'hangup',
      reason: 'caller_done',
      requestedAt,
      token: this.token ?? '',
    });
  }

  /** The far end of a leg hangs up (the caller, the agent's SIP leg, or the person). */
  remoteHangup(tag: 'LEG-A' | 'LEG-B', callId?: string): Promise<void> {
    return this.exclusive(async () => {
      const leg =
        callId !== undefined ? this.legs.byCallId(callId) : tag === 'LEG-A' ? this.legA : this.legB;
      if (!leg || leg.Status === 'Disconnected') return;
      leg.Status = 'Disconnected';
      await this.run(await this.invoke('HANGUP', this.legs.hangupData(leg)));
    });
  }

  private async invoke(type: string, actionData?: Record<string, unknown>): Promise<Action[]> {
    if (this.dropped) return [];
    this.sequence += 1;
    const sequence = this.sequence;
    const event = chimeEvent({
      call: this.opts.call,
      sequence,
      type,
      legs: this.legs.all,
      attributes: this.attributes,
      actionData,
    });
    const result = await invokeLikeChime(this.opts.handler, event, {
      ...CHIME_INVOKE_TIMING,
      retryAfterMs: this.opts.retryAfterMs ?? CHIME_INVOKE_TIMING.retryAfterMs,
      giveUpAfterMs: this.opts.giveUpAfterMs ?? CHIME_INVOKE_TIMING.giveUpAfterMs,
    });
    if (!result.ok) {
      await this.drop(sequence, result);
      return [];
    }
    const answer = result.answer as Answer;
    // Chime keeps the map it was given: returned keys replace the whole map.
    if (answer?.TransactionAttributes) this.attributes = { ...answer.TransactionAttributes };
    const actions = Array.isArray(answer?.Actions) ? answer.Actions : [];
    this.record({
      sequence,
      type,
      actionData,
      actions: [...actions],
      atMs: this.now(),
      ...(result.attempts > 1 ? { attempts: result.attempts } : {}),
    });
    return actions;
  }

  private record(step: TimelineStep): void {
    this.timeline.push(step);
    this.opts.onStep?.(step);
  }

  /**
   * Chime hangs up when the handler has not answered in 20 s or failed past its retry (480). The
   * guide says the call ends (timeouts.html, unexpected-hangups.html) and nothing of a HANGUP event
   * for it; HANGUP is "a user or the application hung up", and the application here is the handler
   * that could not be reached. So no HANGUP is sent: the legs go, the drop is recorded, and the
   * handler hears nothing more of this call.
   */
  private async drop(sequence: number, result: InvokeFailure): Promise<void> {
    this.dropped = true;
    const live = this.legs.all.filter((l) => l.Status === 'Connected').reverse(); // LEG-B first
    for (const leg of live) leg.Status = 'Disconnected';
    for (const leg of live) await this.opts.media?.hangup(leg).catch(() => {});
    this.record({
      sequence,
      type: 'CALL_DROPPED',
      actions: [],
      atMs: this.now(),
      reason: whyDropped(result, this.opts.giveUpAfterMs ?? CHIME_INVOKE_TIMING.giveUpAfterMs),
      ...(result.attempts > 1 ? { attempts: result.attempts } : {}),
    });
  }

  /** A bridge to the agent (endpoint AWS) carries the call's token in its SIP headers. */
  private keepCallToken(action: Action): void {
    if (action.Type !== 'CallAndBridge') return;
    const headers = action.Parameters?.['SipHeaders'] as Record<string, unknown> | undefined;
    const token = headers?.[SipHeader.callToken];
    if (typeof token === 'string') this.token = token;
  }

  private async run(first: Action[]): Promise<void> {
    let queue: Action[] = [];
    let rejected: ActionFailure | undefined;
    const take = (list: Action[]) => {
      queue = [...list];
      // Chime takes at most 10 actions per answer; a longer list fails as a whole, at its first.
      rejected = list.length > MAX_ACTIONS_PER_ANSWER ? tooManyActions(list.length) : undefined;
    };
    take(first);
    while (queue.length > 0 && !this.ended) {
      const action = queue.shift()!;
      this.keepCallToken(action);
      const outcome = rejected ?? (await this.legs.execute(action));
      const data = { ...this.legs.actionData(action), ...(outcome.ok ? outcome.data : {}) };
      if (!outcome.ok) {
        take(
          await this.invoke('ACTION_FAILED', {
            ...data,
            ErrorType: outcome.errorType,
            ErrorMessage: outcome.errorMessage,
          }),
        );
        continue;
      }
      const first = this.opts.hangupEventFirst ?? true;
      if (outcome.hungUp && first) {
        const replaced = await this.invoke('HANGUP', this.legs.hangupData(outcome.hungUp));
        if (replaced.length > 0) take(replaced);
      }
      if (queue.length === 0 && !this.ended) {
        take(await this.invoke('ACTION_SUCCESSFUL', data));
      }
      if (outcome.hungUp && !first) {
        const replaced = await this.invoke('HANGUP', this.legs.hangupData(outcome.hungUp));
        if (replaced.length > 0) take(replaced);
      }
    }
  }
}
