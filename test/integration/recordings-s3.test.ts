// Call recordings through the real AWS SDK against the lab's S3 (moto's server on loopback,
// lab/stack/local-s3.ts) and dynalite: the lab's Chime writing a StartCallRecording object when the
// call ends, the Twilio gateway's recording writer (object and item), and the SMA's journal
// writing the recording item as Chime reports the recording.
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RECORDING_SK,
  recordingItem,
  VOICEMAIL_SK,
  voicemailItem,
} from '../../contracts/recordings.js';
import { VoiceConnectorMedia } from '../../lab/chime/voice-connector-media.js';
import type { ChimeLeg } from '../../lab/chime/events.js';
import { startLocalDynamo, type LocalDynamo } from '../../lab/stack/local-dynamodb.js';
import {
  listKeys,
  objectExists,
  readObject,
  startLocalS3,
  type LocalS3,
} from '../../lab/stack/local-s3.js';
import { DynamoCallJournal } from '../../lambdas/sma/journal.js';
import { pcmRms, SILENCE_RMS } from '../../agent/audio.js';
import { wavFacts } from '../../store/recordings.js';
import { streamRecording } from '../../twilio/recording.js';
import type { StreamCall } from '../../twilio/stream-session.js';

const TABLE = 'recordings-it';
const logger = pino({ level: 'silent' });

let s3: LocalS3;
let db: LocalDynamo;

beforeAll(async () => {
  [s3, db] = await Promise.all([startLocalS3(), startLocalDynamo({ table: TABLE })]);
}, 60_000);

afterAll(async () => {
  await Promise.all([s3?.stop(), db?.stop()]);
});

/** RMS of one channel of a stereo or mono 16-bit WAV, between two times (seconds). */
function channelRms(wav: Buffer, channel: number, from: number, to: number): number {
  const { channels, sampleRate } = wavFacts(wav);
  const a = Math.floor(from * sampleRate);
  const b = Math.floor(to * sampleRate);
  const out = new Int16Array(Math.max(0, b - a));
  for (let i = a; i < b; i++) out[i - a] = wav.readInt16LE(44 + (i * channels + channel) * 2);
  return pcmRms(out);
}

const item = async (pk: string, sk = RECORDING_SK) =>
  (
    await DynamoDBDocumentClient.from(db.client).send(
      new GetCommand({ TableName: TABLE, Key: { pk, sk }, ConsistentRead: true }),
    )
  ).Item;

describe('the local S3', () => {
  it('is reached through the SDK as S3 is: the bucket exists and takes objects', async () => {
    expect(s3.env).toEqual({ AWS_ENDPOINT_URL_S3: s3.endpoint, RECORDINGS_BUCKET: s3.bucket });
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await listKeys(s3.client, s3.bucket)).toEqual([]);
  });
});

describe("the lab's Chime carrying out StartCallRecording", () => {
  it("writes the caller's line as a stereo WAV once the call ends, as long as the recording", async () => {
    const media = new VoiceConnectorMedia({ sipAddress: '127.0.0.1:9', s3: s3.client });
    const leg = { CallId: 'c0ffee00-leg1', ParticipantTag: 'LEG-A' } as ChimeLeg;
    const key = 'recordings/2026/12/06/2026-12-06-13-00-00-000_tx-1_c0ffee00-leg1.wav';
    const started = performance.now();
    media.startCallRecording({ bucket: s3.bucket, key, track: 'BOTH', transactionId: 'tx-1', leg });
    // The caller speaks for half a second, then hears Chime say a line.
    await media.say(new Int16Array(4000).fill(3000), 8000);
    const heardFrom = (performance.now() - started) / 1000;
    await media.speak('Thank you for calling.');
    await media.close();
    const ended = (performance.now() - started) / 1000;
    const written = await media.recordingWritten!;

    const obj = await readObject(s3.client, s3.bucket, key);
    const facts = wavFacts(obj.bytes);
    expect(facts.channels).toBe(2);
    expect(facts.sampleRate).toBe(8000);
    expect(facts.seconds).toBe(written.seconds);
    // From StartCallRecording to the call's end, to the sample.
    expect(facts.seconds).toBeGreaterThanOrEqual(heardFrom);
    expect(facts.seconds).toBeLessThanOrEqual(ended + 0.01);
    expect(obj.contentType).toBe('audio/wav');
    expect(obj.metadata).toEqual({
      'transaction-id': 'tx-1',
      'call-id': 'c0ffee00-leg1',
      'recording-duration': String(written.seconds),
      'recording-audio-file-format': 'audio/wav',
    });
    // Left: the caller's half second; right: what the caller heard after it.
    expect(channelRms(obj.bytes, 0, 0, 0.45)).toBeGreaterThan(2000);
    expect(channelRms(obj.bytes, 1, 0, 0.45)).toBeLessThan(SILENCE_RMS);
    expect(channelRms(obj.bytes, 1, heardFrom, facts.seconds)).toBeGreaterThan(SILENCE_RMS);
    expect(channelRms(obj.bytes, 0, heardFrom + 0.05, facts.seconds)).toBeLessThan(SILENCE_RMS);
  }, 30_000);

  it('writes nothing for a call whose recording never started', async () => {
    const media = new VoiceConnectorMedia({ sipAddress: '127.0.0.1:9', s3: s3.client });
    await media.close();
    expect(media.recordingWritten).toBeUndefined();
  });
});

