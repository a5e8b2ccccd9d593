// The verification API on a loopback HTTP port, as a Lambda function URL serves it: each Node
// request becomes a payload format 2.0 event for the real handler, and its answer the response.
// The handler reaches DynamoDB (dynalite) and the SMS stand-in (lab/sms) through the SDK's
// standard endpoint variables, exactly as it would reach AWS.
// https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationStream } from 'pino';
import type { VerifyHandler } from '../../lambdas/verify/handler.js';
import { createVerifyService } from '../../lambdas/verify/service.js';
import { DEVELOPMENT_CALLER_KEY_SECRET } from '../chime/local-sma-env.js';
import { LOCAL_AWS_ENV } from '../stack/local-dynamodb.js';

/** The lab's caller-key secret: the lab SMA's, so it finds the numbers verified here. */
export { DEVELOPMENT_CALLER_KEY_SECRET };

export interface LocalVerificationOptions {
  dynamoEndpoint: string;
  table: string;
  smsEndpoint: string;
  callerKeySecret?: string;
  /** Loopback port; 0 or unset: any free one. */
  port?: number;
  /** More variables for lambdas/verify/config.ts (limits, service name, LOG_LEVEL). */
  env?: Record<string, string>;
  /** Where the handler's log lines go (default stderr). */
  logDestination?: DestinationStream;
  /** The handler's clock (default Date.now). */
  now?: () => number;
}

export interface LocalVerification {
  /** The page and the API: `${url}/`, `${url}/codes`, `${url}/codes/confirm`. */
  url: string;
  stop(): Promise<void>;
}

/** Larger bodies than a function URL would pass (6 MB) are not needed here. */
const MAX_BODY_BYTES = 64 * 1024;

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A Node request as the function URL's event. Header names in lower case, repeats joined by `,`. */
export function functionUrlEvent(req: IncomingMessage, body: string): Record<string, unknown> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: req.headers['user-agent'] ?? '',
      },
      timeEpoch: Date.now(),
    },
    ...(body === '' ? {} : { body }),
    isBase64Encoded: false,
  };
}

/** Serves `handler` as a function URL would, on a loopback port; resolves once listening. */
async function serveAsFunctionUrl(
  handler: VerifyHandler,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (body === undefined) {
        res.writeHead(413).end();
        return;
      }
      const answer = await handler(functionUrlEvent(req, body));
      res.writeHead(answer.statusCode, answer.headers).end(answer.body);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

export async function startLocalVerification(
  opts: LocalVerificationOptions,
): Promise<LocalVerification> {
  for (const [k, v] of Object.entries(LOCAL_AWS_ENV)) process.env[k] ??= v;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: opts.dynamoEndpoint,
    AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: opts.smsEndpoint,
  });
  const service = createVerifyService(
    {
      CALLS_TABLE: opts.table,
      CALLER_KEY_SECRET: opts.callerKeySecret ?? DEVELOPMENT_CALLER_KEY_SECRET,
      SMS_ORIGINATION_IDENTITY: '+15550100999',
      VERIFY_SERVICE_NAME: 'callbridge lab',
      LOG_PII: 'true',
      ...opts.env,
    },
    { destination: opts.logDestination, now: opts.now },
  );
  const { server, port } = await serveAsFunctionUrl(service.handler, opts.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      service.close();
    },
  };
}
