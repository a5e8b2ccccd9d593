// Call recordings as objects and items (contracts/recordings.ts): a recorder that lays audio on a
// timeline, two channels at 8 kHz, the WAV it becomes, and the writes of the object to S3
// (@aws-sdk/client-s3, AWS_ENDPOINT_URL_S3 locally) and of its item to the calls table.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  RECORDING_SK,
  RECORDING_TRACK,
  recordingSeconds,
  type RecordingItem,
  type RecordingSource,
} from '../contracts/recordings.js';

/** The rate of every recording: the phone line's. */
export const RECORDING_RATE = 8000;

/** The two channels of a recording: what the caller says (left) and what the caller hears (right). */
export const CHANNEL = { caller: 0, heard: 1 } as const;
export type Channel = keyof typeof CHANNEL;

/**
 * Audio laid on a timeline from `startMs` (any clock in milliseconds, the same for every write):
 * each frame lands where it was said or heard, what overlaps in one channel is mixed, and gaps are
 * silence. Memory: 16 kB a second of call (two channels).
 */
export class TimelineRecorder {
  private readonly channels: Int16Array[] = [new Int16Array(0), new Int16Array(0)];
  private readonly lengths = [0, 0];

  constructor(readonly startMs: number) {}

  /** 8 kHz PCM of `channel` starting at `atMs`; audio from before the start is cut. */
  write(channel: Channel, atMs: number, pcm: Int16Array): void {
    const c = CHANNEL[channel];
    let offset = Math.round(((atMs - this.startMs) * RECORDING_RATE) / 1000);
    let samples = pcm;
    if (offset < 0) {
      samples = pcm.subarray(Math.min(pcm.length, -offset));
      offset = 0;
    }
    if (samples.length === 0) return;
    const end = offset + samples.length;
    this.grow(c, end);
    const buf = this.channels[c]!;
    for (let i = 0; i < samples.length; i++) {
      const v = buf[offset + i]! + samples[i]!;
      buf[offset + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    this.lengths[c] = Math.max(this.lengths[c]!, end);
  }

  private grow(c: number, need: number): void {
    const buf = this.channels[c]!;
    if (buf.length >= need) return;
    const next = new Int16Array(Math.max(need, buf.length * 2, RECORDING_RATE * 10));
    next.set(buf.subarray(0, this.lengths[c]));
    this.channels[c] = next;
  }

  /**
   * The recording from its start to `endMs`: the channels asked for (default both, a stereo WAV),
   * each that long.
   */
  finish(
    endMs: number,
    channels: readonly Channel[] = ['caller', 'heard'],
  ): { wav: Buffer; seconds: number } {
    const seconds = recordingSeconds(this.startMs, endMs);
    const n = Math.round(seconds * RECORDING_RATE);
    const out = channels.map((name) => {
      const c = CHANNEL[name];
      const buf = this.channels[c]!;
      const ch = new Int16Array(n);
      ch.set(buf.subarray(0, Math.min(n, this.lengths[c]!)));
      return ch;
    });
    return { wav: encodeWav(out, RECORDING_RATE), seconds: n / RECORDING_RATE };
  }
}

/** A RIFF/WAVE file of 16-bit PCM, the channels interleaved (all of one length). */
export function encodeWav(channels: Int16Array[], sampleRate: number): Buffer {
  const n = channels[0]?.length ?? 0;
  const k = channels.length;
  // Typed arrays are little-endian on every platform Node runs on (x64, arm64): WAV's order.
  const samples = new Int16Array(n * k);
  for (let c = 0; c < k; c++) {
    const ch = channels[c]!;
    for (let i = 0, j = c; i < n; i++, j += k) samples[j] = ch[i]!;
  }
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(36 + data.length, 4);
  head.write('WAVE', 8, 'ascii');
  head.write('fmt ', 12, 'ascii');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20); // PCM
  head.writeUInt16LE(k, 22);
  head.writeUInt32LE(sampleRate, 24);
  head.writeUInt32LE(sampleRate * k * 2, 28);
  head.writeUInt16LE(k * 2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'ascii');
  head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}

/** A WAV's channels, rate and length in seconds (16-bit PCM, a plain 44-byte header). */
export function wavFacts(wav: Buffer): { channels: number; sampleRate: number; seconds: number } {
  if (wav.length < 44 || wav.toString('ascii', 0, 4) !== 'RIFF') throw new Error('not a WAV');
  const channels = wav.readUInt16LE(22);
  const sampleRate = wav.readUInt32LE(24);
  const bytes = wav.readUInt32LE(40);
  return { channels, sampleRate, seconds: bytes / (channels * 2 * sampleRate) };
}

/**
 * The object as Chime delivers a call recording: a WAV with the call's ids, its length and its
 * format as object metadata (start-call-recording.html).
 */
export function putRecordingObject(
  s3: S3Client,
  o: { bucket: string; key: string; wav: Buffer; seconds: number; callId: string; legId: string },
  abortSignal?: AbortSignal,
) {
  return s3.send(
    new PutObjectCommand({
      Bucket: o.bucket,
      Key: o.key,
      Body: o.wav,
      ContentType: 'audio/wav',
      Metadata: {
        'transaction-id': o.callId,
        'call-id': o.legId,
        'recording-duration': String(o.seconds),
        'recording-audio-file-format': 'audio/wav',
      },
    }),
    { abortSignal },
  );
}

/** The recording's item beside the call's others, with the call's expiry. */
export function putRecordingItem(
  dynamo: DynamoDBClient,
  table: string,
  r: {
    callId: string;
    source: RecordingSource;
    bucket: string;
    key: string;
    startedAtMs: number;
    seconds: number;
    expiresAt: number;
  },
  abortSignal?: AbortSignal,
) {
  const item: RecordingItem = {
    pk: `call#${r.callId}`,
    sk: RECORDING_SK,
    Source: r.source,
    Bucket: r.bucket,
    Key: r.key,
    Format: 'wav',
    Track: RECORDING_TRACK,
    StartedAt: Math.round(r.startedAtMs),
    Seconds: r.seconds,
    ExpiresAt: r.expiresAt,
  };
  return DynamoDBDocumentClient.from(dynamo).send(
    new PutCommand({ TableName: table, Item: item }),
    {
      abortSignal,
    },
  );
}
