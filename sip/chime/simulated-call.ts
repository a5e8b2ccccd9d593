// A call driven through the SMA handler the way Chime drives it. It numbers events, carries
// TransactionAttributes from each answer to the next event, runs each returned action list and
// reports its outcome (ACTION_SUCCESSFUL after the last action, ACTION_FAILED on the first
// failure, HANGUP for each leg that goes), one invocation at a time. The legs are simulated (no
// SIP, no audio: `npm start` today and the flow tests) unless a `media` carries the actions out
// for real (the lab: sip/lab/livekit-media.ts).
//
// Where Chime's documentation leaves an order open (a Hangup action of LEG-B produces both a HANGUP
// event and ACTION_SUCCESSFUL), `hangupEventFirst` picks one, so tests can cover both.
import { chimeEvent, type ChimeCallIdentity, type ChimeLeg } from './events.js';

interface Action {
  Type: string;
  Parameters?: Record<string, unknown>;
}
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
}

export interface BridgeRequest {
  type: 'AWS' | 'PSTN';
  /** AWS: the user part of the Request-URI (the LiveKit number); PSTN: the number dialled. */
  uri: string;
  callerId: string;
  /** The action's SipHeaders. */
  headers: Record<string, string>;
  timeoutS: number;
  /** The new leg (LEG-B). */
  leg: ChimeLeg;
}

/** What carries a call's actions out: real SIP legs and audio in the lab. */
export interface ChimeMedia {
  /** Places LEG-B; resolves true once it is answered, false when it is not. */
  bridge(req: BridgeRequest): Promise<boolean>;
  /** Hangs a leg up (LEG-A: the caller; LEG-B: the bridged leg). */
  hangup(leg: ChimeLeg): Promise<void>;
  /** Says text to the caller (Speak), resolving when it has been said. */
  speak?(text: string): Promise<void>;
}

type Outcome =
  { ok: true; hungUp?: ChimeLeg } | { ok: false; errorType: string; errorMessage: string };

export class SimulatedChimeCall {
  readonly timeline: TimelineStep[] = [];
  private readonly legs: ChimeLeg[] = [];
  private attributes: Record<string, string> = {};
  private sequence = 0;
  private legCounter = 0;
  private readonly now: () => number;
  /** Chime invokes the handler for one call at a time: every entry point queues here. */
  private serial: Promise<unknown> = Promise.resolve();

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
    this.sequence += 1;
    const event = chimeEvent({
      call: this.opts.call,
      sequence: this.sequence,
      type,
      legs: this.legs,
      attributes: this.attributes,
      actionData,
    });
    const answer = (await this.opts.handler(event)) as Answer;
    // Chime keeps the map it was given: returned keys replace the whole map.
    if (answer?.TransactionAttributes) this.attributes = { ...answer.TransactionAttributes };
    const actions = Array.isArray(answer?.Actions) ? answer.Actions : [];
    const step: TimelineStep = {
      sequence: this.sequence,
      type,
      actionData,
      actions: [...actions],
      atMs: this.now(),
    };
    this.timeline.push(step);
    this.opts.onStep?.(step);
    return actions;
  }

  private async run(first: Action[]): Promise<void> {
    let queue = [...first];
    while (queue.length > 0 && !this.ended) {
      const action = queue.shift()!;
      const outcome = await this.execute(action);
      const data = {
        Type: action.Type,
        Parameters: { ...action.Parameters, ...this.callIdOf(action) },
      };
      if (!outcome.ok) {
        queue = await this.invoke('ACTION_FAILED', {
          ...data,
          ErrorType: outcome.errorType,
          ErrorMessage: outcome.errorMessage,
        });
        continue;
      }
      const first = this.opts.hangupEventFirst ?? true;
      if (outcome.hungUp && first) {
        const replaced = await this.invoke('HANGUP', this.hangupData(outcome.hungUp));
        if (replaced.length > 0) queue = replaced;
      }
      if (queue.length === 0 && !this.ended) {
        queue = await this.invoke('ACTION_SUCCESSFUL', data);
      }
      if (outcome.hungUp && !first) {
        const replaced = await this.invoke('HANGUP', this.hangupData(outcome.hungUp));
        if (replaced.length > 0) queue = replaced;
      }
    }
  }

  private callIdOf(action: Action): Record<string, unknown> {
    // CallAndBridge's ActionData names the A leg (DG pstn-invocations).
    return action.Type === 'CallAndBridge' && this.legA ? { CallId: this.legA.CallId } : {};
  }

  private async execute(action: Action): Promise<Outcome> {
    const p = action.Parameters ?? {};
    switch (action.Type) {
      case 'CallAndBridge':
        return this.bridge(p);
      case 'Hangup': {
        const leg = this.legs.find((l) => l.CallId === p['CallId'] && l.Status === 'Connected');
        if (!leg)
          return { ok: false, errorType: 'InvalidActionParameter', errorMessage: 'Invalid CallId' };
        leg.Status = 'Disconnected';
        await this.opts.media?.hangup(leg);
        return { ok: true, hungUp: leg };
      }
      case 'Speak':
        await this.opts.media?.speak?.(String(p['Text'] ?? ''));
        return { ok: true };
      case 'Pause':
        if (this.opts.media)
          await new Promise((r) => setTimeout(r, Number(p['DurationInMilliseconds'] ?? 0)));
        return { ok: true };
      case 'PlayAudio':
        return { ok: true };
      default:
        return {
          ok: false,
          errorType: 'InvalidActionParameter',
          errorMessage: `Unsupported action ${action.Type}`,
        };
    }
  }

  private async bridge(p: Record<string, unknown>): Promise<Outcome> {
    const endpoint = (p['Endpoints'] as Record<string, string>[] | undefined)?.[0];
    const callerId = String(p['CallerIdNumber'] ?? '');
    if (!endpoint)
      return { ok: false, errorType: 'MissingRequiredActionParameter', errorMessage: 'Endpoints' };
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
