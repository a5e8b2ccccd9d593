// How long a caller waits when the job process serving their call dies mid-call: `--calls` lab
// calls one after another; in each, once the agent has spoken for a moment, its job process is
// killed outright (SIGKILL), and the caller's ear times the death → Chime's `connecting` notice
// heard, and the death → the person heard. The target is the notice within 2 s.
//
//   npm run bench:failover [-- --calls 10]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Lab, startLab } from '../../lab/lab.js';
import { ROOT } from '../../lab/stack/local-stack.js';
import { quantile, summary } from '../../lab/stats.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npm run bench:failover --', { calls: { type: 'string', default: '10' } });
const calls = Number(values.calls);
if (!Number.isInteger(calls) || calls < 1) {
  process.stderr.write(`--calls must be a whole number of at least 1 (got ${values.calls})\n`);
  process.exit(2);
}
const say = (line = '') => process.stdout.write(`${line}\n`);
/** The agent speaks this long before its job process is killed. */
const TALK_MS = 1500;
/** Past this, the call counts as failed (livekit-server's 15 s ping timeout would end it next). */
const GIVE_UP_MS = 12_000;

interface Sample {
  /** Death → the AI leg's BYE reached the caller's side (LEG-B ended). */
  legEndedMs: number;
  noticeMs: number;
  personMs: number;
}

/** Polls `read` every 10 ms until it gives a value; undefined after `ms`. */
async function poll<T>(read: () => T | undefined, ms: number): Promise<T | undefined> {
  const end = performance.now() + ms;
  for (;;) {
    const v = read();
    if (v !== undefined || performance.now() > end) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function oneCall(lab: Lab): Promise<Sample> {
  const worker = lab.livekit.worker!;
  await worker.waitPrewarmed(1);
  const { call, media } = lab.newCall();
  try {
    await call.startInbound();
    await media.waitFirstAudio(10_000);
    await new Promise((r) => setTimeout(r, TALK_MS));
    const { killedAt } = await worker.killJobProcess();
    const after = (at: number | undefined) => (at !== undefined && at > killedAt ? at : undefined);
    const noticeAt = await poll(() => after(media.firstAudibleAt('chime')), GIVE_UP_MS);
    const personAt = await poll(() => after(media.firstAudibleAt('person')), GIVE_UP_MS);
    const legEndedAt = media.agent?.endedAt;
    if (noticeAt === undefined || personAt === undefined || legEndedAt === undefined) {
      throw new Error(
        `no failover within ${GIVE_UP_MS} ms (notice ${noticeAt}, person ${personAt})`,
      );
    }
    await media.callerHangsUp();
    return {
      legEndedMs: legEndedAt - killedAt,
      noticeMs: noticeAt - killedAt,
      personMs: personAt - killedAt,
    };
  } finally {
    await media.close();
  }
}

const logDir = join(ROOT, '.lab', 'logs', 'bench-failover');
mkdirSync(logDir, { recursive: true });
const lab = await startLab({ logDir });
const samples: Sample[] = [];
let failures = 0;
try {
  say(
    `callbridge failover benchmark: ${calls} calls, job process killed mid-call (logs: ${logDir})`,
  );
  for (let i = 1; i <= calls; i++) {
    try {
      const s = await oneCall(lab);
      samples.push(s);
      say(
        `  call ${i}: AI leg ended ${Math.round(s.legEndedMs)} ms, notice ${Math.round(s.noticeMs)} ms, person ${Math.round(s.personMs)} ms`,
      );
    } catch (e) {
      failures += 1;
      say(`  call ${i}: ${(e as Error).message}`);
    }
    // What the call left behind goes before the next one starts.
    await lab.participantsLeft(undefined, 5_000);
  }
  say();
  say(`  death → AI leg ended          ${summary(samples.map((s) => s.legEndedMs))}`);
  say(`  death → Chime notice heard    ${summary(samples.map((s) => s.noticeMs))}`);
  say(`  death → person heard          ${summary(samples.map((s) => s.personMs))}`);
  const p95 = quantile(
    samples.map((s) => s.noticeMs).sort((a, b) => a - b),
    0.95,
  );
  const ok = failures === 0 && p95 <= 2000;
  say(`  ${ok ? '✓' : '✗'} every call failed over, Chime's notice within 2 s at p95`);
  if (!ok) failures += 1;
} finally {
  await lab.stop();
}
process.exit(failures > 0 ? 1 : 0);
