// Ten calls at once on this two-core machine: every caller hears someone (their own agent through
// the real SIP path, or, should the AI leg not be answered in time, a person: the failure rules),
// every call ends cleanly with its own journal, and nothing is left in any room. How fast they
// are answered, and how their audio holds up at ten calls on two cores (it degrades: see the
// README's capacity figures), is the lab benchmark's business, not a test's.
import { expect, it } from 'vitest';
import { labForSuite } from '../helpers/lab.js';
import { runCalls } from '../../lab/lab-run.js';
import { loadScenario } from '../../lab/caller/scenario.js';

const CALLS = 10;
// A loaded job process waits for each call (the framework loads them one at a time).
const lab = labForSuite({ maxCalls: CALLS + 2, idleProcesses: CALLS, prewarmed: CALLS }, 300_000);

it(`carries ${CALLS} calls at once, each to a clean end with its journal`, async () => {
  const { results } = await runCalls(lab(), {
    scenario: loadScenario('never-silent'),
    calls: CALLS,
    concurrent: CALLS,
    rampMs: 500,
    timelines: false,
  });
  expect(results).toHaveLength(CALLS);
  expect(new Set(results.map((r) => r.tx)).size).toBe(CALLS);
  for (const r of results) {
    // Every check of the scenario: someone heard, both legs ended, the journal holds every
    // event, the call's rooms empty.
    const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.what} (${c.detail ?? ''})`);
    expect(failed, `call ${r.tx.slice(0, 8)}: ${failed.join('; ')}`).toEqual([]);
    // Answered by the agent, or sent to a person because the AI leg failed: nothing else. Ten
    // calls are past this machine's capacity (six), and this test's process plays every caller's
    // phone: when it is starved for over 1.5 s, its packets stop, and to the agent that is a lost
    // line (`line_lost`, agent/media-watch.ts), which also ends with a person.
    const state = (await lab().sma.journal(r.tx)).find((i) => i['sk'] === 'state')!;
    if (state['Disposition'] !== 'ai_completed') {
      expect(state).toMatchObject({ Disposition: 'transferred', TransferOutcome: 'connected' });
      expect(['agent_unavailable', 'agent_error', 'line_lost']).toContain(state['TransferReason']);
    }
  }
  const byAgent = results.filter((r) => r.ttfaMs !== null).length;
  console.log(`${byAgent} of ${CALLS} calls answered by the agent, the others by a person`);
  // The calls overlapped: each was still up when the last one started.
  const lastStart = Math.max(...results.map((r) => r.startedAt));
  expect(results.every((r) => r.startedAt + (r.e2eMs ?? 0) > lastStart)).toBe(true);
  await expect(lab().participantsLeft()).resolves.toBe(0);
}, 300_000);
