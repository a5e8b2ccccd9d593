#!/usr/bin/env node
// Installs what the project needs when it is missing, and does nothing (fast) when it is there.
// Plain JavaScript on purpose: it runs before node_modules (and so TypeScript tooling) exists.
//
//   node scripts/setup/ensure.mjs [--quiet] [--livekit] [--browser] [--test-tools] [--moonshine-base]
//
// It installs the offline speech recognizer (Moonshine tiny-en, scripts/setup/moonshine.mjs) into
// .tools/moonshine: the agent's local speech needs it. Moonshine base-en is added with
// --moonshine-base or --test-tools, or when MOONSHINE_MODEL=base-en is set.
// It installs the lab's local S3 (moto's server, scripts/setup/local-s3.mjs) into .tools/moto:
// call recordings are written there in the lab and the tests.
//
// --livekit also installs the local LiveKit stack (Redis, livekit-server, livekit-sip) through
// scripts/setup/livekit-tools.sh: built once with Go at pinned tags, then a fast check.
//
// --browser also installs Chromium from Debian, for the console's end-to-end tests.
//
// --test-tools also installs what only the tests run: hadolint, cfn-lint and kubernetes-validate
// into .tools/python (scripts/setup/python-tools.mjs) and Node 22 into .tools/node22
// (scripts/setup/node22.mjs, for .ci/run's second pass).
//
// Dependencies install without their install scripts (.npmrc, docs/decisions/install-scripts.md);
// after an install it checks that the native packages load their prebuilt binaries.
//
// Everything it prints goes to stderr, so commands whose stdout is data (sma:replay) stay clean.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLocalS3 } from './local-s3.mjs';
import { ensureMoonshine } from './moonshine.mjs';
import { ensureNode22 } from './node22.mjs';
import { ensurePythonTools } from './python-tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const quiet = process.argv.includes('--quiet');
const livekit = process.argv.includes('--livekit');
const browser = process.argv.includes('--browser');
const testTools = process.argv.includes('--test-tools');
const moonshineBase =
  testTools ||
  process.argv.includes('--moonshine-base') ||
  process.env['MOONSHINE_MODEL'] === 'base-en';
const say = (msg) => {
  if (!quiet) process.stderr.write(`[setup] ${msg}\n`);
};

function fail(msg) {
  process.stderr.write(`[setup] ERROR: ${msg}\n`);
  process.exit(1);
}

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    fail(`Node ${process.versions.node} is too old; install Node 20.19 or newer.`);
  }
}

function lockHash() {
  const lock = join(root, 'package-lock.json');
  const pkg = join(root, 'package.json');
  const h = createHash('sha256');
  h.update(readFileSync(pkg));
  if (existsSync(lock)) h.update(readFileSync(lock));
  return h.digest('hex');
}

function ensureNpmPackages() {
  const stamp = join(root, 'node_modules', '.callbridge-install');
  const want = lockHash();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return 'npm packages up to date';
  // A fresh checkout gets exactly the lockfile (npm ci); an existing node_modules is brought in
  // line incrementally (npm install), which is seconds instead of a full reinstall.
  const fresh = !existsSync(join(root, 'node_modules'));
  const args = fresh ? ['ci'] : ['install'];
  say(`installing npm packages (npm ${args[0]})…`);
  // --ignore-scripts as well as .npmrc: a flag outranks an npm_config_ignore_scripts variable.
  const flags = ['--ignore-scripts', '--loglevel=error', '--no-audit', '--no-fund'];
  const res = spawnSync('npm', [...args, ...flags], {
    cwd: root,
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (res.status !== 0) fail(`npm ${args[0]} failed (see the output above).`);
  checkPrebuilt();
  writeFileSync(stamp, want);
  return 'npm packages installed';
}

/**
 * The packages whose install scripts would have built or fetched native parts; with scripts off,
 * each must find the prebuilt binary it ships for this platform. esbuild's is used only when it
 * runs, hence the transform.
 */
const PREBUILT = [
  'koffi',
  'onnxruntime-node',
  '@livekit/local-inference',
  'classic-level',
  'esbuild',
];

function checkPrebuilt() {
  const probe = `for (const name of ${JSON.stringify(PREBUILT)}) {
    try {
      const m = await import(name);
      if (name === 'esbuild') await m.transform('');
    } catch (e) {
      process.stderr.write(name + ': ' + e.message);
      process.exit(1);
    }
  }`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (res.status === 0) return;
  const platform = `${process.platform}-${process.arch}`;
  fail(
    `a native package did not load on ${platform} (${res.stderr.trim() || res.signal}); if it ` +
      'has no prebuilt binary here, build it: npm rebuild <package> --ignore-scripts=false ' +
      '(docs/decisions/install-scripts.md)',
  );
}

/**
 * Debian packages the project runs with: Prometheus (its server and promtool check the dashboards
 * and alert rules) and eSpeak NG (voices of the speech benchmark's test set). With --browser (the
 * test path only, so the first `npm start` stays fast), Chromium: the console's end-to-end tests
 * drive it headless (docs/console.md).
 */
const DEBIAN_PACKAGES = ['prometheus', 'espeak-ng', ...(browser ? ['chromium'] : [])];

function missingDebianPackages() {
  return DEBIAN_PACKAGES.filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

function ensureDebianPackages() {
  const missing = missingDebianPackages();
  if (missing.length === 0) return 'Debian packages present';
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    fail(`missing Debian packages: ${missing.join(' ')}; install them with apt-get (as root).`);
  }
  say(`installing Debian packages: ${missing.join(' ')}…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // apt and dpkg print hundreds of progress lines; they are shown only when a step fails.
  const run = (args, what) => {
    const res = spawnSync('apt-get', args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (res.status === 0) return;
    const out = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    process.stderr.write(`${out}\n`);
    fail(`${what} failed (the last lines of its output are above).`);
  };
  run(['update', '-qq'], 'apt-get update');
  run(['install', '-y', '-qq', '--no-install-recommends', ...missing], 'apt-get install');
  return `Debian packages installed: ${missing.join(' ')}`;
}

function ensureLiveKitTools() {
  const res = spawnSync('bash', [join(root, 'scripts', 'setup', 'livekit-tools.sh')], {
    cwd: root,
    // Its progress lines (only when something is built: minutes, not seconds) go to stderr live.
    stdio: ['ignore', 'pipe', process.stderr],
    encoding: 'utf8',
  });
  if (res.status !== 0) fail('installing the local LiveKit stack failed (see above).');
  return res.stdout.trim().replace(/^livekit-tools: /, 'LiveKit stack: ');
}

/** Runs one step and prints what it did with its time, so a slow first run shows where it goes. */
function step(run) {
  const started = process.hrtime.bigint();
  const what = run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  say(`${what} (${seconds.toFixed(1)} s)`);
}

checkNode();
step(ensureNpmPackages);
step(ensureDebianPackages);
step(() => ensureMoonshine(root, fail, { withBase: moonshineBase }));
step(() => ensureLocalS3(root, fail));
if (livekit) step(ensureLiveKitTools);
if (testTools) step(() => ensurePythonTools(root, fail));
if (testTools) step(() => ensureNode22(root, fail));
