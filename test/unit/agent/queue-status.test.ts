// The queue-status adapter through the real AWS SDK client against the lab's Connect stand-in
// (Connect's REST/JSON protocol over HTTP), the poller's pacing and caching on a fake source, the
// hours of operation and the advice the agent follows.
import { describe, expect, it } from 'vitest';
import { QueueSourceError } from '../../../agent/queue-status/connect-queues.js';
import { isOpenAt, type HoursOfOperation } from '../../../agent/queue-status/hours.js';
import type { QueueStatusPoller } from '../../../agent/queue-status/poller.js';
import { queueStatusClient, serveQueueStatus } from '../../../agent/queue-status/relay.js';
import {
  adviceSentence,
  adviseTransfer,
  waitWords,
  type QueueStatus,
} from '../../../agent/queue-status/status.js';
import { connectStandIn, fakeQueuePoller } from '../../helpers/connect.js';

const INSTANCE = 'aaaaaaaa-0311-4000-8000-000000000001';
const GENERAL = 'bbbbbbbb-0311-4000-8000-000000000140';
const SANITATION = 'bbbbbbbb-0311-4000-8000-000000000150';

const lab = connectStandIn(
  { instanceId: INSTANCE, queueIds: [GENERAL, SANITATION], ratePerSecond: 100 },
  { timeoutMs: 300 },
);

describe('ConnectQueueSource (the SDK against the stand-in)', () => {
  it('reads each queue of the instance in one GetCurrentMetricData request', async () => {
    lab.connect.setQueue(GENERAL, {
      agentsAvailable: 0,
      contactsInQueue: 4,
      oldestContactAgeS: 200,
    });
    lab.connect.setQueue(SANITATION, { estimatedWaitS: 95 });
    const figures = await lab.source.figures(INSTANCE, [GENERAL, SANITATION]);
    expect(figures.get(GENERAL)).toEqual({
      agentsAvailable: 0,
      contactsInQueue: 4,
      oldestContactAgeS: 200,
    });
    expect(figures.get(SANITATION)).toEqual({
      agentsAvailable: 2,
      contactsInQueue: 0,
      oldestContactAgeS: 0,
      estimatedWaitS: 95,
    });
    expect(lab.connect.requests.map((r) => r.operation)).toEqual(['GetCurrentMetricData']);
  });

  it('reads a queue’s hours through DescribeQueue and DescribeHoursOfOperation', async () => {
    lab.connect.setQueue(GENERAL, { open: false });
    const hoursId = await lab.source.hoursIdOf(INSTANCE, GENERAL);
    const hours = await lab.source.hours(INSTANCE, hoursId);
    expect(hours.Config).toEqual([]);
    expect(isOpenAt(hours, Date.now())).toBe(false);
  });

  it('says a throttled answer is throttling', async () => {
    lab.connect.failNext(1, 429);
    const err = await lab.source.figures(INSTANCE, [GENERAL]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueSourceError);
    expect((err as QueueSourceError).throttled).toBe(true);
  });

  it('fails a server error as not throttled', async () => {
    lab.connect.failNext(1, 500);
    const err = await lab.source.figures(INSTANCE, [GENERAL]).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'QueueSourceError', throttled: false });
  });

  it('gives up on a slow Connect at its deadline', async () => {
    lab.connect.delayMs = 2000;
    const err = await lab.source.figures(INSTANCE, [GENERAL]).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'QueueSourceError', throttled: false });
  });

  it('fails an unknown instance (ResourceNotFoundException)', async () => {
    const err = await lab.source.figures('not-an-instance', [GENERAL]).catch((e: unknown) => e);
    expect((err as QueueSourceError).message).toContain('ResourceNotFoundException');
  });
});

const fakePoller = (opts: { rate?: number } = {}) =>
  fakeQueuePoller(
    1_000_000,
    { agentsAvailable: 0, contactsInQueue: 3, oldestContactAgeS: 240 },
    { maxRequestsPerSecond: opts.rate ?? 2, freshMs: 5000 },
  );

const REF = { instanceId: INSTANCE, queueId: GENERAL };

/** Asks, then lets a refresh started in the background finish (the fake source answers at once). */
async function askAndSettle(poller: QueueStatusPoller) {
  const status = await poller.status(REF, 1000);
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return status;
}

describe('QueueStatusPoller', () => {
  it('asks Connect once for many calls asking at once, and serves the rest from memory', async () => {
    const { src, poller } = fakePoller();
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        poller.status(i % 2 ? REF : { ...REF, queueId: SANITATION }, 1000),
      ),
    );
    poller.stop();
    expect(statuses.every((s) => s?.contactsInQueue === 3)).toBe(true);
    expect(src.calls.filter((c) => c.op === 'figures')).toHaveLength(1);
  });

  it('spaces its requests 1/rate apart, whatever the calls ask', async () => {
    const { src, poller, clock } = fakePoller({ rate: 2 });
    for (let i = 0; i < 10; i++) {
      await askAndSettle(poller);
      clock.now += 6000; // stale again: each ask needs Connect
    }
    poller.stop();
    const times = src.calls.map((c) => c.at);
    for (let i = 1; i < times.length; i++)
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(500);
  });

  it('reads the hours once per refresh period, not with every figure', async () => {
    const { src, poller, clock } = fakePoller();
    for (let i = 0; i < 5; i++) {
      await askAndSettle(poller);
      clock.now += 6000;
    }
    poller.stop();
    expect(src.calls.filter((c) => c.op === 'hours')).toHaveLength(1);
    expect(src.calls.filter((c) => c.op === 'figures')).toHaveLength(5);
  });

  it('serves stale figures at once while Connect fails, then none past the stale limit', async () => {
    const { src, poller, clock } = fakePoller();
    expect(await askAndSettle(poller)).toMatchObject({ contactsInQueue: 3 });
    // The hours are read after the figures, in the background: known at the next ask.
    expect(await askAndSettle(poller)).toMatchObject({ contactsInQueue: 3, open: false });
    src.fail = 'error';
    clock.now += 30_000;
    expect(await askAndSettle(poller)).toMatchObject({ contactsInQueue: 3 });
    clock.now += 40_000;
    expect(await askAndSettle(poller)).toBeUndefined();
    poller.stop();
  });

  it('holds off after a throttled answer', async () => {
    const { src, poller, clock } = fakePoller({ rate: 5 });
    src.fail = 'throttle';
    await askAndSettle(poller);
    const throttledAt = clock.now;
    src.fail = undefined;
    await askAndSettle(poller); // no figures yet: asks again, after the back-off
    const next = src.calls.filter((c) => c.op === 'figures').at(-1)!;
    expect(next.at).toBeGreaterThanOrEqual(throttledAt + 2000);
    poller.stop();
  });
});

