// SimulatedChimeCall running PlayAudio, and refusing actions as Chime does: too many, an unknown
// type, missing or invalid parameters.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AudioSourceError } from '../../../lab/chime/simulated-call.js';
import { VoiceConnectorMedia } from '../../../lab/chime/voice-connector-media.js';
import {
  type Action,
  LEG_A,
  bridgeToAgent,
  fakeMedia,
  handlerOf,
  simulate,
  speak,
  wavBytes,
} from '../../helpers/chime.js';

/** Answers NEW_INBOUND_CALL with `actions` and every later event with nothing. */
const answering = (actions: Action[]) =>
  handlerOf((ev) => ({ Actions: ev.InvocationEventType === 'NEW_INBOUND_CALL' ? actions : [] }));

const playAudio = (key: string, repeat?: string): Action => ({
  Type: 'PlayAudio',
  Parameters: {
    CallId: LEG_A,
    AudioSource: { Type: 'S3', BucketName: 'callbridge-lab-audio', Key: key },
    ...(repeat ? { Repeat: repeat } : {}),
  },
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
      const media = new VoiceConnectorMedia({ sipAddress: '127.0.0.1:9', audioRoot: root });
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
