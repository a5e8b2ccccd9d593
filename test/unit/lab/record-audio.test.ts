// RecordAudio in the lab's Chime executor: checked as Chime checks it, carried out by the Voice
// Connector's media (the caller's words into the lab's bucket folder, a terminator key or a
// silence ending it), and reported in ACTION_SUCCESSFUL with the recording's destination.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ChimeMedia, RecordRequest } from '../../../lab/chime/media.js';
import { VoiceConnectorMedia } from '../../../lab/chime/voice-connector-media.js';
import { parseWav } from '../../../lab/phone/wav.js';
import { LEG_A, fakeMedia, handlerOf, simulate } from '../../helpers/chime.js';

const root = mkdtempSync(join(tmpdir(), 'callbridge-buckets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const record = (params: Record<string, unknown>) => ({
  Type: 'RecordAudio',
  Parameters: {
    CallId: LEG_A,
    RecordingDestination: { Type: 'S3', BucketName: 'voicemail', Prefix: 'city-311/' },
    ...params,
  },
});

/** Runs one RecordAudio after the call arrives; the ActionData the handler got back. */
async function runRecord(params: Record<string, unknown>, media: ChimeMedia = fakeMedia()) {
  const { handler, ofType } = handlerOf((ev) =>
    ev.InvocationEventType === 'NEW_INBOUND_CALL' ? { Actions: [record(params)] } : { Actions: [] },
  );
  const sim = simulate(handler, { media });
  await sim.startInbound();
  const [done] = [...ofType('ACTION_SUCCESSFUL'), ...ofType('ACTION_FAILED')];
  return { type: done?.InvocationEventType, data: done?.ActionData as Record<string, unknown> };
}

describe('RecordAudio in the Chime executor', () => {
  it('reports the recording’s S3 destination and the terminator used', async () => {
    const recordAudio = vi.fn(async (req: RecordRequest) => ({
      key: `${req.prefix}x.wav`,
      terminator: '#',
    }));
    const out = await runRecord(
      { DurationInSeconds: '60', RecordingTerminators: ['#'] },
      { ...fakeMedia(), recordAudio },
    );
    expect(out.type).toBe('ACTION_SUCCESSFUL');
    expect(out.data).toMatchObject({
      Type: 'RecordAudio',
      RecordingDestination: { Type: 'S3', BucketName: 'voicemail', Key: 'city-311/x.wav' },
      RecordingTerminatorUsed: '#',
    });
    expect(recordAudio.mock.calls[0]![0]).toMatchObject({
      bucket: 'voicemail',
      durationS: 60,
      silenceS: 3,
      terminators: ['#'],
    });
  });

  it.each([
    [{ RecordingDestination: { Type: 'S3' } }, 'RecordingDestination parameter is invalid.'],
    [{ DurationInSeconds: 0 }, 'DurationInSeconds parameter is invalid.'],
    [{ RecordingTerminators: ['x'] }, 'RecordingTerminators parameter is invalid.'],
  ])('fails %j with InvalidActionParameter', async (params, message) => {
    const out = await runRecord(params);
    expect(out.type).toBe('ACTION_FAILED');
    expect(out.data).toMatchObject({ ErrorType: 'InvalidActionParameter', ErrorMessage: message });
  });
});

describe('VoiceConnectorMedia.recordAudio', () => {
  const leg = { CallId: 'leg-a', ParticipantTag: 'LEG-A' } as RecordRequest['leg'];

  it('writes what the caller says until a terminator key, as an 8 kHz WAV in the bucket folder', async () => {
    const media = new VoiceConnectorMedia({ sipAddress: '127.0.0.1:1', recordRoot: root });
    const recording = media.recordAudio({
      bucket: 'voicemail',
      prefix: 'city-311/',
      durationS: 30,
      silenceS: 5,
      terminators: ['#'],
      leg,
    });
    const words = new Int16Array(1600).fill(1000); // 100 ms at 16 kHz
    await media.say(words, 16000);
    await media.pressKeys('#');
    const { key, terminator } = await recording;
    expect(terminator).toBe('#');
    expect(key).toMatch(/^city-311\/leg-a-\d+\.wav$/);
    const wav = parseWav(readFileSync(join(root, 'voicemail', key)));
    expect(wav.sampleRate).toBe(8000);
    expect(wav.samples.length).toBe(800);
  });

  it('ends on a silence after the caller spoke', async () => {
    const media = new VoiceConnectorMedia({ sipAddress: '127.0.0.1:1', recordRoot: root });
    const recording = media.recordAudio({
      bucket: 'voicemail',
      prefix: '',
      durationS: 30,
      silenceS: 1,
      terminators: ['#'],
      leg,
    });
    await media.say(new Int16Array(800).fill(500), 8000);
    const { terminator } = await recording;
    expect(terminator).toBeUndefined();
  });

  it('never writes outside the bucket', async () => {
    const media = new VoiceConnectorMedia({ sipAddress: '127.0.0.1:1', recordRoot: root });
    const recording = media.recordAudio({
      bucket: 'voicemail',
      prefix: '../../escape-',
      durationS: 1,
      silenceS: 1,
      terminators: [],
      leg,
    });
    await expect(recording).rejects.toThrow(/invalid key/);
  });
});