describe("the Twilio gateway's recording", () => {
  const call: StreamCall = {
    streamSid: 'MZ00000000000000000000000000000001',
    callSid: 'CA00000000000000000000000000000001',
    accountSid: 'AC00000000000000000000000000000001',
    useCase: 'city-311',
    dialed: '+12025550131',
    traceparent: undefined,
    callToken: 'v1.x.y',
    leaseExpiresAtMs: undefined,
  };

  it('writes both directions as one stereo WAV and its item with the call expiry', async () => {
    const rec = streamRecording(
      {
        s3: s3.client,
        bucket: s3.bucket,
        table: { dynamo: db.client, name: TABLE, ttlDays: 30 },
        records: () => true,
        logger,
      },
      call,
      10_000,
    )!;
    rec.caller(new Int16Array(8000).fill(2500), 10_000); // the caller's first second
    rec.agent(new Int16Array(4000).fill(-2500), 11_500); // the agent, from 1.5 s
    const before = Math.floor(Date.now() / 1000);
    await rec.finish(13_250);

    const stored = recordingItem.parse(await item(`call#${call.callSid}`));
    expect(stored).toMatchObject({
      Source: 'twilio',
      Bucket: s3.bucket,
      Format: 'wav',
      Track: 'BOTH',
      Seconds: 3.25,
    });
    expect(stored.ExpiresAt).toBeGreaterThanOrEqual(before + 30 * 86_400);
    expect(stored.Key).toMatch(
      new RegExp(
        `^recordings/\\d{4}/\\d{2}/\\d{2}/[\\d-]+_${call.callSid}_${call.streamSid}\\.wav$`,
      ),
    );
    expect(stored.Key).not.toContain('2025550131');
    const obj = await readObject(s3.client, s3.bucket, stored.Key);
    expect(wavFacts(obj.bytes)).toEqual({ channels: 2, sampleRate: 8000, seconds: 3.25 });
    expect(channelRms(obj.bytes, 0, 0, 1)).toBeGreaterThan(2000);
    expect(channelRms(obj.bytes, 1, 1.5, 2)).toBeGreaterThan(2000);
    expect(channelRms(obj.bytes, 1, 0, 1.5)).toBe(0);
  });

  it('records nothing for a use case that does not ask', () => {
    const rec = streamRecording(
      { s3: s3.client, bucket: s3.bucket, records: () => false, logger },
      call,
      0,
    );
    expect(rec).toBeUndefined();
  });

  it('logs a write that fails and never throws (the call is over either way)', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const rec = streamRecording(
      { s3: s3.client, bucket: 'no-such-bucket', records: () => true, logger: sink },
      call,
      0,
    )!;
    await expect(rec.finish(1000)).resolves.toBeUndefined();
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'recording not written', err: 'NoSuchBucket' }),
    );
  });
});

