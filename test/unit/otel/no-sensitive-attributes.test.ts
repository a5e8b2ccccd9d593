// Attributes stay low-cardinality and free of personal data (docs/architecture.md, "Metrics"): no
// metric attribute value and no span attribute (of the handler's spans, the agent's decision span
// or the agents framework's spans) may look like a phone number, a call id (TransactionId, leg
// CallId) or a room name. The real code paths run with real-looking values: every fixture event
// shaped as Chime sends it, whole simulated calls with E.164 numbers and UUID TransactionIds, and
// an agent session in which the caller says their phone number.
import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_NAMES, fixture } from '../../helpers/sma.js';
import {
  CALLER,
  DIALED,
  agentCallHarness,
  failingJournal,
  runCalls,
  simulatedCall,
  smaHandler,
  smaTelemetryInMemory,
  throwingJournal,
  type AgentCallHarness,
} from '../../helpers/otel.js';
import {
  sensitive,
  sensitiveMetricAttributes,
  sensitiveSpanAttributes,
} from '../../helpers/sensitive.js';

const AGENT_DECISION = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('the detector', () => {
  it.each([
    ['+12065550100', 'phone number'],
    ['(206) 555-0100', 'phone number'],
    ['2065550100', 'phone number'],
    ['my number is 206 555 0100', 'phone number'],
    ['f3c6a0de-8d7e-4d1f-9c43-5d8b2f1e7a10', 'call id'],
    ['call_+12065550100_AbCd1234', 'phone number'],
    ['call_anonymous_AbCd1234', 'room name'],
    ['call_12065550100_AbCd1234', 'room name'],
    ['RM_xK3vQ9bL2mP7', 'room name'],
    ['SCL_aB3dE5fG7h', 'room name'],
    ['{"caller":{"number":"+12065550100"}}', 'phone number'],
    [['transfer', '+12065550100'], 'phone number'],
  ])('flags %j as a %s', (value, why) => {
    expect(sensitive(value)).toBe(why);
  });

  it.each([
    'city-311',
    '0.25',
    'caller_asked',
    'CALL_UPDATE_REQUESTED',
    'sma CALL_UPDATE_REQUESTED',
    'call',
    'call_6109b244',
    'speech_c8a8135a-637',
    'speech_5d035081-8bd',
    'speech_65793409-288',
    'written/written',
    '2026-11-21T19:39:31.063Z',
    '{"timestamp":1795289905969,"requestId":"a1368110-bd12-462c-948e-c1456780f6e6"}',
  ])('lets %j through', (value) => {
    expect(sensitive(value)).toBeUndefined();
  });

  it("lets a model's response id through only under its own key", () => {
    const id = '738d9f34-f379-41cb-aa4b-2bb16e340336';
    expect(sensitive(id, 'gen_ai.response.id')).toBeUndefined();
    expect(sensitive(id, 'callbridge.transfer.reason')).toBe('call id');
  });

  it('finds a phone number put into a span attribute', () => {
    const span = {
      name: 'sma HANGUP',
      attributes: { 'callbridge.caller': CALLER },
      events: [],
      links: [],
    } as unknown as ReadableSpan;
    expect(sensitiveSpanAttributes([span])).toEqual([
      `span sma HANGUP callbridge.caller=${CALLER} (phone number)`,
    ]);
  });
});

