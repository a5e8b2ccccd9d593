// The lab's Chime legs, for real: the caller is a participant in a room of its own; CallAndBridge
// `AWS` places a SIP call from that room through the lab's outbound trunk to the local livekit-sip
// with the action's SipHeaders (so it arrives as production's inbound call); CallAndBridge `PSTN`
// brings in the Connect stand-in, a participant answering as a live agent; Speak is Chime's voice
// in the room; Hangup ends the leg it names. A leg that ends by itself (the agent's side hangs up)
// is reported to the call as Chime reports it: a HANGUP event.
import { fileURLToPath } from 'node:url';
import type { BridgeRequest, ChimeMedia, SimulatedChimeCall } from '../chime/simulated-call.js';
import type { ChimeLeg } from '../chime/events.js';
import { type LiveKitAccess, SipLeg } from './sip-leg.js';
import { VoiceParticipant } from './voice-participant.js';
import { readWavObject } from './wav.js';

export const CONNECT_GREETING = 'Hello, this is the 311 team. How can I help you today?';

export interface LiveKitMediaOptions {
  lk: LiveKitAccess;
  /** The lab's outbound trunk (sip/livekit/definitions.ts LAB_OUTBOUND_TRUNK). */
  outboundTrunkId: string;
  /** Does the human queue at this number answer? (Failure scenarios say no.) */
  queueAnswers?: (number: string) => boolean;
  /** How long an unanswered PSTN bridge rings before CallNotAnswered (default 2 s in the lab). */
  queueRingMs?: number;
  /** The lab's S3 for PlayAudio: object `<audioRoot>/<bucket>/<key>` (default sip/lab/audio). */
  audioRoot?: string;
}

const AUDIO_ROOT = fileURLToPath(new URL('./audio', import.meta.url));

export class LiveKitChimeMedia implements ChimeMedia {
  /** The caller's side: their room, ear and voice, and the SIP leg to the agent. */
  sip: SipLeg | undefined;
  person: VoiceParticipant | undefined;
  /** performance.now() when the person started speaking (CTD ends when the caller hears it). */
  personSpeaksAt: number | undefined;
  private call: SimulatedChimeCall | undefined;
  private readonly kinds = new Map<string, 'agent' | 'person'>();
  private readonly droppedByUs = new Set<string>();

  constructor(private readonly opts: LiveKitMediaOptions) {}

  /** The call whose legs these are (for the HANGUP of a leg that ends by itself). */
  attach(call: SimulatedChimeCall): void {
    this.call = call;
  }

  async bridge(req: BridgeRequest): Promise<boolean> {
    if (req.type === 'AWS') return this.bridgeAgent(req);
    return this.bridgePerson(req);
  }

  private async bridgeAgent(req: BridgeRequest): Promise<boolean> {
    const leg = await SipLeg.dial(this.opts.lk, {
      outboundTrunkId: this.opts.outboundTrunkId,
      to: req.uri,
      from: req.callerId,
      headers: req.headers,
      ringingTimeoutS: req.timeoutS,
      // Phone audio, in 20 ms frames: the lab runs an ear per call in one process, and at ten
      // calls on two cores, 10 ms frames at 16 kHz left that process behind real time.
      sampleRate: 8000,
      frameMs: 20,
    });
    this.sip = leg;
    try {
      await leg.waitAnswered(req.timeoutS * 1000);
    } catch {
      await leg.dropSipCall();
      return false;
    }
    this.kinds.set(req.leg.CallId, 'agent');
    const callId = req.leg.CallId;
    void leg.waitEnded(24 * 3600_000).then(() => {
      if (!this.droppedByUs.has(callId)) void this.call?.remoteHangup('LEG-B', callId);
    });
    return true;
  }

  private async bridgePerson(req: BridgeRequest): Promise<boolean> {
    const answers = this.opts.queueAnswers?.(req.uri) ?? true;
    if (!answers || !this.sip) {
      await new Promise((r) => setTimeout(r, this.opts.queueRingMs ?? 2000));
      return false;
    }
    this.person = await VoiceParticipant.join(this.opts.lk, this.sip.roomName, 'connect-agent');
    this.kinds.set(req.leg.CallId, 'person');
    this.personSpeaksAt = performance.now();
    void this.person.say(CONNECT_GREETING).catch(() => {}); // cut short if the call ends
    return true;
  }

  async hangup(leg: ChimeLeg): Promise<void> {
    if (leg.ParticipantTag === 'LEG-A') {
      // The caller is gone: their room (and whatever is still in it) goes too.
      await this.person?.leave();
      await this.sip?.hangUp();
      return;
    }
    this.droppedByUs.add(leg.CallId);
    if (this.kinds.get(leg.CallId) === 'agent') await this.sip?.dropSipCall();
    else await this.person?.leave();
  }

  async speak(text: string): Promise<void> {
    if (!this.sip) return;
    const chime = await VoiceParticipant.join(
      this.opts.lk,
      this.sip.roomName,
      'chime-speak',
      'awb',
    );
    try {
      await chime.say(text);
    } finally {
      await chime.leave();
    }
  }

  /** PlayAudio: Chime's player in the caller's room. A missing object fails even before a room. */
  async playAudio(source: { bucket: string; key: string }, repeat: number): Promise<void> {
    const pcm = await readWavObject(this.opts.audioRoot ?? AUDIO_ROOT, source);
    if (!this.sip) return;
    const chime = await VoiceParticipant.join(this.opts.lk, this.sip.roomName, 'chime-audio');
    try {
      for (let i = 0; i < repeat; i++) await chime.play(pcm.samples, pcm.sampleRate);
    } finally {
      await chime.leave();
    }
  }

  /**
   * The caller hangs up. Chime reports LEG-A's HANGUP first, and the SMA hangs up LEG-B; only then
   * does the caller's room go. (Taking the room down first would end the AI leg by itself, and
   * the SMA would rightly read that as the agent failing and bridge a caller who is gone.)
   */
  async callerHangsUp(): Promise<void> {
    await this.call?.remoteHangup('LEG-A');
    await this.person?.leave();
    await this.sip?.hangUp();
  }

  /** Leaves everything (end of a scenario). */
  async close(): Promise<void> {
    await this.person?.leave();
    await this.sip?.hangUp();
  }
}
