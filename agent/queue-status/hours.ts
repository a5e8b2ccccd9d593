// Whether a queue's hours of operation are open at an instant. Two readings of Connect's hours:
// - the effective hours (GetEffectiveHoursOfOperations): per date in a range, the open times with
//   the admin's overrides applied (a holiday closed, shorter hours on Christmas Eve), and the
//   hours' IANA time zone. They decide whenever they cover the date at hand;
// - the weekly hours (DescribeHoursOfOperation): per day of the week, a start and an end time,
//   used when the effective hours are not known.
// In both, an end at or before the start runs past midnight, and 00:00 to 00:00 is the whole day.
// Times are compared in the hours' time zone (Intl), so DST changes move nothing. Pure.
// https://docs.aws.amazon.com/connect/latest/APIReference/API_HoursOfOperationConfig.html
// https://docs.aws.amazon.com/connect/latest/APIReference/API_GetEffectiveHoursOfOperations.html
import * as z from 'zod';

const DAYS = [
  'SUNDAY',
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
] as const;

const time = z.object({
  Hours: z.number().int().min(0).max(24),
  Minutes: z.number().int().min(0).max(59),
});

export const HoursOfOperation = z.object({
  TimeZone: z.string().min(1),
  Config: z.array(z.object({ Day: z.enum(DAYS), StartTime: time, EndTime: time })),
});
export type HoursOfOperation = z.infer<typeof HoursOfOperation>;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const slice = z.object({ Start: time, End: time });

/**
 * The effective hours of a date range, as read (only what "open now" needs: the override's name
 * and status Connect also gives are admin free text and are not kept). A date of the range that
 * Connect lists without open times, or does not list, is closed all day.
 */
export const EffectiveHours = z.object({
  TimeZone: z.string().min(1),
  /** The range asked for (YYYY-MM-DD, inclusive, in the hours' time zone). */
  fromDate: z.string().regex(DATE),
  toDate: z.string().regex(DATE),
  /** Open times by date. */
  days: z.record(z.string().regex(DATE), z.array(slice)),
});
export type EffectiveHours = z.infer<typeof EffectiveHours>;

/** Day of the week (0 = Sunday), date (YYYY-MM-DD) and minute of the day at `at` in `timeZone`. */
export function localTime(
  at: number,
  timeZone: string,
): { day: number; date: string; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  return {
    day,
    date: `${get('year')}-${get('month')}-${get('day')}`,
    minute: Number(get('hour')) * 60 + Number(get('minute')),
  };
}

/** The calendar date `days` after `date` (YYYY-MM-DD). */
export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

const minuteOf = (t: { Hours: number; Minutes: number }) => t.Hours * 60 + t.Minutes;

/**
 * Open at minute `now` of a day, given its open times and the previous day's (whose times past
 * midnight run into it). An end at or before the start runs to the end on the next day.
 */
function openIn(
  today: { start: number; end: number }[],
  yesterday: { start: number; end: number }[],
  now: number,
): boolean {
  const inToday = today.some(({ start, end }) =>
    end > start ? now >= start && now < end : now >= start,
  );
  return inToday || yesterday.some(({ start, end }) => end <= start && now < end);
}

/**
 * Open at `at` by the effective hours; undefined when they do not cover the local date (or the day
 * before, whose times may run past midnight), or the time zone is unknown: the weekly hours decide.
 */
export function isOpenByEffective(hours: EffectiveHours, at: number): boolean | undefined {
  let now: { date: string; minute: number };
  try {
    now = localTime(at, hours.TimeZone);
  } catch {
    return undefined;
  }
  const yesterday = addDays(now.date, -1);
  if (yesterday < hours.fromDate || now.date > hours.toDate) return undefined;
  const times = (date: string) =>
    (hours.days[date] ?? []).map((s) => ({ start: minuteOf(s.Start), end: minuteOf(s.End) }));
  return openIn(times(now.date), times(yesterday), now.minute);
}

/**
 * Open at `at`: the effective hours where they cover the date, else the weekly hours, else
 * undefined (the caller is then transferred as without the check).
 */
export function openAt(
  at: number,
  effective: EffectiveHours | undefined,
  weekly: HoursOfOperation | undefined,
): boolean | undefined {
  const byEffective = effective && isOpenByEffective(effective, at);
  if (byEffective !== undefined) return byEffective;
  return weekly && isOpenAt(weekly, at);
}

/** Open at `at`? An unknown time zone reads as open: the caller is then transferred as before. */
export function isOpenAt(hours: HoursOfOperation, at: number): boolean {
  let now: { day: number; minute: number };
  try {
    now = localTime(at, hours.TimeZone);
  } catch {
    return true;
  }
  return hours.Config.some((c) => {
    const day = DAYS.indexOf(c.Day);
    const start = c.StartTime.Hours * 60 + c.StartTime.Minutes;
    const end = c.EndTime.Hours * 60 + c.EndTime.Minutes;
    if (end > start) return now.day === day && now.minute >= start && now.minute < end;
    // Past midnight (or the whole day when start equals end): from start on `day` to end the next.
    const next = (day + 1) % 7;
    return (now.day === day && now.minute >= start) || (now.day === next && now.minute < end);
  });
}
