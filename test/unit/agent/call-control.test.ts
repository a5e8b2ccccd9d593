import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCallContext } from '../../../agent/call-context.js';
import { CallControlError, ChimeCallControl } from '../../../agent/call-control.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { formatTraceparent } from '../../../otel/traceparent.js';
import { USE_CASES_JSON, type Json } from '../../helpers/sma.js';
import { toCallUpdateArguments } from '../../../contracts/call-update.js';
import { startVoiceApiServer, type VoiceApiServer } from '../../../lab/chime/voice-api-server.js';

let api: VoiceApiServer;
const calls = new Set(['tx-live']);

beforeAll(async () => {
  api = await startVoiceApiServer({ onUpdate: (_s, tx) => calls.has(tx) }, { ratePerSecond: 1000 });
  process.env.AWS_ENDPOINT_URL_CHIME_SDK_VOICE = api.endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
});
afterAll(async () => {
  await api.stop();
});

const TOKEN = 'v1.1900000000.the-call-token-as-the-sma-signed-it';

function control(tx: string, budgetMs = 3000) {
  const slept: number[] = [];
  const c = new ChimeCallControl({
    client: ChimeCallControl.clientFor('us-east-1'),
    sipMediaApplicationId: 'sma-1',
    transactionId: tx,
    token: TOKEN,
    budgetMs,
    sleep: async (ms) => void slept.push(ms),
  });
  return { c, slept };
}

describe('ChimeCallControl', () => {
  it('sends the contract arguments as strings', () => {
    expect(
      toCallUpdateArguments({
        action: 'transfer',
        queue: 'general',
        reason: 'caller_asked',
        requestedAt: 42,
        token: TOKEN,
      }),
    ).toEqual({
      action: 'transfer',
      queue: 'general',
      reason: 'caller_asked',
      requestedAt: '42',
      token: TOKEN,
    });
  });

  it("sends the call's token with every update, to the call's SMA and transaction", async () => {
    api.requests.length = 0;
    const { c } = control('tx-live');
    await c.update({ action: 'hangup', reason: 'caller_done', requestedAt: 1 });
    await c.update({
      action: 'transfer',
      queue: 'general',
      reason: 'caller_asked',
      requestedAt: 2,
    });
    expect(api.requests.map((r) => r.path)).toEqual([
      '/sip-media-applications/sma-1/calls/tx-live',
      '/sip-media-applications/sma-1/calls/tx-live',
    ]);
    expect(api.requests.map((r) => (r.body as Json).Arguments.token)).toEqual([TOKEN, TOKEN]);
  });

  it('after a language switch: tells the SMA at once, then every update carries the language', async () => {
    api.requests.length = 0;
    const { c } = control('tx-live');
    await c.update({ action: 'hangup', reason: 'caller_done', requestedAt: 1 });
    await c.languageChanged('es-US');
    await c.update({
      action: 'transfer',
      queue: 'general',
      reason: 'caller_asked',
      requestedAt: 2,
    });
    await c.update({ action: 'voicemail', reason: 'caller_asked', requestedAt: 3 });
    const sent = api.requests.map((r) => (r.body as Json).Arguments);
    // Before the switch: no language, as a call that never switches.
    expect(sent[0]).not.toHaveProperty('language');
    expect(sent[1]).toEqual({
      action: 'language',
      language: 'es-US',
      requestedAt: expect.stringMatching(/^\d+$/),
      token: TOKEN,
    });
    expect(sent.slice(2).map((a) => [a.action, a.language, a.token])).toEqual([
      ['transfer', 'es-US', TOKEN],
      ['voicemail', 'es-US', TOKEN],
    ]);
  });

  it('a language update the SMA does not answer fails like any other, retried within the budget', async () => {
    api.requests.length = 0;
    api.throttleNext(1);
    const { c, slept } = control('tx-live');
    await c.languageChanged('es-US');
    expect(api.requests.map((r) => r.status)).toEqual([429, 202]);
    expect(slept).toEqual([150]);
    const gone = control('tx-gone').c;
    await expect(gone.languageChanged('es-US')).rejects.toMatchObject({
      name: 'CallControlError',
      retryable: false,
    });
  });

  it('retries throttling with growing backoff, then succeeds', async () => {
    api.requests.length = 0;
    api.throttleNext(3);
    const { c, slept } = control('tx-live');
    await c.update({ action: 'hangup', reason: 'caller_done', requestedAt: 1 });
    expect(api.requests.map((r) => r.status)).toEqual([429, 429, 429, 202]);
    expect(slept).toEqual([150, 300, 600]);
  });

  it('gives up when the budget is spent, saying the failure was retryable', async () => {
    api.throttleNext(100);
    const { c } = control('tx-live', 400);
    const err = await c
      .update({ action: 'hangup', reason: 'caller_done', requestedAt: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallControlError);
    expect((err as CallControlError).retryable).toBe(true);
    api.throttleNext(0);
  });

  it('does not retry a call that has ended (404)', async () => {
    api.requests.length = 0;
    const { c, slept } = control('tx-gone');
    const err = await c
      .update({ action: 'transfer', queue: 'general', reason: 'caller_asked', requestedAt: 1 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'CallControlError', retryable: false, attempts: 1 });
    expect(api.requests.map((r) => r.status)).toEqual([404]);
    expect(slept).toEqual([]);
  });
});

describe('ChimeCallControl in a traced call', () => {
  const spans = new InMemorySpanExporter();
  beforeAll(() => {
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(() => trace.disable());

  it("hangs a decision made outside the call's spans from the call's root, and sends the decision", async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const call = readCallContext(
      { 'trace.traceparent': traceparent },
      parseUseCases(USE_CASES_JSON),
    );
    api.requests.length = 0;
    const c = new ChimeCallControl({
      client: ChimeCallControl.clientFor('us-east-1'),
      sipMediaApplicationId: 'sma-1',
      transactionId: 'tx-live',
      token: TOKEN,
      traceContext: call.traceContext,
    });
    await c.update({ action: 'hangup', reason: 'caller_done', requestedAt: 1, traceparent });
    const [decision] = spans.getFinishedSpans();
    expect(decision!.name).toBe('agent.hangup_decision');
    expect(decision!.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(decision!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    const sent = (api.requests[0]!.body as Json).Arguments;
    expect(sent.traceparent).toBe(formatTraceparent(decision!.spanContext()));
  });
});
