// The hand-off that knows the queue, on the real stack: the agent worker's poller reads the
// Connect stand-in over Connect's REST/JSON protocol (the real AWS SDK client), the agent tells the
// caller the wait and queues a callback in Connect; and a 0 pressed on the caller's phone reaches
// the agent as an RFC 4733 telephone-event through livekit-sip and puts the caller through. The
// person who answers a transfer is given what the agent learned: the SMA bridges to a rolling
// number, the Connect stand-in's flow invokes lambdas/connect-context, the person hears the whisper.
//
// The Connect stand-in's queues are the lab's, not a call's: only calls that want them the same
// run together (`it.concurrent`, two at a time, each on a warm job process); a call that sets them
// otherwise runs alone, between the groups.
import { type ExpectStatic, it } from 'vitest';
import { labForSuite } from '../helpers/lab.js';
import { type CallResult, runScriptedCall } from '../../lab/caller/scripted-caller.js';
import { loadScenario } from '../../lab/caller/scenario.js';
import { ConnectContextAttribute, HANDOFF_SUMMARY_MAX } from '../../contracts/handoff-context.js';
import { callTraceId } from '../../otel/traceparent.js';

const lab = labForSuite({ prewarmed: 2 });

function expectHeld(expect: ExpectStatic, r: CallResult): void {
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.what} (${c.detail ?? ''})`);
  const timeline = r.timeline.map((e) => `${e.source}: ${e.text}`).join('\n');
  expect(failed, `${r.scenario}: ${failed.join('; ')}\n${timeline}`).toEqual([]);
  expect(r.ok).toBe(true);
}

const updatesOf = (tx: string) =>
  lab()
    .voiceApi.requests.filter((r) => r.path.endsWith(`/calls/${tx}`) && r.status === 202)
    .map((r) => (r.body as { Arguments: Record<string, string> }).Arguments);

// Alone: the queue busy (then closed, closed today, and open: each state follows the last).
it('queue-busy-callback: the wait is said, and the callback is queued in Connect', async ({
  expect,
}) => {
  const r = await runScriptedCall(lab(), loadScenario('queue-busy-callback'));
  expectHeld(expect, r);
  const agent = r.timeline.filter((e) => e.source === 'agent').map((e) => e.text);
  expect(agent.some((t) => /about four minutes/.test(t))).toBe(true);
  expect(agent.some((t) => /number ending in 0 1 0 0/.test(t))).toBe(true);
  // Connect was read by the worker's poller, and no transfer was asked for: the call ended.
  expect(r.timeline.some((e) => e.source === 'connect' && /4 waiting/.test(e.text))).toBe(true);
  expect(updatesOf(r.tx)).toEqual([expect.objectContaining({ action: 'hangup' })]);
  const callback = lab().connect.callbacks.find(
    (c) => c.attributes['callbridgeTransactionId'] === r.tx,
  );
  expect(callback).toMatchObject({ destination: '+12065550100' });
}, 240_000);

// The team closed (both use cases' general queue is the one Connect queue): two calls at once.
it.concurrent(
  'queue-closed-callback: outside the hours the agent says so and offers a callback',
  async ({ expect }) => {
    const r = await runScriptedCall(lab(), loadScenario('queue-closed-callback'));
    expectHeld(expect, r);
    const agent = r.timeline.filter((e) => e.source === 'agent').map((e) => e.text);
    expect(agent.some((t) => /closed right now/.test(t))).toBe(true);
    expect(updatesOf(r.tx)).toEqual([expect.objectContaining({ action: 'hangup' })]);
  },
  240_000,
);

it.concurrent(
  'queue-closed-message: the agent offers a message, and the SMA records it to S3',
  async ({ expect }) => {
    const r = await runScriptedCall(lab(), loadScenario('queue-closed-message'));
    expectHeld(expect, r); // the scenario checks the voicemail item and its audio in the lab's S3
    const agent = r.timeline.filter((e) => e.source === 'agent').map((e) => e.text);
    expect(agent.some((t) => /closed right now.*call you back, or leave a message/.test(t))).toBe(
      true,
    );
    // The agent asked for the message, nothing else: no transfer, no hang-up of its own.
    expect(updatesOf(r.tx)).toEqual([
      expect.objectContaining({ action: 'voicemail', reason: 'caller_asked' }),
    ]);
    const sma = r.timeline.filter((e) => e.source === 'sma').map((e) => e.text);
    expect(sma.some((t) => /CALL_UPDATE_REQUESTED action=voicemail .*→ Hangup/.test(t))).toBe(true);
    expect(sma.some((t) => /RecordAudio/.test(t))).toBe(true);
    const items = await lab().sma.journal(r.tx);
    expect(items.find((i) => i['sk'] === 'state')).toMatchObject({ Disposition: 'ai_completed' });
  },
  240_000,
);

// Alone: open all week, but closed today.
it('holiday-closed-callback: an override closing today closes the team, whatever the weekly hours', async ({
  expect,
}) => {
  const r = await runScriptedCall(lab(), loadScenario('holiday-closed-callback'));
  expectHeld(expect, r);
  const agent = r.timeline.filter((e) => e.source === 'agent').map((e) => e.text);
  expect(agent.some((t) => /closed right now/.test(t))).toBe(true);
  expect(agent.some((t) => /holiday/i.test(t))).toBe(false); // the override's name is not said
  // The weekly hours say open all week; Connect's effective hours close today.
  const connectNotes = r.timeline.filter((e) => e.source === 'connect').map((e) => e.text);
  expect(connectNotes.some((t) => /DescribeHoursOfOperation → 200 · open all week/.test(t))).toBe(
    true,
  );
  expect(
    connectNotes.some((t) =>
      /GetEffectiveHoursOfOperations → 200 · hours …0140: today closed \(override\)/.test(t),
    ),
  ).toBe(true);
  expect(updatesOf(r.tx)).toEqual([expect.objectContaining({ action: 'hangup' })]);
}, 240_000);

// Someone available, open: two calls at once (0 on the keypad skips the queue check).
it.concurrent(
  'person-greets-with-context: the person hears the whisper and greets with the topic',
  async ({ expect }) => {
    const r = await runScriptedCall(lab(), loadScenario('person-greets-with-context'));
    expectHeld(expect, r);
    // The agent handed the context over with its transfer, bounded and without the caller's number.
    const [transfer] = updatesOf(r.tx);
    expect(transfer).toMatchObject({
      action: 'transfer',
      queue: 'general',
      topic: 'My trash was not picked up.',
      verification: 'unverified',
    });
    expect(transfer!['summary']).toMatch(/^Topic: My trash was not picked up\. Caller said: "/);
    expect(transfer!['summary']!.length).toBeLessThanOrEqual(HANDOFF_SUMMARY_MAX);
    expect(Object.keys(transfer!).length).toBeLessThanOrEqual(20);
    // The SMA bridged to one of the queue's rolling numbers, and Connect's flow found the context.
    const general = lab().livekit.useCases.defaultUseCase.queues['general']!;
    const dialed = r.timeline.filter((e) => e.source === 'sma' && /CallAndBridge/.test(e.text));
    expect(dialed.some((e) => general.rollingNumbers!.some((n) => e.text.includes(n)))).toBe(true);
    const run = lab().contactFlows.runs.find(
      (f) => f.attributes[ConnectContextAttribute.traceId] === callTraceId(r.tx),
    );
    expect(run?.attributes[ConnectContextAttribute.summary]).toBe(transfer!['summary']);
    expect(run?.greeting).toMatch(/I see you're calling about: my trash was not picked up/);
    // The timeline shows the summary handed over and the whisper the person heard.
    expect(r.timeline.some((e) => e.source === 'connect' && /context found/.test(e.text))).toBe(
      true,
    );
    expect(r.timeline.some((e) => e.source === 'person' && /hears the whisper/.test(e.text))).toBe(
      true,
    );
  },
  240_000,
);

it.concurrent(
  'press-zero: 0 during the greeting puts the caller through to a person',
  async ({ expect }) => {
    const r = await runScriptedCall(lab(), loadScenario('press-zero'));
    expectHeld(expect, r);
    expect(updatesOf(r.tx)).toEqual([
      expect.objectContaining({ action: 'transfer', queue: 'general', reason: 'caller_asked' }),
    ]);
    // Nothing the caller said: the digit alone did it.
    expect(r.timeline.some((e) => e.source === 'caller' && e.text.startsWith('"'))).toBe(false);
  },
  180_000,
);
