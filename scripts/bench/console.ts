// The console's figures in a real browser (headless Chromium from Debian, puppeteer-core) against
// the local LiveKit stack and agent worker: for each run, a new tab signs in, clicks "Talk to the
// agent" and waits for the agent's greeting and its reply to the tab's sentence (a WAV file as
// the microphone). Printed: click → the greeting's first audible frame in the tab, and the turn
// (the end of the tab's speech → the reply's first audible frame), median and worst; and the
// page's weight. Figures only, no assertions.
//
//   npm run bench:console -- [--runs 5]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { startConsole } from '../../console/console.js';
import { startLiveKitLab } from '../../lab/stack/livekit-lab.js';
import { ROOT } from '../../lab/stack/local-stack.js';
import { launchChromium, microphoneWav } from '../../test/helpers/browser.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npm run bench:console --', { runs: { type: 'string', default: '5' } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 50) {
  process.stderr.write('--runs is a whole number from 1 to 50\n');
  process.exit(2);
}

interface Measured {
  greetingMs: number | null;
  phasesMs: Record<string, number>;
  turnsMs: number[];
  error: string | null;
}

const out = join(ROOT, '.lab', 'bench-console');
mkdirSync(out, { recursive: true });
const say = (line: string) => process.stdout.write(`${line}\n`);
const lab = await startLiveKitLab({ worker: true, logDir: join(out, 'logs') });
const s = lab.stack;
const console_ = await startConsole({
  env: { ...process.env, CONSOLE_AUTH: 'local', CONSOLE_PORT: '0', LOG_LEVEL: 'warn' },
  livekit: { url: s.url, apiKey: s.apiKey, apiSecret: s.apiSecret },
});
const browser = await launchChromium(await microphoneWav(out));
const greetings: number[] = [];
const turns: number[] = [];

async function once(i: number): Promise<void> {
  await lab.worker!.waitPrewarmed(1);
  const page: Page = await browser.newPage();
  try {
    await page.goto(console_.signInLink({ roles: ['developer'] }));
    await page.waitForSelector('#dev-use-case option');
    await page.click('#dev-start');
    await page.waitForFunction('window.callbridgeConsole.turnsMs.length > 0', { timeout: 45_000 });
    const m = (await page.evaluate('window.callbridgeConsole')) as Measured;
    greetings.push(m.greetingMs!);
    turns.push(m.turnsMs[0]!);
    const phases = Object.entries(m.phasesMs)
      .sort((a, b) => a[1] - b[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    say(`  run ${i + 1}: greeting ${m.greetingMs} ms · turn ${m.turnsMs[0]} ms (${phases} ms)`);
    await page.click('#dev-stop');
  } catch (e) {
    say(`  run ${i + 1}: failed: ${(e as Error).message}`);
  } finally {
    await page.close();
  }
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
try {
  say(
    `console benchmark: ${runs} run(s), page weight ${(console_.pageWeightGzipped / 1024).toFixed(0)} KB gzipped`,
  );
  for (let i = 0; i < runs; i++) await once(i);
  if (greetings.length > 0) {
    say(
      `click → greeting heard: median ${median(greetings)} ms, worst ${Math.max(...greetings)} ms (target ≤ 1500 ms)`,
    );
    say(
      `turn (end of speech → reply heard): median ${median(turns)} ms, worst ${Math.max(...turns)} ms`,
    );
  }
} finally {
  await browser.close();
  await console_.close();
  await lab.stop();
}
process.exit(greetings.length === runs ? 0 : 1);