describe('voicemail: RecordAudio in the lab, its item from the journal', () => {
  it("writes the caller's message to the bucket Chime was given, until the caller presses #", async () => {
    const media = new VoiceConnectorMedia({ sipAddress: '127.0.0.1:9', s3: s3.client });
    const leg = { CallId: 'c0ffee00-leg1', ParticipantTag: 'LEG-A' } as ChimeLeg;
    const recorded = media.recordAudio({
      bucket: s3.bucket,
      prefix: 'voicemail/',
      durationS: 30,
      silenceS: 3,
      terminators: ['#'],
      leg,
    });
    await media.say(new Int16Array(6000).fill(2500), 8000); // 0.75 s of message
    await media.pressKeys('#');
    const { key, terminator } = await recorded;
    expect(terminator).toBe('#');
    expect(key).toMatch(/^voicemail\/c0ffee00-leg1-\d+\.wav$/);
    const obj = await readObject(s3.client, s3.bucket, key);
    expect(wavFacts(obj.bytes)).toEqual({ channels: 1, sampleRate: 8000, seconds: 0.75 });
  });

  it('keeps the message with the call, with its expiry', async () => {
    const journal = new DynamoCallJournal(db.client, TABLE, { timeoutMs: 3000, ttlSeconds: 600 });
    await journal.record({
      transactionId: 'tx-voicemail-1',
      sequence: 9,
      eventType: 'ACTION_SUCCESSFUL',
      actionDataType: 'RecordAudio',
      errorType: undefined,
      actionTypes: ['Speak', 'Hangup'],
      phase: 'ending',
      receivedAtMs: 1_800_000_000_000,
      record: {},
      recording: {
        voicemail: {
          bucket: s3.bucket,
          key: 'voicemail/leg-a-1.wav',
          atMs: 1_800_000_000_000,
          queue: 'general',
        },
      },
    });
    expect(voicemailItem.parse(await item('call#tx-voicemail-1', VOICEMAIL_SK))).toEqual({
      pk: 'call#tx-voicemail-1',
      sk: VOICEMAIL_SK,
      Bucket: s3.bucket,
      Key: 'voicemail/leg-a-1.wav',
      Format: 'wav',
      Queue: 'general',
      RecordedAt: 1_800_000_000_000,
      ExpiresAt: 1_800_000_000 + 600,
    });
  });
});

describe("the SMA's journal writing the recording item", () => {
  it('writes what Chime named as the recording starts, and its length when the call ends', async () => {
    const journal = new DynamoCallJournal(db.client, TABLE, {
      timeoutMs: 3000,
      ttlSeconds: 30 * 86_400,
    });
    const base = {
      transactionId: 'tx-journal-1',
      eventType: 'ACTION_SUCCESSFUL',
      actionDataType: 'StartCallRecording',
      errorType: undefined,
      actionTypes: ['Speak', 'CallAndBridge'],
      phase: 'bridging_ai',
      record: {},
    };
    const key = 'recordings/2026/12/06/2026-12-06-13-00-00-000_tx-journal-1_leg-a.wav';
    const first = await journal.record({
      ...base,
      sequence: 2,
      receivedAtMs: 1_800_000_000_000,
      recording: { started: { bucket: s3.bucket, key, atMs: 1_800_000_000_000 } },
    });
    expect(first.errors).toEqual([]);
    await journal.record({
      ...base,
      eventType: 'HANGUP',
      sequence: 5,
      receivedAtMs: 1_800_000_061_000,
      recording: { seconds: 61 },
    });
    expect(recordingItem.parse(await item('call#tx-journal-1'))).toEqual({
      pk: 'call#tx-journal-1',
      sk: RECORDING_SK,
      Source: 'chime',
      Bucket: s3.bucket,
      Key: key,
      Format: 'wav',
      Track: 'BOTH',
      StartedAt: 1_800_000_000_000,
      Seconds: 61,
      ExpiresAt: 1_800_000_061 + 30 * 86_400,
    });
  });

  it('never writes a length without a recording whose start was written', async () => {
    const journal = new DynamoCallJournal(db.client, TABLE, { timeoutMs: 3000, ttlSeconds: 60 });
    const res = await journal.record({
      transactionId: 'tx-journal-2',
      sequence: 4,
      eventType: 'HANGUP',
      actionDataType: undefined,
      errorType: undefined,
      actionTypes: [],
      phase: 'ended',
      receivedAtMs: 1_800_000_000_000,
      record: {},
      recording: { seconds: 12 },
    });
    expect(res.errors).toEqual([]);
    expect(await item('call#tx-journal-2')).toBeUndefined();
    expect(await objectExists(s3.client, s3.bucket, 'nothing')).toBe(false);
  });
});
