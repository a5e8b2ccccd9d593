// The Twilio way in, measured on the lab (docs/twilio.md, docs/performance.md): `--calls` calls of
// a scenario through the Twilio stand-in and the gateway, one after another, the gateway running as
// `npm run twilio` in a process of its own. Per call and summarised:
//   - the gateway's CPU (user + sys, /proc/<pid>/stat, before and after the call);
//   - the CPU of the agent job process that served the call, from the moment before the call
//     (loaded and waiting) to its exit: its parent's reaped-children CPU grows by the process's
//     whole life, less what it had spent loading before the call;
//   - the ratio gateway / agent job (target ≤ 10%);
//   - livekit-sip's CPU over the call (the gateway's calls are SIP calls to it), not in the ratio;
//   - the gateway's own time per frame each way, from its `stream ended` log line (caller → its
//     RTP packet to livekit-sip: base64 and hand-over; agent → Twilio: from the agent's frame arriving to its
//     `media` message sent, pacing included) (target ≤ 40 ms p95);
//   - TTFA at the caller's ear (p50, p95).
// Before the calls, one untimed call warms the gateway up (its code loaded and compiled) and its
// idle CPU is read over 10 s (it refreshes the use cases every 5 s in the lab).
//
//   npm run bench:twilio [-- --calls 10 --scenario ask-then-transfer --warmup 1 --json
//                           --cpu-prof DIR]
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
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

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    scenario: { type: 'string', default: DEFAULT_SCENARIO },
    json: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});
const calls = Number(values.calls);
const warmup = Number(values.warmup);
if (!Number.isInteger(calls) || calls < 1 || !Number.isInteger(warmup) || warmup < 0) {
  process.stderr.write('--calls must be a whole number ≥ 1 and --warmup ≥ 0\n');
  process.exit(2);
}
const scenario = loadScenario(values.scenario);
const say = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CallFigures {
  callSid: string;
  ok: boolean;
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
  maxCalls: 3,
  idleProcesses: 1,
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
  say(
    `callbridge Twilio benchmark: ${calls} calls of ${scenario.name}, one after another ` +
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

  const one = async (): Promise<CallFigures> => {
    await worker.waitPrewarmed(1);
    await sleep(1000); // the new spare's warm-up settles
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
      calls: 1,
      concurrent: 1,
      timelines: false,
      via: 'twilio',
    });
    const r: CallResult = report.results[0]!;
    // The call's job process: the one the worker gave a room since the call began (one call at a
    // time; livekit-sip names the room).
    const jobPid = served()
      .slice(servedBefore)
      .map((l) => Number(l['pid']))
      .at(0);
    const until = Date.now() + 15_000;
    while (jobPid !== undefined && readProcCpu(jobPid) !== null && Date.now() < until) {
      await sleep(100);
    }
    await sleep(500); // the gateway's end of the call: the room deleted, the items written
    const wallMs = performance.now() - t0;
    const gatewayCpuMs = gatewayCpu() - g0;
    const sipCpuMs = sipCpu() - s0;
    const after = jobProcesses();
    const parentAfter = readProcCpu(worker.pid)!.childrenMs;
    const exited = [...before.jobs.keys()].filter((pid) => !after.jobs.has(pid));
    let agentJobCpuMs: number | null = null;
    let note: string | undefined;
    if (jobPid === undefined || !before.jobs.has(jobPid)) {
      note = 'the job process was not found among the loaded ones';
    } else if (after.jobs.has(jobPid)) {
      agentJobCpuMs = after.jobs.get(jobPid)!.cpuMs - before.jobs.get(jobPid)!.cpuMs;
      note = 'the job process had not exited: read live';
    } else if (before.jobs.get(jobPid)!.ppid !== worker.pid) {
      note = "the job process was not the worker's child";
    } else {
      agentJobCpuMs = exitedChildrenCpuMs(before.jobs, exited, parentBefore, parentAfter);
      if (exited.length > 1) note = `${exited.length} job processes exited during the call`;
    }
    const stream = streamFigures(readFileSync(gatewayLogFile, 'utf8'), r.tx);
    return {
      callSid: r.tx,
      ok: r.ok,
      wallMs,
      gatewayCpuMs,
      sipCpuMs,
      agentJobCpuMs,
      ratio: agentJobCpuMs ? gatewayCpuMs / agentJobCpuMs : null,
      agentOtherCpuMs: after.otherMs - before.otherMs,
      ttfaMs: r.ttfaMs,
      inMs: stream?.inMs ?? null,
      outMs: stream?.outMs ?? null,
      ...(note ? { note } : {}),
    };
  };

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
  say('');
  say(
    '  call        held  length   gateway CPU   agent job CPU   ratio   in p50/p95 (ms)   out p50/p95 (ms)   TTFA',
  );
  for (let i = 0; i < calls; i++) {
    const c = await one();
    rows.push(c);
    const pair = (s: FrameSpread | null) => (s ? `${s.p50} / ${s.p95}` : '—');
    say(
      `  ${c.callSid.slice(0, 10)}  ${c.ok ? '✓' : '✗'}  ${`${(c.wallMs / 1000).toFixed(1)} s`.padStart(7)}` +
        `   ${`${c.gatewayCpuMs} ms`.padStart(11)}   ${(c.agentJobCpuMs === null ? '—' : `${c.agentJobCpuMs} ms`).padStart(13)}` +
        `   ${(c.ratio === null ? '—' : `${(c.ratio * 100).toFixed(1)}%`).padStart(5)}` +
        `   ${pair(c.inMs).padStart(15)}   ${pair(c.outMs).padStart(16)}   ${fmtMs(c.ttfaMs)}` +
        (c.note ? `   (${c.note})` : ''),
    );
  }

  const threads = threadsByName(
    gatewayPid,
    threadsBefore,
    readThreads(`/proc/${gatewayPid}/task`),
    rows.length,
  );
  const s = (xs: (number | null)[]) => spread(xs);
  const gateway = s(rows.map((r) => r.gatewayCpuMs));
  const agent = s(rows.map((r) => r.agentJobCpuMs));
  const ratio = s(rows.map((r) => r.ratio));
  const other = s(rows.map((r) => r.agentOtherCpuMs));
  const sip = s(rows.map((r) => r.sipCpuMs));
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
  say(`  summary over ${rows.length} calls (${held} held every expectation):`);
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
    `    ${mark((ratio.max ?? Infinity) <= 0.1)} gateway CPU ≤ 10% of the agent job's, every call`,
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
