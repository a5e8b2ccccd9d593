// Installs the offline speech recognizer, Moonshine tiny-en, into .tools/moonshine: the C library
// and the ONNX Runtime it links, the model's three files and the licence, taken from the model
// authors' PyPI wheel at a pinned version and checksum. Nothing is fetched at run time.
//
// Layout (.tools/moonshine/):
//   lib/libmoonshine.so, lib/libonnxruntime-<hash>.so.1   libmoonshine's RPATH starts with
//                                                          $ORIGIN, so its runtime loads from lib/
//   tiny-en/encoder_model.ort, decoder_model_merged.ort, tokenizer.bin
//   LICENSE (MIT), VERSION (the stamp: wheel version and checksum)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOONSHINE_WHEEL = {
  name: 'moonshine-voice',
  version: '0.1.0',
  sha256: '0f833deb43bad5dcfb4cfd3257b6df83ef9abd3f27be3199622fe41932e8d916',
};

const MODEL_FILES = ['encoder_model.ort', 'decoder_model_merged.ort', 'tokenizer.bin'];
const STAMP = `${MOONSHINE_WHEEL.name} ${MOONSHINE_WHEEL.version} sha256:${MOONSHINE_WHEEL.sha256}\n`;

/** The wheel's members that are kept, and where each goes under .tools/moonshine. */
function wanted(member) {
  if (member === 'moonshine_voice/libmoonshine.so') return 'lib/libmoonshine.so';
  const runtime = /^moonshine_voice\.libs\/(libonnxruntime-[0-9a-f]+\.so\.1)$/.exec(member);
  if (runtime) return `lib/${runtime[1]}`;
  const model = /^moonshine_voice\/assets\/tiny-en\/([^/]+)$/.exec(member);
  if (model && MODEL_FILES.includes(model[1])) return `tiny-en/${model[1]}`;
  if (/^moonshine_voice-[^/]+\.dist-info\/licenses\/LICENSE$/.test(member)) return 'LICENSE';
  return undefined;
}

function installed(dir) {
  const stamp = join(dir, 'VERSION');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== STAMP) return false;
  return ['lib/libmoonshine.so', 'LICENSE', ...MODEL_FILES.map((f) => `tiny-en/${f}`)].every((f) =>
    existsSync(join(dir, f)),
  );
}

function run(cmd, args, fail, what) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (res.error?.code === 'ENOENT') return undefined;
  if (res.status !== 0) {
    process.stderr.write(`${res.stdout ?? ''}${res.stderr ?? ''}`.trim().slice(-3000) + '\n');
    fail(`${what} failed (its output is above).`);
  }
  return res.stdout;
}

function checkPip(fail) {
  const out = run('python3', ['-m', 'pip', '--version'], () => undefined, 'pip');
  if (out === undefined || !/^pip /.test(out)) {
    fail(
      'installing the offline speech recognizer (Moonshine) needs python3 with pip; install ' +
        'them (Debian: apt-get install python3-pip) and run npm run setup again.',
    );
  }
}

function downloadWheel(tmp, fail) {
  const spec = `${MOONSHINE_WHEEL.name}==${MOONSHINE_WHEEL.version}`;
  const args = ['-m', 'pip', 'download', spec, '--no-deps', '--only-binary=:all:', '-d', tmp];
  run('python3', [...args, '--quiet', '--disable-pip-version-check'], fail, 'pip download');
  const wheel = readdirSync(tmp).find((f) => f.endsWith('.whl'));
  if (!wheel) fail(`pip download left no wheel for ${spec}.`);
  const path = join(tmp, wheel);
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  if (sha !== MOONSHINE_WHEEL.sha256) {
    fail(
      `${wheel} has sha256 ${sha}, not the pinned ${MOONSHINE_WHEEL.sha256}; refusing to ` +
        'install it (a different build for this platform, or a tampered download).',
    );
  }
  return path;
}

/** Extracts the kept members with Python's zipfile (python3 is already required for pip). */
function unpack(wheel, into, fail) {
  const script = [
    'import json, sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1])',
    'names = json.loads(sys.argv[3])',
    'for n in names: z.extract(n, sys.argv[2])',
  ].join('\n');
  const listing = run(
    'python3',
    [
      '-c',
      'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))',
      wheel,
    ],
    fail,
    'reading the wheel',
  );
  const members = listing.split('\n').filter((m) => wanted(m) !== undefined);
  run('python3', ['-c', script, wheel, into, JSON.stringify(members)], fail, 'unpacking the wheel');
  return members;
}

/** Loads the library the way the agent does (koffi), so a broken layout fails here, not in a call. */
function checkLoads(root, dir, fail) {
  const probe = `const koffi = (await import('koffi')).default;
    const lib = koffi.load(${JSON.stringify(join(dir, 'lib', 'libmoonshine.so'))});
    process.stdout.write(String(lib.func('int32_t moonshine_get_version(void)')()));`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (res.status !== 0) {
    fail(`the Moonshine library in ${dir} does not load: ${res.stderr.trim() || res.signal}`);
  }
}

/** Ensures .tools/moonshine holds the pinned recognizer; returns what it did. */
export function ensureMoonshine(root, fail) {
  const dir = join(root, '.tools', 'moonshine');
  if (installed(dir)) return `Moonshine ${MOONSHINE_WHEEL.version} present`;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(
      `the offline recognizer (Moonshine) is installed for linux-x64 only, not ${process.platform}-${process.arch}.`,
    );
  }
  checkPip(fail);
  const tmp = mkdtempSync(join(tmpdir(), 'callbridge-moonshine-'));
  const staging = `${dir}.${process.pid}.tmp`;
  // `fail` exits the process: what was downloaded and unpacked goes first.
  const failClean = (msg) => {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
    fail(msg);
  };
  try {
    const wheel = downloadWheel(tmp, failClean);
    const unpacked = join(tmp, 'unpacked');
    const members = unpack(wheel, unpacked, failClean);
    rmSync(staging, { recursive: true, force: true });
    for (const m of members) {
      const to = join(staging, wanted(m));
      mkdirSync(join(to, '..'), { recursive: true });
      copyFileSync(join(unpacked, m), to);
    }
    writeFileSync(join(staging, 'VERSION'), STAMP);
    checkLoads(root, staging, failClean);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!installed(dir)) fail(`the Moonshine wheel lacks files the recognizer needs (${dir}).`);
  return `Moonshine ${MOONSHINE_WHEEL.version} installed in .tools/moonshine`;
}
