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
// in the timeline). Actions are checked as Chime checks them (./action-rules.ts) before they run.
import {
  type Action,
  type ActionFailure,
  MAX_ACTIONS_PER_ANSWER,
  audioOf,
  checkAction,
  playAudioFailure,
  targetLeg,
  tooManyActions,
  unsupportedAction,
} from './action-rules.js';
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

type Outcome = { ok: true; hungUp?: ChimeLeg } | ActionFailure;

export class SimulatedChimeCall {
  readonly timeline: TimelineStep[] = [];
  private readonly legs: ChimeLeg[] = [];
  private attributes: Record<string, string> = {};
  private sequence = 0;
  private legCounter = 0;
  private readonly now: () => number;
  /** Chime invokes the handler for one call at a time: every entry point queues here. */
  private serial: Promise<unknown> = Promise.resolve();
  /** Chime ended the call because the handler did not answer: nothing is invoked any more. */
  private dropped = false;

  constructor(private readonly opts: SimulatedCallOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** LEG-A: the caller (inbound) or the callee (outbound). */
  get legA(): ChimeLeg | undefined {
    return this.legs.find((l) => l.ParticipantTag === 'LEG-A');
  }

  /** The LEG-B that is up, if any. */
  get legB(): ChimeLeg | undefined {
    return this.legs.find((l) => l.ParticipantTag === 'LEG-B' && l.Status === 'Connected');
  }

  get ended(): boolean {
    return this.legA?.Status === 'Disconnected' && this.legB === undefined;
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
      this.addLeg('LEG-A', this.opts.dialed, this.opts.caller, 'Inbound');
      await this.run(await this.invoke('NEW_INBOUND_CALL'));
    });
  }

  /** A call we place (CreateSipMediaApplicationCall) that the callee answers. */
  async startOutbound(args: Record<string, string>): Promise<void> {
    this.addLeg('LEG-A', this.opts.dialed, this.opts.caller, 'Outbound');
    await this.invoke('NEW_OUTBOUND_CALL', {
      Type: 'CallAndBridge',
      Parameters: { Arguments: args },
    });
    await this.invoke('RINGING');
    // After a drop invoke() answers [] without invoking, so nothing below reaches the handler.
    await this.run(await this.invoke('CALL_ANSWERED'));
  }

  /** UpdateSipMediaApplicationCall reaching the handler. */
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

  /** The agent's transfer request, with the contract's arguments. */
  requestTransfer(queue = 'general', requestedAt: number | string = Date.now()): Promise<void> {
    return this.update({
      action: 'transfer',
      queue,
      reason: 'caller_asked',
      requestedAt: String(requestedAt),
    });
  }

  /** The far end of a leg hangs up (the caller, the agent's SIP leg, or the person). */
  remoteHangup(tag: 'LEG-A' | 'LEG-B', callId?: string): Promise<void> {
    return this.exclusive(async () => {
      const leg =
        callId !== undefined
          ? this.legs.find((l) => l.CallId === callId)
          : tag === 'LEG-A'
            ? this.legA
            : this.legB;
      if (!leg || leg.Status === 'Disconnected') return;
      leg.Status = 'Disconnected';
      await this.run(await this.invoke('HANGUP', this.hangupData(leg)));
    });
  }

  private addLeg(
    tag: 'LEG-A' | 'LEG-B',
    to: string,
    from: string,
    dir: ChimeLeg['Direction'],
  ): ChimeLeg {
    this.legCounter += 1;
    const leg: ChimeLeg = {
      CallId: `${this.opts.call.transactionId.slice(0, 8)}-leg${this.legCounter}`,
      ParticipantTag: tag,
      To: to,
      From: from,
      Direction: dir,
      StartTimeInMilliseconds: String(this.now()),
      Status: 'Connected',
    };
    this.legs.push(leg);
    return leg;
  }

  private hangupData(leg: ChimeLeg): Record<string, unknown> {
    return {
      Type: 'Hangup',
      Parameters: { SipResponseCode: '0', CallId: leg.CallId, ParticipantTag: leg.ParticipantTag },
    };
  }

  private async invoke(type: string, actionData?: Record<string, unknown>): Promise<Action[]> {
    if (this.dropped) return [];
    this.sequence += 1;
    const sequence = this.sequence;
    const event = chimeEvent({
      call: this.opts.call,
      sequence,
      type,
      legs: this.legs,
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
    const live = this.legs.filter((l) => l.Status === 'Connected').reverse(); // LEG-B first
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
      const outcome = rejected ?? (await this.execute(action));
      const data = {
        Type: action.Type,
        Parameters: { ...action.Parameters, ...this.callIdOf(action) },
      };
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
        const replaced = await this.invoke('HANGUP', this.hangupData(outcome.hungUp));
        if (replaced.length > 0) take(replaced);
      }
      if (queue.length === 0 && !this.ended) {
        take(await this.invoke('ACTION_SUCCESSFUL', data));
      }
      if (outcome.hungUp && !first) {
        const replaced = await this.invoke('HANGUP', this.hangupData(outcome.hungUp));
        if (replaced.length > 0) take(replaced);
      }
    }
  }

  private callIdOf(action: Action): Record<string, unknown> {
    // CallAndBridge's ActionData names the A leg (DG pstn-invocations).
    return action.Type === 'CallAndBridge' && this.legA ? { CallId: this.legA.CallId } : {};
  }

  private async execute(action: Action): Promise<Outcome> {
    const failure = checkAction(action, this.legs);
    if (failure) return failure;
    const p = action.Parameters ?? {};
    const media = this.opts.media;
    switch (action.Type) {
      case 'CallAndBridge':
        return this.bridge(p);
      case 'Hangup': {
        const leg = targetLeg(p, this.legs)!; // checkAction found it up
        leg.Status = 'Disconnected';
        await media?.hangup(leg);
        return { ok: true, hungUp: leg };
      }
      case 'Speak':
        await media?.speak?.(String(p['Text']));
        return { ok: true };
      case 'Pause':
        if (media) await new Promise((r) => setTimeout(r, Number(p['DurationInMilliseconds'])));
        return { ok: true };
      case 'PlayAudio': {
        if (!media?.playAudio) return { ok: true };
        const { source, repeat } = audioOf(p);
        return media.playAudio(source, repeat).then(
          () => ({ ok: true }) as const,
          (err: unknown) => playAudioFailure(err),
        );
      }
      default:
        return unsupportedAction(action.Type);
    }
  }

  private async bridge(p: Record<string, unknown>): Promise<Outcome> {
    const endpoint = (p['Endpoints'] as Record<string, string>[])[0]!; // checkAction: exactly one
    const callerId = String(p['CallerIdNumber']);
    const type = endpoint['BridgeEndpointType'] === 'AWS' ? 'AWS' : 'PSTN';
    const uri = endpoint['Uri'] ?? '';
    let answers: boolean;
    let leg: ChimeLeg | undefined;
    if (this.opts.media) {
      leg = this.addLeg('LEG-B', uri, callerId, 'Outbound');
      leg.Status = 'Disconnected'; // until it answers
      answers = await this.opts.media.bridge({
        type,
        uri,
        callerId,
        headers: (p['SipHeaders'] as Record<string, string> | undefined) ?? {},
        timeoutS: Number(p['CallTimeoutSeconds'] ?? 30),
        leg,
      });
    } else {
      answers =
        type === 'AWS'
          ? (this.opts.agentAnswers ?? true)
          : (this.opts.numberAnswers?.(uri) ?? true);
    }
    if (!answers) {
      if (leg) this.legs.splice(this.legs.indexOf(leg), 1); // a leg that never was
      return { ok: false, errorType: 'CallNotAnswered', errorMessage: 'Call not answered' };
    }
    if (leg) leg.Status = 'Connected';
    else this.addLeg('LEG-B', uri, callerId, 'Outbound');
    return { ok: true };
  }
}
