// Deepgram's pre-recorded endpoint, one request per clip: the cloud recognizer the agent streams
// to in cloud mode (agent/providers/index.ts), with the options the agent's plugin uses (nova-3,
// en-US, smart formatting, punctuation). The clip goes as a 16 kHz WAV of the phone-band audio.
import * as z from 'zod';
import { RECOGNIZER_RATE, wavFile } from './phone.js';

const LISTEN_URL = 'https://api.deepgram.com/v1/listen';
const PARAMS = { model: 'nova-3', language: 'en-US', smart_format: 'true', punctuate: 'true' };
const REQUEST_TIMEOUT_MS = 30_000;

const ListenResponse = z.object({
  results: z.object({
    channels: z
      .array(z.object({ alternatives: z.array(z.object({ transcript: z.string() })) }))
      .min(1),
  }),
});

export class DeepgramError extends Error {
  override name = 'DeepgramError';
}

/** The transcript Deepgram gives for one clip; rejects with DeepgramError. */
export async function deepgramTranscribe(
  apiKey: string,
  pcm: Int16Array,
  listenUrl = LISTEN_URL,
): Promise<string> {
  const url = `${listenUrl}?${new URLSearchParams(PARAMS).toString()}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Token ${apiKey}`, 'Content-Type': 'audio/wav' },
      body: wavFile(pcm, RECOGNIZER_RATE),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new DeepgramError(`request failed: ${(err as Error).message}`, { cause: err });
  }
  if (!res.ok) {
    // The body says why (bad key, quota); it never holds the key.
    const why = (await res.text()).slice(0, 200);
    throw new DeepgramError(`HTTP ${res.status}: ${why}`);
  }
  const parsed = ListenResponse.safeParse(await res.json());
  if (!parsed.success) throw new DeepgramError('unexpected response shape');
  return parsed.data.results.channels[0]!.alternatives[0]?.transcript ?? '';
}
