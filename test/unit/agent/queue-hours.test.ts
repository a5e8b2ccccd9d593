// Hours of operation overrides (holidays, special days): Connect's effective hours read through the
// real AWS SDK client from the lab's Connect stand-in, the poller serving them (the last read, else
// the weekly hours, else unknown), "open now" in the hours' time zone across midnight and DST, and
// the poller's request pace with the new call.
import { describe, expect, it } from 'vitest';
import { QueueSourceError } from '../../../agent/queue-status/connect-queues.js';
import {
  isOpenByEffective,
  openAt,
  type EffectiveHours,
  type HoursOfOperation,
} from '../../../agent/queue-status/hours.js';
import { adviceSentence, adviseTransfer } from '../../../agent/queue-status/status.js';
import type { LabHoursOverride } from '../../../lab/connect/hours-of-operation.js';
import { connectStandIn, fakeQueuePoller, pollerOnClock } from '../../helpers/connect.js';

const INSTANCE = 'aaaaaaaa-0311-4000-8000-000000000001';
const GENERAL = 'bbbbbbbb-0311-4000-8000-000000000140';
const REF = { instanceId: INSTANCE, queueId: GENERAL };

const CHRISTMAS: LabHoursOverride = {
  Name: 'Christmas Day – staff party, do not tell callers',
  Description: 'admin free text',
  EffectiveFrom: '2026-12-25',
  EffectiveTill: '2026-12-25',
  OverrideType: 'CLOSED',
  Config: [],
};
const CHRISTMAS_EVE: LabHoursOverride = {
  Name: 'Christmas Eve',
  EffectiveFrom: '2026-12-24',
  EffectiveTill: '2026-12-24',
  Config: [
    { Day: 'THURSDAY', StartTime: { Hours: 8, Minutes: 0 }, EndTime: { Hours: 12, Minutes: 0 } },
  ],
};

const lab = connectStandIn(
  { instanceId: INSTANCE, queueIds: [GENERAL], ratePerSecond: 100 },
  { timeoutMs: 500 },
);

describe('GetEffectiveHoursOfOperations (the SDK against the stand-in)', () => {
  it('reads a holiday override as a closed date, and the days around it as the weekly hours', async () => {
    lab.connect.setQueue(GENERAL, { overrides: [CHRISTMAS] });
    const hoursId = await lab.source.hoursIdOf(INSTANCE, GENERAL);
    const eff = await lab.source.effectiveHours(INSTANCE, hoursId, '2026-12-23', '2026-12-26');
    expect(eff.TimeZone).toBe('America/New_York');
    expect(eff.days['2026-12-25']).toEqual([]);
    expect(eff.days['2026-12-24']).toHaveLength(1);
    // 10:00 in New York on Christmas Day: closed; the day before and after: open.
    expect(isOpenByEffective(eff, Date.parse('2026-12-25T15:00:00Z'))).toBe(false);
    expect(isOpenByEffective(eff, Date.parse('2026-12-24T15:00:00Z'))).toBe(true);
    expect(isOpenByEffective(eff, Date.parse('2026-12-26T15:00:00Z'))).toBe(true);
    expect(lab.connect.requests.map((r) => r.operation)).toEqual([
      'DescribeQueue',
      'GetEffectiveHoursOfOperations',
    ]);
  });

  it('keeps no override name or description (admin free text is never said)', async () => {
    lab.connect.setQueue(GENERAL, { overrides: [CHRISTMAS, CHRISTMAS_EVE] });
    const eff = await lab.source.effectiveHours(
      INSTANCE,
      `hours-${GENERAL}`,
      '2026-12-20',
      '2026-12-31',
    );
    const kept = JSON.stringify(eff);
    expect(kept).not.toContain('Christmas');
    expect(kept).not.toContain('free text');
  });

  it('reads shorter hours: open or closed by the time in the hours’ zone', async () => {
    lab.connect.setQueue(GENERAL, { overrides: [CHRISTMAS_EVE] });
    const eff = await lab.source.effectiveHours(
      INSTANCE,
      `hours-${GENERAL}`,
      '2026-12-22',
      '2026-12-24',
    );
    expect(eff.days['2026-12-24']).toEqual([
      { Start: { Hours: 8, Minutes: 0 }, End: { Hours: 12, Minutes: 0 } },
    ]);
    const at = (iso: string) => isOpenByEffective(eff, Date.parse(iso));
    expect(at('2026-12-24T12:59:00Z')).toBe(false); // 07:59 in New York
    expect(at('2026-12-24T13:00:00Z')).toBe(true); // 08:00
    expect(at('2026-12-24T16:59:00Z')).toBe(true); // 11:59
    expect(at('2026-12-24T17:00:00Z')).toBe(false); // 12:00
    expect(at('2026-12-23T22:00:00Z')).toBe(true); // the day before: the weekly hours (all day)
  });

  it('closes today with closedToday, in the hours’ time zone', async () => {
    lab.connect.setQueue(GENERAL, { closedToday: true, timeZone: 'Pacific/Auckland' });
    const day = 86_400_000;
    const from = new Date(Date.now() - 2 * day).toISOString().slice(0, 10);
    const to = new Date(Date.now() + 2 * day).toISOString().slice(0, 10);
    const eff = await lab.source.effectiveHours(INSTANCE, `hours-${GENERAL}`, from, to);
    expect(eff.TimeZone).toBe('Pacific/Auckland');
    expect(isOpenByEffective(eff, Date.now())).toBe(false);
    expect(Object.values(eff.days).filter((d) => d.length === 0)).toHaveLength(1);
  });

  it('fails a read as Connect fails it (the poller then keeps what it had)', async () => {
    lab.connect.failNext(1, 500, 'GetEffectiveHoursOfOperations');
    const err = await lab.source
      .effectiveHours(INSTANCE, `hours-${GENERAL}`, '2026-12-24', '2026-12-26')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'QueueSourceError', throttled: false });
    lab.connect.failNext(1, 429, 'GetEffectiveHoursOfOperations');
    const throttled = await lab.source
      .effectiveHours(INSTANCE, `hours-${GENERAL}`, '2026-12-24', '2026-12-26')
      .catch((e: unknown) => e);
    expect((throttled as QueueSourceError).throttled).toBe(true);
  });

  it('answers a malformed range with InvalidParameterException', async () => {
    const err = await lab.source
      .effectiveHours(INSTANCE, `hours-${GENERAL}`, '2026-12-26', '2026-12-24')
      .catch((e: unknown) => e);
    expect((err as QueueSourceError).message).toContain('InvalidParameterException');
  });
});

