// Call recordings: where they go in S3 and what the calls table keeps of each, for both ways in
// (docs/architecture.md, "Recordings"). A use case records only when its `recording.enabled` is
// set and the component has a bucket (`RECORDINGS_BUCKET`).
//
//   pk call#<TransactionId or CallSid>  sk recording
//   Source (chime, twilio), Bucket, Key, Format (wav), Track (BOTH), StartedAt, Seconds, ExpiresAt
//
// Object keys follow Chime's own naming for StartCallRecording (start-call-recording.html):
// `<prefix>/<yyyy>/<mm>/<dd>/<yyyy-mm-dd-hh-mm-ss-mmm>_<call id>_<leg or stream id>.wav`, so a key
// names a call by its id, never by a phone number.
import * as z from 'zod';

export const RECORDING_SK = 'recording';
/** A message the caller left (RecordAudio) when no person answered: `pk call#<id>, sk voicemail`. */
export const VOICEMAIL_SK = 'voicemail';
/** The key prefix of voicemail messages (RecordAudio's `RecordingDestination.Prefix`). */
export const VOICEMAIL_PREFIX = 'voicemail/';

/** The key prefix under the bucket: Chime's `Destination.Location` is `<bucket>/<prefix>`. */
export const RECORDINGS_PREFIX = 'recordings';

/** What a recording holds: both directions of the caller's line (Chime's Track `BOTH`). */
export const RECORDING_TRACK = 'BOTH';

export const RecordingSource = z.enum(['chime', 'twilio']);
export type RecordingSource = z.infer<typeof RecordingSource>;

/** An S3 bucket name as S3 names them (3-63 characters, no slash). */
export const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name');

const callId = z.string().regex(/^[A-Za-z0-9-]{1,128}$/, 'must be a call or stream id');

export const recordingItem = z.object({
  pk: z.string().startsWith('call#'),
  sk: z.literal(RECORDING_SK),
  Source: RecordingSource,
  Bucket: bucketName,
  Key: z.string().min(1).max(1024),
  /** The object's audio format: WAV (16-bit PCM) for both ways in. */
  Format: z.literal('wav'),
  Track: z.literal(RECORDING_TRACK),
  /** When the recording started (epoch ms). */
  StartedAt: z.number().int(),
  /** Its length in seconds, once the call has ended. */
  Seconds: z.number().nonnegative().optional(),
  ExpiresAt: z.number().int().optional(),
});
export type RecordingItem = z.infer<typeof recordingItem>;

export const voicemailItem = z.object({
  pk: z.string().startsWith('call#'),
  sk: z.literal(VOICEMAIL_SK),
  Bucket: bucketName,
  Key: z.string().min(1).max(1024),
  Format: z.literal('wav'),
  /** The queue no one answered. */
  Queue: z.string().min(1).optional(),
  /** When the message was recorded (epoch ms). */
  RecordedAt: z.number().int(),
  ExpiresAt: z.number().int().optional(),
});
export type VoicemailItem = z.infer<typeof voicemailItem>;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * The object key of a recording started at `atMs` (UTC): Chime's layout, ids only. Throws on an
 * id that is not one (a key must never carry anything else).
 */
export function recordingKey(p: {
  prefix?: string;
  atMs: number;
  callId: string;
  legId: string;
}): string {
  callId.parse(p.callId);
  callId.parse(p.legId);
  const d = new Date(p.atMs);
  const [y, m, day] = [d.getUTCFullYear(), pad(d.getUTCMonth() + 1), pad(d.getUTCDate())];
  const stamp =
    `${y}-${m}-${day}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-` +
    `${pad(d.getUTCSeconds())}-${pad(d.getUTCMilliseconds(), 3)}`;
  const prefix = (p.prefix ?? RECORDINGS_PREFIX).replace(/\/+$/, '');
  return `${prefix}/${y}/${m}/${day}/${stamp}_${p.callId}_${p.legId}.wav`;
}

/** `<bucket>/<key>` (Chime's `CallRecordingDestination.Location`) as its two parts. */
export function splitLocation(location: string): { bucket: string; key: string } | undefined {
  const at = location.indexOf('/');
  if (at <= 0 || at === location.length - 1) return undefined;
  const bucket = location.slice(0, at);
  return bucketName.safeParse(bucket).success ? { bucket, key: location.slice(at + 1) } : undefined;
}

/** The length in seconds of a recording from `startedAtMs` to `endedAtMs`, to the millisecond. */
export function recordingSeconds(startedAtMs: number, endedAtMs: number): number {
  return Math.max(0, Math.round(endedAtMs - startedAtMs)) / 1000;
}
