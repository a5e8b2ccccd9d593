// The lab's Chime carrying out StartCallRecording as Chime documents it (start-call-recording.html):
// its checks and errors, the object key it names and reports in ACTION_SUCCESSFUL, its default
// prefix, and once per leg. And the recorder's timeline: frames where they were said or heard.
import { describe, expect, it, vi } from 'vitest';
import { checkAction } from '../../../lab/chime/action-rules.js';
import type { ChimeLeg } from '../../../lab/chime/events.js';
import { TimelineRecorder, wavFacts } from '../../../store/recordings.js';
import { fakeMedia, handlerOf, LEG_A, simulate } from '../../helpers/chime.js';

const legA: ChimeLeg = {
  CallId: LEG_A,
  ParticipantTag: 'LEG-A',
  To: '+12025550131',
  From: '+12065550100',
  Direction: 'Inbound',
  StartTimeInMilliseconds: '0',
  Status: 'Connected',
};

const start = (parameters: Record<string, unknown>) => ({
  Type: 'StartCallRecording',
  Parameters: parameters,
});
const valid = { CallId: LEG_A, Track: 'BOTH', Destination: { Type: 'S3', Location: 'b-1/rec' } };

describe('StartCallRecording as the lab checks it', () => {
  it.each([
    ['no CallId', { ...valid, CallId: undefined }, 'CallId parameter for action is invalid'],
    [
      'a leg that is not up',
      { ...valid, CallId: 'nope' },
      'CallId parameter for action is invalid',
    ],
    ['a Track Chime does not know', { ...valid, Track: 'LEFT' }, 'Track parameter'],
    [
      'a destination that is not S3',
      { ...valid, Destination: { Type: 'HTTP', Location: 'x' } },
      'Destination parameter',
    ],
    ['no Location', { ...valid, Destination: { Type: 'S3' } }, 'Destination parameter'],
  ])('refuses %s with InvalidActionParameter', (_what, params, message) => {
    const failure = checkAction(start(params), [legA]);
    expect(failure).toMatchObject({ ok: false, errorType: 'InvalidActionParameter' });
    expect(failure!.errorMessage).toContain(message);
  });

  it('accepts each documented track', () => {
    for (const Track of ['BOTH', 'INCOMING', 'OUTGOING'])
      expect(checkAction(start({ ...valid, Track }), [legA])).toBeUndefined();
  });
});

describe('StartCallRecording as the lab carries it out', () => {
  async function run(location: string, twice = false) {
    const media = { ...fakeMedia(), startCallRecording: vi.fn() };
    const action = start({ ...valid, Destination: { Type: 'S3', Location: location } });
    const { handler, ofType } = handlerOf((ev) =>
      ev.InvocationEventType === 'NEW_INBOUND_CALL'
        ? { Actions: twice ? [action, action] : [action] }
        : { Actions: [] },
    );
    const call = simulate(handler, { media, now: () => Date.UTC(2026, 11, 6, 13, 5, 9, 7) });
    await call.startInbound();
    return { media, ofType };
  }

  it('names the object as Chime does and reports it in ACTION_SUCCESSFUL', async () => {
    const { media, ofType } = await run('lab-bucket/recordings');
    const key =
      'recordings/2026/12/06/2026-12-06-13-05-09-007_c0ffee00-5a1e-4c4b-9d2a-7e1f00c0ffee_c0ffee00-leg1.wav';
    const [ok] = ofType('ACTION_SUCCESSFUL');
    expect(ok!.ActionData).toMatchObject({
      Type: 'StartCallRecording',
      Parameters: { ...valid, Destination: { Type: 'S3', Location: 'lab-bucket/recordings' } },
      CallRecordingDestination: { Type: 'S3', Location: `lab-bucket/${key}` },
    });
    expect(media.startCallRecording).toHaveBeenCalledWith(
      expect.objectContaining({ bucket: 'lab-bucket', key, track: 'BOTH' }),
    );
  });

  it("uses Chime's default prefix for a Location that names the bucket alone", async () => {
    const { ofType } = await run('lab-bucket');
    const data = ofType('ACTION_SUCCESSFUL')[0]!.ActionData as {
      CallRecordingDestination: { Location: string };
    };
    const location = data.CallRecordingDestination.Location;
    expect(location).toMatch(/^lab-bucket\/Amazon-Chime-SMA-Call-Recordings\/2026\/12\/06\//);
  });

  it('starts a leg recording once: a second start fails', async () => {
    const { media, ofType } = await run('lab-bucket/recordings', true);
    expect(media.startCallRecording).toHaveBeenCalledTimes(1);
    expect(ofType('ACTION_FAILED')[0]!.ActionData).toMatchObject({
      Type: 'StartCallRecording',
      ErrorType: 'InvalidActionParameter',
    });
  });
});

describe('TimelineRecorder', () => {
  const tone = (n: number, v = 1000) => new Int16Array(n).fill(v);

  it('lays each frame where it was said or heard, silence between, to the end', () => {
    const r = new TimelineRecorder(1000);
    r.write('caller', 1500, tone(800)); // 0.5 s in, 100 ms
    r.write('heard', 2000, tone(160, 2000)); // 1 s in, 20 ms
    r.write('heard', 2000, tone(160, 500)); // the same moment: mixed
    const { wav, seconds } = r.finish(4000);
    expect(seconds).toBe(3);
    expect(wavFacts(wav)).toEqual({ channels: 2, sampleRate: 8000, seconds: 3 });
    const at = (i: number, c: number) => wav.readInt16LE(44 + (i * 2 + c) * 2);
    expect([at(3999, 0), at(4000, 0), at(4799, 0), at(4800, 0)]).toEqual([0, 1000, 1000, 0]);
    expect([at(7999, 1), at(8000, 1), at(8159, 1), at(8160, 1)]).toEqual([0, 2500, 2500, 0]);
  });

  it('cuts audio from before its start and past its end, and writes one track alone', () => {
    const r = new TimelineRecorder(1000);
    r.write('caller', 990, tone(160)); // 10 ms before the start: 80 samples cut
    r.write('caller', 1900, tone(8000)); // runs a second past the end
    const { wav, seconds } = r.finish(2000, ['caller']);
    expect(seconds).toBe(1);
    expect(wavFacts(wav)).toEqual({ channels: 1, sampleRate: 8000, seconds: 1 });
    expect(wav.readInt16LE(44 + 79 * 2)).toBe(1000);
    expect(wav.readInt16LE(44 + 80 * 2)).toBe(0);
  });
});
