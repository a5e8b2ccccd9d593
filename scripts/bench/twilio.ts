// The Twilio way in, measured on the lab (docs/twilio.md, docs/performance.md): `--calls` calls of
// a scenario through the Twilio stand-in and the gateway, in waves of `--concurrent` overlapping
// calls (default 1: one after another), the gateway running as `npm run twilio` in a process of its
// own. A wave's calls start `--stagger-ms` apart, so that their 20 ms frames do not arrive in
// lockstep. Per call (with several at a time: the wave's figure divided by its calls) and summarised:
//   - the gateway's CPU (user + sys, /proc/<pid>/stat, at the wave's start and end: the idle time
//     between waves is not counted);
//   - the CPU of the agent job processes that served the calls, from the moment before the wave
//     (loaded and waiting) to their exit: their parent's reaped-children CPU grows by the
//     processes' whole lives, less what they had spent loading before the wave;
//   - the ratio gateway / agent job (target ≤ 10%);
//   - livekit-sip's CPU over the call (the gateway's calls are SIP calls to it), not in the ratio;
//   - the gateway's own time per frame each way, from its `stream ended` log line (caller → its
//     RTP packet to livekit-sip: base64 and hand-over; agent → Twilio: from the agent's frame arriving to its
//     `media` message sent, pacing included) (target ≤ 40 ms p95);
//   - TTFA at the caller's ear (p50, p95).
// Before the calls, one untimed call warms the gateway up (its code loaded and compiled) and its
// idle CPU is read over 10 s (it refreshes the use cases every 5 s in the lab).
//
// Several at a time is how a gateway serves: its event loop then takes several calls' messages per
// wake-up, so the CPU per call falls; one call at a time is its worst case.
//
//   npm run bench:twilio [-- --calls 10 --concurrent 1 --stagger-ms 400 --scenario ask-then-transfer
//                           --warmup 1 --json --cpu-prof DIR]
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SCENARIO, loadScenario } from '../../lab/caller/scenario.js';
import type { CallResult } from '../../lab/caller/call-report.js';
import { startLab } from '../../lab/lab.js';
import { fmtMs, runCalls, spread } from '../../lab/lab-run.js';
import { ROOT } from '../../lab/stack/local-stack.js';
import { readThreads, type ThreadCpu } from './cpu/threads.js';
import { revision } from './revision.js';
import { commandLine, processGroup } from './soak/proc.js';
import {
  exitedChildrenCpuMs,
  logRecords,
  readProcCpu,
  streamFigures,
  type FrameSpread,
  type ProcCpu,
} from './twilio/proc-cpu.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npm run bench:twilio --', {
  calls: { type: 'string', default: '10' },
  concurrent: { type: 'string', default: '1' },
  'stagger-ms': { type: 'string', default: '400' },
  warmup: { type: 'string', default: '1' },
  scenario: { type: 'string', default: DEFAULT_SCENARIO },
  json: { type: 'boolean', default: false },
  'cpu-prof': { type: 'string' },
});
const calls = Number(values.calls);
const warmup = Number(values.warmup);
const concurrent = Number(values.concurrent);
const staggerMs = Number(values['stagger-ms']);
if (
  !Number.isInteger(calls) ||
  calls < 1 ||
  !Number.isInteger(warmup) ||
  warmup < 0 ||
  !Number.isInteger(concurrent) ||
  concurrent < 1 ||
  !(staggerMs >= 0)
) {
  process.stderr.write(
    '--calls and --concurrent must be whole numbers ≥ 1, --warmup ≥ 0 and --stagger-ms ≥ 0\n',
  );
  process.exit(2);
}
const scenario = loadScenario(values.scenario);
const say = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A call's figures; with several calls at a time, the CPU figures are its wave's per call. */
interface CallFigures {
  callSid: string;
  ok: boolean;
  /** The wave's length (its first call placed → its last job process gone). */
  wallMs: number;
  gatewayCpuMs: number;
  /** livekit-sip's over the call (its Twilio call: SIP, RTP, the room's WebRTC), not in the ratio. */
  sipCpuMs: number;
  agentJobCpuMs: number | null;
  /** gateway / agent job. */
  ratio: number | null;
  /** The worker's other processes (the framework's inference process) over the same call. */
  agentOtherCpuMs: number;
  ttfaMs: number | null;
  inMs: FrameSpread | null;
  outMs: FrameSpread | null;
  note?: string;
}

