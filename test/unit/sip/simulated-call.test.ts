import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChimeLeg } from '../../../sip/chime/events.js';
import { AudioSourceError, type ChimeMedia } from '../../../sip/chime/simulated-call.js';
import { LiveKitChimeMedia } from '../../../sip/lab/livekit-media.js';
import { parseWav, readWavObject } from '../../../sip/lab/wav.js';
import { simulateCall } from '../../helpers/sma.js';

const CALL = {
  transactionId: 'c0ffee00-5a1e-4c4b-9d2a-7e1f00c0ffee',
  smaId: 'sma-lab',
  region: 'us-east-1',
  accountId: '111122223333',
};
const LEG_A = 'c0ffee00-leg1';

interface Action {
  Type: string;
  Parameters?: Record<string, unknown>;
}
interface Ev {
  Sequence: number;
  InvocationEventType: string;
  ActionData?: Record<string, unknown>;
  CallDetails: { Participants: ChimeLeg[] };
}

/** A handler under the test's control that keeps every event it is given. */
function handlerOf(answer: (ev: Ev, attempt: number) => unknown) {
  const events: Ev[] = [];
  const handler = async (e: unknown) => {
    const ev = e as Ev;
    events.push(ev);
    return answer(ev, events.filter((x) => x.Sequence === ev.Sequence).length);
  };
  return {
    handler,
    events,
    ofType: (t: string) => events.filter((e) => e.InvocationEventType === t),
  };
}

/** Answers NEW_INBOUND_CALL with `actions` and every later event with nothing. */
const answering = (actions: Action[]) =>
  handlerOf((ev) => ({ Actions: ev.InvocationEventType === 'NEW_INBOUND_CALL' ? actions : [] }));

function fakeMedia(playAudio?: ChimeMedia['playAudio']) {
  return {
    bridge: vi.fn(async () => true),
    hangup: vi.fn(async (_leg: ChimeLeg) => {}),
    speak: vi.fn(async (_text: string) => {}),
    ...(playAudio ? { playAudio: vi.fn(playAudio) } : {}),
  };
}

const simulate = (
  handler: (e: unknown) => Promise<unknown>,
  opts: Parameters<typeof simulateCall>[2] = {},
) => simulateCall(CALL, handler, opts);

