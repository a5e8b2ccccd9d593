// The fault matrix as text: one line of figures per fault with the targets beside them (marked,
// not asserted), what was injected and undone under it, and each caller the fault dropped or
// affected.
import { NEAR_FAULT_MS, SILENT_MS, describeGap } from './silence-watch.js';
import type { RowResult } from './row.js';

const mark = (ok: boolean) => (ok ? '✓' : '✗');
const secs = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);
const num = (n: number | null | undefined) => (n === null || n === undefined ? '—' : String(n));

const COLUMNS: [string, number][] = [
  ['fault', 46],
  ['calls', 5],
  ['affected', 8],
  ['silence', 8],
  ['near fault', 10],
  ['>5 s', 5],
  ['agent', 5],
  ['person', 6],
  ['apology', 7],
  ['dropped', 8],
  ['left: rooms/parts/open/leases', 29],
];

const line = (cells: string[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i]![1]) : c.padStart(COLUMNS[i]![1]))).join('  ');

export function printLegend(say: (l?: string) => void, calls: number, scenario: string): void {
  say(
    `each row: ${calls} calls of ${scenario}, the fault injected once every caller has heard the`,
  );
  say('agent; affected: callers whose conversation did not go as scripted; silence: the longest');
  say("gap from the fault on between audible frames at the caller's ear (less the caller's own");
  say('talking), up to the end of the call or the person; near fault: the longest such gap that');
  say(`began within ${NEAR_FAULT_MS / 1000} s of the fault (the fault's own; later ones are the`);
  say("conversation's; — for a fault that acts at the calls' next event); agent/person/apology/");
  say('dropped: where each caller ended up; left: call rooms, participants, open call records,');
  say('leases.');
  say(
    `targets (not asserted): 0 callers silent > ${SILENT_MS / 1000} s, 0 dropped without a ` +
      'person or an apology, 0 left behind.',
  );
}

export function printHeader(say: (l?: string) => void): void {
  say();
  say(line(COLUMNS.map(([name]) => name)));
}

export function printRow(say: (l?: string) => void, r: RowResult): void {
  if (r.status === 'not injected' || !r.endedUp || !r.leftBehind) {
    say(line([r.fault, String(r.calls), 'not injected', '', '', '', '', '', '', '', '']));
  } else {
    const l = r.leftBehind;
    const left = l.rooms + l.participants + l.openCalls + l.leases;
    say(
      line([
        r.fault,
        String(r.calls),
        num(r.affected),
        secs(r.longestSilenceMs),
        secs(r.faultSilenceMs),
        `${num(r.silentOverTarget)} ${mark(r.silentOverTarget === 0)}`,
        String(r.endedUp.agent),
        String(r.endedUp.person),
        String(r.endedUp.apology),
        `${r.endedUp.dropped} ${mark(r.endedUp.dropped === 0)}`,
        `${l.rooms}/${l.participants}/${l.openCalls}/${l.leases} ${mark(left === 0)}`,
      ]),
    );
  }
  for (const n of r.notes) say(`    · ${n}`);
  const notable = (x: RowResult['callers'][number]) =>
    x.endedUp === 'dropped' || x.affected || x.silenceMs > SILENT_MS;
  for (const c of r.callers.filter(notable)) {
    const where = c.endedUp === 'dropped' ? 'dropped' : `with the ${c.endedUp}`;
    const heard = Object.entries(c.firstHeardMs).map(([v, ms]) => `${v} +${secs(ms)}`);
    const silence = c.silence ? describeGap(c.silence) : secs(c.silenceMs);
    say(
      `    call ${c.tx.slice(0, 8)}: ${where}; heard after the fault: ${heard.join(', ') || 'nobody'}`,
    );
    say(`      longest silence ${silence}`);
    if (
      r.faultSilenceMs !== null &&
      c.faultSilence &&
      c.faultSilence.startMs !== c.silence?.startMs
    )
      say(`      near the fault ${describeGap(c.faultSilence)}`);
    if (c.detail) say(`      ${c.detail}`);
  }
}

/** The targets over every row that was measured. */
export function printTotals(say: (l?: string) => void, rows: RowResult[]): void {
  const measured = rows.filter((r) => r.status === 'measured');
  const sum = (f: (r: RowResult) => number) => measured.reduce((a, r) => a + f(r), 0);
  const silent = sum((r) => r.silentOverTarget ?? 0);
  const dropped = sum((r) => r.endedUp?.dropped ?? 0);
  const left = sum((r) => {
    const l = r.leftBehind;
    return l ? l.rooms + l.participants + l.openCalls + l.leases : 0;
  });
  const skipped = rows.filter((r) => r.status !== 'measured').map((r) => r.id);
  say();
  say(`over ${measured.length} faults measured (${sum((r) => r.calls)} calls):`);
  say(`  ${mark(silent === 0)} ${silent} callers silent > ${SILENT_MS / 1000} s (target 0)`);
  say(
    `  ${mark(dropped === 0)} ${dropped} callers dropped without a person or an apology (target 0)`,
  );
  say(`  ${mark(left === 0)} ${left} rooms, participants, open records and leases left (target 0)`);
  if (skipped.length) say(`  not injected: ${skipped.join(', ')}`);
}
