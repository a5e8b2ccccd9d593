// One /v1/listen WebSocket of the Deepgram stand-in: linear16 audio in, Deepgram's messages out.
// Phrases are found by loudness (./endpointer.ts) and transcribed by the project's offline
// recognizer; each phrase gets interim Results while it is spoken (when asked for), then a final
// one, with speech_final when a pause ended it. Everything sent goes through one queue, so the
// client reads the messages in the order the audio called for them.
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { resamplePcm } from '../../agent/audio.js';
import {
  type ListenQuery,
  type Phrase,
  listenControl,
  listenMetadata,
  resultsMessage,
} from './deepgram-protocol.js';
import { type EndpointEvent, Endpointer } from './endpointer.js';
import type { Recognizer } from './recognizer.js';

/** Deepgram closes a stream that sent neither audio nor a message for this long (NET-0001). */
export const LISTEN_IDLE_MS = 10_000;
/** How much more of a phrase must arrive before the next interim result. */
const INTERIM_EVERY_S = 1;
const RECOGNIZER_RATE = 16000;

export class ListenSession {
  private readonly requestId = randomUUID();
  private readonly endpointer: Endpointer;
  private sending: Promise<void> = Promise.resolve();
  private lastInterimS = 0;
  private interimQueued = false;
  private oddByte: number | undefined;
  private idle: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly q: ListenQuery,
    private readonly recognizer: Recognizer,
  ) {
    this.endpointer = new Endpointer({ sampleRate: q.sample_rate, endpointing: q.endpointing });
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('close', () => clearTimeout(this.idle));
    this.touch();
  }

  private touch(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      this.ws.close(
        1011,
        'Deepgram did not receive audio data or a text message within the timeout window. See https://dpgr.am/net0001',
      );
    }, LISTEN_IDLE_MS);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closing) return;
    this.touch();
    if (isBinary) this.onAudio(data);
    else this.onControl(data.toString('utf8'));
  }

  private onControl(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.ws.close(1008, 'DATA-0000: the message could not be decoded as JSON');
      return;
    }
    const msg = listenControl.safeParse(json);
    if (!msg.success) return; // Deepgram ignores control messages it does not know
    if (msg.data.type === 'Finalize') this.finish(true);
    if (msg.data.type === 'CloseStream') {
      this.closing = true;
      this.finish(false);
      this.enqueue(async () => {
        this.send(listenMetadata(this.requestId, this.endpointer.seconds));
        this.ws.close(1000);
      });
    }
  }

  private onAudio(data: Buffer): void {
    let bytes = data;
    if (this.oddByte !== undefined) bytes = Buffer.concat([Buffer.from([this.oddByte]), data]);
    this.oddByte = bytes.length % 2 ? bytes[bytes.length - 1] : undefined;
    const n = Math.floor(bytes.length / 2);
    const samples = new Int16Array(n);
    for (let i = 0; i < n; i++) samples[i] = bytes.readInt16LE(i * 2);
    for (const ev of this.endpointer.push(samples)) this.onEndpoint(ev);
    this.maybeInterim();
  }

  private onEndpoint(ev: EndpointEvent): void {
    if (ev.type === 'start') {
      this.lastInterimS = ev.atS;
      if (this.q.vad_events) {
        this.enqueue(async () =>
          this.send({ type: 'SpeechStarted', channel: [0], timestamp: ev.atS }),
        );
      }
      return;
    }
    // A pause ended it: speech_final, as Deepgram's endpointing says it.
    this.final(ev, { speechFinal: true, fromFinalize: false });
  }

  /** The client's Finalize (or CloseStream): the phrase in progress, final now. */
  private finish(fromFinalize: boolean): void {
    const ev = this.endpointer.finish();
    if (ev) this.final(ev, { speechFinal: !fromFinalize, fromFinalize });
  }

  private final(
    ev: Extract<EndpointEvent, { type: 'end' }>,
    flags: { speechFinal: boolean; fromFinalize: boolean },
  ): void {
    const audio = ev.audio;
    this.enqueue(async () => {
      const phrase = { transcript: await this.transcribe(audio), startS: ev.startS, endS: ev.endS };
      this.sendResults(phrase, { isFinal: true, ...flags });
      if (this.q.utterance_end_ms !== undefined && flags.speechFinal && phrase.transcript) {
        this.send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: phrase.endS });
      }
    });
  }

  private maybeInterim(): void {
    if (!this.q.interim_results || this.interimQueued || !this.endpointer.speaking) return;
    if (this.endpointer.seconds - this.lastInterimS < INTERIM_EVERY_S) return;
    const audio = this.endpointer.phraseSoFar();
    if (!audio) return;
    this.lastInterimS = this.endpointer.seconds;
    this.interimQueued = true;
    const endS = this.endpointer.seconds;
    const startS = endS - audio.length / this.q.sample_rate;
    this.enqueue(async () => {
      this.interimQueued = false;
      const transcript = await this.transcribe(audio);
      if (transcript) {
        this.sendResults(
          { transcript, startS, endS },
          { isFinal: false, speechFinal: false, fromFinalize: false },
        );
      }
    });
  }

  private transcribe(audio: Int16Array): Promise<string> {
    const pcm = resamplePcm(audio, this.q.sample_rate, RECOGNIZER_RATE);
    return pcm.length ? this.recognizer.transcribe(pcm).then((t) => t.trim()) : Promise.resolve('');
  }

  private sendResults(
    p: Phrase,
    flags: { isFinal: boolean; speechFinal: boolean; fromFinalize: boolean },
  ): void {
    const punctuate = this.q.punctuate || this.q.smart_format;
    this.send(resultsMessage(p, { ...flags, punctuate }, this.requestId));
  }

  private enqueue(step: () => Promise<void>): void {
    this.sending = this.sending
      .then(step)
      .catch(() => this.ws.close(1011, 'NET-0002: internal error'));
  }

  private send(msg: object): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }
}
