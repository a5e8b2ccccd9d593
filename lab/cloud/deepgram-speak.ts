// The Deepgram stand-in's text to speech: the /v1/speak WebSocket (Speak, Flush, Clear, Close in;
// binary audio, Flushed, Cleared, Metadata out) and the /v1/speak REST request, both spoken by
// Flite in the encoding and at the rate asked for.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import * as z from 'zod';
import { type SpeakQuery, errorBody, speakControl, speakMetadata } from './deepgram-protocol.js';
import { chunks, synthesize, wavHeader } from './speech-synth.js';

const bytesPerSecond = (q: SpeakQuery) => q.sample_rate * (q.encoding === 'linear16' ? 2 : 1);

export class SpeakSession {
  private text = '';
  private flushes = 0;
  private clears = 0;
  private work: Promise<void> = Promise.resolve();
  /** Aborted by Clear: audio being made or sent for the text before it is dropped. */
  private current = new AbortController();

  constructor(
    private readonly ws: WebSocket,
    private readonly q: SpeakQuery,
  ) {
    this.send(speakMetadata(randomUUID(), q.model));
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.warn('binary messages are not accepted on /v1/speak');
      else this.onControl((data as Buffer).toString('utf8'));
    });
    ws.on('close', () => this.current.abort());
  }

  private onControl(raw: string): void {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      this.warn('the message could not be decoded as JSON');
      return;
    }
    const msg = speakControl.safeParse(json);
    if (!msg.success) {
      this.warn(`unknown or malformed message: ${z.prettifyError(msg.error)}`);
      return;
    }
    const m = msg.data;
    if (m.type === 'Speak') this.text += m.text;
    else if (m.type === 'Flush') this.flush();
    else if (m.type === 'Clear') this.clear();
    else this.work = this.work.then(() => this.ws.close(1000));
  }

  private flush(): void {
    const text = this.text.trim();
    this.text = '';
    const sequence = this.flushes++;
    const signal = this.current.signal;
    this.work = this.work.then(async () => {
      if (text && !signal.aborted) await this.speak(text, signal);
      if (!signal.aborted) this.send({ type: 'Flushed', sequence_id: sequence });
    });
  }

  private clear(): void {
    this.text = '';
    this.current.abort();
    this.current = new AbortController();
    const sequence = this.clears++;
    this.work = this.work.then(() => this.send({ type: 'Cleared', sequence_id: sequence }));
  }

  private async speak(text: string, signal: AbortSignal): Promise<void> {
    try {
      const audio = await synthesize(text, {
        sampleRate: this.q.sample_rate,
        encoding: this.q.encoding,
        signal,
      });
      for (const c of chunks(audio, bytesPerSecond(this.q))) {
        if (signal.aborted || this.ws.readyState !== this.ws.OPEN) return;
        this.ws.send(c, { binary: true });
      }
    } catch (e) {
      if (!signal.aborted) this.send({ type: 'Error', err_code: 'SYNTHESIS', err_msg: String(e) });
    }
  }

  private warn(message: string): void {
    this.send({ type: 'Warning', warn_code: 'INVALID_MESSAGE', warn_msg: message });
  }

  private send(msg: object): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }
}

const speakBody = z.object({ text: z.string().min(1).max(2000) });

/** POST /v1/speak: the whole text's audio in one response (a WAV file unless container=none). */
export async function speakRest(q: SpeakQuery, body: unknown, res: ServerResponse): Promise<void> {
  const parsed = speakBody.safeParse(body);
  if (!parsed.success) {
    const message = `Invalid JSON body: ${z.prettifyError(parsed.error)}`;
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify(errorBody('Bad Request', message)));
    return;
  }
  const audio = await synthesize(parsed.data.text, {
    sampleRate: q.sample_rate,
    encoding: q.encoding,
  });
  const wav = (q.container ?? (q.encoding === 'linear16' ? 'wav' : 'none')) === 'wav';
  const type = wav ? 'audio/wav' : q.encoding === 'linear16' ? 'audio/l16' : 'audio/basic';
  res.writeHead(200, { 'content-type': type, 'dg-request-id': randomUUID() });
  if (wav) res.write(wavHeader(audio.length, q.sample_rate, q.encoding));
  res.end(audio);
}
