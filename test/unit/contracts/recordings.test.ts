// The recordings contract: keys of ids in Chime's layout (never anything else), Chime's Location
// split into bucket and key, lengths to the millisecond, and `npm run call -- show` printing a
// call's recording and message.
import { describe, expect, it } from 'vitest';
import {
  recordingKey,
  recordingSeconds,
  RECORDING_SK,
  splitLocation,
  VOICEMAIL_SK,
} from '../../../contracts/recordings.js';
import { describeCall } from '../../../scripts/call.js';

describe('recording keys', () => {
  it('lays a key out as Chime does: prefix, date, time, call id, leg id', () => {
    const atMs = Date.UTC(2026, 11, 6, 9, 8, 7, 65);
    expect(recordingKey({ atMs, callId: 'CA123', legId: 'MZ456' })).toBe(
      'recordings/2026/12/06/2026-12-06-09-08-07-065_CA123_MZ456.wav',
    );
    expect(recordingKey({ prefix: 'a/b/', atMs, callId: 'tx', legId: 'leg' })).toMatch(
      /^a\/b\/2026\//,
    );
  });

  it('refuses anything but an id in a key (a number, a path)', () => {
    for (const callId of ['+12065550100', '../x', 'a/b', ''])
      expect(() => recordingKey({ atMs: 0, callId, legId: 'leg' })).toThrow();
  });

  it("splits Chime's Location into bucket and key, or nothing", () => {
    expect(splitLocation('my-bucket/recordings/2026/a.wav')).toEqual({
      bucket: 'my-bucket',
      key: 'recordings/2026/a.wav',
    });
    for (const bad of ['my-bucket', 'my-bucket/', '/key', 'Not_A_Bucket/key'])
      expect(splitLocation(bad)).toBeUndefined();
  });

  it('measures a length to the millisecond, never below zero', () => {
    expect(recordingSeconds(1000, 43_500)).toBe(42.5);
    expect(recordingSeconds(2000, 1000)).toBe(0);
  });
});

describe('npm run call -- show', () => {
  it("prints the call's recording and message", () => {
    const lines = describeCall([
      {
        pk: 'call#tx',
        sk: RECORDING_SK,
        Source: 'chime',
        Bucket: 'b-1',
        Key: 'recordings/k.wav',
        Format: 'wav',
        Track: 'BOTH',
        StartedAt: 1,
        Seconds: 61.2,
      },
      {
        pk: 'call#tx',
        sk: VOICEMAIL_SK,
        Bucket: 'b-1',
        Key: 'voicemail/m.wav',
        Format: 'wav',
        Queue: 'general',
        RecordedAt: Date.UTC(2026, 11, 6, 13, 0, 0),
      },
    ]);
    expect(lines).toContain('recording (chime, wav, 61.2 s): s3://b-1/recordings/k.wav');
    expect(lines).toContain('voicemail (13:00:00.000, queue general): s3://b-1/voicemail/m.wav');
  });

  it('says when the length is not yet known', () => {
    const lines = describeCall([
      {
        pk: 'call#tx',
        sk: RECORDING_SK,
        Source: 'chime',
        Bucket: 'b-1',
        Key: 'k.wav',
        Format: 'wav',
        Track: 'BOTH',
        StartedAt: 1,
      },
    ]);
    expect(lines).toContain('recording (chime, wav, length not yet known): s3://b-1/k.wav');
  });
});
