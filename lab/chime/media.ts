// What carries a simulated Chime call's actions out (real SIP legs and audio in the lab:
// lab/chime/voice-connector-media.ts); without one, SimulatedChimeCall only simulates the legs.
import type { ChimeLeg } from './events.js';

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
  /**
   * Plays an audio object to the caller `repeat` times (PlayAudio), resolving when it has been
   * played; rejects with AudioSourceError when the object is missing, unreadable or not PCM WAV.
   */
  playAudio?(source: { bucket: string; key: string }, repeat: number): Promise<void>;
  /**
   * Records what the caller says (RecordAudio) into `<bucket>/<prefix>…`, until `durationS`, a
   * silence of `silenceS` after speech, one of `terminators` pressed, or the caller hanging up;
   * resolves with the object's key and the terminator used.
   */
  recordAudio?(req: RecordRequest): Promise<{ key: string; terminator?: string }>;
  /**
   * StartCallRecording: records the leg from now until the call ends, then writes the object to
   * `<bucket>/<key>` (Chime delivers a call's recording once the call is over).
   */
  startCallRecording?(req: CallRecordingRequest): void;
}

export interface CallRecordingRequest {
  bucket: string;
  key: string;
  /** INCOMING: what the caller says; OUTGOING: what the caller hears; BOTH: the two, in stereo. */
  track: 'BOTH' | 'INCOMING' | 'OUTGOING';
  transactionId: string;
  leg: ChimeLeg;
}

export interface RecordRequest {
  bucket: string;
  prefix: string;
  durationS: number;
  silenceS: number;
  terminators: string[];
  /** The leg recorded (LEG-A, the caller). */
  leg: ChimeLeg;
}

/**
 * Why a media layer could not play an audio object: `missing` (no such bucket or key),
 * `unreadable` (it exists but cannot be read) or `format` (not a PCM WAV that can be played).
 */
export class AudioSourceError extends Error {
  constructor(
    readonly reason: 'missing' | 'unreadable' | 'format',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AudioSourceError';
  }
}
