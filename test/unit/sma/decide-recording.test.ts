// A use case that records: the SMA starts StartCallRecording on the caller's leg alone, then on its
// ACTION_SUCCESSFUL says the announcement and bridges to the agent, and writes the recording's
// item (its key as Chime named it, its length when the call ends). A failed start, a failed
// announcement or a missing bucket never keep the caller from the agent.
import { describe, expect, it } from 'vitest';
import {
  decideRaw,
  fixture,
  NOW,
  simulateCall,
  testConfig,
  type Json,
  configWithCity311,
  journaledHandler,
} from '../../helpers/sma.js';

const BUCKET = 'callbridge-test-recordings';
const NOTICE = 'Esta llamada puede ser grabada.';
const TX = 'c0ffee00-5a1e-4c4b-9d2a-7e1f00c0ffee';

/** The shipped use cases with city-311 recording (in Spanish, to see the language travel). */
function recordingConfig(opts: { bucket?: string; announcement?: string } = {}) {
  return configWithCity311((uc) => {
    uc.language = 'es-US';
    uc.voice = { ...uc.voice, chime: 'Lupe' };
    uc.recording = {
      enabled: true,
      ...(opts.announcement ? { announcement: opts.announcement } : {}),
    };
  }, opts);
}

function recordingEvent(type: 'ACTION_SUCCESSFUL' | 'ACTION_FAILED', extra: Json = {}): Json {
  const ev = fixture('action-failed-bridge-agent');
  ev.InvocationEventType = type;
  ev.ActionData = {
    Type: 'StartCallRecording',
    Parameters: {
      CallId: 'a-leg-0001',
      Track: 'BOTH',
      Destination: { Type: 'S3', Location: `${BUCKET}/recordings` },
    },
    ...extra,
  };
  ev.CallDetails.TransactionAttributes = {
    phase: 'bridging_ai',
    useCase: 'city-311',
    rec: 'pending',
  };
  return ev;
}

const types = (actions: { Type: string }[]) => actions.map((a) => a.Type);

