// A message the caller chose (contracts/call-update.ts, action=voicemail): the agent offered it
// when the team was busy or closed. The SMA acts on it only when its token verifies for the call
// and the use case takes messages (with RECORDINGS_BUCKET set): it hangs up the agent's leg, then
// Chime says the prompt, records the caller, thanks them and ends the call, the message's key kept
// with the call. Where no message can be taken the caller goes to a person; with a bad token or
// once the call has left the agent, nothing changes.
import { describe, expect, it } from 'vitest';
import { parseCallUpdateArguments, toCallUpdateArguments } from '../../../contracts/call-update.js';
import { NOW, simulateCall, configWithCity311, journaledHandler } from '../../helpers/sma.js';

const BUCKET = 'callbridge-test-recordings';
const TX = 'c0ffee00-5a1e-4c4b-9d2a-7e1f00c0ffee';

function config(opts: { bucket?: string; enabled?: boolean } = {}) {
  return configWithCity311(
    (uc) => (uc.voicemail = { enabled: opts.enabled ?? true, maxSeconds: 45 }),
    opts,
  );
}

const types = (actions: { Type: string }[]) => actions.map((a) => a.Type);

async function callWithAgent(cfg: ReturnType<typeof config>) {
  const { handler, entries } = journaledHandler(cfg);
  const call = simulateCall(
    { transactionId: TX, smaId: 'sma-lab', region: 'us-east-1', accountId: '111122223333' },
    handler,
  );
  await call.startInbound();
  await call.settled();
  return { call, entries };
}

function askForMessage(call: Awaited<ReturnType<typeof callWithAgent>>['call'], token?: string) {
  return call.send({
    action: 'voicemail',
    reason: 'caller_asked',
    requestedAt: NOW,
    token: token ?? call.callToken ?? '',
  });
}

describe('the caller chooses to leave a message', () => {
  it('ends the agent leg, records the message, keeps its key, and ends the call', async () => {
    const { call, entries } = await callWithAgent(config({ bucket: BUCKET }));
    await askForMessage(call);
    await call.settled();
    const from = call.timeline.findIndex((s) => s.type === 'CALL_UPDATE_REQUESTED');
    const steps = call.timeline.slice(from).map((s) => [s.type, types(s.actions)]);
    expect(steps[0]).toEqual(['CALL_UPDATE_REQUESTED', ['Hangup']]);
    // Whichever of LEG-B's HANGUP and the Hangup's result comes first starts the message; once.
    const prompts = steps.filter(([, a]) => (a as string[]).includes('RecordAudio'));
    expect(prompts).toHaveLength(1);
    expect(prompts[0]![1]).toEqual(['Speak', 'RecordAudio']);
    const hangup = call.timeline[from]!.actions[0]!;
    expect(hangup.Parameters).toMatchObject({ CallId: 'c0ffee00-leg2' }); // the agent's leg
    const record = call.timeline.find((s) => s.actions.some((a) => a.Type === 'RecordAudio'))!;
    expect(record.actions[1]!.Parameters).toMatchObject({
      CallId: 'c0ffee00-leg1',
      DurationInSeconds: 45,
      RecordingDestination: { Type: 'S3', BucketName: BUCKET, Prefix: 'voicemail/' },
    });
    const left = entries.find((e) => e.recording && 'voicemail' in e.recording)!;
    expect(left.recording).toEqual({
      voicemail: {
        bucket: BUCKET,
        key: 'voicemail/c0ffee00-leg1.wav',
        atMs: NOW,
        queue: undefined,
      },
    });
    // No transfer: the agent handled the call, which ended cleanly.
    expect(entries.some((e) => e.record.TransferOutcome !== undefined)).toBe(false);
    expect(entries.some((e) => e.record.Phase === 'message_pending')).toBe(true);
    expect(entries.at(-1)!.record).toMatchObject({ Phase: 'ended', Disposition: 'ai_completed' });
    expect(call.ended).toBe(true);
  });

  it('puts the caller through to a person where no message can be taken: no voicemail, no bucket', async () => {
    // The agent has said a message comes next: a refusal would leave the caller on a quiet line.
    for (const cfg of [config({ bucket: BUCKET, enabled: false }), config({})]) {
      const { call, entries } = await callWithAgent(cfg);
      await askForMessage(call);
      await call.settled();
      const update = call.timeline.find((s) => s.type === 'CALL_UPDATE_REQUESTED')!;
      expect(types(update.actions)).toEqual(['Hangup']); // the agent's leg, as for a transfer
      expect(call.timeline.flatMap((s) => types(s.actions))).not.toContain('RecordAudio');
      expect(call.timeline.flatMap((s) => types(s.actions))).toContain('CallAndBridge');
      expect(entries.some((e) => e.record.TransferInProgress === true)).toBe(true);
      expect(entries.find((e) => e.record.TransferQueue)?.record.TransferQueue).toBe('general');
    }
  });

  it('is refused without the call’s token, or with another call’s', async () => {
    const { call } = await callWithAgent(config({ bucket: BUCKET }));
    await call.update({ action: 'voicemail', reason: 'caller_asked', requestedAt: String(NOW) });
    await askForMessage(call, 'v1.1900000000.not-this-calls-token');
    await call.settled();
    const updates = call.timeline.filter((s) => s.type === 'CALL_UPDATE_REQUESTED');
    expect(updates.map((s) => s.actions)).toEqual([[], []]);
    expect(call.ended).toBe(false);
  });

  it('is refused once the call has left the agent (a second request, a transfer under way)', async () => {
    const { call } = await callWithAgent(config({ bucket: BUCKET }));
    await askForMessage(call);
    await askForMessage(call);
    await call.settled();
    const records = call.timeline.filter((s) => s.actions.some((a) => a.Type === 'RecordAudio'));
    expect(records).toHaveLength(1);
  });
});

describe('the voicemail update on the wire', () => {
  it('round-trips through the arguments; an unknown reason reads unspecified', () => {
    const args = toCallUpdateArguments({
      action: 'voicemail',
      reason: 'caller_asked',
      requestedAt: NOW,
      token: 't',
    });
    expect(args).toEqual({
      action: 'voicemail',
      reason: 'caller_asked',
      requestedAt: String(NOW),
      token: 't',
    });
    expect(parseCallUpdateArguments(args)).toEqual({
      action: 'voicemail',
      reason: 'caller_asked',
      requestedAt: NOW,
      traceparent: undefined,
      token: 't',
    });
    expect(parseCallUpdateArguments({ ...args, reason: '+12025550100' })).toMatchObject({
      action: 'voicemail',
      reason: 'unspecified',
    });
  });
});
