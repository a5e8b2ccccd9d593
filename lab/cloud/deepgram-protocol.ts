// Deepgram's wire formats, as its API reference documents them, for the stand-in: the query
// parameters of /v1/listen and /v1/speak (parsed once, at the handshake), the JSON messages a
// client sends, and the messages the server answers with.
import { randomUUID } from 'node:crypto';
import * as z from 'zod';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const int = z.coerce.number().int();

/** The /v1/listen parameters the stand-in acts on; Deepgram's others are accepted and ignored. */
export const listenQuery = z.object({
  model: z.string().min(1).default('base'),
  // Raw audio needs its encoding and rate; the stand-in decodes linear16, what streaming clients send.
  encoding: z.literal('linear16', { error: 'the stand-in decodes linear16 audio only' }),
  sample_rate: int.min(8000).max(48000),
  channels: int.pipe(z.literal(1, { error: 'the stand-in transcribes one channel' })).default(1),
  interim_results: bool.default(false),
  vad_events: bool.default(false),
  punctuate: bool.default(false),
  smart_format: bool.default(false),
  endpointing: z
    .union([z.literal('false').transform(() => false as const), int.min(0)])
    .default(10),
  utterance_end_ms: int.min(1000).optional(),
  language: z.string().default('en'),
});
export type ListenQuery = z.infer<typeof listenQuery>;

const LINEAR16_RATES = [8000, 16000, 24000, 32000, 48000];
const G711_RATES = [8000, 16000];

/** The /v1/speak parameters (streaming and REST). */
export const speakQuery = z
  .object({
    model: z
      .string()
      .regex(/^aura-/, 'an Aura voice model')
      .default('aura-asteria-en'),
    encoding: z.enum(['linear16', 'mulaw', 'alaw']).default('linear16'),
    sample_rate: int.optional(),
    container: z.enum(['none', 'wav']).optional(),
  })
  .transform((q) => ({
    ...q,
    sample_rate: q.sample_rate ?? (q.encoding === 'linear16' ? 24000 : 8000),
  }))
  .refine(
    (q) => (q.encoding === 'linear16' ? LINEAR16_RATES : G711_RATES).includes(q.sample_rate),
    { message: 'sample_rate is not supported for this encoding', path: ['sample_rate'] },
  );
export type SpeakQuery = z.infer<typeof speakQuery>;

/** Query parameters as an object: a repeated key keeps its last value. */
export function queryOf(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams.entries());
}

export const listenControl = z.discriminatedUnion('type', [
  z.object({ type: z.literal('KeepAlive') }),
  z.object({ type: z.literal('Finalize'), channel: z.number().optional() }),
  z.object({ type: z.literal('CloseStream') }),
]);
export type ListenControl = z.infer<typeof listenControl>;

export const speakControl = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Speak'), text: z.string().max(2000) }),
  z.object({ type: z.literal('Flush') }),
  z.object({ type: z.literal('Clear') }),
  z.object({ type: z.literal('Close') }),
]);
export type SpeakControl = z.infer<typeof speakControl>;

export const MODEL_INFO = { name: 'general-nova-3', version: '2025-01-01.0', arch: 'nova-3' };
export const MODEL_UUID = '40bd3654-e622-47c4-a111-63a61b23bfe1';

export interface Phrase {
  transcript: string;
  startS: number;
  endS: number;
}

/** Words with times spread over the phrase: the recognizer gives no word timings. */
function wordsOf(p: Phrase, punctuate: boolean) {
  const tokens = p.transcript.split(/\s+/).filter(Boolean);
  const step = tokens.length ? (p.endS - p.startS) / tokens.length : 0;
  return tokens.map((token, i) => {
    // Deepgram's `word` is bare and lower case; `punctuated_word` is as a sentence writes it.
    let punctuated = i === 0 ? token.charAt(0).toUpperCase() + token.slice(1) : token;
    if (i === tokens.length - 1 && !/[.?!]$/.test(punctuated)) punctuated += '.';
    return {
      word: token.toLowerCase().replace(/[^a-z0-9']/g, ''),
      start: round(p.startS + i * step),
      end: round(p.startS + (i + 1) * step),
      confidence: 0.9,
      ...(punctuate ? { punctuated_word: punctuated } : {}),
    };
  });
}

export function resultsMessage(
  p: Phrase,
  flags: { isFinal: boolean; speechFinal: boolean; fromFinalize: boolean; punctuate: boolean },
  requestId: string,
) {
  const words = wordsOf(p, flags.punctuate);
  const transcript = flags.punctuate
    ? words.map((w) => w.punctuated_word).join(' ')
    : words.map((w) => w.word).join(' ');
  return {
    type: 'Results',
    channel_index: [0, 1],
    duration: round(p.endS - p.startS),
    start: round(p.startS),
    is_final: flags.isFinal,
    speech_final: flags.speechFinal,
    from_finalize: flags.fromFinalize,
    channel: { alternatives: [{ transcript, confidence: transcript ? 0.9 : 0, words }] },
    metadata: { request_id: requestId, model_info: MODEL_INFO, model_uuid: MODEL_UUID },
  };
}

export function listenMetadata(requestId: string, durationS: number) {
  return {
    type: 'Metadata',
    transaction_key: 'deprecated',
    request_id: requestId,
    sha256: '',
    created: new Date().toISOString(),
    duration: round(durationS),
    channels: 1,
    models: [MODEL_UUID],
    model_info: { [MODEL_UUID]: MODEL_INFO },
  };
}

export function speakMetadata(requestId: string, model: string) {
  return {
    type: 'Metadata',
    request_id: requestId,
    model_name: model,
    model_version: '2025-04-07.0',
    model_uuid: randomUUID(),
  };
}

/** Deepgram's REST error body (and the handshake's, before a WebSocket opens). */
export function errorBody(
  code: 'INVALID_AUTH' | 'Bad Request' | 'INTERNAL_SERVER_ERROR',
  message: string,
) {
  return { err_code: code, err_msg: message, request_id: randomUUID() };
}

const round = (s: number) => Math.round(s * 1000) / 1000;
