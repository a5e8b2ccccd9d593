// The hand-off that knows the queue, on the real stack: the agent worker's poller reads the
// Connect stand-in over Connect's REST/JSON protocol (the real AWS SDK client), the agent tells the
// caller the wait and queues a callback in Connect; and a 0 pressed on the caller's phone reaches
// the agent as an RFC 4733 telephone-event through livekit-sip and puts the caller through.
import { expect, it } from 'vitest';
import { labForSuite } from '../helpers/lab.js';
import { type CallResult, runScriptedCall } from '../../lab/caller/scripted-caller.js';
import { loadScenario } from '../../lab/caller/scenario.js';

const lab = labForSuite({ prewarmed: 1 });

function expectHeld(r: CallResult): void {
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.what} (${c.detail ?? ''})`);
  const timeline = r.timeline.map((e) => `${e.source}: ${e.text}`).join('\n');
  expect(failed, `${r.scenario}: ${failed.join('; ')}\n${timeline}`).toEqual([]);
  expect(r.ok).toBe(true);
}

const updatesOf = (tx: string) =>
  lab()
    .voiceApi.requests.filter((r) => r.path.endsWith(`/calls/${tx}`) && r.status === 202)
    .map((r) => (r.body as { Arguments: Record<string, string> }).Arguments);

it('queue-busy-callback: the wait is said, and the callback is queued in Connect', async () => {
  const r = await runScriptedCall(lab(), loadScenario('queue-busy-callback'));
  expectHeld(r);
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

it('queue-closed-callback: outside the hours the agent says so and offers a callback', async () => {
  const r = await runScriptedCall(lab(), loadScenario('queue-closed-callback'));
  expectHeld(r);
  const agent = r.timeline.filter((e) => e.source === 'agent').map((e) => e.text);
  expect(agent.some((t) => /closed right now/.test(t))).toBe(true);
  expect(updatesOf(r.tx)).toEqual([expect.objectContaining({ action: 'hangup' })]);
}, 240_000);

it('press-zero: 0 during the greeting puts the caller through to a person', async () => {
  const r = await runScriptedCall(lab(), loadScenario('press-zero'));
  expectHeld(r);
  expect(updatesOf(r.tx)).toEqual([
    expect.objectContaining({ action: 'transfer', queue: 'general', reason: 'caller_asked' }),
  ]);
  // Nothing the caller said: the digit alone did it.
  expect(r.timeline.some((e) => e.source === 'caller' && e.text.startsWith('"'))).toBe(false);
}, 180_000);
