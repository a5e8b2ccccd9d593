// The SMA's Lambda entry point (lambdas/sma/index.ts) configured as in production to export over
// OTLP: a local OTLP/HTTP receiver (loopback, started and stopped here) must already hold the
// invocation's metrics and spans when the handler answers, because a Lambda environment is frozen
// right after it answers and exports nothing until the next invocation.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEVELOPMENT_CALLER_KEY_SECRET,
  DEVELOPMENT_CALL_TOKEN_SECRET,
} from '../../lab/chime/local-sma-env.js';
import type { SmaHandler } from '../../lambdas/sma/handler.js';
import { callRootSpanId, callTraceId } from '../../otel/traceparent.js';
import { fixture } from '../helpers/sma.js';
import { freePort } from '../helpers/otel.js';

interface Received {
  path: string;
  contentType: string | undefined;
  body: Buffer;
}

let receiver: Server;
const received: Received[] = [];
let handler: SmaHandler;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks),
      });
      // An empty Export*ServiceResponse: full success.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const { port } = receiver.address() as AddressInfo;
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    CALLS_TABLE: 'callbridge-calls-otel',
    VOICE_CONNECTOR_ARN: 'arn:aws:chime:us-east-1:111122223333:vc/abcdefghij0123456789',
    CALL_TOKEN_SECRET: DEVELOPMENT_CALL_TOKEN_SECRET,
    CALLER_KEY_SECRET: DEVELOPMENT_CALLER_KEY_SECRET,
    // The fixtures' SMA application and account: the handler serves only these.
    SMA_APPLICATION_ID: 'a1b2c3d4-0000-4000-8000-000000000001',
    AWS_ACCOUNT_ID: '111122223333',
    // Nothing listens there: the journal fails fast and is counted, as with DynamoDB down.
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${await freePort()}`,
    JOURNAL_TIMEOUT_MS: '200',
    LOG_LEVEL: 'silent',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    DEPLOYMENT_ENVIRONMENT: 'it',
  });
  ({ handler } = await import('../../lambdas/sma/index.js'));
});

afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise<void>((r) => receiver.close(() => r()));
});

const hex = (id: string) => Buffer.from(id, 'hex');

describe('SMA Lambda telemetry over OTLP', () => {
  it('has exported the invocation metrics and spans by the time it answers', async () => {
    const event = fixture('new-inbound-call');
    const tx = event.CallDetails.TransactionId as string;
    const response = await handler(event);
    expect(response.Actions.map((a) => a.Type)).toEqual(['CallAndBridge']);

    const metrics = received.filter((r) => r.path === '/v1/metrics');
    const traces = received.filter((r) => r.path === '/v1/traces');
    expect(metrics.length).toBeGreaterThan(0);
    expect(traces.length).toBeGreaterThan(0);
    for (const r of [...metrics, ...traces]) expect(r.contentType).toBe('application/x-protobuf');

    const m = Buffer.concat(metrics.map((r) => r.body));
    for (const name of ['voice.calls.active', 'sma.invocation.duration', 'sma.journal.failures']) {
      expect(m.includes(name), name).toBe(true);
    }
    for (const attr of ['callbridge-sma', 'service.version', 'deployment.environment.name', 'it']) {
      expect(m.includes(attr), attr).toBe(true);
    }
    // The invocation span: in the call's trace, a child of the call's root span.
    const t = Buffer.concat(traces.map((r) => r.body));
    expect(t.includes('sma NEW_INBOUND_CALL')).toBe(true);
    expect(t.includes(hex(callTraceId(tx)))).toBe(true);
    expect(t.includes(hex(callRootSpanId(tx)))).toBe(true);
  });

  it('exports again after every invocation', async () => {
    const count = (path: string) => received.filter((r) => r.path === path).length;
    const [metrics, traces] = [count('/v1/metrics'), count('/v1/traces')];
    await handler(fixture('hangup-leg-a'));
    expect(count('/v1/metrics')).toBe(metrics + 1);
    expect(count('/v1/traces')).toBe(traces + 1);
  });
});
