// The hours of operation of the Connect stand-in's queues (./connect-api-server.ts): each queue
// has its own (`hours-<queue id>`), open all day every day or never, in its time zone, with its
// overrides. The effective hours of a date are the weekly hours unless an override covers the date
// (the first listed that does): CLOSED closes the whole date, STANDARD replaces the date's hours
// with the override's times for its weekday (none: closed), OPEN adds them.
// https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribeHoursOfOperation.html
// https://docs.aws.amazon.com/connect/latest/APIReference/API_GetEffectiveHoursOfOperations.html
// https://docs.aws.amazon.com/connect/latest/APIReference/API_HoursOfOperationOverride.html

/** A queue's hours as a scenario sets them. */
export interface QueueHours {
  /** Closed: the queue's hours of operation have no open time. */
  open: boolean;
  /** The hours' time zone (IANA; default America/New_York). */
  timeZone?: string;
  /** The hours' overrides (holidays, special days), as Connect describes them. */
  overrides?: LabHoursOverride[];
  /** A CLOSED override named "Holiday" for today's date in the hours' time zone. */
  closedToday?: boolean;
}

export interface TimeSlice {
  Hours: number;
  Minutes: number;
}

/** An hours of operation override, in Connect's shape (HoursOfOperationOverride). */
export interface LabHoursOverride {
  /** Admin free text: Connect returns it as OverrideName; the agent must never say it. */
  Name: string;
  Description?: string;
  /** YYYY-MM-DD, inclusive, in the hours' time zone. */
  EffectiveFrom: string;
  EffectiveTill: string;
  /** Default STANDARD. */
  OverrideType?: 'STANDARD' | 'OPEN' | 'CLOSED';
  Config: { Day: string; StartTime: TimeSlice; EndTime: TimeSlice }[];
}

const ALL_WEEK = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

const LAB_TIME_ZONE = 'America/New_York';
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** The longest range the stand-in computes (Connect documents none; a bound keeps it cheap). */
const MAX_RANGE_DAYS = 366;

const nextDate = (date: string) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** Today's date (YYYY-MM-DD) in `timeZone`. */
export function todayIn(timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(Date.now());
}

/** The queue's overrides, with `closedToday` as a CLOSED override for today. */
function overridesOf(q: QueueHours): LabHoursOverride[] {
  const today = todayIn(q.timeZone ?? LAB_TIME_ZONE);
  const holiday: LabHoursOverride[] = q.closedToday
    ? [
        {
          Name: 'Holiday',
          EffectiveFrom: today,
          EffectiveTill: today,
          OverrideType: 'CLOSED',
          Config: [],
        },
      ]
    : [];
  return [...holiday, ...(q.overrides ?? [])];
}

/** GetEffectiveHoursOfOperations: each date of the range, overrides applied. */
export function effectiveHours(
  q: QueueHours,
  from: string | null,
  to: string | null,
): { status: number; body: unknown } {
  if (!from || !to || !DATE.test(from) || !DATE.test(to) || from > to)
    return { status: 400, body: { Message: 'fromDate and toDate must be dates, in order' } };
  if ((Date.parse(to) - Date.parse(from)) / 86_400_000 >= MAX_RANGE_DAYS)
    return { status: 400, body: { Message: `at most ${MAX_RANGE_DAYS} days` } };
  const allDay = { Start: { Hours: 0, Minutes: 0 }, End: { Hours: 0, Minutes: 0 } };
  const overrides = overridesOf(q);
  const effective = [];
  const overridden = [];
  for (let date = from; date <= to; date = nextDate(date)) {
    const weekday = ALL_WEEK[new Date(`${date}T00:00:00Z`).getUTCDay()]!;
    const weekly = q.open ? [allDay] : [];
    const o = overrides.find((x) => x.EffectiveFrom <= date && date <= x.EffectiveTill);
    if (!o) {
      effective.push({ Date: date, OperationalHours: weekly });
      continue;
    }
    const type = o.OverrideType ?? 'STANDARD';
    const times = o.Config.filter((c) => c.Day === weekday).map((c) => ({
      Start: c.StartTime,
      End: c.EndTime,
    }));
    const hours = type === 'CLOSED' ? [] : type === 'OPEN' ? [...weekly, ...times] : times;
    effective.push({ Date: date, OperationalHours: hours });
    overridden.push({
      Date: date,
      OverrideHours:
        type === 'CLOSED' || times.length === 0
          ? [{ ...allDay, OverrideName: o.Name, OperationalStatus: 'CLOSED' }]
          : times.map((t) => ({ ...t, OverrideName: o.Name, OperationalStatus: 'OPEN' })),
    });
  }
  return {
    status: 200,
    body: {
      EffectiveHoursOfOperationList: effective,
      EffectiveOverrideHoursList: overridden,
      TimeZone: q.timeZone ?? LAB_TIME_ZONE,
    },
  };
}

/** DescribeHoursOfOperation's answer: open every day, all day (00:00 to 00:00), or never. */
export function describeHours(id: string, q: QueueHours): unknown {
  const day = (Day: string) => ({
    Day,
    StartTime: { Hours: 0, Minutes: 0 },
    EndTime: { Hours: 0, Minutes: 0 },
  });
  return {
    HoursOfOperation: {
      HoursOfOperationId: id,
      Name: id,
      TimeZone: q.timeZone ?? LAB_TIME_ZONE,
      Config: q.open ? ALL_WEEK.map(day) : [],
    },
  };
}