const logDir = join(ROOT, '.lab', 'logs', 'bench-twilio');
mkdirSync(logDir, { recursive: true });
const gatewayLogFile = join(logDir, 'twilio-gateway.log');
const lab = await startLab({
  logDir,
  // A wave's job processes loaded and waiting before it starts, as for one call at a time.
  maxCalls: Math.max(3, concurrent),
  idleProcesses: concurrent,
  twilio: true,
  twilioGateway: 'child',
  // The gateway's JavaScript profile, written when it exits at the end (`node --cpu-prof`).
  twilioGatewayNodeArgs: values['cpu-prof']
    ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`]
    : [],
});
let exitCode = 0;
try {
  const worker = lab.livekit.worker!;
  const gatewayPid = lab.twilio!.gatewayPid!;
  const how =
    concurrent === 1
      ? 'one after another'
      : `in waves of ${concurrent} at a time, started ${staggerMs} ms apart`;
  say(
    `callbridge Twilio benchmark: ${calls} calls of ${scenario.name}, ${how} ` +
      `(revision ${revision()}; logs: ${logDir})`,
  );
  say(`  the gateway: pid ${gatewayPid} (npm run twilio); the agent worker: pid ${worker.pid}`);

  const jobProcesses = () => {
    const forked = processGroup(worker.pid).filter((p) => p !== worker.pid);
    const jobs = new Map<number, ProcCpu>();
    let otherMs = 0;
    for (const pid of forked) {
      const cpu = readProcCpu(pid);
      if (!cpu) continue;
      if (commandLine(pid).includes('job_proc')) jobs.set(pid, cpu);
      else otherMs += cpu.cpuMs;
    }
    return { jobs, otherMs };
  };
  const gatewayCpu = () => {
    const cpu = readProcCpu(gatewayPid);
    if (!cpu) throw new Error('the gateway process is gone');
    return cpu.cpuMs;
  };
  const sipPid = lab.livekit.stack.pids['livekit-sip'];
  const sipCpu = () => (sipPid === undefined ? 0 : (readProcCpu(sipPid)?.cpuMs ?? 0));

  /** `n` calls placed `staggerMs` apart, measured together from before the first to the last's end. */
  const wave = async (n: number): Promise<CallFigures[]> => {
    await worker.waitPrewarmed(n);
    await sleep(1000); // the new spares' warm-up settles
    const before = jobProcesses();
    const parentBefore = readProcCpu(worker.pid)!.childrenMs;
    const served = () =>
      logRecords(readFileSync(worker.logFile, 'utf8'), 'job process serving room');
    const servedBefore = served().length;
    const g0 = gatewayCpu();
    const s0 = sipCpu();
    const t0 = performance.now();
    const report = await runCalls(lab, {
      scenario,
      calls: n,
      concurrent: n,
      rampMs: staggerMs,
      timelines: false,
      via: 'twilio',
    });
    // The wave's job processes: the ones the worker gave a room since it began (livekit-sip names
    // the rooms).
    const jobPids = [
      ...new Set(
        served()
          .slice(servedBefore)
          .map((l) => Number(l['pid'])),
      ),
    ];
    const until = Date.now() + 15_000;
    while (jobPids.some((pid) => readProcCpu(pid) !== null) && Date.now() < until) {
      await sleep(100);
    }
    await sleep(500); // the gateway's end of the calls: the rooms deleted, the items written
    const wallMs = performance.now() - t0;
    const gatewayCpuMs = gatewayCpu() - g0;
    const sipCpuMs = sipCpu() - s0;
    const after = jobProcesses();
    const parentAfter = readProcCpu(worker.pid)!.childrenMs;
    const exited = [...before.jobs.keys()].filter((pid) => !after.jobs.has(pid));
    let agentJobCpuMs: number | null = null;
    let note: string | undefined;
    if (jobPids.length !== n || !jobPids.every((pid) => before.jobs.has(pid))) {
      note = `${jobPids.length} of ${n} job processes found among the loaded ones`;
    } else if (jobPids.some((pid) => before.jobs.get(pid)!.ppid !== worker.pid)) {
      note = "a job process was not the worker's child";
    } else {
      const live = jobPids.filter((pid) => after.jobs.has(pid));
      // The exited ones from the worker's reaped children; one still running read live.
      agentJobCpuMs =
        exitedChildrenCpuMs(before.jobs, exited, parentBefore, parentAfter) +
        live.reduce((a, pid) => a + after.jobs.get(pid)!.cpuMs - before.jobs.get(pid)!.cpuMs, 0);
      if (live.length > 0) note = `${live.length} job process(es) had not exited: read live`;
      else if (exited.length > n) note = `${exited.length} job processes exited during the calls`;
    }
    const gatewayLog = readFileSync(gatewayLogFile, 'utf8');
    const perCall = (ms: number) => Math.round(ms / n);
    return report.results.map((r: CallResult) => {
      const stream = streamFigures(gatewayLog, r.tx);
      return {
        callSid: r.tx,
        ok: r.ok,
        wallMs,
        gatewayCpuMs: perCall(gatewayCpuMs),
        sipCpuMs: perCall(sipCpuMs),
        agentJobCpuMs: agentJobCpuMs === null ? null : perCall(agentJobCpuMs),
        ratio: agentJobCpuMs ? gatewayCpuMs / agentJobCpuMs : null,
        agentOtherCpuMs: perCall(after.otherMs - before.otherMs),
        ttfaMs: r.ttfaMs,
        inMs: stream?.inMs ?? null,
        outMs: stream?.outMs ?? null,
        ...(note ? { note } : {}),
      };
    });
  };
  const one = async (): Promise<CallFigures> => (await wave(1))[0]!;

  for (let i = 0; i < warmup; i++) {
    const w = await one();
    say(`  warm-up call: gateway ${w.gatewayCpuMs} ms CPU (not counted)`);
  }
  await worker.waitPrewarmed(1);
  const idle0 = gatewayCpu();
  await sleep(10_000);
  const idleMsPerMin = ((gatewayCpu() - idle0) / 10_000) * 60_000;
  say(`  the gateway idle: ${Math.round(idleMsPerMin)} ms CPU a minute`);

  // The gateway's threads over the measured calls, by name: JavaScript's (the main thread), libuv's
  // and V8's helpers.
  const threadsBefore = readThreads(`/proc/${gatewayPid}/task`);
  const rows: CallFigures[] = [];
  // The CPU figures once per wave (its calls share them).
  const waves: CallFigures[] = [];
  const pair = (s: FrameSpread | null) => (s ? `${s.p50} / ${s.p95}` : '—');
  const cpuColumns = (c: CallFigures) =>
    `   ${`${c.gatewayCpuMs} ms`.padStart(11)}   ${(c.agentJobCpuMs === null ? '—' : `${c.agentJobCpuMs} ms`).padStart(13)}` +
    `   ${(c.ratio === null ? '—' : `${(c.ratio * 100).toFixed(1)}%`).padStart(5)}`;
  say('');
  if (concurrent === 1) {
    say(
      '  call        held  length   gateway CPU   agent job CPU   ratio   in p50/p95 (ms)   out p50/p95 (ms)   TTFA',
    );
  } else {
    say(
      '  wave  held  length   gateway CPU   agent job CPU   ratio   TTFA of each call' +
        `\n                        (per call: the wave's over its calls)`,
    );
  }
  for (let done = 0, w = 1; done < calls; w++) {
    const n = Math.min(concurrent, calls - done);
    const cs = await wave(n);
    done += n;
    rows.push(...cs);
    const c = cs[0]!;
    waves.push(c);
    if (concurrent === 1) {
      say(
        `  ${c.callSid.slice(0, 10)}  ${c.ok ? '✓' : '✗'}  ${`${(c.wallMs / 1000).toFixed(1)} s`.padStart(7)}` +
          cpuColumns(c) +
          `   ${pair(c.inMs).padStart(15)}   ${pair(c.outMs).padStart(16)}   ${fmtMs(c.ttfaMs)}` +
          (c.note ? `   (${c.note})` : ''),
      );
    } else {
      say(
        `  ${String(w).padStart(4)}  ${`${cs.filter((x) => x.ok).length}/${n}`.padStart(4)}` +
          `  ${`${(c.wallMs / 1000).toFixed(1)} s`.padStart(7)}` +
          cpuColumns(c) +
          `   ${cs.map((x) => fmtMs(x.ttfaMs)).join(', ')}` +
          (c.note ? `   (${c.note})` : ''),
      );
    }
  }

  const threads = threadsByName(
    gatewayPid,
    threadsBefore,
    readThreads(`/proc/${gatewayPid}/task`),
    rows.length,
  );
  const s = (xs: (number | null)[]) => spread(xs);
  const gateway = s(waves.map((r) => r.gatewayCpuMs));
  const agent = s(waves.map((r) => r.agentJobCpuMs));
  const ratio = s(waves.map((r) => r.ratio));
  const other = s(waves.map((r) => r.agentOtherCpuMs));
  const sip = s(waves.map((r) => r.sipCpuMs));
  const inP95 = s(rows.map((r) => r.inMs?.p95 ?? null));
  const outP95 = s(rows.map((r) => r.outMs?.p95 ?? null));
  const outP50 = s(rows.map((r) => r.outMs?.p50 ?? null));
  const inP50 = s(rows.map((r) => r.inMs?.p50 ?? null));
  const ttfa = s(rows.map((r) => r.ttfaMs));
  const held = rows.filter((r) => r.ok).length;
  const totalRatio =
    rows.reduce((a, r) => a + r.gatewayCpuMs, 0) /
    Math.max(
      1,
      rows.reduce((a, r) => a + (r.agentJobCpuMs ?? 0), 0),
    );
  const ms = (v: number | null) => (v === null ? '—' : `${Math.round(v)} ms`);
  const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
  const mark = (ok: boolean) => (ok ? '✓' : '✗');
  say('');
  const inWaves = concurrent === 1 ? '' : ` in ${waves.length} waves of up to ${concurrent}`;
  say(`  summary over ${rows.length} calls${inWaves} (${held} held every expectation):`);
  say(`    gateway CPU per call      median ${ms(gateway.median)}, p95 ${ms(gateway.p95)}`);
  say(`    agent job CPU per call    median ${ms(agent.median)}, p95 ${ms(agent.p95)}`);
  say(
    `    ratio gateway / job       median ${pct(ratio.median)}, max ${pct(ratio.max)}, ` +
      `all calls together ${pct(totalRatio)}`,
  );
  say(`    agent's other processes   median ${ms(other.median)} per call (not in the ratio)`);
  say(
    `    livekit-sip CPU per call  median ${ms(sip.median)}, p95 ${ms(sip.p95)} (not in the ratio)`,
  );
  say(
    `    gateway's own time per frame: caller → LiveKit p50 ${inP50.median} ms, p95 ${inP95.median} ms ` +
      `(worst call's p95 ${inP95.max} ms); agent → Twilio p50 ${outP50.median} ms, p95 ${outP95.median} ms ` +
      `(worst call's p95 ${outP95.max} ms)`,
  );
  say(`    TTFA at the caller's ear  p50 ${ms(ttfa.median)}, p95 ${ms(ttfa.p95)}`);
  say(
    `    the gateway's threads, CPU per call: ${threads.map((t) => `${t.name} ${Math.round(t.msPerCall)} ms`).join(', ')}`,
  );
  say('  targets:');
  say(
    `    ${mark((ratio.max ?? Infinity) <= 0.1)} gateway CPU ≤ 10% of the agent job's, every ${concurrent === 1 ? 'call' : 'wave'}`,
  );
  say(
    `    ${mark((inP95.max ?? Infinity) <= 40 && (outP95.max ?? Infinity) <= 40)} ` +
      "the gateway's own delay ≤ 40 ms each way (every call's p95)",
  );
  say(`    ${mark((ttfa.p95 ?? Infinity) <= 300)} TTFA p95 ≤ 300 ms at the ear`);
  if (held < rows.length) exitCode = 1;
  if (values.json) {
    say(
      JSON.stringify({
        scenario: scenario.name,
        revision: revision(),
        concurrent,
        staggerMs,
        gatewayIdleMsPerMinute: Math.round(idleMsPerMin),
        gatewayThreadsMsPerCall: threads,
        summary: {
          held,
          calls: rows.length,
          gatewayCpuMs: gateway,
          agentJobCpuMs: agent,
          ratio,
          ratioAllCalls: totalRatio,
          agentOtherCpuMs: other,
          sipCpuMs: sip,
          inMsP50: inP50,
          inMsP95: inP95,
          outMsP50: outP50,
          outMsP95: outP95,
          ttfaMs: ttfa,
        },
        calls: rows,
      }),
    );
  }
} finally {
  await lab.stop();
}
process.exit(exitCode);

/** CPU per call of the gateway's threads grouped by name (threads that ended meanwhile are lost). */
function threadsByName(
  pid: number,
  before: Map<number, ThreadCpu>,
  after: Map<number, ThreadCpu>,
  n: number,
): { name: string; msPerCall: number }[] {
  const by = new Map<string, number>();
  for (const [tid, t] of after) {
    const name = tid === pid ? 'main (JavaScript)' : t.comm.trim();
    by.set(name, (by.get(name) ?? 0) + t.cpuMs - (before.get(tid)?.cpuMs ?? 0));
  }
  return [...by]
    .map(([name, ms]) => ({ name, msPerCall: ms / Math.max(1, n) }))
    .filter((t) => t.msPerCall >= 5)
    .sort((a, b) => b.msPerCall - a.msPerCall);
}