/** Waits (without asserting on time) until `done`, the stand-in answering over real HTTP. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('the poller with the effective hours (real SDK, stand-in, the poller’s clock)', () => {
  /**
   * The queue's status once its hours are read: the stand-in counts a request when it arrives,
   * before the poller has its answer, so waiting on the count alone can read the status too soon.
   */
  async function hoursKnown(poller: ReturnType<typeof pollerAt>['poller']) {
    for (let i = 0; i < 1000; i++) {
      const status = await poller.status(REF);
      if (status?.open !== undefined) return status;
      await new Promise((r) => setTimeout(r, 10));
    }
    return poller.status(REF);
  }

  /** A poller whose clock starts at `at` and moves when it paces its requests. */
  function pollerAt(at: string) {
    const clock = { now: Date.parse(at) };
    const poller = pollerOnClock(clock, {
      source: lab.source,
      maxRequestsPerSecond: 5,
      hoursRefreshMs: 300_000,
    });
    return { clock, poller };
  }
  const answered = (op: string) => lab.connect.requests.filter((r) => r.operation === op).length;

  it('a holiday override closes the queue: the caller hears the closed sentence', async () => {
    lab.connect.setQueue(GENERAL, { overrides: [CHRISTMAS] });
    const { poller } = pollerAt('2026-12-25T15:00:00Z');
    await poller.status(REF, 2000);
    const status = await hoursKnown(poller);
    poller.stop();
    expect(status?.open).toBe(false);
    const advice = adviseTransfer(status);
    expect(advice).toEqual({ kind: 'closed' });
    const sentence = adviceSentence({ kind: 'closed' }, 'the 311 team', {
      callback: true,
      message: false,
    });
    expect(sentence).toBe(
      'The 311 team is closed right now. Would you like to have someone call you back?',
    );
    expect(sentence).not.toContain('Christmas');
  });

  it('the effective read failing: the weekly hours serve (an override cannot be known)', async () => {
    lab.connect.setQueue(GENERAL, { overrides: [CHRISTMAS] });
    lab.connect.failNext(100, 500, 'GetEffectiveHoursOfOperations');
    const { poller } = pollerAt('2026-12-25T15:00:00Z');
    await poller.status(REF, 2000);
    expect((await hoursKnown(poller))?.open).toBe(true);
    poller.stop();
  });

  it('both hours reads failing: open is unknown and the caller is transferred as before', async () => {
    lab.connect.setQueue(GENERAL, { agentsAvailable: 1, overrides: [CHRISTMAS] });
    const { poller } = pollerAt('2026-12-25T15:00:00Z');
    // Every request after the figures fails: DescribeQueue, so no hours at all.
    lab.connect.failNext(100, 500, 'DescribeQueue');
    await poller.status(REF, 2000);
    await until(() => answered('DescribeQueue') === 1);
    const status = await poller.status(REF);
    poller.stop();
    expect(status?.open).toBeUndefined();
    expect(adviseTransfer(status)).toEqual({ kind: 'transfer', why: 'available' });
  });

  it('a later read failing: the last effective hours read still serve', async () => {
    lab.connect.setQueue(GENERAL, { overrides: [CHRISTMAS] });
    const { poller, clock } = pollerAt('2026-12-25T15:00:00Z');
    await poller.status(REF, 2000);
    await until(() => answered('DescribeHoursOfOperation') === 1);
    expect((await poller.status(REF))?.open).toBe(false);
    // Five minutes on, the override is gone from Connect but cannot be read again.
    lab.connect.setQueue(GENERAL, { overrides: [] });
    lab.connect.failNext(100, 500, 'GetEffectiveHoursOfOperations');
    clock.now += 301_000;
    await poller.status(REF, 2000);
    await until(() => answered('DescribeHoursOfOperation') === 2);
    expect(answered('GetEffectiveHoursOfOperations')).toBe(2);
    expect((await poller.status(REF))?.open).toBe(false);
    poller.stop();
  });

  it('shorter hours: the same day is open in the morning, closed in the afternoon', async () => {
    lab.connect.setQueue(GENERAL, { overrides: [CHRISTMAS_EVE] });
    const { poller, clock } = pollerAt('2026-12-24T14:00:00Z'); // 09:00 in New York
    await poller.status(REF, 2000);
    await until(() => answered('DescribeHoursOfOperation') === 1);
    expect((await poller.status(REF))?.open).toBe(true);
    clock.now = Date.parse('2026-12-24T18:00:00Z'); // 13:00: figures stale, hours still cached
    await poller.status(REF, 2000);
    expect((await poller.status(REF))?.open).toBe(false);
    expect(answered('GetEffectiveHoursOfOperations')).toBe(1);
    poller.stop();
  });
});

