// The agent's conversation and tools with the framework's own session (text only: no server, no
// keys). Call control goes through the real AWS SDK client to a local HTTP server that answers the
// Chime SDK Voice API as AWS documents it.
import { llm, voice } from '@livekit/agents';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { readCallContext, type CallContext } from '../../../agent/call-context.js';
import { Lines } from '../../../agent/dialogue/engine.js';
import { transferParameters } from '../../../agent/tools/transfer-to-human.js';
import { AgentTransferReason } from '../../../contracts/reasons.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import {
  agentSessions,
  CALL_TOKEN,
  smaCallAttrs,
  type SessionOptions,
} from '../../helpers/agent-session.js';
import { calls, outputs, said } from '../../helpers/session-events.js';
import { USE_CASES_JSON, type Json } from '../../helpers/sma.js';

const useCases = parseUseCases(USE_CASES_JSON);
const TX = '6f1c2d3e-1111-4222-8333-944455566677';
const TRACEPARENT = '00-6f1c2d3e11114222833394445556667-00f067aa0ba902b7-01'.replace(
  '6667-',
  '66677-',
);
const PHONE_ATTRS = smaCallAttrs(TX, { 'trace.traceparent': TRACEPARENT });

let callOpen = true;
const agents = agentSessions((tx) => callOpen && tx === TX);
afterEach(() => {
  callOpen = true;
});

/** The call's session, call control's retries waiting at most 20 ms. */
async function startSession(call: CallContext, opts: SessionOptions = {}) {
  const { session } = await agents.start(call, {
    ...opts,
    control: { sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))) },
  });
  return session;
}

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
    agents.api.throttleNext(1);
    const before = Date.now();
    const result = await session.run({ userInput: 'can I talk to a person please' }).wait();
    expect(calls(result.events)).toEqual([
      { name: 'transfer_to_human', args: { queue: 'general', reason: 'caller_asked' } },
    ]);
    expect(outputs(result.events)[0]).toMatch(/^transfer_started/);
    expect(agents.api.requests.map((r) => [r.path, r.status])).toEqual([
      [`/sip-media-applications/sma-test/calls/${TX}`, 429],
      [`/sip-media-applications/sma-test/calls/${TX}`, 202],
    ]);
    const args = (agents.api.requests[1]!.body as Json).Arguments;
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
    expect((agents.api.requests[0]!.body as Json).Arguments).toMatchObject({
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
    expect(agents.api.requests).toEqual([]);
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
    expect(agents.api.requests).toEqual([]);
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
    expect((agents.api.requests[0]!.body as Json).Arguments.reason).toBe('caller_asked');
    expect(started).toEqual(['caller_asked']);
    expect(logs.join('\n')).toContain('transfer requested');
    expect(logs.join('\n')).not.toMatch(/mayor/i);
  });
});