describe('decide: a use case that records', () => {
  it('starts the recording of the caller leg, alone, before the agent', () => {
    const d = decideRaw(fixture('new-inbound-call'), NOW, recordingConfig({ bucket: BUCKET }));
    expect(d.actions).toEqual([
      {
        Type: 'StartCallRecording',
        Parameters: {
          CallId: 'a-leg-0001',
          Track: 'BOTH',
          Destination: { Type: 'S3', Location: `${BUCKET}/recordings` },
        },
      },
    ]);
    expect(d.state).toMatchObject({ phase: 'bridging_ai', useCase: 'city-311', rec: 'pending' });
    expect(d.recording).toBeUndefined();
  });

  it('announces in the use case language, bridges, and records the key Chime reports', () => {
    const key = 'recordings/2025/11/21/2025-11-21-16-01-02-000_tx_a-leg-0001.wav';
    const d = decideRaw(
      recordingEvent('ACTION_SUCCESSFUL', {
        CallRecordingDestination: { Type: 'S3', Location: `${BUCKET}/${key}` },
      }),
      NOW,
      recordingConfig({ bucket: BUCKET, announcement: NOTICE }),
    );
    expect(types(d.actions)).toEqual(['Speak', 'CallAndBridge']);
    expect(d.actions[0]!.Parameters).toMatchObject({
      CallId: 'a-leg-0001',
      Text: NOTICE,
      LanguageCode: 'es-US',
      VoiceId: 'Lupe',
    });
    expect(d.actions[1]!.Parameters).toMatchObject({
      Endpoints: [{ BridgeEndpointType: 'AWS', Uri: '+12025550132' }],
      SipHeaders: { 'X-Call-Token': expect.any(String), 'X-Use-Case': 'city-311' },
    });
    expect(d.state.rec).toBe(NOW);
    expect(d.recording).toEqual({ started: { bucket: BUCKET, key, atMs: NOW } });
  });

  it('bridges without a word when the recording fails to start, and writes no item', () => {
    const d = decideRaw(
      recordingEvent('ACTION_FAILED', {
        Error: 'NoAccessToDestination: Error while accessing destination',
        ErrorType: 'NoAccessToDestination',
        ErrorMessage: 'Error while accessing destination',
      }),
      NOW,
      recordingConfig({ bucket: BUCKET }),
    );
    expect(types(d.actions)).toEqual(['CallAndBridge']);
    expect(d.state.rec).toBeUndefined();
    expect(d.recording).toBeUndefined();
    expect(d.notes).toContainEqual(
      expect.objectContaining({ reason: 'recording_failed', level: 'warn' }),
    );
  });

  it('bridges the caller when the announcement fails (its failure drops the bridge after it)', () => {
    const ev = recordingEvent('ACTION_FAILED');
    ev.ActionData = {
      Type: 'Speak',
      Parameters: { CallId: 'a-leg-0001', Text: NOTICE },
      ErrorType: 'SystemException',
    };
    ev.CallDetails.TransactionAttributes.rec = String(NOW - 1000);
    const d = decideRaw(ev, NOW, recordingConfig({ bucket: BUCKET }));
    expect(types(d.actions)).toEqual(['CallAndBridge']);
  });

  it('records nothing without RECORDINGS_BUCKET, and says so', () => {
    const d = decideRaw(fixture('new-inbound-call'), NOW, recordingConfig());
    expect(types(d.actions)).toEqual(['CallAndBridge']);
    expect(d.state.rec).toBeUndefined();
    expect(d.notes).toContainEqual(expect.objectContaining({ reason: 'recording_no_bucket' }));
  });

  it('records nothing for a use case that does not ask (the default)', () => {
    const config = { ...testConfig(), recordingsBucket: BUCKET };
    const d = decideRaw(fixture('new-inbound-call'), NOW, config);
    expect(types(d.actions)).toEqual(['CallAndBridge']);
    expect(d.state.rec).toBeUndefined();
  });

  it('ignores a recording result that comes when none is being started', () => {
    const ev = recordingEvent('ACTION_SUCCESSFUL');
    ev.CallDetails.TransactionAttributes = { phase: 'ai_connected', useCase: 'city-311' };
    const d = decideRaw(ev, NOW, recordingConfig({ bucket: BUCKET }));
    expect(d.actions).toEqual([]);
    expect(d.recording).toBeUndefined();
  });
});

describe('the handler and Chime: a recorded call from start to end', () => {
  it('runs StartCallRecording, the announcement and the bridge, then writes the length at the end', async () => {
    let now = 1_800_000_000_000;
    const { handler, entries } = journaledHandler(
      recordingConfig({ bucket: BUCKET, announcement: NOTICE }),
      () => now,
    );
    const call = simulateCall(
      { transactionId: TX, smaId: 'sma-lab', region: 'us-east-1', accountId: '111122223333' },
      handler,
      { now: () => now },
    );
    await call.startInbound();
    expect(call.timeline.map((s) => [s.type, s.actionData?.Type, types(s.actions)])).toEqual([
      ['NEW_INBOUND_CALL', undefined, ['StartCallRecording']],
      ['ACTION_SUCCESSFUL', 'StartCallRecording', ['Speak', 'CallAndBridge']],
      ['ACTION_SUCCESSFUL', 'CallAndBridge', []],
    ]);
    // The executor named the object as Chime does: the call and the leg by id, no number.
    const started = entries.find((e) => e.recording && 'started' in e.recording)!.recording!;
    expect(started).toEqual({
      started: {
        bucket: BUCKET,
        key: expect.stringMatching(
          new RegExp(`^recordings/\\d{4}/\\d{2}/\\d{2}/[\\d-]+_${TX}_c0ffee00-leg1\\.wav$`),
        ),
        atMs: 1_800_000_000_000,
      },
    });
    expect(JSON.stringify(started)).not.toContain('2065550100');

    now += 42_500;
    await call.remoteHangup('LEG-A');
    const ended = entries.filter((e) => e.recording && 'seconds' in e.recording);
    expect(ended.map((e) => [e.eventType, e.recording])).toEqual([['HANGUP', { seconds: 42.5 }]]);
  });
});
