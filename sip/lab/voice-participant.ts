// Someone who joins the caller's room and speaks: the Connect stand-in's live agent ("Hello, this
// is the 311 team…"), or Chime itself saying a Speak action's text. Flite renders the words, in a
// voice other than the AI agent's.
import {
  AudioFrame,
  AudioSource,
  LocalAudioTrack,
  Room,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import { resamplePcm } from '../../agent/audio.js';
import { synthesizeToPcm } from '../../agent/providers/flite-tts.js';
import type { LiveKitAccess } from './sip-leg.js';

export class VoiceParticipant {
  private constructor(
    readonly identity: string,
    private readonly room: Room,
    private readonly source: AudioSource,
    private readonly voice: string,
  ) {}

  static async join(
    lk: LiveKitAccess,
    roomName: string,
    identity: string,
    voice = 'slt',
  ): Promise<VoiceParticipant> {
    const token = new AccessToken(lk.apiKey, lk.apiSecret, { identity });
    token.addGrant({ roomJoin: true, room: roomName, canPublish: true, canSubscribe: true });
    const room = new Room();
    await room.connect(lk.url, await token.toJwt(), { autoSubscribe: false, dynacast: false });
    const source = new AudioSource(16000, 1, 100);
    const opts = new TrackPublishOptions();
    opts.source = TrackSource.SOURCE_MICROPHONE;
    await room.localParticipant?.publishTrack(
      LocalAudioTrack.createAudioTrack(identity, source),
      opts,
    );
    return new VoiceParticipant(identity, room, source, voice);
  }

  /** Says the text, in real time; resolves when the last frame has been sent. */
  async say(text: string): Promise<void> {
    const pcm = await synthesizeToPcm(text, { voice: this.voice, sampleRate: 16000 });
    await this.play(pcm.samples, 16000);
  }

  /** Plays mono PCM at `sampleRate`, in real time; resolves when the last frame has been sent. */
  async play(samples: Int16Array, sampleRate: number): Promise<void> {
    const pcm = resamplePcm(samples, sampleRate, 16000);
    const n = 320;
    for (let i = 0; i < pcm.length; i += n) {
      const chunk = new Int16Array(n);
      chunk.set(pcm.subarray(i, i + n));
      await this.source.captureFrame(new AudioFrame(chunk, 16000, 1, n));
    }
    await this.source.waitForPlayout();
  }

  async leave(): Promise<void> {
    await this.source.close().catch(() => {});
    await this.room.disconnect().catch(() => {});
  }
}
