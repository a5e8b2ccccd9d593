// The local stack's supervisor: real Redis, livekit-server and livekit-sip, started healthy, on
// loopback only, stopped completely, and a failing server named with its log.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStackError, freePorts, startLocalStack } from '../../lab/stack/local-stack.js';
import { sipOptionsOk } from '../../lab/stack/net.js';

const logDir = () => mkdtempSync(join(tmpdir(), 'callbridge-stack-'));

/** Listening sockets of a process and its children, as `ss` reports them. */
function listeners(port: number): string[] {
  const out = execFileSync('ss', ['-Hlntu', `sport = :${port}`], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/)[4]!);
}

describe('local stack supervisor', () => {
  it('starts every server healthy on loopback and stops them all', async () => {
    const ports = await freePorts();
    const stack = await startLocalStack({ ports, logDir: logDir() });
    try {
      expect(await (await fetch(`${stack.httpUrl}/`)).text()).toBe('OK');
      expect(await sipOptionsOk(ports.sip)).toBe(true);
      for (const port of [ports.redis, ports.http, ports.sip, ports.rtcUdp]) {
        expect(listeners(port).length, `port ${port}`).toBeGreaterThan(0);
      }
      // Every socket any of the servers listens on is on loopback.
      const all = execFileSync('ss', ['-Hlntup'], { encoding: 'utf8' }).split('\n');
      for (const [name, pid] of Object.entries(stack.pids)) {
        const mine = all.filter((l) => l.includes(`pid=${pid},`));
        expect(mine.length, name).toBeGreaterThan(0);
        for (const l of mine) expect(l.trim().split(/\s+/)[4], name).toMatch(/^127\.0\.0\.1:/);
      }
    } finally {
      await stack.stop();
    }
    for (const port of [ports.redis, ports.http, ports.sip]) expect(listeners(port)).toEqual([]);
  }, 60_000);

  it('names the server that fails to start and shows its log, leaving nothing running', async () => {
    const ports = await freePorts();
    // Something else holds livekit-server's port.
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(ports.http, '127.0.0.1', r));
    try {
      const err = await startLocalStack({ ports, logDir: logDir(), timeoutMs: 8000 }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LocalStackError);
      expect((err as Error).message).toMatch(/^livekit-server (exited|was not healthy)/);
      expect((err as Error).message).toContain("lines of livekit-server's log");
      expect((err as Error).message).toMatch(/address already in use|bind/i);
      // Redis, started before it, was stopped again.
      expect(listeners(ports.redis)).toEqual([]);
    } finally {
      squatter.close();
    }
  }, 60_000);
});
