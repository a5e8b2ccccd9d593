// Installs the lab's local S3, moto's standalone server, into a Python virtual environment of its
// own (.tools/moto), at pinned versions from PyPI: the S3 API on loopback for the lab and the tests,
// reached through the AWS SDK's AWS_ENDPOINT_URL_S3 (docs/decisions/local-s3.md). Only what its S3
// needs is installed (moto's `s3` extra and the two web packages its server runs on), not
// `moto[server]`'s every service: a third of the size, a third of the install time.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Exact pins of the whole dependency set (moto[s3], Flask, flask-cors and what they need). */
const REQUIREMENTS = ['scripts', 'setup', 'requirements-local-s3.txt'];

function installed(dir, stamp) {
  const file = join(dir, 'REQUIREMENTS');
  return existsSync(file) && readFileSync(file, 'utf8') === stamp;
}

function run(cmd, args, fail, what) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (res.error?.code === 'ENOENT')
    fail(`${what} needs ${cmd}; install python3 with venv and pip.`);
  if (res.status !== 0) {
    process.stderr.write(`${res.stdout ?? ''}${res.stderr ?? ''}`.trim().slice(-3000) + '\n');
    fail(`${what} failed (its output is above).`);
  }
}

/** Ensures .tools/moto holds the pinned local S3; returns what it did. */
export function ensureLocalS3(root, fail) {
  const dir = join(root, '.tools', 'moto');
  const requirements = join(root, ...REQUIREMENTS);
  const stamp = readFileSync(requirements, 'utf8');
  if (installed(dir, stamp)) return 'local S3 (moto 5.2.5) present';
  const staging = `${dir}.${process.pid}.tmp`;
  const failClean = (msg) => {
    rmSync(staging, { recursive: true, force: true });
    fail(msg);
  };
  rmSync(staging, { recursive: true, force: true });
  run('python3', ['-m', 'venv', staging], failClean, 'creating the local S3 environment');
  const pip = [join(staging, 'bin', 'python'), '-m', 'pip', 'install', '--quiet'];
  run(
    pip[0],
    [...pip.slice(1), '--disable-pip-version-check', '--no-deps', '-r', requirements],
    failClean,
    'installing the local S3 (pip install moto)',
  );
  writeFileSync(join(staging, 'REQUIREMENTS'), stamp);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  run(join(dir, 'bin', 'python'), ['-c', 'import moto.server'], fail, 'checking the local S3');
  return 'local S3 (moto 5.2.5) installed in .tools/moto';
}
