// The image definition (deploy/Dockerfile): hadolint finds nothing, and what the build stage
// copies and installs is what the agent worker, the call guard and the Twilio gateway load.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT, runTool } from './tools.js';

const DOCKERFILE = join(ROOT, 'deploy', 'Dockerfile');
/** The Node 22 the setup installs for .ci/run (scripts/setup/node22.mjs, plain JavaScript). */
const NODE22_VERSION = /NODE22_VERSION = '([\d.]+)'/.exec(
  readFileSync(join(ROOT, 'scripts', 'setup', 'node22.mjs'), 'utf8'),
)![1]!;
const text = () => readFileSync(DOCKERFILE, 'utf8');

/** The instructions of one stage, continuation lines joined. */
function stage(name: string): string[] {
  const lines = text()
    .replace(/\\\n\s*/g, ' ')
    .split('\n');
  const start = lines.findIndex((l) => new RegExp(`^FROM \\S+ AS ${name}$`).test(l));
  expect(start, `stage ${name}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('FROM '));
  return lines.slice(start, end === -1 ? undefined : end).filter((l) => /^[A-Z]/.test(l));
}

describe('deploy/Dockerfile', () => {
  it('passes hadolint with every rule at every level', () => {
    const { status, output } = runTool('hadolint', [
      '--no-color',
      '--failure-threshold',
      'style',
      DOCKERFILE,
    ]);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it("hadolint's findings fail the check (a root user, an unpinned base)", () => {
    const { status, output } = runTool(
      'hadolint',
      ['--no-color', '--failure-threshold', 'style', '-'],
      { input: 'FROM node:latest\nUSER root\nCMD ["node"]\n' },
    );
    expect(status).not.toBe(0);
    expect(output).toContain('DL3007');
    expect(output).toContain('DL3002');
  });

  it('runs Node 22 on Debian (glibc), the version the tests also run on, as a numeric non-root user', () => {
    expect(text()).toMatch(
      new RegExp(
        `^ARG NODE_IMAGE=node:${NODE22_VERSION.replaceAll('.', '\\.')}-bookworm-slim$`,
        'm',
      ),
    );
    expect(stage('runtime')).toContain('USER 1000:1000');
  });

  it('makes the agent the default target, with the models in a layer of their own and a health check', () => {
    const lastFrom = text()
      .split('\n')
      .filter((l) => l.startsWith('FROM '))
      .pop();
    expect(lastFrom).toMatch(/ AS agent$/);
    const agent = stage('agent');
    expect(agent).toContain(
      'COPY --from=models --chown=root:root /src/.tools/moonshine /opt/moonshine',
    );
    expect(agent.join('\n')).toMatch(/MOONSHINE_DIR=\/opt\/moonshine/);
    expect(agent.join('\n')).toMatch(/AGENT_HTTP_PORT=8081/);
    expect(agent.find((l) => l.startsWith('HEALTHCHECK'))).toContain('healthcheck.mjs');
    expect(stage('services').find((l) => l.startsWith('HEALTHCHECK'))).toBeDefined();
  });

  it('copies every source the three entry points import, and they import only production packages', async () => {
    const copied = stage('build')
      .filter((l) => l.startsWith('COPY '))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    const result = await build({
      entryPoints: ['agent/main.ts', 'guard/main.ts', 'twilio/main.ts'].map((f) => join(ROOT, f)),
      absWorkingDir: ROOT,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      outdir: 'out',
      logLevel: 'silent',
    });
    const sources = Object.keys(result.metafile.inputs);
    const missing = sources.filter(
      (s) => !copied.some((c) => s === c || s.startsWith(c.endsWith('/') ? c : `${c}/`)),
    );
    expect(missing).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const packageOf = (spec: string) =>
      spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    const external = new Set(
      Object.values(result.metafile.inputs)
        .flatMap((i) => i.imports)
        .filter((i) => i.external && !i.path.startsWith('node:'))
        .map((i) => packageOf(i.path)),
    );
    expect([...external].filter((p) => !(p in pkg.dependencies)).sort()).toEqual([]);
  });

  it('lets into the build context everything the Dockerfile copies', () => {
    const ignore = readFileSync(join(ROOT, 'deploy', 'Dockerfile.dockerignore'), 'utf8');
    const admitted = ignore
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    const copiedFromContext = text()
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1))
      .filter((p) => !p.startsWith('--'))
      .map((p) => p.replace(/\/$/, ''));
    expect(copiedFromContext.filter((p) => !admitted.includes(p))).toEqual([]);
  });

  it('health check: healthy on an answer below 500, unhealthy on 503 or no answer', async () => {
    let status = 200;
    const server = createServer((_req, res) => res.writeHead(status).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const check = (target: string) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [join(ROOT, 'deploy', 'healthcheck.mjs')], {
          env: { ...process.env, HEALTHCHECK_URL: target },
          stdio: 'ignore',
        });
        child.on('exit', resolve);
      });
    try {
      expect(await check(url)).toBe(0);
      status = 404; // the Twilio gateway: listening, no health path
      expect(await check(url)).toBe(0);
      status = 503; // the worker, not registered with LiveKit
      expect(await check(url)).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await check(url)).toBe(1);
  });
});
