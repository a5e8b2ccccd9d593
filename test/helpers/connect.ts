// Connect for the queue-status suites: the lab's stand-in, reached through the real AWS SDK client,
// and a queue source answering at once, with the poller on a clock the test moves.
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import {
  ConnectQueueSource,
  QueueSourceError,
  type ConnectQueueSourceOptions,
  type QueueFigures,
  type QueueSource,
} from '../../agent/queue-status/connect-queues.js';
import type { HoursOfOperation } from '../../agent/queue-status/hours.js';
import {
  QueueStatusPoller,
  type QueueStatusPollerOptions,
} from '../../agent/queue-status/poller.js';
import {
  startConnectApiServer,
  type ConnectApiServer,
} from '../../lab/connect/connect-api-server.js';

/**
 * The suite's Connect stand-in (started before its tests, every queue available and nothing
 * failing, slow or recorded again before each) and a queue source reading it.
 */
export function connectStandIn(
  opts: Parameters<typeof startConnectApiServer>[0],
  sourceOpts: Omit<ConnectQueueSourceOptions, 'client'> = {},
) {
  let server: ConnectApiServer | undefined;
  let source: ConnectQueueSource | undefined;
  beforeAll(async () => {
    server = await startConnectApiServer(opts);
    process.env.AWS_ENDPOINT_URL_CONNECT = server.endpoint;
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    source = new ConnectQueueSource({
      client: ConnectQueueSource.clientFor('us-east-1'),
      ...sourceOpts,
    });
  });
  afterAll(async () => {
    await server?.stop();
  });
  beforeEach(() => {
    if (!server) return;
    server.resetQueues();
    server.failNext(0, 500);
    server.delayMs = 0;
    server.requests.length = 0;
    server.callbacks.length = 0;
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the Connect stand-in starts before the suite’s tests');
    return v;
  };
  return {
    get connect(): ConnectApiServer {
      return started(server);
    },
    get source(): ConnectQueueSource {
      return started(source);
    },
  };
}

/**
 * A source answering every queue with `answer` at once (and hours open at no time, in UTC), noting
 * each request at the time of `clock`; `fail` makes the figures fail, throttled or not.
 */
export class RecordingQueueSource implements QueueSource {
  calls: { op: 'figures' | 'hoursId' | 'hours' | 'effective'; at: number }[] = [];
  fail: 'throttle' | 'error' | undefined;
  constructor(
    private readonly clock: { now: number },
    private readonly answer: QueueFigures,
  ) {}
  figures(_i: string, ids: string[]): Promise<Map<string, QueueFigures>> {
    this.calls.push({ op: 'figures', at: this.clock.now });
    if (this.fail) return Promise.reject(new QueueSourceError('x', this.fail === 'throttle'));
    return Promise.resolve(new Map(ids.map((id) => [id, this.answer])));
  }
  hoursIdOf(): Promise<string> {
    this.calls.push({ op: 'hoursId', at: this.clock.now });
    return Promise.resolve('h1');
  }
  hours(): Promise<HoursOfOperation> {
    this.calls.push({ op: 'hours', at: this.clock.now });
    return Promise.resolve({ TimeZone: 'UTC', Config: [] });
  }
  effectiveHours(_i: string, _h: string, fromDate: string, toDate: string) {
    this.calls.push({ op: 'effective', at: this.clock.now });
    return Promise.resolve({ TimeZone: 'UTC', fromDate, toDate, days: {} });
  }
}

/**
 * A poller telling the time by `clock`; sleeping moves the clock, so its pacing shows in the times
 * the source was asked at.
 */
export function pollerOnClock(clock: { now: number }, opts: QueueStatusPollerOptions) {
  return new QueueStatusPoller({
    logger: pino({ level: 'silent' }),
    ...opts,
    now: () => clock.now,
    sleep: (ms) => {
      clock.now += ms;
      return Promise.resolve();
    },
  });
}

/** A poller on a {@link RecordingQueueSource} answering `figures`, its clock starting at `start`. */
export function fakeQueuePoller(
  start: number,
  figures: QueueFigures,
  opts: Omit<QueueStatusPollerOptions, 'source'>,
) {
  const clock = { now: start };
  const src = new RecordingQueueSource(clock, figures);
  return { clock, src, poller: pollerOnClock(clock, { ...opts, source: src }) };
}
