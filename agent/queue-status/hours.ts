// Whether a queue's hours of operation are open at an instant, from Connect's DescribeHoursOfOperation
// answer: a time zone and, per day, a start and an end time in it (an end at or before the start runs
// past midnight; 00:00 to 00:00 is the whole day). Overrides (holidays) are not read yet. Pure.
// https://docs.aws.amazon.com/connect/latest/APIReference/API_HoursOfOperationConfig.html
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

/** Day of the week (0 = Sunday) and minute of the day at `at` in `timeZone`. */
export function localTime(at: number, timeZone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  return { day, minute: Number(get('hour')) * 60 + Number(get('minute')) };
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
