// The legs of a simulated Chime call, and each returned action carried out on them: simulated, or
// for real through a ChimeMedia (lab/chime/voice-connector-media.ts). Actions are checked as Chime
// checks them (./action-rules.ts) before they run.
import {
  type Action,
  type ActionFailure,
  audioOf,
  callRecordingOf,
  checkAction,
  playAudioFailure,
  recordingOf,
  SYSTEM_ERROR,
  targetLeg,
  unsupportedAction,
} from './action-rules.js';
import { recordingKey } from '../../contracts/recordings.js';
import type { ChimeLeg } from './events.js';
import type { ChimeMedia } from './media.js';

/** An action's outcome; `data` joins the ActionData Chime reports (RecordAudio's destination). */
export type Outcome =
  { ok: true; hungUp?: ChimeLeg; data?: Record<string, unknown> } | ActionFailure;

export interface CallLegsOptions {
  /** The start of every leg's CallId. */
  idPrefix: string;
  now: () => number;
  /** Carries out bridges and hang-ups for real; without it the legs are simulated. */
  media?: ChimeMedia;
  /** The call's TransactionId (recording keys name it). */
  transactionId?: string;
  /** Does the agent (LiveKit through the Voice Connector) answer? */
  agentAnswers?: boolean;
  /** Does a PSTN number (a human queue) answer? */
  numberAnswers?: (number: string) => boolean;
}

export class CallLegs {
  /** Every leg the call has had, in order, as Chime lists them in Participants. */
  readonly all: ChimeLeg[] = [];
  private counter = 0;
  /** Legs whose recording has started. */
  private readonly recorded = new Set<string>();

  constructor(private readonly opts: CallLegsOptions) {}

  /** LEG-A: the caller (inbound) or the callee (outbound). */
  get legA(): ChimeLeg | undefined {
    return this.all.find((l) => l.ParticipantTag === 'LEG-A');
  }

  /** The LEG-B that is up, if any. */
  get legB(): ChimeLeg | undefined {
    return this.all.find((l) => l.ParticipantTag === 'LEG-B' && l.Status === 'Connected');
  }

  get ended(): boolean {
    return this.legA?.Status === 'Disconnected' && this.legB === undefined;
  }

  byCallId(callId: string): ChimeLeg | undefined {
    return this.all.find((l) => l.CallId === callId);
  }

  add(tag: 'LEG-A' | 'LEG-B', to: string, from: string, dir: ChimeLeg['Direction']): ChimeLeg {
    this.counter += 1;
    const leg: ChimeLeg = {
      CallId: `${this.opts.idPrefix}-leg${this.counter}`,
      ParticipantTag: tag,
      To: to,
      From: from,
      Direction: dir,
      StartTimeInMilliseconds: String(this.opts.now()),
      Status: 'Connected',
    };
    this.all.push(leg);
    return leg;
  }

  /** The ActionData of a HANGUP event for `leg`. */
  hangupData(leg: ChimeLeg): Record<string, unknown> {
    return {
      Type: 'Hangup',
      Parameters: { SipResponseCode: '0', CallId: leg.CallId, ParticipantTag: leg.ParticipantTag },
    };
  }

  /** ActionData of `action`'s outcome; a CallAndBridge's names the A leg (DG pstn-invocations). */
  actionData(action: Action): { Type: string; Parameters: Record<string, unknown> } {
    const callId = action.Type === 'CallAndBridge' && this.legA ? { CallId: this.legA.CallId } : {};
    return { Type: action.Type, Parameters: { ...action.Parameters, ...callId } };
  }

  async execute(action: Action): Promise<Outcome> {
    const failure = checkAction(action, this.all);
    if (failure) return failure;
    const p = action.Parameters ?? {};
    const media = this.opts.media;
    switch (action.Type) {
      case 'CallAndBridge':
        return this.bridge(p);
      case 'Hangup': {
        const leg = targetLeg(p, this.all)!; // checkAction found it up
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
      case 'RecordAudio':
        return this.record(p);
      case 'StartCallRecording':
        return this.startCallRecording(p);
      default:
        return unsupportedAction(action.Type);
    }
  }

  /**
   * StartCallRecording: Chime names the object as the recording starts, with its own layout
   * (`<prefix>/<yyyy>/<mm>/<dd>/<time>_<TransactionId>_<CallId>.wav`), and reports it in
   * ACTION_SUCCESSFUL's CallRecordingDestination; the object is there once the call has ended.
   */
  private startCallRecording(p: Record<string, unknown>): Outcome {
    const leg = targetLeg(p, this.all)!; // checkAction found it up
    if (this.recorded.has(leg.CallId)) {
      // A leg's recording starts once (sip-apps-call-record.html); the guide names no error.
      return {
        ok: false,
        errorType: 'InvalidActionParameter',
        errorMessage: 'Recording already started',
      };
    }
    this.recorded.add(leg.CallId);
    const { bucket, prefix, track } = callRecordingOf(p);
    const transactionId = this.opts.transactionId ?? this.opts.idPrefix;
    const key = recordingKey({
      prefix,
      atMs: this.opts.now(),
      callId: transactionId,
      legId: leg.CallId,
    });
    this.opts.media?.startCallRecording?.({ bucket, key, track, transactionId, leg });
    return {
      ok: true,
      data: { CallRecordingDestination: { Type: 'S3', Location: `${bucket}/${key}` } },
    };
  }

  /** RecordAudio: the caller's words into the lab's bucket folder, reported as Chime reports them. */
  private async record(p: Record<string, unknown>): Promise<Outcome> {
    const leg = targetLeg(p, this.all)!; // checkAction found it up
    const rec = recordingOf(p);
    const media = this.opts.media;
    if (!media?.recordAudio) {
      const key = `${rec.prefix}${leg.CallId}.wav`;
      return {
        ok: true,
        data: { RecordingDestination: { Type: 'S3', BucketName: rec.bucket, Key: key } },
      };
    }
    try {
      const { key, terminator } = await media.recordAudio({ ...rec, leg });
      return {
        ok: true,
        data: {
          RecordingDestination: { Type: 'S3', BucketName: rec.bucket, Key: key },
          ...(terminator ? { RecordingTerminatorUsed: terminator } : {}),
        },
      };
    } catch {
      return SYSTEM_ERROR;
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
      leg = this.add('LEG-B', uri, callerId, 'Outbound');
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
      if (leg) this.all.splice(this.all.indexOf(leg), 1); // a leg that never was
      return { ok: false, errorType: 'CallNotAnswered', errorMessage: 'Call not answered' };
    }
    if (leg) leg.Status = 'Connected';
    else this.add('LEG-B', uri, callerId, 'Outbound');
    return { ok: true };
  }
}
