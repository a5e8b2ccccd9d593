// The transfer tool with the queue's status: the framework's own session (text only), the local
// dialogue engine, call control through the real AWS SDK client to the Voice API stand-in, and the
// queue status from a lookup the test sets (the worker's poller is tested in queue-status.test.ts).
import { describe, expect, it } from 'vitest';
import { readCallContext } from '../../../agent/call-context.js';
import type { QueueStatusLookup } from '../../../agent/queue-status/index.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { agentSessions, queueLookup, smaCallAttrs } from '../../helpers/agent-session.js';
import { calls, outputs, said } from '../../helpers/session-events.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

const useCases = parseUseCases(USE_CASES_JSON);
const TX = '6f1c2d3e-1111-4222-8333-944455566678';
const agents = agentSessions((tx) => tx === TX);

async function startSession(queues: QueueStatusLookup) {
  const { session } = await agents.start(readCallContext(smaCallAttrs(TX), useCases), {
    handoff: { queues },
  });
  return session;
}
const transfers = () => agents.updates().filter((u) => u.action === 'transfer');

describe('transfer_to_human with the queue status', () => {
  it('watches the call’s Connect queues from the start', async () => {
    const l = queueLookup(undefined);
    await startSession(l.queues);
    expect(l.watched.map((r) => r.queueId)).toEqual([
      'bbbbbbbb-0311-4000-8000-000000000140',
      'bbbbbbbb-0311-4000-8000-000000000150',
    ]);
  });

  it('transfers at once when someone is available', async () => {
    const l = queueLookup({ agentsAvailable: 2 });
    const session = await startSession(l.queues);
    const result = await session.run({ userInput: 'can I talk to a person' }).wait();
    expect(outputs(result.events)[0]).toMatch(/^transfer_started/);
    expect(transfers()).toHaveLength(1);
  });

  it('says the wait and offers hold or a callback when the queue is busy; holding transfers', async () => {
    const l = queueLookup({ contactsInQueue: 4, oldestContactAgeS: 230 });
    const session = await startSession(l.queues);
    const asked = await session.run({ userInput: 'I want to talk to a person' }).wait();
    expect(outputs(asked.events)[0]).toMatch(/^queue_busy/);
    expect(said(asked.events)).toEqual([
      'Someone from the 311 customer service team can take your call in about four minutes. ' +
        'Would you like to hold, or have someone call you back?',
    ]);
    expect(transfers()).toEqual([]);
    const held = await session.run({ userInput: "I'll hold" }).wait();
    expect(calls(held.events)).toEqual([
      {
        name: 'transfer_to_human',
        args: { queue: 'general', reason: 'caller_asked', hold: true },
      },
    ]);
    expect(outputs(held.events)[0]).toMatch(/^transfer_started/);
    expect(transfers()).toHaveLength(1);
    expect(l.asked).toHaveLength(1); // holding is not checked again
  });

  it('says the team is closed and offers a callback', async () => {
    const l = queueLookup({ agentsAvailable: 3, open: false });
    const session = await startSession(l.queues);
    const result = await session.run({ userInput: 'let me speak to someone' }).wait();
    expect(outputs(result.events)[0]).toMatch(/^queue_closed/);
    expect(said(result.events)).toEqual([
      'The 311 customer service team is closed right now. ' +
        'Would you like to have someone call you back?',
    ]);
    expect(transfers()).toEqual([]);
  });

  it('transfers as before when Connect gives no status', async () => {
    const l = queueLookup(undefined);
    const session = await startSession(l.queues);
    const result = await session.run({ userInput: 'a real person please' }).wait();
    expect(outputs(result.events)[0]).toMatch(/^transfer_started/);
    expect(l.asked).toHaveLength(1);
  });

  it('checks the queue the caller named', async () => {
    const l = queueLookup({ agentsAvailable: 1 });
    const session = await startSession(l.queues);
    await session.run({ userInput: 'put me through to someone in sanitation' }).wait();
    expect(l.asked.map((r) => r.queueId)).toEqual(['bbbbbbbb-0311-4000-8000-000000000150']);
  });
});
