// A local stand-in for the Amazon Connect API calls callbridge makes, answering over Connect's
// documented REST/JSON protocol, so the real AWS SDK client (pointed here by
// AWS_ENDPOINT_URL_CONNECT) makes real HTTP requests:
//   POST /metrics/current/{InstanceId}                          GetCurrentMetricData
//   GET  /queues/{InstanceId}/{QueueId}                         DescribeQueue
//   GET  /hours-of-operations/{InstanceId}/{HoursOfOperationId} DescribeHoursOfOperation
//   GET  /effective-hours-of-operations/{InstanceId}/{HoursOfOperationId}?fromDate=&toDate=
//                                                               GetEffectiveHoursOfOperations
//   PUT  /contact/outbound-voice                                StartOutboundVoiceContact
// Each queue's figures and hours are set per scenario (agents available or not, N contacts waiting,
// closed, an override such as a holiday closing today); its hours of operation are
// ./hours-of-operation.ts's. Errors are Connect's: 429 ThrottlingException past the rate
// (GetCurrentMetricData's default quota is 5 requests/s), 404 ResourceNotFoundException for an unknown instance or queue,
// 400 InvalidParameterException for a malformed request, and forced faults (500
// InternalServiceException, 429, or a slow answer) for the tests.
// https://docs.aws.amazon.com/connect/latest/APIReference/API_GetCurrentMetricData.html
// https://docs.aws.amazon.com/connect/latest/APIReference/API_StartOutboundVoiceContact.html
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { E164_PATTERN } from '../../contracts/ids.js';
import { createServer, jsonBody, listenOnLoopback, Traffic } from '../cloud/stand-in-http.js';
import {
  describeHours,
  effectiveHours,
  todayIn,
  type QueueHours,
  type TimeSlice,
} from './hours-of-operation.js';

/** One queue as a scenario sets it: its figures, and its hours ({@link QueueHours}). */
export interface LabQueue extends QueueHours {
  agentsAvailable: number;
  contactsInQueue: number;
  oldestContactAgeS: number;
  /** Connect's ESTIMATED_WAIT_TIME; unset: the instance offers none. */
  estimatedWaitS?: number;
}

/** A queue with someone free: what a queue is until a scenario says otherwise. */
export const AVAILABLE_QUEUE: LabQueue = {
  agentsAvailable: 2,
  contactsInQueue: 0,
  oldestContactAgeS: 0,
  open: true,
};

/** A callback the stand-in queued (StartOutboundVoiceContact). */
export interface LabCallback {
  contactId: string;
  instanceId: string;
  contactFlowId: string;
  queueId: string | undefined;
  destination: string;
  source: string | undefined;
  attributes: Record<string, string>;
  /** performance.now() when it was accepted. */
  at: number;
}

export type ConnectOperation =
  | 'GetCurrentMetricData'
  | 'DescribeQueue'
  | 'DescribeHoursOfOperation'
  | 'GetEffectiveHoursOfOperations'
  | 'StartOutboundVoiceContact';

/** A request as the lab's timeline tells it. */
export interface ConnectRequestNote {
  operation: ConnectOperation | 'unknown';
  status: number;
  /** What was answered, in a few words (the queues' figures, the callback's contact). */
  summary: string;
  /** The path's second id (the queue's or the hours'), where it has one. */
  resource?: string;
}

export interface ConnectApiServer {
  endpoint: string;
  /** The instance the stand-in knows (any other is ResourceNotFoundException). */
  instanceId: string;
  /** Requests answered, in order. */
  requests: { operation: ConnectOperation | 'unknown'; status: number; at: number }[];
  callbacks: LabCallback[];
  /** Sets a queue's figures and hours (a queue never set reads as {@link AVAILABLE_QUEUE}). */
  setQueue(queueId: string, queue: Partial<LabQueue>): void;
  /** Every queue back to {@link AVAILABLE_QUEUE}. */
  resetQueues(): void;
  /** Answers the next `n` requests (of `operation` only, if given) with `status` (429, 500). */
  failNext(n: number, status: 429 | 500, operation?: ConnectOperation): void;
  /** Every answer waits this long first (0: none): a slow Connect. */
  delayMs: number;
  /** Calls `fn` with each request as it is answered (the lab's timeline); returns the unsubscribe. */
  onRequest(fn: (r: ConnectRequestNote) => void): () => void;
  stop(): Promise<void>;
}