describe('SMA handler telemetry', () => {
  let metrics: MetricData[] = [];
  let spans: ReadableSpan[] = [];
  /** The MAC part of every call token the handler signed or was sent. */
  const macs: string[] = [];

  beforeAll(async () => {
    const { otel, metrics: m, spans: s } = await smaTelemetryInMemory();
    const handler = smaHandler(otel);
    // Every documented event shape, alone (no call state) and as the middle of a call.
    for (const name of FIXTURE_NAMES) await handler(fixture(name));
    const calls = await runCalls(handler, { agentTraceparent: AGENT_DECISION });
    await runCalls(smaHandler(otel, failingJournal), { idPrefix: '6c5b4a39' });
    await runCalls(smaHandler(otel, throwingJournal), { idPrefix: '1f2e3d4c' });
    // An outbound call (CreateSipMediaApplicationCall) to a customer's number.
    const out = simulatedCall(handler, 'c0ffee00-1234-4abc-8def-0123456789ab', {
      caller: DIALED,
      dialed: CALLER,
    });
    await out.startOutbound({ useCase: 'city-311' });
    await out.remoteHangup('LEG-A');
    const fixtureToken = fixture('call-update-requested-transfer').ActionData.Parameters.Arguments;
    for (const token of [...calls.map((c) => c.callToken), fixtureToken.token as string]) {
      if (token) macs.push(token.split('.')[2]!);
    }
    metrics = await m.collect();
    spans = s.exporter.getFinishedSpans();
    await otel.telemetry.shutdown();
  });

  it('records metrics and spans for all of it (the check below is not vacuous)', () => {
    const names = new Set(spans.map((s) => s.name));
    expect(names).toEqual(
      new Set([
        'call',
        'sma.transfer',
        ...FIXTURE_NAMES.map((f) => `sma ${fixture(f).InvocationEventType}`),
      ]),
    );
    expect(spans.some((s) => s.links.length > 0)).toBe(true);
    expect(metrics.map((m) => m.descriptor.name).sort()).toEqual([
      'sma.handler.errors',
      'sma.invocation.duration',
      'sma.journal.failures',
      'voice.call.duration',
      'voice.call.transfer_delay',
      'voice.call.transfer_hop',
      'voice.calls.active',
      'voice.calls.refused',
      'voice.sma.admission.unchecked',
      'voice.transfers',
    ]);
  });

  it('puts no call token in a span or a metric', () => {
    expect(macs.length).toBeGreaterThan(1);
    const text = JSON.stringify([
      spans.map((sp) => [sp.name, sp.attributes, sp.events]),
      metrics.map((m) => m.dataPoints.map((p) => p.attributes)),
    ]);
    for (const mac of macs) expect(text).not.toContain(mac);
  });

  it('puts no phone number, call id or room name in a metric attribute', () => {
    expect(sensitiveMetricAttributes(metrics)).toEqual([]);
  });

  it('puts no phone number, call id or room name in a span name or attribute', () => {
    expect(sensitiveSpanAttributes(spans)).toEqual([]);
  });
});

describe('agent telemetry (the framework and the decision span)', () => {
  const TX = '8b1e6f0a-2c3d-4e5f-8a9b-0c1d2e3f4a5b';
  let agent: AgentCallHarness;
  let spans: ReadableSpan[] = [];

  beforeAll(async () => {
    agent = await agentCallHarness(async () => true);
    const attrs = {
      'sma.transactionId': TX,
      'sma.applicationId': 'sma-test',
      'sma.region': 'us-east-1',
      'call.useCase': 'city-311',
      'trace.traceparent': `00-${TX.replace(/-/g, '')}-00f067aa0ba902b7-01`,
      'sip.phoneNumber': CALLER,
      'sip.trunkPhoneNumber': DIALED,
      'sip.callID': 'SCL_aB3dE5fG7h',
    };
    await agent.talk(attrs, 'how do I report a pothole my number is 206 555 0100');
    await agent.talk(attrs, 'can I talk to a person please, call me back at +1 206 555 0100');
    await agent.end();
    spans = agent.spans.getFinishedSpans();
  });

  afterAll(async () => {
    await agent?.dispose();
  });

  it("records the framework's spans and the decision span", () => {
    const names = spans.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'agent_session',
        'user_turn',
        'function_tool',
        'agent.transfer_decision',
      ]),
    );
  });

  it('puts no phone number, call id or room name in a span name or attribute', () => {
    expect(sensitiveSpanAttributes(spans)).toEqual([]);
  });
});
