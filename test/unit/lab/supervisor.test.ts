// The local stack's supervisor (lab/stack/supervisor.ts) restarting and removing a server, as the
// fault benchmark does: a drain is let finish (a planned restart), a server that will not stop is
// killed once its time is up, and a removed server is gone from the pids.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ServerSpec, Supervisor } from '../../../lab/stack/supervisor.js';

let dir: string;
let supervisor: Supervisor;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'supervisor-'));
  supervisor = new Supervisor(dir, dir, 10_000, () => {});
});
afterEach(async () => {
  rmSync(stubborn(), { force: true });
  await supervisor.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** While this file exists, an `ignore` server ignores SIGTERM (the test's teardown removes it). */
const stubborn = () => join(dir, 'stubborn');

/**
 * A node process that, on SIGTERM, writes `marker` after `drainMs` and exits (a drain), or
 * ignores SIGTERM altogether.
 */
function server(name: string, onTerm: { drainMs: number; marker: string } | 'ignore'): ServerSpec {
  // Healthy once its handler is in place (the file goes with a drain, so a restart waits again).
  const ready = join(dir, `${name}.ready`);
  const fs = "const fs = require('node:fs');";
  const handler =
    onTerm === 'ignore'
      ? `process.on('SIGTERM', () => { if (!fs.existsSync(${JSON.stringify(stubborn())})) process.exit(0); });`
      : `process.on('SIGTERM', () => { fs.rmSync(${JSON.stringify(ready)}); setTimeout(() => { fs.writeFileSync(${JSON.stringify(onTerm.marker)}, 'drained'); process.exit(0); }, ${onTerm.drainMs}); });`;
  return {
    name,
    cmd: process.execPath,
    args: [
      '-e',
      `${fs} ${handler} fs.writeFileSync(${JSON.stringify(ready)}, ''); setInterval(() => {}, 1000);`,
    ],
    healthy: async () => existsSync(ready),
  };
}

describe('Supervisor.restart', () => {
  it('lets a draining server exit by itself when its time allows, then starts it again', async () => {
    const marker = join(dir, 'drained');
    await supervisor.launch(server('node-a', { drainMs: 300, marker }));
    const before = supervisor.pids['node-a'];
    await supervisor.restart('node-a', { signal: 'SIGTERM', killAfterMs: 30_000 });
    expect(readFileSync(marker, 'utf8')).toBe('drained');
    expect(supervisor.pids['node-a']).toBeDefined();
    expect(supervisor.pids['node-a']).not.toBe(before);
  });

  it('kills a server that has not exited when its time is up', async () => {
    writeFileSync(stubborn(), '');
    await supervisor.launch(server('stubborn', 'ignore'));
    const before = supervisor.pids['stubborn'];
    await supervisor.restart('stubborn', { signal: 'SIGTERM', killAfterMs: 200 });
    expect(existsSync(`/proc/${before}`)).toBe(false);
    expect(supervisor.pids['stubborn']).not.toBe(before);
  });
});

describe('Supervisor.remove', () => {
  it('stops one server and forgets it, leaving the others running', async () => {
    await supervisor.launch(server('first', 'ignore'));
    await supervisor.launch(server('second', { drainMs: 0, marker: join(dir, 'gone') }));
    const second = supervisor.pids['second'];
    await supervisor.remove('second');
    expect(Object.keys(supervisor.pids)).toEqual(['first']);
    expect(existsSync(`/proc/${second}`)).toBe(false);
    expect(readFileSync(join(dir, 'stack.pids'), 'utf8')).not.toContain('second');
    await expect(supervisor.remove('second')).rejects.toThrow('no server named second');
  });
});
