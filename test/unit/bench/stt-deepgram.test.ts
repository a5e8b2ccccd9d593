// The benchmark's Deepgram adapter against a stand-in of the pre-recorded endpoint on loopback.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWav } from '../../../lab/phone/wav.js';
import { DeepgramError, deepgramTranscribe } from '../../../scripts/bench/stt/deepgram.js';

interface Seen {
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let server: Server | undefined;
afterEach(() => server?.close());

async function standIn(status: number, reply: unknown): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/listen`, seen };
}

const PCM = Int16Array.from({ length: 1600 }, (_, i) => (i % 50) * 100);
const transcript = (text: string) => ({
  results: { channels: [{ alternatives: [{ transcript: text, confidence: 0.9 }] }] },
});

describe('deepgramTranscribe', () => {
  it('posts the clip as a 16 kHz WAV with the key and the agent options, and returns the transcript', async () => {
    const { url, seen } = await standIn(200, transcript('There is a big pothole on my street.'));
    expect(await deepgramTranscribe('key-1', PCM, url)).toBe(
      'There is a big pothole on my street.',
    );
    const req = seen[0]!;
    expect(req.headers.authorization).toBe('Token key-1');
    expect(req.headers['content-type']).toBe('audio/wav');
    const query = new URL(req.url, 'http://x').searchParams;
    expect(query.get('model')).toBe('nova-3');
    expect(query.get('smart_format')).toBe('true');
    const wav = parseWav(req.body);
    expect(wav.sampleRate).toBe(16000);
    expect(wav.samples).toEqual(PCM);
  });

  it('rejects with the status and the reason when the service refuses', async () => {
    const { url } = await standIn(401, { err_msg: 'Invalid credentials.' });
    const call = deepgramTranscribe('bad', PCM, url);
    await expect(call).rejects.toThrow(DeepgramError);
    await expect(call).rejects.toThrow(/HTTP 401: .*Invalid credentials/);
  });

  it('rejects when the answer is not a transcript', async () => {
    const { url } = await standIn(200, { results: { channels: [] } });
    await expect(deepgramTranscribe('key-1', PCM, url)).rejects.toThrow(/unexpected response/);
  });
});
