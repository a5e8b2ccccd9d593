// The agent's conversation and tools with the framework's own session (text only: no server, no
// keys). Call control goes through the real AWS SDK client to a local HTTP server that answers the
// Chime SDK Voice API as AWS documents it.
import { initializeLogger, llm, voice } from '@livekit/agents';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCallAgent, type CallAgentDeps } from '../../../agent/call-agent.js';
import { readCallContext, type CallContext } from '../../../agent/call-context.js';
import { ChimeCallControl } from '../../../agent/call-control.js';
import { DialogueLLM } from '../../../agent/dialogue/dialogue-llm.js';
import { Lines, toolText } from '../../../agent/dialogue/engine.js';
import { transferParameters } from '../../../agent/tools/transfer-to-human.js';
import { AgentTransferReason } from '../../../contracts/reasons.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { startVoiceApiServer, type VoiceApiServer } from '../../../lab/chime/voice-api-server.js';
import { USE_CASES_JSON, type Json } from '../../helpers/sma.js';

initializeLogger({ pretty: false, level: 'warn' });

const useCases = parseUseCases(USE_CASES_JSON);
const TX = '6f1c2d3e-1111-4222-8333-944455566677';
const TRACEPARENT = '00-6f1c2d3e11114222833394445556667-00f067aa0ba902b7-01'.replace(
  '6667-',
  '66677-',
);
/** The call's token as the SMA signed it (the agent returns it unchanged; it does not check it here). */
const CALL_TOKEN = 'v1.1900000000.the-call-token-as-the-sma-signed-it';
const PHONE_ATTRS = {
  'sma.transactionId': TX,
  'sma.callToken': CALL_TOKEN,
  'sma.applicationId': 'sma-test',
  'sma.region': 'us-east-1',
  'call.useCase': 'city-311',
  'trace.traceparent': TRACEPARENT,
  'sip.phoneNumber': '+12065550100',
  'sip.trunkPhoneNumber': '+12025550132',
};

let api: VoiceApiServer;
let callOpen = true;
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  api = await startVoiceApiServer(
    { onUpdate: (_sma, tx) => callOpen && tx === TX },
    { ratePerSecond: 100 },
  );
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
  callOpen = true;
});

type SessionOptions = Partial<Pick<CallAgentDeps, 'leave' | 'logger' | 'onTransferStarted'>> & {
  /** The model: the local dialogue engine of the call's use case unless given. */
  llm?: llm.LLM;
};

