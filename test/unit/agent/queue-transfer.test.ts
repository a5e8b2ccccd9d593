// The transfer tool with the queue's status: the framework's own session (text only), the local
// dialogue engine, call control through the real AWS SDK client to the Voice API stand-in, and the
// queue status from a lookup the test sets (the worker's poller is tested in queue-status.test.ts).
import { initializeLogger, voice } from '@livekit/agents';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCallAgent } from '../../../agent/call-agent.js';
import { readCallContext, type CallContext } from '../../../agent/call-context.js';
import { ChimeCallControl } from '../../../agent/call-control.js';
import { DialogueLLM } from '../../../agent/dialogue/dialogue-llm.js';
import { toolText } from '../../../agent/dialogue/engine.js';
import type { QueueStatusLookup } from '../../../agent/queue-status/index.js';
import type { ConnectQueueRef, QueueStatus } from '../../../agent/queue-status/status.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { startVoiceApiServer, type VoiceApiServer } from '../../../lab/chime/voice-api-server.js';
import { USE_CASES_JSON, type Json } from '../../helpers/sma.js';

initializeLogger({ pretty: false, level: 'warn' });

const useCases = parseUseCases(USE_CASES_JSON);
const TX = '6f1c2d3e-1111-4222-8333-944455566678';
const PHONE_ATTRS = {
  'sma.transactionId': TX,
  'sma.callToken': 'v1.1900000000.the-call-token-as-the-sma-signed-it',
  'sma.applicationId': 'sma-test',
  'sma.region': 'us-east-1',
  'call.useCase': 'city-311',
  'sip.phoneNumber': '+12065550100',
  'sip.trunkPhoneNumber': '+12025550132',
};
const logger = pino({ level: 'silent' });

let api: VoiceApiServer;
beforeAll(async () => {
  api = await startVoiceApiServer({ onUpdate: (_sma, tx) => tx === TX }, { ratePerSecond: 100 });
  process.env.AWS_ENDPOINT_URL_CHIME_SDK_VOICE = api.endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
});
afterAll(async () => {
  await api.stop();
});
const sessions: voice.AgentSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
  api.requests.length = 0;
});

/** A lookup answering `status` for every queue, recording what was watched and asked. */
function lookup(status: QueueStatus | undefined | (() => Promise<QueueStatus | undefined>)) {
  const asked: ConnectQueueRef[] = [];
  const watched: ConnectQueueRef[] = [];
  const queues: QueueStatusLookup = {
    watch: (refs) => void watched.push(...refs),
    status: (ref) => {
      asked.push(ref);
      return typeof status === 'function' ? status() : Promise.resolve(status);
    },
  };
  return { queues, asked, watched };
}

async function startSession(call: CallContext, queues: QueueStatusLookup) {
  const control = call.sma ? ChimeCallControl.forCall(call.sma) : undefined;
  const agent = createCallAgent({
    call,
    control,
    logger,
    leave: () => undefined,
    handoff: { queues },
  });
  const session = new voice.AgentSession({ llm: new DialogueLLM(call.useCase) });
  sessions.push(session);
  await session.start({ agent });
  return session;
}

const said = (events: Json[]) =>
  events
    .filter((e) => e.type === 'message' && e.item.role === 'assistant')
    .map((e) => e.item.textContent as string);
const calls = (events: Json[]) =>
  events
    .filter((e) => e.type === 'function_call')
    .map((e) => ({ name: e.item.name, args: JSON.parse(e.item.args) }));
const outputs = (events: Json[]) =>
  events.filter((e) => e.type === 'function_call_output').map((e) => toolText(e.item.output));
const transfers = () =>
  api.requests.filter((r) => (r.body as Json).Arguments?.action === 'transfer');

const status = (s: Partial<QueueStatus>): QueueStatus => ({
  agentsAvailable: 0,
  contactsInQueue: 0,
  oldestContactAgeS: 0,
  open: true,
  readAt: Date.now(),
  ...s,
});

describe('transfer_to_human with the queue status', () => {
  it('watches the call’s Connect queues from the start', async () => {
    const l = lookup(undefined);
    await startSession(readCallContext(PHONE_ATTRS, useCases), l.queues);
    expect(l.watched.map((r) => r.queueId)).toEqual([
      'bbbbbbbb-0311-4000-8000-000000000140',
      'bbbbbbbb-0311-4000-8000-000000000150',
    ]);
  });

  it('transfers at once when someone is available', async () => {
    const l = lookup(status({ agentsAvailable: 2 }));
    const session = await startSession(readCallContext(PHONE_ATTRS, useCases), l.queues);
    const result = await session.run({ userInput: 'can I talk to a person' }).wait();
    expect(outputs(result.events)[0]).toMatch(/^transfer_started/);
    expect(transfers()).toHaveLength(1);
  });

  it('says the wait and offers hold or a callback when the queue is busy; holding transfers', async () => {
    const l = lookup(status({ contactsInQueue: 4, oldestContactAgeS: 230 }));
    const session = await startSession(readCallContext(PHONE_ATTRS, useCases), l.queues);
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
    const l = lookup(status({ agentsAvailable: 3, open: false }));
    const session = await startSession(readCallContext(PHONE_ATTRS, useCases), l.queues);
    const result = await session.run({ userInput: 'let me speak to someone' }).wait();
    expect(outputs(result.events)[0]).toMatch(/^queue_closed/);
    expect(said(result.events)).toEqual([
      'The 311 customer service team is closed right now. ' +
        'Would you like to have someone call you back?',
    ]);
    expect(transfers()).toEqual([]);
  });

  it('transfers as before when Connect gives no status', async () => {
    const l = lookup(undefined);
    const session = await startSession(readCallContext(PHONE_ATTRS, useCases), l.queues);
    const result = await session.run({ userInput: 'a real person please' }).wait();
    expect(outputs(result.events)[0]).toMatch(/^transfer_started/);
    expect(l.asked).toHaveLength(1);
  });

  it('checks the queue the caller named', async () => {
    const l = lookup(status({ agentsAvailable: 1 }));
    const session = await startSession(readCallContext(PHONE_ATTRS, useCases), l.queues);
    await session.run({ userInput: 'put me through to someone in sanitation' }).wait();
    expect(l.asked.map((r) => r.queueId)).toEqual(['bbbbbbbb-0311-4000-8000-000000000150']);
  });
});
