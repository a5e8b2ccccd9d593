// One call, one trace: a simulated call through the real SMA handler (its real telemetry set-up,
// spans to memory) and the agent's side (the job process's real telemetry set-up, the framework's
// own session started under X-Traceparent as runCall does, the transfer tool calling the real
// ChimeCallControl against the local Chime SDK Voice API stand-in, which delivers the update to the
// same simulated call). Every span shares the call's trace id, the agent's session hangs from the
// span the handler sent in X-Traceparent, and the handler's transfer spans link to the agent's
// decision span.
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callRootSpanId,
  callTraceId,
  formatTraceparent,
  parseTraceparent,
} from '../../../otel/traceparent.js';
import type { SimulatedChimeCall } from '../../../lab/chime/simulated-call.js';
import type { Json } from '../../helpers/sma.js';
import {
  CALLER,
  DIALED,
  agentCallHarness,
  simulatedCall,
  smaHandler,
  smaTelemetryInMemory,
  type AgentCallHarness,
} from '../../helpers/otel.js';

const TX = '3a7f0c52-6b1d-4e8a-9f20-7c4d5e6f8a91';
let sma: Awaited<ReturnType<typeof smaTelemetryInMemory>>;
let agent: AgentCallHarness;
let sim: SimulatedChimeCall;
let smaSpans: ReadableSpan[] = [];
let agentSpans: ReadableSpan[] = [];
let xTraceparent: string;

beforeAll(async () => {
  sma = await smaTelemetryInMemory();
  const handler = smaHandler(sma.otel);
  sim = simulatedCall(handler, TX);
  agent = await agentCallHarness(async (tx, args) => {
    if (tx !== TX || sim.ended) return false;
    await sim.update(args);
    return true;
  });

  await sim.startInbound();
  const bridge = sim.timeline[0]!.actions[0]!;
  xTraceparent = (bridge.Parameters!['SipHeaders'] as Json)['X-Traceparent'];
  // The SIP participant as LiveKit presents it (headers mapped to attributes).
  await agent.talk(
    {
      'sma.transactionId': TX,
      'sma.applicationId': 'sma-test',
      'sma.region': 'us-east-1',
      'call.useCase': 'city-311',
      'trace.traceparent': xTraceparent,
      'sma.callToken': sim.callToken!,
      'sip.phoneNumber': CALLER,
      'sip.trunkPhoneNumber': DIALED,
    },
    'can I talk to a person please',
  );
  await sim.remoteHangup('LEG-A');
  await agent.end();
  await sma.otel.telemetry.flush();
  smaSpans = sma.spans.exporter.getFinishedSpans();
  agentSpans = agent.spans.getFinishedSpans();
});

afterAll(async () => {
  await agent?.dispose();
  await sma?.otel.telemetry.shutdown();
});

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

describe('one trace per call', () => {
  it('transfers the caller: the call went to the queue and ended', () => {
    expect(sim.ended).toBe(true);
    expect(sim.timeline.map((s) => s.type)).toContain('CALL_UPDATE_REQUESTED');
    expect(agent.api.requests.map((r) => r.status)).toEqual([202]);
  });

  it('sends the agent X-Traceparent: the call trace id, the root span id', () => {
    expect(parseTraceparent(xTraceparent)).toEqual({
      traceId: callTraceId(TX),
      spanId: callRootSpanId(TX),
      sampled: true,
    });
  });

  it('puts every handler span and every agent span in the call trace', () => {
    expect(smaSpans.length).toBeGreaterThan(5);
    expect(agentSpans.length).toBeGreaterThan(3);
    const traces = new Set([...smaSpans, ...agentSpans].map((s) => s.spanContext().traceId));
    expect([...traces]).toEqual([callTraceId(TX)]);
  });

  it('writes the call root span with the id the agent was given, from answer to hang-up', () => {
    const [root] = named(smaSpans, 'call');
    expect(root).toBeDefined();
    expect(root!.spanContext().spanId).toBe(callRootSpanId(TX));
    expect(root!.parentSpanContext).toBeUndefined();
    expect(root!.attributes).toMatchObject({
      'callbridge.disposition': 'transferred',
      'callbridge.use_case': 'city-311',
    });
    const invocations = smaSpans.filter((s) => s.name.startsWith('sma '));
    expect(invocations.map((s) => s.name)).toEqual(sim.timeline.map((s) => `sma ${s.type}`));
    for (const s of invocations) expect(s.parentSpanContext?.spanId).toBe(callRootSpanId(TX));
  });

  it("parents the framework's session span to X-Traceparent", () => {
    const [session] = named(agentSpans, 'agent_session');
    expect(session, agentSpans.map((s) => s.name).join(', ')).toBeDefined();
    expect(session!.parentSpanContext?.spanId).toBe(callRootSpanId(TX));
    // The framework's job_entrypoint span would start a trace of its own: it is not recorded.
    expect(named(agentSpans, 'job_entrypoint')).toEqual([]);
  });

  it("sends the agent's transfer decision span as `traceparent`, inside the session's spans", () => {
    const [decision] = named(agentSpans, 'agent.transfer_decision');
    expect(decision).toBeDefined();
    const sent = (agent.api.requests[0]!.body as Json).Arguments;
    expect(sent.traceparent).toBe(formatTraceparent(decision!.spanContext()));
    expect(decision!.attributes).toMatchObject({
      'callbridge.transfer.queue': 'general',
      'callbridge.transfer.reason': 'caller_asked',
      'callbridge.call_update.attempts': 1,
    });
    // Its ancestors lead through the framework's spans to the call's root span.
    const byId = new Map(agentSpans.map((s) => [s.spanContext().spanId, s]));
    const chain: string[] = [];
    let parent = decision!.parentSpanContext?.spanId;
    while (parent && byId.has(parent)) {
      chain.push(byId.get(parent)!.name);
      parent = byId.get(parent)!.parentSpanContext?.spanId;
    }
    expect(chain).toContain('agent_session');
    expect(parent).toBe(callRootSpanId(TX));
  });

  it("links every handler transfer span to the agent's decision", () => {
    const [decision] = named(agentSpans, 'agent.transfer_decision');
    const transfers = named(smaSpans, 'sma.transfer');
    expect(transfers.map((s) => s.attributes['callbridge.transfer.step'])).toEqual([
      'requested',
      'bridging',
      'completed',
    ]);
    expect(transfers.at(-1)!.attributes['callbridge.transfer.outcome']).toBe('connected');
    for (const t of transfers) {
      expect(t.links.map((l) => l.context.spanId)).toEqual([decision!.spanContext().spanId]);
      expect(t.links[0]!.context.traceId).toBe(callTraceId(TX));
    }
  });
});