const ERRORS = {
  400: 'InvalidParameterException',
  404: 'ResourceNotFoundException',
  429: 'ThrottlingException',
  500: 'InternalServiceException',
} as const;

function send(res: ServerResponse, status: number, body: unknown): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (status in ERRORS) headers['x-amzn-errortype'] = ERRORS[status as keyof typeof ERRORS];
  res.writeHead(status, headers).end(JSON.stringify(body));
}

const fail = (res: ServerResponse, status: keyof typeof ERRORS, message: string) =>
  send(res, status, { Message: message });

const ROUTES: [string, RegExp, ConnectOperation][] = [
  ['POST', /^\/metrics\/current\/([^/]+)$/, 'GetCurrentMetricData'],
  ['GET', /^\/queues\/([^/]+)\/([^/]+)$/, 'DescribeQueue'],
  ['GET', /^\/hours-of-operations\/([^/]+)\/([^/]+)$/, 'DescribeHoursOfOperation'],
  ['GET', /^\/effective-hours-of-operations\/([^/]+)\/([^/]+)$/, 'GetEffectiveHoursOfOperations'],
  ['PUT', /^\/contact\/outbound-voice$/, 'StartOutboundVoiceContact'],
];

export async function startConnectApiServer(opts: {
  instanceId: string;
  /** The queues the instance has (any other is ResourceNotFoundException). */
  queueIds: string[];
  /** GetCurrentMetricData requests per second before 429 (default 5). */
  ratePerSecond?: number;
}): Promise<ConnectApiServer> {
  const queues = new Map<string, LabQueue>(opts.queueIds.map((id) => [id, AVAILABLE_QUEUE]));
  let forced: { n: number; status: 429 | 500; operation?: ConnectOperation } = {
    n: 0,
    status: 500,
  };
  const window = { start: 0, count: 0 };
  const overRate = () => {
    const now = Date.now();
    if (now - window.start >= 1000) [window.start, window.count] = [now, 0];
    window.count += 1;
    return window.count > (opts.ratePerSecond ?? 5);
  };
  const listeners = new Set<(r: ConnectRequestNote) => void>();
  const api: ConnectApiServer = {
    endpoint: '',
    instanceId: opts.instanceId,
    requests: [],
    callbacks: [],
    setQueue: (id, q) => void queues.set(id, { ...(queues.get(id) ?? AVAILABLE_QUEUE), ...q }),
    resetQueues: () => {
      for (const id of queues.keys()) queues.set(id, AVAILABLE_QUEUE);
    },
    failNext: (n, status, operation) => void (forced = { n, status, operation }),
    delayMs: 0,
    onRequest: (fn) => {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    stop: async () => {},
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://connect.lab');
    const path = decodeURIComponent(url.pathname);
    const route = ROUTES.find(([m, re]) => m === req.method && re.test(path));
    const operation = route?.[2] ?? 'unknown';
    const answer = (status: number, body: unknown) => {
      api.requests.push({ operation, status, at: performance.now() });
      send(res, status, body);
      const resource = route?.[1].exec(path)?.[2];
      const summary = summarise(operation, status, body, resource);
      for (const fn of listeners) fn({ operation, status, summary, resource });
    };
    if (api.delayMs > 0) await new Promise((r) => setTimeout(r, api.delayMs));
    if (!route) return answer(404, { Message: 'Unknown operation' });
    if (forced.n > 0 && (forced.operation === undefined || forced.operation === operation)) {
      forced.n -= 1;
      return answer(forced.status, {
        Message: forced.status === 429 ? 'Rate exceeded' : 'Failure',
      });
    }
    const m = route[1].exec(path)!;
    const body = await jsonBody(req);
    if (body instanceof Error) return answer(400, { Message: 'Malformed JSON body' });
    const out = operate(operation as ConnectOperation, m, body, url.searchParams);
    return answer(out.status, out.body);
  };

  const operate = (
    op: ConnectOperation,
    m: RegExpExecArray,
    body: unknown,
    query: URLSearchParams,
  ): { status: number; body: unknown } => {
    const b = (body ?? {}) as Record<string, unknown>;
    const instance = op === 'StartOutboundVoiceContact' ? String(b['InstanceId']) : m[1];
    if (instance !== opts.instanceId)
      return { status: 404, body: { Message: 'Instance not found' } };
    if (op === 'GetCurrentMetricData') {
      if (overRate()) return { status: 429, body: { Message: 'Rate exceeded' } };
      return metricData(b, queues);
    }
    if (op === 'DescribeQueue') {
      if (!queues.has(m[2]!)) return { status: 404, body: { Message: 'Queue not found' } };
      return {
        status: 200,
        body: {
          Queue: {
            QueueId: m[2],
            Name: m[2],
            HoursOfOperationId: `hours-${m[2]}`,
            Status: 'ENABLED',
          },
        },
      };
    }
    if (op === 'DescribeHoursOfOperation') {
      const q = queues.get(m[2]!.replace(/^hours-/, ''));
      if (!q) return { status: 404, body: { Message: 'Hours of operation not found' } };
      return { status: 200, body: describeHours(m[2]!, q) };
    }
    if (op === 'GetEffectiveHoursOfOperations') {
      const q = queues.get(m[2]!.replace(/^hours-/, ''));
      if (!q) return { status: 404, body: { Message: 'Hours of operation not found' } };
      return effectiveHours(q, query.get('fromDate'), query.get('toDate'));
    }
    return outboundVoice(b);
  };

  const outboundVoice = (b: Record<string, unknown>): { status: number; body: unknown } => {
    const destination = String(b['DestinationPhoneNumber'] ?? '');
    const flow = b['ContactFlowId'];
    const attrs = (b['Attributes'] ?? {}) as Record<string, unknown>;
    if (!E164_PATTERN.test(destination) || typeof flow !== 'string' || !flow)
      return {
        status: 400,
        body: { Message: 'DestinationPhoneNumber and ContactFlowId required' },
      };
    if (Object.values(attrs).some((v) => typeof v !== 'string'))
      return { status: 400, body: { Message: 'Attributes must be strings' } };
    const queueId = typeof b['QueueId'] === 'string' ? b['QueueId'] : undefined;
    if (queueId !== undefined && !queues.has(queueId))
      return { status: 404, body: { Message: 'Queue not found' } };
    const contactId = randomUUID();
    api.callbacks.push({
      contactId,
      instanceId: opts.instanceId,
      contactFlowId: flow,
      queueId,
      destination,
      source: typeof b['SourcePhoneNumber'] === 'string' ? b['SourcePhoneNumber'] : undefined,
      attributes: attrs as Record<string, string>,
      at: performance.now(),
    });
    return { status: 200, body: { ContactId: contactId } };
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => fail(res, 500, 'Internal error'));
  });
  const standIn = await listenOnLoopback(server, new Traffic());
  api.endpoint = standIn.url;
  api.stop = standIn.stop;
  return api;
}

