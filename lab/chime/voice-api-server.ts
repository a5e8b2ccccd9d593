// A local stand-in for the Chime SDK Voice API calls callbridge makes, answering as AWS documents
// them, so the real AWS SDK client (pointed here by AWS_ENDPOINT_URL_CHIME_SDK_VOICE) makes real
// HTTP requests:
//   POST /sip-media-applications/{id}/calls/{transactionId}  UpdateSipMediaApplicationCall
//   POST /sip-media-applications/{id}/calls                  CreateSipMediaApplicationCall
// 202 with {"SipMediaApplicationCall":{"TransactionId"}} on acceptance; 404 NotFoundException for
// a call that is not in progress; 429 ThrottledClientException past the rate limit (AWS's default
// quota is 5 requests/s per region for UpdateSipMediaApplicationCall); 400 BadRequestException
// for a malformed body.
// https://docs.aws.amazon.com/chime-sdk/latest/APIReference/API_voice-chime_UpdateSipMediaApplicationCall.html
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface VoiceApiHandlers {
  /** An update for a call; return false when the call is not in progress (404). */
  onUpdate(
    smaId: string,
    transactionId: string,
    args: Record<string, string>,
  ): boolean | Promise<boolean>;
  /** A new outbound call; return its TransactionId, or undefined to refuse it (400). */
  onCreate?(
    smaId: string,
    req: {
      FromPhoneNumber: string;
      ToPhoneNumber: string;
      SipHeaders?: Record<string, string>;
      ArgumentsMap?: Record<string, string>;
    },
  ): string | undefined | Promise<string | undefined>;
}

export interface VoiceApiServer {
  endpoint: string;
  /** Requests received, in order (for tests and the lab's timeline). */
  requests: {
    operation: 'update' | 'create';
    path: string;
    status: number;
    body: unknown;
    /** performance.now() when it was answered. */
    at: number;
  }[];
  /** Answer the next `n` requests with 429, whatever the rate (0 stops forcing it). */
  throttleNext(n: number): void;
  /**
   * Answer the next `n` requests with `status` as AWS does (429 throttling, 500 or 503 the
   * service failing), whatever the rate (0 stops forcing it): the fault benchmark's bursts.
   */
  failNext(n: number, status: ForcedStatus): void;
  stop(): Promise<void>;
}

/** The error answers a burst can force, with the error types AWS gives them. */
const FORCED_ERRORS = {
  429: ['ThrottledClientException', 'Rate exceeded'],
  500: ['ServiceFailureException', 'Internal failure'],
  503: ['ServiceUnavailableException', 'Service unavailable'],
} as const;
export type ForcedStatus = keyof typeof FORCED_ERRORS;

const UPDATE = /^\/sip-media-applications\/([^/]+)\/calls\/([^/]+)$/;
const CREATE = /^\/sip-media-applications\/([^/]+)\/calls$/;

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (errorType) headers['x-amzn-errortype'] = errorType;
  res.writeHead(status, headers).end(JSON.stringify(body));
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { Code: code, Message: message }, code);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

export async function startVoiceApiServer(
  handlers: VoiceApiHandlers,
  opts: { ratePerSecond?: number; port?: number } = {},
): Promise<VoiceApiServer> {
  const requests: VoiceApiServer['requests'] = [];
  const rate = opts.ratePerSecond ?? 5;
  let forced = { n: 0, status: 429 as ForcedStatus };
  let windowStart = 0;
  let inWindow = 0;

  /** The error this request gets regardless of what it asks: forced, or past the rate. */
  const refusal = (): ForcedStatus | undefined => {
    if (forced.n > 0) {
      forced.n -= 1;
      return forced.status;
    }
    const now = Date.now();
    if (now - windowStart >= 1000) [windowStart, inWindow] = [now, 0];
    inWindow += 1;
    return inWindow > rate ? 429 : undefined;
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0]!;
      const update = UPDATE.exec(path);
      const create = update ? null : CREATE.exec(path);
      const operation = update ? 'update' : 'create';
      let body: unknown;
      const record = (status: number) =>
        requests.push({ operation, path, status, body, at: performance.now() });
      if (req.method !== 'POST' || (!update && !create)) {
        record(404);
        return fail(res, 404, 'NotFoundException', 'Unknown operation');
      }
      try {
        body = await readJson(req);
      } catch {
        record(400);
        return fail(res, 400, 'BadRequestException', 'Malformed JSON body');
      }
      const refused = refusal();
      if (refused !== undefined) {
        record(refused);
        const [code, message] = FORCED_ERRORS[refused];
        return fail(res, refused, code, message);
      }
      if (update) {
        const args = (body as { Arguments?: unknown }).Arguments;
        if (args === null || typeof args !== 'object' || Object.keys(args).length > 20) {
          record(400);
          return fail(res, 400, 'BadRequestException', 'Arguments must be a map of 0-20 pairs');
        }
        const ok = await handlers.onUpdate(update[1]!, update[2]!, args as Record<string, string>);
        record(ok ? 202 : 404);
        if (!ok) return fail(res, 404, 'NotFoundException', 'Call not found');
        return send(res, 202, { SipMediaApplicationCall: { TransactionId: update[2] } });
      }
      const tx = await handlers.onCreate?.(create![1]!, body as never);
      record(tx ? 202 : 400);
      if (!tx) return fail(res, 400, 'BadRequestException', 'Call could not be created');
      return send(res, 202, { SipMediaApplicationCall: { TransactionId: tx ?? randomUUID() } });
    })().catch(() => fail(res, 500, 'ServiceFailureException', 'Internal error'));
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    throttleNext(n) {
      forced = { n, status: 429 };
    },
    failNext(n, status) {
      forced = { n, status };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
