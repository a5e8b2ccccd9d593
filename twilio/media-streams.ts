// Twilio Media Streams, the WebSocket protocol of a bidirectional <Connect><Stream> as Twilio
// documents it (https://www.twilio.com/docs/voice/media-streams/websocket-messages): what Twilio
// sends (`connected`, `start`, `media`, `mark`, `dtmf`, `stop`) and what the gateway sends back
// (`media`, `mark`, `clear`). Audio is base64 µ-law at 8 kHz, mono, 20 ms (160 bytes) a message.
// A message that does not parse is rejected with a short reason (never its content) and skipped.
import * as z from 'zod';
import { mulawDecode } from '../agent/g711.js';
import {
  ACCOUNT_SID_PATTERN,
  CALL_SID_PATTERN,
  STREAM_SID_PATTERN,
} from '../contracts/twilio-call.js';

export const STREAM_RATE = 8000;
export const FRAME_MS = 20;
export const FRAME_BYTES = (STREAM_RATE * FRAME_MS) / 1000;
/** The largest media payload taken (1 s): anything longer is not Twilio's. */
export const MAX_PAYLOAD_BYTES = STREAM_RATE;

/** Each µ-law byte's sample, squared. */
const MULAW_ENERGY = Float64Array.from({ length: 256 }, (_, b) => mulawDecode(b) ** 2);

/**
 * The root mean square of µ-law audio, as `pcmRms` gives it for the decoded samples (the sums are
 * exact), without decoding: the agent's level is read on every frame, its samples only when the
 * call is recorded.
 */
export function mulawRms(mulaw: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < mulaw.length; i++) sum += MULAW_ENERGY[mulaw[i]!]!;
  return mulaw.length ? Math.sqrt(sum / mulaw.length) : 0;
}

const seq = z.string().regex(/^\d{1,12}$/);
const streamSid = z.string().regex(STREAM_SID_PATTERN);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const connected = z.object({
  event: z.literal('connected'),
  protocol: z.string(),
  version: z.string(),
});

const start = z.object({
  event: z.literal('start'),
  sequenceNumber: seq,
  streamSid,
  start: z.object({
    accountSid: z.string().regex(ACCOUNT_SID_PATTERN),
    callSid: z.string().regex(CALL_SID_PATTERN),
    streamSid,
    tracks: z.array(z.string()),
    customParameters: z.record(z.string(), z.string()).default({}),
    mediaFormat: z.object({
      encoding: z.literal('audio/x-mulaw'),
      sampleRate: z.literal(STREAM_RATE),
      channels: z.literal(1),
    }),
  }),
});

const media = z.object({
  event: z.literal('media'),
  sequenceNumber: seq,
  streamSid,
  media: z.object({
    track: z.string(),
    chunk: seq,
    timestamp: seq,
    payload: z.string().max((MAX_PAYLOAD_BYTES * 4) / 3 + 4),
  }),
});

const mark = z.object({
  event: z.literal('mark'),
  sequenceNumber: seq,
  streamSid,
  mark: z.object({ name: z.string().max(128) }),
});

const dtmf = z.object({
  event: z.literal('dtmf'),
  sequenceNumber: seq,
  streamSid,
  dtmf: z.object({ track: z.string(), digit: z.string().regex(/^[0-9*#A-D]$/) }),
});

const stop = z.object({
  event: z.literal('stop'),
  sequenceNumber: seq,
  streamSid,
  stop: z.object({ accountSid: z.string(), callSid: z.string() }).partial().default({}),
});

const message = z.discriminatedUnion('event', [connected, start, media, mark, dtmf, stop]);
export type StreamMessage = z.infer<typeof message>;
export type StartMessage = z.infer<typeof start>;
const EVENTS = new Set<unknown>(['connected', 'start', 'media', 'mark', 'dtmf', 'stop']);

/** A media message with its audio decoded. */
export type Inbound =
  Exclude<StreamMessage, { event: 'media' }> | (z.infer<typeof media> & { audio: Buffer });

export type Rejection =
  'not_json' | 'unknown_event' | 'malformed' | 'bad_base64' | 'payload_too_long';

export type ParseResult = { ok: true; message: Inbound } | { ok: false; reason: Rejection };

/** One WebSocket text message from Twilio, validated; µ-law bytes decoded from base64. */
export function parseStreamMessage(text: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  if (!EVENTS.has((raw as { event?: unknown } | null)?.event)) {
    return { ok: false, reason: 'unknown_event' };
  }
  const parsed = message.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: 'malformed' };
  const m = parsed.data;
  if (m.event !== 'media') return { ok: true, message: m };
  // Node's decoder skips what is not base64; Twilio's payloads are canonical, so anything else is
  // a corrupt message, not audio.
  if (!BASE64.test(m.media.payload)) return { ok: false, reason: 'bad_base64' };
  const audio = Buffer.from(m.media.payload, 'base64');
  if (audio.length > MAX_PAYLOAD_BYTES) return { ok: false, reason: 'payload_too_long' };
  return { ok: true, message: { ...m, audio } };
}

/** Why a well-formed message is still not taken: its place in the stream. */
export type OutOfOrder = 'before_start' | 'second_start' | 'other_stream' | 'stale_sequence';

/**
 * The stream's order: `start` once and first (after `connected`), then messages of that stream
 * whose sequence numbers go up. A number at or below the last one taken is a duplicate or a late
 * message and is skipped; a gap (messages lost) is counted, and the message taken.
 */
export class StreamOrder {
  private last = 0;
  private sid: string | undefined;
  gaps = 0;

  check(m: Inbound): OutOfOrder | undefined {
    if (m.event === 'connected') return this.sid === undefined ? undefined : 'second_start';
    if (m.event === 'start') {
      if (this.sid !== undefined) return 'second_start';
      this.sid = m.streamSid;
    } else if (this.sid === undefined) {
      return 'before_start';
    } else if (m.streamSid !== this.sid) {
      return 'other_stream';
    }
    const n = Number(m.sequenceNumber);
    if (n <= this.last) return 'stale_sequence';
    if (this.last > 0 && n > this.last + 1) this.gaps++;
    this.last = n;
    return undefined;
  }
}

// --- what the gateway sends ---

/**
 * A `media` message of the agent's µ-law, as `JSON.stringify` would write it: built as a string
 * (it goes 50 times a second), the bytes encoded where they are.
 */
export function mediaMessage(streamSid: string, mulaw: Uint8Array): string {
  const bytes = Buffer.isBuffer(mulaw)
    ? mulaw
    : Buffer.from(mulaw.buffer, mulaw.byteOffset, mulaw.byteLength);
  return `{"event":"media","streamSid":${JSON.stringify(streamSid)},"media":{"payload":"${bytes.toString('base64')}"}}`;
}

export const markMessage = (streamSid: string, name: string) =>
  JSON.stringify({ event: 'mark', streamSid, mark: { name } });

export const clearMessage = (streamSid: string) => JSON.stringify({ event: 'clear', streamSid });
