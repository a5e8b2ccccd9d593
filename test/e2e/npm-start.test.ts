// `npm start` as a newcomer runs it: the whole lab boots, the scripted caller places a call, the
// timeline and figures are printed, and with --json the last line of stdout is the contract's
// object. Bad options stop before anything starts.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../../lab/stack/local-stack.js';

const start = (args: string[], timeout: number) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'start.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout,
    env: process.env,
  });

it('runs a scenario on the real lab and ends stdout with the calls as JSON', () => {
  const run = start(['hang-up-mid-greeting', '--calls', '2', '--json'], 240_000);
  expect(run.status, run.stderr.slice(-2000)).toBe(0);
  const lines = run.stdout.trimEnd().split('\n');
  const last = JSON.parse(lines.at(-1)!) as { calls: Record<string, unknown>[] };
  expect(last.calls).toHaveLength(2);
  for (const c of last.calls) {
    expect(c).toEqual({
      scenario: 'hang-up-mid-greeting',
      ok: true,
      ttfaMs: expect.any(Number),
      ctdMs: null,
      e2eMs: expect.any(Number),
    });
    expect(c['e2eMs']).toBeGreaterThan(c['ttfaMs'] as number);
  }
  // The readable part: the SMA's events and actions, the checks, and both views of the figures.
  expect(run.stdout).toContain('NEW_INBOUND_CALL → CallAndBridge AWS');
  expect(run.stdout).toContain('✓ no one is left in the call');
  expect(run.stdout).toMatch(/at the caller's ear:\s+TTFA \d+ ms/);
  expect(run.stdout).toMatch(/components' telemetry: TTFA \d+ ms \(agent/);
  // …and nothing else: no SDK chatter among the timeline's lines (rtc-node's debug lines outside
  // NODE_ENV=production, and its error for a data stream cut when the observer leaves).
  expect(run.stdout).not.toContain('"name":"lk-rtc"');
}, 300_000);

it('refuses bad options and scenarios before starting anything', () => {
  const bad = start(['--calls', '0'], 30_000);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('--calls must be a whole number');
  const missing = start(['no-such-scenario'], 30_000);
  expect(missing.status).toBe(2);
  expect(missing.stderr).toContain('no-such-scenario: no such file');
  expect(missing.stdout).toBe('');
});