async function startSession(call: CallContext, opts: SessionOptions = {}) {
  const control = call.sma
    ? ChimeCallControl.forCall(call.sma, {
        sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
      })
    : undefined;
  const agent = createCallAgent({
    call,
    control,
    logger: opts.logger ?? logger,
    leave: opts.leave ?? (() => undefined),
    onTransferStarted: opts.onTransferStarted,
  });
  const session = new voice.AgentSession({ llm: opts.llm ?? new DialogueLLM(call.useCase) });
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

describe('call agent (local dialogue engine)', () => {
  it('answers a frequent question from the use case', async () => {
    const session = await startSession(readCallContext(PHONE_ATTRS, useCases));
    const result = await session
      .run({ userInput: 'how do I report a pothole on my street' })
      .wait();
    expect(said(result.events).join(' ')).toContain(
      'Potholes are usually repaired within five business days',
    );
    expect(calls(result.events)).toEqual([]);
  });

  it('transfers a caller who asks for a person, retrying a throttled Chime request', async () => {
    const session = await startSession(readCallContext(PHONE_ATTRS, useCases));
    api.throttleNext(1);
    const before = Date.now();
    const result = await session.run({ userInput: 'can I talk to a person please' }).wait();
    expect(calls(result.events)).toEqual([
      { name: 'transfer_to_human', args: { queue: 'general', reason: 'caller_asked' } },
    ]);
    expect(outputs(result.events)[0]).toMatch(/^transfer_started/);
    expect(api.requests.map((r) => [r.path, r.status])).toEqual([
      [`/sip-media-applications/sma-test/calls/${TX}`, 429],
      [`/sip-media-applications/sma-test/calls/${TX}`, 202],
    ]);
    const args = (api.requests[1]!.body as Json).Arguments;
    expect(args).toEqual({
      action: 'transfer',
      queue: 'general',
      reason: 'caller_asked',
      requestedAt: expect.any(String),
      traceparent: TRACEPARENT,
      token: CALL_TOKEN,
      // For the person who answers (docs/handoff.md): what was said before the hand-off line.
      summary: 'Caller said: "can I talk to a person please". 1 caller turn(s).',
      verification: 'unverified',
    });
    expect(Number(args.requestedAt)).toBeGreaterThanOrEqual(before);
  });

  it('tells the caller and keeps helping when the transfer cannot be made', async () => {
    const session = await startSession(readCallContext(PHONE_ATTRS, useCases));
    callOpen = false; // Chime answers 404: the call is not in progress
    const result = await session.run({ userInput: 'I want to speak to a representative' }).wait();
    expect(outputs(result.events)[0]).toMatch(/^transfer_failed/);
    expect(said(result.events)).toContain(Lines.transferFailed);
    const next = await session.run({ userInput: 'when is city hall open' }).wait();
    expect(said(next.events).join(' ')).toContain('Monday to Friday');
  });

  it('transfers after being misunderstood twice', async () => {
    const session = await startSession(readCallContext(PHONE_ATTRS, useCases));
    const first = await session.run({ userInput: 'purple elephants dancing' }).wait();
    expect(said(first.events)).toEqual([Lines.notUnderstood]);
    const second = await session.run({ userInput: 'zebra quantum banana' }).wait();
    expect(calls(second.events)).toEqual([
      { name: 'transfer_to_human', args: { queue: 'general', reason: 'not_understood' } },
    ]);
  });

  it('ends the call through the SMA when the caller is done', async () => {
    const session = await startSession(readCallContext(PHONE_ATTRS, useCases));
    const result = await session.run({ userInput: "no thanks that's all goodbye" }).wait();
    expect(calls(result.events)).toEqual([{ name: 'end_call', args: {} }]);
    expect((api.requests[0]!.body as Json).Arguments).toMatchObject({
      action: 'hangup',
      reason: 'caller_done',
    });
  });

  it('says that transfers need a phone call in a dev room, and leaves the room on end_call', async () => {
    let left = 0;
    const session = await startSession(readCallContext({}, useCases), {
      leave: () => void (left += 1),
    });
    const result = await session.run({ userInput: 'let me talk to a human' }).wait();
    expect(outputs(result.events)[0]).toMatch(/^needs_phone_call/);
    expect(said(result.events)).toContain(Lines.devRoom);
    await session.run({ userInput: 'ok goodbye' }).wait();
    expect(left).toBe(1);
    expect(api.requests).toEqual([]);
  });

  it('refuses a queue the model invents, and a phone number, without calling Chime', async () => {
    const fake = new voice.testing.FakeLLM([
      {
        input: 'billing please',
        toolCalls: [
          { name: 'transfer_to_human', args: { queue: 'billing', reason: 'caller_asked' } },
        ],
      },
      {
        input: 'dial my cousin',
        toolCalls: [
          { name: 'transfer_to_human', args: { queue: '+12025559999', reason: 'caller_asked' } },
        ],
      },
    ]);
    const session = await startSession(readCallContext(PHONE_ATTRS, useCases), { llm: fake });
    for (const input of ['billing please', 'dial my cousin']) {
      const result = await session.run({ userInput: input }).wait();
      expect(outputs(result.events)[0]).toMatch(/^transfer_refused/);
    }
    expect(api.requests).toEqual([]);
  });

  it('shows the model the closed set of transfer reasons', () => {
    const schema = llm.toJsonSchema(transferParameters(useCases.defaultUseCase)) as Json;
    expect(schema.properties.reason.enum).toEqual(AgentTransferReason.options);
    expect(schema.required).toContain('reason');
  });

  it('transfers with caller_asked when the model sends a reason outside the set, logging none of it', async () => {
    const logs: string[] = [];
    const captured = pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) });
    const fake = new voice.testing.FakeLLM([
      {
        input: 'get me a human',
        toolCalls: [
          { name: 'transfer_to_human', args: { queue: 'general', reason: 'Mayor Is My Uncle' } },
        ],
      },
    ]);
    const started: string[] = [];
    const session = await startSession(readCallContext(PHONE_ATTRS, useCases), {
      llm: fake,
      logger: captured,
      onTransferStarted: (_queue, reason) => started.push(reason),
    });
    const result = await session.run({ userInput: 'get me a human' }).wait();
    expect(outputs(result.events)[0]).toMatch(/^transfer_started/);
    expect((api.requests[0]!.body as Json).Arguments.reason).toBe('caller_asked');
    expect(started).toEqual(['caller_asked']);
    expect(logs.join('\n')).toContain('transfer requested');
    expect(logs.join('\n')).not.toMatch(/mayor/i);
  });
});
