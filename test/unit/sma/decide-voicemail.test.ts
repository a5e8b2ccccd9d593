// Voicemail instead of a dead end: when the queue and its fallback do not answer, a use case that
// takes messages has Chime say its prompt and RecordAudio the caller to the recordings bucket, then
// thank them and end the call, the message's key written with the call. A failed recording, or a
// use case (or deployment) without voicemail, gets the apology as before.
import { describe, expect, it } from 'vitest';
import {
  decideRaw,
  fixture,
  NOW,
  simulateCall,
  configWithCity311,
  journaledHandler,
} from '../../helpers/sma.js';

const BUCKET = 'callbridge-test-recordings';
const TX = 'c0ffee00-5a1e-4c4b-9d2a-7e1f00c0ffee';

function voicemailConfig(opts: { bucket?: string; enabled?: boolean } = {}) {
  return configWithCity311(
    (uc) => (uc.voicemail = { enabled: opts.enabled ?? true, maxSeconds: 45 }),
    opts,
  );
}

const types = (actions: { Type: string }[]) => actions.map((a) => a.Type);

async function unansweredTransfer(config: ReturnType<typeof voicemailConfig>) {
  const { handler, entries } = journaledHandler(config);
  const call = simulateCall(
    { transactionId: TX, smaId: 'sma-lab', region: 'us-east-1', accountId: '111122223333' },
    handler,
    { numberAnswers: () => false },
  );
  await call.startInbound();
  await call.requestTransfer('general');
  await call.settled();
  return { call, entries };
}

describe('voicemail when no person answers', () => {
  it('takes a message after the queue and its fallback, keeps its key, and ends the call', async () => {
    const { call, entries } = await unansweredTransfer(voicemailConfig({ bucket: BUCKET }));
    const steps = call.timeline.map((s) => [s.type, s.actionData?.Type, types(s.actions)]);
    expect(steps.slice(-4)).toEqual([
      ['ACTION_FAILED', 'CallAndBridge', ['CallAndBridge']], // the primary: the fallback next
      ['ACTION_FAILED', 'CallAndBridge', ['Speak', 'RecordAudio']],
      ['ACTION_SUCCESSFUL', 'RecordAudio', ['Speak', 'Hangup']],
      ['HANGUP', 'Hangup', []], // LEG-A gone: the call is over
    ]);
    const record = call.timeline.find((s) => s.actions.some((a) => a.Type === 'RecordAudio'))!;
    expect(record.actions[1]!.Parameters).toEqual({
      CallId: 'c0ffee00-leg1',
      DurationInSeconds: 45,
      SilenceDurationInSeconds: 3,
      RecordingTerminators: ['#'],
      RecordingDestination: { Type: 'S3', BucketName: BUCKET, Prefix: 'voicemail/' },
    });
    const left = entries.find((e) => e.recording && 'voicemail' in e.recording)!;
    expect(left.recording).toEqual({
      voicemail: {
        bucket: BUCKET,
        key: 'voicemail/c0ffee00-leg1.wav',
        atMs: NOW,
        queue: 'general',
      },
    });
    // The transfer failed, and the call ended cleanly.
    expect(entries.some((e) => e.record.TransferOutcome === 'failed')).toBe(true);
    expect(entries.at(-1)!.record).toMatchObject({ Phase: 'ended', Disposition: 'failed' });
    expect(call.ended).toBe(true);
  });

  it('apologises as before without voicemail, or without a bucket', async () => {
    for (const config of [
      voicemailConfig({ bucket: BUCKET, enabled: false }),
      voicemailConfig({}),
    ]) {
      const { call } = await unansweredTransfer(config);
      const all = call.timeline.flatMap((s) => types(s.actions));
      expect(all).not.toContain('RecordAudio');
      expect(call.timeline.at(-2)!.actions.map((a) => a.Type)).toEqual(['Speak', 'Hangup']);
    }
  });

  it('apologises and hangs up when the message could not be recorded', () => {
    const ev = fixture('action-failed-bridge-agent');
    ev.ActionData = {
      Type: 'RecordAudio',
      Parameters: { CallId: 'a-leg-0001' },
      ErrorType: 'SystemException',
      ErrorMessage: 'System error while executing action.',
    };
    ev.CallDetails.TransactionAttributes = {
      phase: 'ending',
      useCase: 'city-311',
      end: 'failed',
      queue: 'general',
    };
    const d = decideRaw(ev, NOW, voicemailConfig({ bucket: BUCKET }));
    expect(types(d.actions)).toEqual(['Speak', 'Hangup']);
    expect(d.recording).toBeUndefined();
    expect(d.notes).toContainEqual(expect.objectContaining({ reason: 'voicemail_failed' }));
  });
});