describe('open now in the hours’ time zone', () => {
  const allDay = { Start: { Hours: 0, Minutes: 0 }, End: { Hours: 0, Minutes: 0 } };
  const nineToFive = { Start: { Hours: 9, Minutes: 0 }, End: { Hours: 17, Minutes: 0 } };

  it('takes the date in the hours’ zone, not UTC’s', () => {
    const eff: EffectiveHours = {
      TimeZone: 'America/New_York',
      fromDate: '2026-12-22',
      toDate: '2026-12-26',
      days: { '2026-12-23': [allDay], '2026-12-24': [] },
    };
    // 2026-12-24 03:00 UTC is still the 23rd (22:00) in New York: open.
    expect(isOpenByEffective(eff, Date.parse('2026-12-24T03:00:00Z'))).toBe(true);
    // 05:00 UTC is midnight of the 24th in New York: the holiday has begun.
    expect(isOpenByEffective(eff, Date.parse('2026-12-24T05:00:00Z'))).toBe(false);
    // Tokyo is ahead: the 24th begins there at 15:00 UTC on the 23rd.
    const tokyo = { ...eff, TimeZone: 'Asia/Tokyo' };
    expect(isOpenByEffective(tokyo, Date.parse('2026-12-23T14:59:00Z'))).toBe(true);
    expect(isOpenByEffective(tokyo, Date.parse('2026-12-23T15:00:00Z'))).toBe(false);
  });

  it('keeps a night shift running past midnight into a closed date', () => {
    const eff: EffectiveHours = {
      TimeZone: 'Europe/Berlin',
      fromDate: '2026-12-30',
      toDate: '2027-01-02',
      days: {
        '2026-12-31': [{ Start: { Hours: 22, Minutes: 0 }, End: { Hours: 2, Minutes: 0 } }],
        '2027-01-01': [],
      },
    };
    // Berlin is UTC+1 in winter: 01:59 on New Year's Day is 00:59 UTC.
    expect(isOpenByEffective(eff, Date.parse('2027-01-01T00:59:00Z'))).toBe(true);
    expect(isOpenByEffective(eff, Date.parse('2027-01-01T01:00:00Z'))).toBe(false);
    expect(isOpenByEffective(eff, Date.parse('2026-12-31T20:59:00Z'))).toBe(false); // 21:59
  });

  it('reads wall-clock hours across the spring and autumn DST changes', () => {
    const eff: EffectiveHours = {
      TimeZone: 'America/New_York',
      fromDate: '2026-03-06',
      toDate: '2026-11-02',
      days: {
        '2026-03-07': [nineToFive], // Saturday, EST (UTC-5)
        '2026-03-09': [nineToFive], // Monday, EDT (UTC-4) after 8 March
        '2026-10-31': [{ Start: { Hours: 22, Minutes: 0 }, End: { Hours: 6, Minutes: 0 } }],
        '2026-11-01': [], // the clocks go back at 02:00
      },
    };
    const at = (iso: string) => isOpenByEffective(eff, Date.parse(iso));
    expect(at('2026-03-07T13:59:00Z')).toBe(false); // 08:59 EST
    expect(at('2026-03-07T14:00:00Z')).toBe(true); // 09:00 EST
    expect(at('2026-03-09T12:59:00Z')).toBe(false); // 08:59 EDT
    expect(at('2026-03-09T13:00:00Z')).toBe(true); // 09:00 EDT
    expect(at('2026-03-09T20:59:00Z')).toBe(true); // 16:59 EDT
    expect(at('2026-03-09T21:00:00Z')).toBe(false); // 17:00 EDT
    // The night of 31 October runs to 06:00 local on 1 November, an hour longer in UTC.
    expect(at('2026-11-01T10:59:00Z')).toBe(true); // 05:59 EST
    expect(at('2026-11-01T11:00:00Z')).toBe(false); // 06:00 EST
  });

  it('leaves dates it does not cover, and an unknown zone, to the weekly hours', () => {
    const eff: EffectiveHours = {
      TimeZone: 'America/New_York',
      fromDate: '2026-12-24',
      toDate: '2026-12-25',
      days: { '2026-12-24': [], '2026-12-25': [] },
    };
    const weekly: HoursOfOperation = {
      TimeZone: 'America/New_York',
      Config: ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'].map(
        (Day) => ({
          Day: Day as 'MONDAY',
          StartTime: { Hours: 0, Minutes: 0 },
          EndTime: { Hours: 0, Minutes: 0 },
        }),
      ),
    };
    const christmas = Date.parse('2026-12-25T15:00:00Z');
    const later = Date.parse('2026-12-28T15:00:00Z');
    // The 24th has no day before it in the range: yesterday's shift is unknown.
    expect(isOpenByEffective(eff, Date.parse('2026-12-24T15:00:00Z'))).toBeUndefined();
    expect(openAt(christmas, eff, weekly)).toBe(false);
    expect(openAt(later, eff, weekly)).toBe(true);
    expect(openAt(later, eff, undefined)).toBeUndefined();
    expect(openAt(christmas, { ...eff, TimeZone: 'Not/A_Zone' }, weekly)).toBe(true);
    expect(openAt(christmas, undefined, undefined)).toBeUndefined();
  });
});

describe('the poller’s pace with the effective hours', () => {
  it('reads them once per refresh period, every request within the per-second budget', async () => {
    const { clock, src, poller } = fakeQueuePoller(
      Date.parse('2026-12-06T12:00:00Z'),
      { agentsAvailable: 1, contactsInQueue: 0, oldestContactAgeS: 0 },
      { maxRequestsPerSecond: 1, freshMs: 5000, hoursRefreshMs: 300_000 },
    );
    // Ten simulated minutes of a call asking every 6 s (each ask needs fresh figures).
    const start = clock.now;
    while (clock.now - start < 600_000) {
      await poller.status(REF, 1000);
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      clock.now += 6000;
    }
    poller.stop();
    const count = (op: string) => src.calls.filter((c) => c.op === op).length;
    expect(count('effective')).toBe(2); // at the start and five minutes on
    expect(count('hours')).toBe(2);
    expect(count('hoursId')).toBe(1);
    expect(count('figures')).toBeGreaterThan(80);
    const times = src.calls.map((c) => c.at);
    for (let i = 1; i < times.length; i++)
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000);
  });
});
