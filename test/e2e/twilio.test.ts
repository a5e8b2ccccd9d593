// The Twilio way in, end to end on the real lab (docs/twilio.md): the Twilio stand-in posts the
// signed webhook, streams the scripted caller over the gateway's WebSocket into LiveKit, where the
// same agent takes the call; the agent's transfer goes back through Twilio's REST API (the real
// `twilio` client at the stand-in) as a <Dial> to the queue's claimed rolling number. And a
// barge-in: the caller talks over the agent, the agent cuts its reply, and the gateway tells Twilio
// to `clear`.
import { expect, it } from 'vitest';
import { DEFAULT_SCENARIO, loadScenario } from '../../lab/caller/scenario.js';
import { runScriptedCall } from '../../lab/caller/scripted-caller.js';
import { renderPhoneLine } from '../../lab/chime/voice-connector-media.js';
import { LAB_CALLER } from '../../lab/lab.js';
import { labForSuite } from '../helpers/lab.js';
import { until } from '../helpers/wait.js';

const lab = labForSuite({ twilio: true, prewarmed: 1 });

it('carries a whole call through the Twilio path, transfer included', async () => {
  const scenario = loadScenario(DEFAULT_SCENARIO);
  const result = await runScriptedCall(lab(), scenario, { via: 'twilio' });
  const failed = result.checks.filter((c) => !c.ok);
  expect(failed).toEqual([]);
  expect(result.ttfaMs).not.toBeNull();
  // The transfer reached Twilio's REST API as a <Dial> to a number of the queue from the use case:
  // with the agent's summary, one of its rolling numbers, claimed with the context in the calls
  // table as the SMA claims them (store/handoff-claims.ts).
  const call = lab().twilio!.standIn.calls.get(result.tx)!;
  const useCase = lab().livekit.useCases.defaultUseCase;
  const queue = useCase.queues[useCase.defaultQueue]!;
  const dial = call.updates.find((u) => u.twiml?.includes('<Dial'));
  const dialled = /<Dial[^>]*>([^<]+)<\/Dial>/.exec(dial?.twiml ?? '')?.[1];
  expect(queue.rollingNumbers ?? []).toContain(dialled);
  const rest = lab().twilio!.standIn.requests.filter((r) => r.path.includes(result.tx));
  expect(rest.map((r) => r.status)).toEqual([200]);
  // The gateway kept one connection item, ended by the stream's stop.
  const items = await lab().sma.journal(result.tx);
  const streams = items.filter((i) => String(i['sk']).startsWith('stream#'));
  expect(streams).toHaveLength(1);
  expect(streams[0]).toMatchObject({ Provider: 'twilio', EndReason: 'stop', CallSid: result.tx });
  expect(JSON.stringify(streams[0])).not.toContain(LAB_CALLER);
}, 240_000);

it('sends clear when the caller barges in on the agent', async () => {
  const twilio = lab().twilio!;
  const call = twilio.standIn.newCall({
    voiceUrl: twilio.voiceUrl,
    caller: LAB_CALLER,
    dialed: lab().livekit.useCases.defaultUseCase.dialedNumbers[0]!,
  });
  try {
    await call.startInbound();
    await call.waitFirstAudio(10_000);
    // Let the greeting finish, then ask something with a long answer.
    await until('the greeting is over', () => quietFor(call, 1200), 20_000);
    const question = await renderPhoneLine('My trash was not picked up this week.', 'rms');
    await call.say(question.samples, question.sampleRate);
    const asked = performance.now();
    await until('the agent answers', () => call.audibleMsSince(asked, ['agent']) >= 800, 20_000);
    // The caller talks over the answer.
    const over = await renderPhoneLine('Wait, wait, I have another question about that.', 'rms');
    const bargedAt = performance.now();
    await call.say(over.samples, over.sampleRate);
    const saidAt = performance.now();
    await until(
      'the gateway sent clear',
      () => call.received.some((m) => m.event === 'clear' && m.at >= bargedAt),
      10_000,
    );
    const clearAt = call.received.find((m) => m.event === 'clear' && m.at >= bargedAt)!.at;
    // The agent cut its reply (it decides when: on the caller's speech, or the end of their turn).
    expect(clearAt - saidAt).toBeLessThan(3000);
    // Nothing of the cut reply reaches the ear after the clear: neither what Twilio held nor its
    // last frames on their way (an answer to the caller would come later than this).
    await new Promise((r) => setTimeout(r, 300));
    const heardAfterClear =
      call.audibleMsSince(clearAt, ['agent']) - call.audibleMsSince(clearAt + 200, ['agent']);
    expect(heardAfterClear).toBe(0);
  } finally {
    await call.callerHangsUp();
  }
  const roomEmpty = await lab().participantsLeft(undefined, 15_000);
  expect(roomEmpty).toBe(0);
}, 120_000);

function quietFor(call: { lastAudibleAt(): number | undefined }, ms: number): boolean {
  const last = call.lastAudibleAt();
  return last !== undefined && performance.now() - last >= ms;
}
