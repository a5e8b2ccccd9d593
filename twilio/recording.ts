// The recording of a Twilio call whose use case records (docs/twilio.md, "Recordings"): both
// directions of the media stream laid on one timeline from the stream's start, the caller's voice
// as it arrived on the left channel and the agent's as it was sent to Twilio on the right, written
// when the stream ends as one stereo WAV to S3 with its item in the calls table. The writes run
// after the call, off the caller's path; a failed write is logged, never a failed call.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { recordingKey } from '../contracts/recordings.js';
import { putRecordingItem, putRecordingObject, TimelineRecorder } from '../store/recordings.js';
import type { StreamCall } from './stream-session.js';
import { timeBudget } from '../store/time-budget.js';

/** What a stream session feeds its recording. */
export interface StreamRecording {
  caller(pcm: Int16Array, atMs: number): void;
  agent(pcm: Int16Array, atMs: number): void;
  /** The stream ended at `atMs` (the session's clock): the recording is written. */
  finish(atMs: number): Promise<void>;
}

export interface RecordingsOptions {
  s3: S3Client;
  bucket: string;
  /** The calls table and its expiry; unset: the object alone is written. */
  table?: { dynamo: DynamoDBClient; name: string; ttlDays: number };
  /** Whether the call's use case records. */
  records(call: StreamCall): boolean;
  logger: Logger;
  /** Budget of each write (default 10 s): an object of a long call takes a moment. */
  timeoutMs?: number;
}

/** The recording of a stream starting now (`startMs` on the session's clock), or none. */
export function streamRecording(
  o: RecordingsOptions,
  call: StreamCall,
  startMs: number,
): StreamRecording | undefined {
  if (!o.records(call)) return undefined;
  const startedAt = Date.now();
  const key = recordingKey({ atMs: startedAt, callId: call.callSid, legId: call.streamSid });
  const timeline = new TimelineRecorder(startMs);
  return {
    caller: (pcm, atMs) => timeline.write('caller', atMs, pcm),
    agent: (pcm, atMs) => timeline.write('heard', atMs, pcm),
    async finish(endMs) {
      const t0 = performance.now();
      const { wav, seconds } = timeline.finish(endMs);
      const signal = () => timeBudget(o.timeoutMs ?? 10_000).signal;
      try {
        await putRecordingObject(
          o.s3,
          { bucket: o.bucket, key, wav, seconds, callId: call.callSid, legId: call.streamSid },
          signal(),
        );
        if (o.table) {
          const expiresAt = Math.floor(Date.now() / 1000) + o.table.ttlDays * 86_400;
          await putRecordingItem(
            o.table.dynamo,
            o.table.name,
            {
              callId: call.callSid,
              source: 'twilio',
              bucket: o.bucket,
              key,
              startedAtMs: startedAt,
              seconds,
              expiresAt,
            },
            signal(),
          );
        }
        o.logger.info(
          { callSid: call.callSid, key, seconds, writeMs: Math.round(performance.now() - t0) },
          'recording written',
        );
      } catch (err) {
        o.logger.warn(
          { callSid: call.callSid, err: (err as Error).name, key },
          'recording not written',
        );
      }
    },
  };
}