describe('queue status relay (worker main process ↔ job process)', () => {
  it('answers a job process from the main process’s poller', async () => {
    const env: Record<string, string | undefined> = {};
    const status: QueueStatus = {
      agentsAvailable: 1,
      contactsInQueue: 0,
      oldestContactAgeS: 0,
      open: true,
      readAt: 5,
    };
    const watched: unknown[] = [];
    const served = await serveQueueStatus(
      { watch: (r) => void watched.push(...r), status: () => Promise.resolve(status) },
      env,
    );
    const client = queueStatusClient(env)!;
    client.watch([REF]);
    expect(await client.status(REF, 200)).toEqual(status);
    expect(watched).toEqual([REF]);
    await served.close();
  });

  it('answers undefined when the main process does not answer in time', async () => {
    const env: Record<string, string | undefined> = {};
    const served = await serveQueueStatus(
      { watch: () => {}, status: () => new Promise(() => {}) },
      env,
    );
    expect(await queueStatusClient(env)!.status(REF, 50)).toBeUndefined();
    await served.close();
  });

  it('is absent outside a worker', () => {
    expect(queueStatusClient({})).toBeUndefined();
  });
});

describe('hours of operation', () => {
  const weekdays: HoursOfOperation = {
    TimeZone: 'America/New_York',
    Config: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'].map((Day) => ({
      Day: Day as 'MONDAY',
      StartTime: { Hours: 8, Minutes: 30 },
      EndTime: { Hours: 17, Minutes: 0 },
    })),
  };
  it.each([
    ['2026-12-07T13:30:00Z', true], // Monday 08:30 in New York
    ['2026-12-07T13:29:00Z', false],
    ['2026-12-07T22:00:00Z', false], // 17:00
    ['2026-12-06T15:00:00Z', false], // Sunday
  ])('at %s is open: %s', (at, open) => {
    expect(isOpenAt(weekdays, Date.parse(at))).toBe(open);
  });

  it('runs a night shift past midnight', () => {
    const night: HoursOfOperation = {
      TimeZone: 'UTC',
      Config: [
        { Day: 'MONDAY', StartTime: { Hours: 22, Minutes: 0 }, EndTime: { Hours: 6, Minutes: 0 } },
      ],
    };
    expect(isOpenAt(night, Date.parse('2026-12-08T05:59:00Z'))).toBe(true); // Tuesday 05:59
    expect(isOpenAt(night, Date.parse('2026-12-08T06:00:00Z'))).toBe(false);
  });
});

describe('transfer advice', () => {
  const base: QueueStatus = {
    agentsAvailable: 0,
    contactsInQueue: 0,
    oldestContactAgeS: 0,
    open: true,
    readAt: 0,
  };
  it.each([
    ['no status', undefined, { kind: 'transfer', why: 'unknown' }],
    ['someone free', { ...base, agentsAvailable: 1 }, { kind: 'transfer', why: 'available' }],
    [
      'a short wait',
      { ...base, contactsInQueue: 1, oldestContactAgeS: 30 },
      { kind: 'transfer', why: 'short_wait' },
    ],
    [
      'a long wait',
      { ...base, contactsInQueue: 3, oldestContactAgeS: 200 },
      { kind: 'wait', waitS: 200 },
    ],
    [
      'Connect’s estimate first',
      { ...base, contactsInQueue: 3, oldestContactAgeS: 200, estimatedWaitS: 400 },
      { kind: 'wait', waitS: 400 },
    ],
    ['everyone busy, nobody waiting', base, { kind: 'wait', waitS: undefined }],
    ['closed', { ...base, agentsAvailable: 3, open: false }, { kind: 'closed' }],
    [
      'hours unknown',
      { ...base, agentsAvailable: 1, open: undefined },
      { kind: 'transfer', why: 'available' },
    ],
  ] as const)('%s', (_what, status, advice) => {
    expect(adviseTransfer(status)).toEqual(advice);
  });

  it('says the wait in a sentence with the choices the use case offers', () => {
    expect(
      adviceSentence({ kind: 'wait', waitS: 230 }, '311 customer service team', {
        callback: true,
        message: false,
      }),
    ).toBe(
      'Someone from the 311 customer service team can take your call in about four minutes. ' +
        'Would you like to hold, or have someone call you back?',
    );
    expect(adviceSentence({ kind: 'closed' }, undefined, { callback: true, message: true })).toBe(
      'Our team is closed right now. Would you like to have someone call you back, or leave a message?',
    );
    expect(waitWords(30)).toBe('about one minute');
    expect(waitWords(60 * 45)).toBe('about forty-five minutes');
    expect(waitWords(4000)).toBe('over an hour');
  });
});