/** A RIFF/WAVE file: a `fmt ` chunk (PCM16 mono 8 kHz unless told), optional chunks, `data`. */
function wavBytes(
  samples: number[],
  fmt: { format?: number; channels?: number; rate?: number; bits?: number } = {},
  extra: { id: string; body: Buffer }[] = [],
): Buffer {
  const { format = 1, channels = 1, rate = 8000, bits = 16 } = fmt;
  const chunk = (id: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'ascii');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body, Buffer.alloc(body.length % 2)]);
  };
  const f = Buffer.alloc(16);
  f.writeUInt16LE(format, 0);
  f.writeUInt16LE(channels, 2);
  f.writeUInt32LE(rate, 4);
  f.writeUInt32LE((rate * channels * bits) / 8, 8);
  f.writeUInt16LE((channels * bits) / 8, 12);
  f.writeUInt16LE(bits, 14);
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16LE(v, i * 2));
  const body = Buffer.concat([
    Buffer.from('WAVE'),
    ...extra.map((c) => chunk(c.id, c.body)),
    chunk('fmt ', f),
    chunk('data', data),
  ]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const speak = (text: string): Action => ({
  Type: 'Speak',
  Parameters: { CallId: LEG_A, Text: text },
});
const bridgeToAgent: Action = {
  Type: 'CallAndBridge',
  Parameters: {
    CallTimeoutSeconds: 30,
    CallerIdNumber: '+12065550100',
    Endpoints: [
      {
        BridgeEndpointType: 'AWS',
        Arn: 'arn:aws:chime:us-east-1:111122223333:vc/lab',
        Uri: '+12025550131',
      },
    ],
  },
};
const playAudio = (key: string, repeat?: string): Action => ({
  Type: 'PlayAudio',
  Parameters: {
    CallId: LEG_A,
    AudioSource: { Type: 'S3', BucketName: 'callbridge-lab-audio', Key: key },
    ...(repeat ? { Repeat: repeat } : {}),
  },
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SimulatedChimeCall invoking a slow or failing handler', () => {
  it('uses the first answer to arrive, once, when a slow handler gets the same event after 5 s', async () => {
    vi.useFakeTimers();
    const { handler, events } = handlerOf(async (ev, attempt) => {
      if (ev.InvocationEventType !== 'NEW_INBOUND_CALL') return { Actions: [] };
      await sleep(attempt === 1 ? 9_000 : 1_000); // the retry (at 5 s) answers first, at 6 s
      return {
        Actions: [speak(`answer ${attempt}`)],
        TransactionAttributes: { answeredBy: `attempt ${attempt}` },
      };
    });
    const media = fakeMedia();
    const sim = simulate(handler, { media });

    const started = sim.startInbound();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(events).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(events).toHaveLength(2);
    expect(events[1]).toEqual(events[0]);
    await vi.advanceTimersByTimeAsync(1_000);
    await started;

    expect(media.speak.mock.calls).toEqual([['answer 2']]);
    expect(sim.timeline.map((s) => [s.sequence, s.type, s.attempts])).toEqual([
      [1, 'NEW_INBOUND_CALL', 2],
      [2, 'ACTION_SUCCESSFUL', undefined],
    ]);
    expect(sim.transactionAttributes).toEqual({ answeredBy: 'attempt 2' });

    await vi.advanceTimersByTimeAsync(10_000); // attempt 1 answers at 9 s: too late, ignored
    expect(media.speak).toHaveBeenCalledTimes(1);
    expect(sim.timeline).toHaveLength(2);
    expect(sim.transactionAttributes).toEqual({ answeredBy: 'attempt 2' });
    expect(events.map((e) => e.Sequence)).toEqual([1, 1, 2]);
  });

  it('drops the call after 20 s without an answer, hanging up every live leg', async () => {
    vi.useFakeTimers();
    const { handler, events, ofType } = handlerOf((ev) =>
      ev.InvocationEventType === 'NEW_INBOUND_CALL'
        ? { Actions: [bridgeToAgent] }
        : new Promise(() => {}),
    );
    const media = fakeMedia();
    const sim = simulate(handler, { media });

    const started = sim.startInbound();
    await vi.advanceTimersByTimeAsync(19_999);
    expect(sim.legB?.Status).toBe('Connected');
    expect(media.hangup).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await started;

    // Re-invoked every 5 s with the same event until Chime gives up.
    expect(ofType('ACTION_SUCCESSFUL').map((e) => e.Sequence)).toEqual([2, 2, 2, 2]);
    expect(sim.timeline.map((s) => s.type)).toEqual(['NEW_INBOUND_CALL', 'CALL_DROPPED']);
    expect(sim.timeline[1]).toMatchObject({ sequence: 2, attempts: 4, actions: [] });
    expect(sim.timeline[1]!.reason).toMatch(/no answer from the handler within 20000 ms/);
    expect(media.hangup.mock.calls.map(([leg]) => leg.ParticipantTag)).toEqual(['LEG-B', 'LEG-A']);
    expect(sim.ended).toBe(true);

    const invoked = events.length;
    await sim.update({ action: 'transfer', queue: 'general' });
    await sim.remoteHangup('LEG-A');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(events).toHaveLength(invoked);
    expect(media.hangup).toHaveBeenCalledTimes(2);
    expect(sim.timeline).toHaveLength(2);
  });

  it('honours smaller retry and give-up times from the constructor', async () => {
    const { handler, events } = handlerOf(() => new Promise(() => {}));
    const sim = simulate(handler, { retryAfterMs: 15, giveUpAfterMs: 40 });

    await sim.startInbound();

    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(new Set(events.map((e) => e.Sequence))).toEqual(new Set([1]));
    expect(sim.timeline.map((s) => s.type)).toEqual(['CALL_DROPPED']);
    expect(sim.timeline[0]!.reason).toMatch(/within 40 ms/);
  });

  it('invokes nothing more for an outbound call dropped at NEW_OUTBOUND_CALL', async () => {
    const { handler, ofType } = handlerOf(() => new Promise(() => {}));
    const media = fakeMedia();
    const sim = simulate(handler, { media, retryAfterMs: 15, giveUpAfterMs: 40 });

    await sim.startOutbound({ callback: 'yes' });

    expect(ofType('NEW_OUTBOUND_CALL').length).toBeGreaterThanOrEqual(2);
    expect(ofType('RINGING')).toEqual([]);
    expect(ofType('CALL_ANSWERED')).toEqual([]);
    expect(sim.timeline.map((s) => s.type)).toEqual(['CALL_DROPPED']);
    expect(media.hangup.mock.calls.map(([leg]) => leg.ParticipantTag)).toEqual(['LEG-A']);
  });

  it('retries a function error at once and goes on when the retry answers', async () => {
    vi.useFakeTimers();
    const { handler, events } = handlerOf((ev, attempt) => {
      if (ev.InvocationEventType !== 'NEW_INBOUND_CALL') return { Actions: [] };
      if (attempt === 1) throw new Error('cold start failed');
      return { Actions: [speak('hello')] };
    });
    const media = fakeMedia();
    const sim = simulate(handler, { media });

    const started = sim.startInbound();
    await vi.advanceTimersByTimeAsync(0); // not after the 5 s timeout: right away
    await started;

    expect(events.map((e) => [e.Sequence, e.InvocationEventType])).toEqual([
      [1, 'NEW_INBOUND_CALL'],
      [1, 'NEW_INBOUND_CALL'],
      [2, 'ACTION_SUCCESSFUL'],
    ]);
    expect(media.speak.mock.calls).toEqual([['hello']]);
    expect(sim.timeline.map((s) => s.type)).toEqual(['NEW_INBOUND_CALL', 'ACTION_SUCCESSFUL']);
    expect(sim.ended).toBe(false);
  });

  it('ends the call when the retry fails too', async () => {
    const { handler, events } = handlerOf(() => {
      throw new Error('table missing');
    });
    const media = fakeMedia();
    const sim = simulate(handler, { media });

    await sim.startInbound();

    expect(events.map((e) => e.Sequence)).toEqual([1, 1]);
    expect(sim.timeline).toEqual([
      {
        sequence: 1,
        type: 'CALL_DROPPED',
        actions: [],
        atMs: expect.any(Number),
        attempts: 2,
        reason: expect.stringMatching(/failed 2 times.*480.*table missing/),
      },
    ]);
    expect(media.hangup.mock.calls.map(([leg]) => leg.CallId)).toEqual([LEG_A]);
    expect(sim.legA?.Status).toBe('Disconnected');
    expect(sim.ended).toBe(true);
  });
});

describe('SimulatedChimeCall running PlayAudio', () => {
  it('plays each object through the media, Repeat times (default 1), then ACTION_SUCCESSFUL', async () => {
    const { handler, ofType } = answering([playAudio('welcome.wav', '3'), playAudio('menu.wav')]);
    const media = fakeMedia(async () => {});
    const sim = simulate(handler, { media });

    await sim.startInbound();

    expect(media.playAudio!.mock.calls).toEqual([
      [{ bucket: 'callbridge-lab-audio', key: 'welcome.wav' }, 3],
      [{ bucket: 'callbridge-lab-audio', key: 'menu.wav' }, 1],
    ]);
    expect(ofType('ACTION_SUCCESSFUL').map((e) => e.ActionData)).toEqual([playAudio('menu.wav')]);
  });

  it.each([
    [
      new AudioSourceError('missing', 'no object'),
      'InvalidAudioSource',
      'Cannot access S3 bucket or audio file.',
    ],
    [
      new AudioSourceError('unreadable', 'cannot read'),
      'InvalidAudioSource',
      'Cannot access S3 bucket or audio file.',
    ],
    [
      new AudioSourceError('format', 'not PCM'),
      'InvalidAudioSource',
      'Audio Source parameter value is invalid.',
    ],
    [new Error('room gone'), 'SystemException', 'System error while executing action.'],
  ])('reports %s as ACTION_FAILED %s and drops the rest of the list', async (err, type, msg) => {
    const { handler, ofType } = answering([playAudio('gone.wav'), speak('after')]);
    const media = fakeMedia(async () => {
      throw err;
    });
    const sim = simulate(handler, { media });

    await sim.startInbound();

    expect(ofType('ACTION_FAILED').map((e) => e.ActionData)).toEqual([
      { ...playAudio('gone.wav'), ErrorType: type, ErrorMessage: msg },
    ]);
    expect(media.speak).not.toHaveBeenCalled();
    expect(ofType('ACTION_SUCCESSFUL')).toEqual([]);
  });

  it('fails an object missing from the lab audio folder with the lab media', async () => {
    const root = await mkdtemp(join(tmpdir(), 'callbridge-audio-'));
    try {
      await mkdir(join(root, 'callbridge-lab-audio'));
      await writeFile(join(root, 'callbridge-lab-audio', 'welcome.wav'), wavBytes([1, 2, 3]));
      const media = new LiveKitChimeMedia({
        lk: { url: 'ws://127.0.0.1:9', apiKey: 'k', apiSecret: 's' },
        outboundTrunkId: 'unused',
        audioRoot: root,
      });
      const { handler, ofType } = answering([playAudio('welcome.wav'), playAudio('missing.wav')]);
      const sim = simulate(handler, { media });

      await sim.startInbound();

      expect(ofType('ACTION_FAILED').map((e) => e.ActionData)).toEqual([
        {
          ...playAudio('missing.wav'),
          ErrorType: 'InvalidAudioSource',
          ErrorMessage: 'Cannot access S3 bucket or audio file.',
        },
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('succeeds without media when its parameters are complete', async () => {
    const { handler, ofType } = answering([playAudio('anything.wav', '2')]);
    const sim = simulate(handler);

    await sim.startInbound();

    expect(ofType('ACTION_SUCCESSFUL').map((e) => e.ActionData)).toEqual([
      playAudio('anything.wav', '2'),
    ]);
  });
});

describe('SimulatedChimeCall checking actions as Chime does', () => {
  it('fails an answer of 11 actions as a whole, at its first, running none', async () => {
    const actions = Array.from({ length: 11 }, (_, i) => speak(`line ${i}`));
    const { handler, ofType } = answering(actions);
    const media = fakeMedia();
    const sim = simulate(handler, { media });

    await sim.startInbound();

    expect(media.speak).not.toHaveBeenCalled();
    expect(ofType('ACTION_FAILED').map((e) => e.ActionData)).toEqual([
      {
        ...speak('line 0'),
        ErrorType: 'InvalidActionParameter',
        ErrorMessage: expect.stringMatching(/at most 10/),
      },
    ]);
  });

  it('runs an answer of exactly 10 actions', async () => {
    const actions = Array.from({ length: 10 }, (_, i) => speak(`line ${i}`));
    const { handler, ofType } = answering(actions);
    const media = fakeMedia();
    const sim = simulate(handler, { media });

    await sim.startInbound();

    expect(media.speak).toHaveBeenCalledTimes(10);
    expect(ofType('ACTION_FAILED')).toEqual([]);
    expect(ofType('ACTION_SUCCESSFUL').map((e) => e.ActionData)).toEqual([speak('line 9')]);
  });

  it('fails an unknown action type after running the actions before it', async () => {
    const { handler, ofType } = answering([speak('before'), { Type: 'Dance' }, speak('after')]);
    const media = fakeMedia();
    const sim = simulate(handler, { media });

    await sim.startInbound();

    expect(media.speak.mock.calls).toEqual([['before']]);
    expect(ofType('ACTION_FAILED').map((e) => e.ActionData)).toEqual([
      {
        Type: 'Dance',
        Parameters: {},
        ErrorType: 'InvalidActionParameter',
        ErrorMessage: 'Invalid action type: Dance',
      },
    ]);
  });

  const missingAudio = { Type: 'S3', BucketName: 'callbridge-lab-audio' };
  it.each<[string, Action, string, string]>([
    [
      'Speak without Text',
      { Type: 'Speak', Parameters: { CallId: LEG_A } },
      'MissingRequiredActionParameter',
      'Text is a required parameter.',
    ],
    [
      'Speak without CallId',
      { Type: 'Speak', Parameters: { Text: 'hello' } },
      'MissingRequiredActionParameter',
      'CallId is a required parameter.',
    ],
    [
      'Speak over 1,000 characters',
      { Type: 'Speak', Parameters: { CallId: LEG_A, Text: 'a'.repeat(1001) } },
      'MissingRequiredActionParameter',
      'Text is limited to 1,000 characters',
    ],
    [
      'Speak to a leg that is not there',
      { Type: 'Speak', Parameters: { CallId: 'nobody', Text: 'hello' } },
      'InvalidActionParameter',
      'CallId or ParticipantTag parameter for action is invalid.',
    ],
    [
      'Pause without DurationInMilliseconds',
      { Type: 'Pause', Parameters: { CallId: LEG_A } },
      'MissingRequiredActionParameter',
      'DurationInMilliseconds is a required parameter.',
    ],
    [
      'Pause of 0 ms',
      { Type: 'Pause', Parameters: { DurationInMilliseconds: '0' } },
      'InvalidActionParameter',
      'DurationInMilliseconds must be an integer > 0.',
    ],
    [
      'CallAndBridge without CallerIdNumber',
      { Type: 'CallAndBridge', Parameters: { ...bridgeToAgent.Parameters, CallerIdNumber: '' } },
      'InvalidActionParameter',
      'Caller ID not defined.',
    ],
    [
      'CallAndBridge without Endpoints',
      { Type: 'CallAndBridge', Parameters: { CallerIdNumber: '+12065550100' } },
      'InvalidActionParameter',
      'Invalid number of endpoints provided.',
    ],
    [
      'CallAndBridge to AWS without an Arn',
      {
        Type: 'CallAndBridge',
        Parameters: {
          CallerIdNumber: '+12065550100',
          Endpoints: [{ BridgeEndpointType: 'AWS', Uri: '+12025550131' }],
        },
      },
      'InvalidActionParameter',
      'Endpoint parameter is invalid.',
    ],
    [
      'Hangup of a CallId that is not a leg',
      { Type: 'Hangup', Parameters: { CallId: 'nobody', SipResponseCode: '0' } },
      'InvalidActionParameter',
      'CallId or ParticipantTag parameter for action is invalid.',
    ],
    [
      'Hangup with an unsupported SipResponseCode',
      { Type: 'Hangup', Parameters: { CallId: LEG_A, SipResponseCode: '503' } },
      'InvalidActionParameter',
      'Invalid SipResponseCode.',
    ],
    [
      'PlayAudio without a Key',
      { Type: 'PlayAudio', Parameters: { AudioSource: missingAudio } },
      'InvalidAudioSource',
      'Audio Source parameter value is invalid.',
    ],
    [
      'PlayAudio from a source that is not S3',
      {
        Type: 'PlayAudio',
        Parameters: { AudioSource: { ...missingAudio, Type: 'URL', Key: 'a.wav' } },
      },
      'InvalidAudioSource',
      'Audio Source parameter value is invalid.',
    ],
  ])('fails %s', async (_name, action, errorType, errorMessage) => {
    const { handler, ofType } = answering([action]);
    const media = fakeMedia();
    const sim = simulate(handler, { media });

    await sim.startInbound();

    expect(ofType('ACTION_FAILED').map((e) => e.ActionData)).toEqual([
      {
        Type: action.Type,
        Parameters: expect.any(Object),
        ErrorType: errorType,
        ErrorMessage: errorMessage,
      },
    ]);
    expect(media.bridge).not.toHaveBeenCalled();
    expect(media.hangup).not.toHaveBeenCalled();
    expect(media.speak).not.toHaveBeenCalled();
    expect(sim.legA?.Status).toBe('Connected');
  });

  it('hangs up the leg a Hangup names by ParticipantTag alone', async () => {
    const { handler, ofType } = handlerOf((ev) => {
      if (ev.InvocationEventType === 'NEW_INBOUND_CALL') return { Actions: [bridgeToAgent] };
      if (
        ev.InvocationEventType === 'ACTION_SUCCESSFUL' &&
        ev.ActionData?.['Type'] === 'CallAndBridge'
      )
        return { Actions: [{ Type: 'Hangup', Parameters: { ParticipantTag: 'LEG-B' } }] };
      return { Actions: [] };
    });
    const media = fakeMedia();
    const sim = simulate(handler, { media });

    await sim.startInbound();

    expect(media.hangup.mock.calls.map(([leg]) => leg.ParticipantTag)).toEqual(['LEG-B']);
    expect(ofType('HANGUP').map((e) => e.ActionData?.['Parameters'])).toEqual([
      { SipResponseCode: '0', CallId: 'c0ffee00-leg2', ParticipantTag: 'LEG-B' },
    ]);
    expect(sim.legB).toBeUndefined();
    expect(sim.legA?.Status).toBe('Connected');
  });
});

describe('the lab audio folder (readWavObject, parseWav)', () => {
  it('finds fmt and data past other chunks, odd-sized ones padded', () => {
    const bytes = wavBytes([0, 1000, -1000, 32767, -32768], { rate: 8000 }, [
      { id: 'LIST', body: Buffer.from('abc') },
    ]);

    const pcm = parseWav(bytes);

    expect(pcm.sampleRate).toBe(8000);
    expect([...pcm.samples]).toEqual([0, 1000, -1000, 32767, -32768]);
  });

  it('plays the first channel of a stereo file', () => {
    const pcm = parseWav(wavBytes([1, -1, 2, -2, 3, -3], { channels: 2, rate: 16000 }));

    expect(pcm.sampleRate).toBe(16000);
    expect([...pcm.samples]).toEqual([1, 2, 3]);
  });

  it.each([
    ['8-bit PCM', { bits: 8 }, /only 16-bit PCM.*format 1, 8 bits/],
    ['32-bit float', { format: 3, bits: 32 }, /only 16-bit PCM.*format 3, 32 bits/],
    ['A-law', { format: 6, bits: 8 }, /only 16-bit PCM/],
  ])('rejects %s with a clear error', (_name, fmt, message) => {
    expect(() => parseWav(wavBytes([1, 2], fmt))).toThrow(message);
  });

  it('rejects what is not a RIFF/WAVE file', () => {
    expect(() => parseWav(Buffer.from('ID3\u0004 not a wav at all'))).toThrow(/not a RIFF\/WAVE/);
  });

  it('maps <root>/<bucket>/<key> to a file and tells missing objects from bad ones', async () => {
    const root = await mkdtemp(join(tmpdir(), 'callbridge-audio-'));
    try {
      await mkdir(join(root, 'bucket', 'prompts'), { recursive: true });
      await writeFile(join(root, 'bucket', 'prompts', 'hi.wav'), wavBytes([5, 6, 7]));
      await writeFile(join(root, 'bucket', 'notes.txt'), 'not audio');
      await writeFile(join(root, 'secret.wav'), wavBytes([9]));
      const reason = (key: string) =>
        readWavObject(root, { bucket: 'bucket', key }).then(
          () => 'read',
          (e: unknown) => (e instanceof AudioSourceError ? e.reason : `other: ${String(e)}`),
        );

      const pcm = await readWavObject(root, { bucket: 'bucket', key: 'prompts/hi.wav' });

      expect([...pcm.samples]).toEqual([5, 6, 7]);
      expect(await reason('nope.wav')).toBe('missing');
      expect(await reason('prompts')).toBe('missing');
      expect(await reason('../secret.wav')).toBe('missing');
      expect(await reason('notes.txt')).toBe('format');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