/** GetCurrentMetricData, grouped by queue (and channel), as Connect answers it. */
function metricData(
  b: Record<string, unknown>,
  queues: Map<string, LabQueue>,
): { status: number; body: unknown } {
  const filters = (b['Filters'] ?? {}) as { Queues?: unknown; Channels?: unknown };
  const wanted = filters.Queues;
  const metrics = b['CurrentMetrics'];
  const groupings = Array.isArray(b['Groupings']) ? (b['Groupings'] as string[]) : [];
  if (!Array.isArray(wanted) || wanted.length === 0 || wanted.length > 100)
    return { status: 400, body: { Message: 'Filters.Queues must list 1-100 queues' } };
  if (!Array.isArray(metrics) || metrics.length === 0)
    return { status: 400, body: { Message: 'CurrentMetrics is required' } };
  const names = metrics.map((x) => String((x as { Name?: unknown }).Name));
  if (
    names.includes('ESTIMATED_WAIT_TIME') &&
    !(
      groupings.includes('QUEUE') &&
      groupings.includes('CHANNEL') &&
      Array.isArray(filters.Channels)
    )
  )
    return {
      status: 400,
      body: {
        Message:
          'ESTIMATED_WAIT_TIME needs Queues and Channels filters, grouped by QUEUE and CHANNEL',
      },
    };
  const results = [];
  for (const id of wanted as string[]) {
    const q = queues.get(id);
    if (!q) continue;
    const value: Record<string, number | undefined> = {
      AGENTS_AVAILABLE: q.agentsAvailable,
      CONTACTS_IN_QUEUE: q.contactsInQueue,
      OLDEST_CONTACT_AGE: q.oldestContactAgeS,
      ESTIMATED_WAIT_TIME: q.estimatedWaitS,
    };
    const collections = names
      .filter((n) => value[n] !== undefined || n !== 'ESTIMATED_WAIT_TIME')
      .map((n) => ({
        Metric: {
          Name: n,
          Unit: n === 'OLDEST_CONTACT_AGE' || n === 'ESTIMATED_WAIT_TIME' ? 'SECONDS' : 'COUNT',
        },
        Value: value[n] ?? 0,
      }));
    results.push({
      Dimensions: {
        Queue: { Id: id, Arn: `arn:aws:connect:us-east-1:000000000000:instance/lab/queue/${id}` },
        ...(groupings.includes('CHANNEL') ? { Channel: 'VOICE' } : {}),
      },
      Collections: collections,
    });
  }
  return {
    status: 200,
    body: {
      MetricResults: results,
      DataSnapshotTime: Math.floor(Date.now() / 1000),
      ApproximateTotalCount: results.length,
    },
  };
}

