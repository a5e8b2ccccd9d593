// The worker bundle the lab, the tests and the benchmarks run: built from the current sources into
// a directory named by its content, safely when several test files build at once.
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAgentOnce } from '../../../scripts/build-agent.js';

const parent = mkdtempSync(join(tmpdir(), 'callbridge-agent-bundles-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe('buildAgentOnce', () => {
  it('gives concurrent builds of the same sources one complete bundle', async () => {
    const paths = await Promise.all([1, 2, 3].map(() => buildAgentOnce(parent)));
    expect(new Set(paths).size).toBe(1);
    const main = readFileSync(paths[0]!, 'utf8');
    expect(main).toContain('defineAgent'); // the worker's entry, bundled
    // Relative imports name only the bundle's own chunks, never the sources.
    const dir = dirname(paths[0]!);
    for (const [, spec] of main.matchAll(/(?:from |import\()["'](\.\.?\/[^"']+)["']/g)) {
      expect(existsSync(join(dir, spec!)), spec).toBe(true);
    }
    // NodeSDK is loaded only when something is exported: a job process exporting nothing (the
    // lab's) must not pay its import on every call.
    expect(main).not.toMatch(/^import .*["']@opentelemetry\/sdk-node["']/m);
    // Only the bundle's directory: the staging copies were renamed into place or removed.
    expect(readdirSync(parent)).toEqual([dirname(paths[0]!).split('/').pop()]);
  });

  it('removes bundles older than a day, and keeps newer ones', async () => {
    const old = join(parent, 'old0000000000000');
    const recent = join(parent, 'recent0000000000');
    for (const d of [old, recent]) mkdirSync(d);
    const dayAgo = (Date.now() - 25 * 3600_000) / 1000;
    utimesSync(old, dayAgo, dayAgo);
    // A changed source tree makes a new bundle; here, a parent holding no bundle of these sources.
    rmSync(dirname(await buildAgentOnce(parent)), { recursive: true });
    await buildAgentOnce(parent);
    const left = readdirSync(parent);
    expect(left).not.toContain('old0000000000000');
    expect(left).toContain('recent0000000000');
  });
});
