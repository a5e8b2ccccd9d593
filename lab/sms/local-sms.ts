// A local stand-in for AWS End User Messaging SMS (the PinpointSMSVoiceV2 API), answering
// SendTextMessage as AWS documents it, so the real AWS SDK client (pointed here by
// AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2) makes real HTTP requests. AWS JSON 1.0 protocol:
//   POST /   X-Amz-Target: PinpointSMSVoiceV2.SendTextMessage
//            Content-Type: application/x-amz-json-1.0
//   200 {"MessageId": "..."}; 400 {"__type": "ValidationException", "message", "Reason"} for a
//   malformed request. Messages are kept in memory, in order, for the lab and the tests to read.
// https://docs.aws.amazon.com/pinpoint/latest/apireference_smsvoicev2/API_SendTextMessage.html
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';

export interface SmsMessage {
  messageId: string;
  to: string;
  from: string | undefined;
  body: string;
  messageType: string | undefined;
  /** Date.now() when it was accepted. */
  receivedAt: number;
}

export interface LocalSms {
  endpoint: string;
  /** Every accepted message, in order. */
  messages: SmsMessage[];
  /** The next message to `to` (one already received and not yet taken, or the next to arrive). */
  nextMessage(to: string, timeoutMs?: number): Promise<SmsMessage>;
  /** Calls `listener` with every message accepted from now on (the lab prints them). */
  onMessage(listener: (m: SmsMessage) => void): void;
  stop(): Promise<void>;
}

const TARGET_PREFIX = 'PinpointSMSVoiceV2.';
const JSON_1_0 = 'application/x-amz-json-1.0';

/** The request's fields the stand-in checks, with the service's documented constraints. */
const SendTextMessageRequest = z.object({
  DestinationPhoneNumber: z.string().regex(/^\+?[1-9][0-9]{1,18}$/),
  OriginationIdentity: z
    .string()
    .regex(/^[A-Za-z0-9_:/+.-]+$/)
    .min(1)
    .max(256)
    .optional(),
  MessageBody: z.string().min(1).max(1600).optional(),
  MessageType: z.enum(['TRANSACTIONAL', 'PROMOTIONAL']).optional(),
});

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': JSON_1_0 }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Messages in order, and callers waiting for the next one to a number. */
class Inbox {
  readonly messages: SmsMessage[] = [];
  readonly listeners: ((m: SmsMessage) => void)[] = [];
  private readonly taken = new Set<SmsMessage>();
  private readonly waiters: { to: string; resolve: (m: SmsMessage) => void }[] = [];

  deliver(m: SmsMessage): void {
    this.messages.push(m);
    for (const l of this.listeners) l(m);
    const i = this.waiters.findIndex((w) => w.to === m.to);
    if (i === -1) return;
    this.taken.add(m);
    this.waiters.splice(i, 1)[0]!.resolve(m);
  }

  next(to: string, timeoutMs: number): Promise<SmsMessage> {
    const waiting = this.messages.find((m) => m.to === to && !this.taken.has(m));
    if (waiting) {
      this.taken.add(waiting);
      return Promise.resolve(waiting);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        to,
        resolve: (m: SmsMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no SMS arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

export async function startLocalSms(opts: { port?: number } = {}): Promise<LocalSms> {
  const inbox = new Inbox();
  const server = createServer((req, res) => {
    void answer(req, res, (m) => inbox.deliver(m)).catch(() => {
      if (!res.headersSent) send(res, 500, { __type: 'InternalServerException', message: 'error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    messages: inbox.messages,
    nextMessage: (to, timeoutMs = 5000) => inbox.next(to, timeoutMs),
    onMessage: (listener) => void inbox.listeners.push(listener),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type SendTextMessageRequest = z.infer<typeof SendTextMessageRequest>;

/** The request as the API takes it, or the error the service answers it with. */
function readRequest(
  req: IncomingMessage,
  raw: string,
): { ok: true; request: SendTextMessageRequest } | { ok: false; status: number; error: object } {
  const target = String(req.headers['x-amz-target'] ?? '');
  const invalid = (message: string, Reason: string) => ({
    ok: false as const,
    status: 400,
    error: { __type: 'ValidationException', message, Reason },
  });
  if (req.method !== 'POST' || req.url !== '/' || !target.startsWith(TARGET_PREFIX)) {
    const error = { __type: 'UnknownOperationException', message: 'unknown operation' };
    return { ok: false, status: 404, error };
  }
  if (target !== `${TARGET_PREFIX}SendTextMessage`) {
    const operation = target.slice(TARGET_PREFIX.length);
    const error = {
      __type: 'UnknownOperationException',
      message: `the SMS stand-in does not implement ${operation}`,
    };
    return { ok: false, status: 400, error };
  }
  if (!String(req.headers['content-type'] ?? '').startsWith(JSON_1_0)) {
    return invalid(`Content-Type must be ${JSON_1_0}`, 'INVALID_REQUEST');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return invalid('the request body is not valid JSON', 'CANNOT_PARSE');
  }
  const parsed = SendTextMessageRequest.safeParse(body);
  if (parsed.success) return { ok: true, request: parsed.data };
  const fields = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
  return invalid(`invalid fields: ${fields}`, 'FIELD_VALIDATION_FAILED');
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  deliver: (m: SmsMessage) => void,
): Promise<void> {
  const read = readRequest(req, await readBody(req));
  if (!read.ok) return send(res, read.status, read.error);
  const r = read.request;
  const messageId = randomUUID();
  deliver({
    messageId,
    to: r.DestinationPhoneNumber,
    from: r.OriginationIdentity,
    body: r.MessageBody ?? '',
    messageType: r.MessageType,
    receivedAt: Date.now(),
  });
  send(res, 200, { MessageId: messageId });
}