/** The answer in a few words: each queue's figures, the hours, the callback's contact. */
function summarise(
  operation: string,
  status: number,
  body: unknown,
  /** The path's second id (the queue's or the hours'), where it has one. */
  resource: string | undefined,
): string {
  if (status !== 200) return (body as { Message?: string }).Message ?? '';
  const b = body as Record<string, unknown>;
  if (operation === 'GetCurrentMetricData') {
    const results = (b['MetricResults'] ?? []) as {
      Dimensions: { Queue: { Id: string } };
      Collections: { Metric: { Name: string }; Value: number }[];
    }[];
    return results
      .map((r) => {
        const v = (n: string) => r.Collections.find((c) => c.Metric.Name === n)?.Value ?? 0;
        return (
          `queue …${r.Dimensions.Queue.Id.slice(-4)}: ${v('AGENTS_AVAILABLE')} available, ` +
          `${v('CONTACTS_IN_QUEUE')} waiting, oldest ${v('OLDEST_CONTACT_AGE')} s`
        );
      })
      .join('; ');
  }
  if (operation === 'DescribeHoursOfOperation') {
    const h = b['HoursOfOperation'] as { Config: unknown[] };
    return h.Config.length === 0 ? 'closed all week' : 'open all week';
  }
  if (operation === 'GetEffectiveHoursOfOperations') {
    const days = b['EffectiveHoursOfOperationList'] as {
      Date: string;
      OperationalHours: { Start: TimeSlice; End: TimeSlice }[];
    }[];
    const overridden = new Set(
      (b['EffectiveOverrideHoursList'] as { Date: string }[]).map((d) => d.Date),
    );
    const today = todayIn(String(b['TimeZone']));
    const t = days.find((d) => d.Date === today);
    const hhmm = (x: TimeSlice) =>
      `${String(x.Hours).padStart(2, '0')}:${String(x.Minutes).padStart(2, '0')}`;
    const hours = !t
      ? 'not in range'
      : t.OperationalHours.length === 0
        ? 'closed'
        : t.OperationalHours.map((h) => `${hhmm(h.Start)}-${hhmm(h.End)}`).join(', ');
    // Not the overrides' names: admin free text stays out of the timeline too.
    const id = (resource ?? '').replace(/^hours-/, '');
    return `hours …${id.slice(-4)}: today ${hours}${overridden.has(today) ? ' (override)' : ''}`;
  }
  if (operation === 'StartOutboundVoiceContact') return `contact ${String(b['ContactId'])}`;
  return '';
}
