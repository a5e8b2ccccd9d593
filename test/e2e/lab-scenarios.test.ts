// Whole calls on real parts, driven by the bundled scenario files: the real SMA handler (DynamoDB
// API on dynalite) driven as Chime drives it, its CallAndBridge to the agent carried out as a SIP
// call through LiveKit, the agent (offline speech) talking with the scripted caller, transfers to
// the Connect stand-in's person, and the clean end of every leg and room.
import { describe, type ExpectStatic, it } from 'vitest';
import { labForSuite } from '../helpers/lab.js';
import { type CallResult, runScriptedCall } from '../../lab/caller/scripted-caller.js';
import { loadScenario, parseScenario } from '../../lab/caller/scenario.js';

const lab = labForSuite({ prewarmed: 3, idleProcesses: 3 });

/** The call's result, with the checks that failed in the message when it did not hold. */
function expectHeld(expect: ExpectStatic, r: CallResult): void {
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.what} (${c.detail ?? ''})`);
  expect(failed, `${r.scenario}: ${failed.join('; ')}`).toEqual([]);
  expect(r.ok).toBe(true);
}

const updatesOf = (tx: string) =>
  lab()
    .voiceApi.requests.filter((r) => r.path.endsWith(`/calls/${tx}`) && r.status === 202)
    .map((r) => (r.body as { Arguments: Record<string, string> }).Arguments);

/** voice.calls.refused{component="sma", reason} on the lab SMA's scrape endpoint. */
async function smaRefused(reason: string): Promise<number> {
  const body = await fetch(lab().sma.metricsUrl).then((r) => r.text());
  return body
    .split('\n')
    .filter((l) => /^voice_calls_refused(?:_total)?\{/.test(l))
    .filter((l) => l.includes('component="sma"') && l.includes(`reason="${reason}"`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

// Three lanes side by side, each placing its calls one after another: three calls at a time at
// most, each on a warm job process. What the lab holds for all calls stays as each call wants it:
// no scenario here sets the Connect stand-in's queues, and only the unverified caller is refused.
describe('lane 1', { concurrent: true }, () => {
  it.sequential(
    'silent-caller: the agent checks in twice, then says goodbye and ends the call as caller_silent',
    async ({ expect }) => {
      const r = await runScriptedCall(lab(), loadScenario('silent-caller'));
      expectHeld(expect, r);
      expect(updatesOf(r.tx)).toEqual([
        expect.objectContaining({ action: 'hangup', reason: 'caller_silent' }),
      ]);
    },
    150_000,
  );

  it.sequential(
    'unverified-caller: Chime says how to register and the call ends; the agent never hears the caller',
    async ({ expect }) => {
      const before = await smaRefused('unverified');
      const r = await runScriptedCall(lab(), loadScenario('unverified-caller'));
      expectHeld(expect, r);
      const sma = r.timeline.filter((e) => e.source === 'sma').map((e) => e.text);
      expect(sma.some((t) => t.includes('CallAndBridge'))).toBe(false);
      expect(r.ttfaMs).toBeNull();
      expect(await smaRefused('unverified')).toBe(before + 1);
    },
    90_000,
  );
});

describe('lane 2', { concurrent: true }, () => {
  it.sequential(
    'ask-then-transfer: the agent answers, then hands the caller to a person they hear',
    async ({ expect }) => {
      const r = await runScriptedCall(lab(), loadScenario('ask-then-transfer'));
      expectHeld(expect, r);
      // The agent's transfer_to_human reached the Voice API stand-in with the contract's arguments.
      expect(updatesOf(r.tx)).toEqual([
        expect.objectContaining({ action: 'transfer', queue: 'general', reason: 'caller_asked' }),
      ]);
      const sma = r.timeline.filter((e) => e.source === 'sma').map((e) => e.text);
      expect(sma.findIndex((t) => t.includes('CallAndBridge AWS'))).toBeLessThan(
        sma.findIndex((t) => t.includes('CallAndBridge PSTN')),
      );
      // Both sides of the conversation are in the timeline: the agent's words and what it heard.
      expect(r.timeline.some((e) => e.source === 'agent' && /pickup/i.test(e.text))).toBe(true);
      expect(r.timeline.some((e) => e.source === 'heard')).toBe(true);
      expect(r.ttfaMs).toBeGreaterThan(0);
      expect(r.ctdMs).toBeGreaterThan(0);
      expect(r.e2eMs).toBeGreaterThan(r.ctdMs!);
    },
    120_000,
  );

  it.sequential(
    'queue-down: no one answers in the queue; the caller hears an apology and the call ends',
    async ({ expect }) => {
      const r = await runScriptedCall(lab(), loadScenario('queue-down'));
      expectHeld(expect, r);
      expect(r.timeline.some((e) => e.source === 'sma' && e.text.includes('Speak'))).toBe(true);
    },
    120_000,
  );

  it.sequential(
    'hang-up-mid-greeting: everything is torn down',
    async ({ expect }) => {
      const r = await runScriptedCall(lab(), loadScenario('hang-up-mid-greeting'));
      expectHeld(expect, r);
    },
    60_000,
  );
});

describe('lane 3', { concurrent: true }, () => {
  it.sequential(
    'verified-caller: the code arrives by SMS, the caller confirms it and then reaches the agent',
    async ({ expect }) => {
      const r = await runScriptedCall(lab(), loadScenario('verified-caller'));
      expectHeld(expect, r);
      const sms = r.timeline.filter((e) => e.source === 'phone');
      expect(sms).toHaveLength(1);
      expect(sms[0]!.text).toMatch(/\b\d{6}\b/);
      expect(r.timeline.some((e) => e.source === 'agent' && /twentieth/i.test(e.text))).toBe(true);
      expect(updatesOf(r.tx)).toEqual([expect.objectContaining({ action: 'hangup' })]);
    },
    120_000,
  );

  it.sequential(
    'goodbye: the agent ends the call through the SMA once the caller is done',
    async ({ expect }) => {
      const r = await runScriptedCall(lab(), loadScenario('goodbye'));
      expectHeld(expect, r);
      expect(updatesOf(r.tx)).toEqual([expect.objectContaining({ action: 'hangup' })]);
      expect(r.ctdMs).toBeNull();
    },
    120_000,
  );

  it.sequential(
    'reports an expectation that does not hold, and still ends the call cleanly',
    async ({ expect }) => {
      const scenario = parseScenario(
        [
          'name: waits-for-nobody',
          'description: Expects a person without asking for one.',
          'steps:',
          '  - greeting: { withinMs: 3000 }',
          '  - listen: { hears: person, atLeastMs: 500, withinMs: 1500 }',
        ].join('\n'),
        'inline',
      );
      const r = await runScriptedCall(lab(), scenario);
      expect(r.ok).toBe(false);
      expect(r.checks.filter((c) => !c.ok).map((c) => c.what)).toEqual([
        'hears the person for 500 ms within 1500 ms',
      ]);
      // The caller hung up at the end of the script; nothing is left behind.
      expect(r.checks.find((c) => c.what === 'both legs ended')?.ok).toBe(true);
      expect(r.checks.find((c) => c.what.startsWith('no one is left'))?.ok).toBe(true);
    },
    60_000,
  );
});
