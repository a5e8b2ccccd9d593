// Installs the offline speech recognizer, Moonshine, into .tools/moonshine: the C library and the
// ONNX Runtime it links, the models' files and the licences, taken from the model authors' PyPI
// wheels at pinned versions and checksums (both MIT). Nothing is fetched at run time.
// - moonshine-voice: the library the agent runs, and tiny-en, the default model;
// - moonshine-cpp: base-en alone (MOONSHINE_MODEL=base-en: fewer word errors for more CPU,
//   docs/decisions/offline-recognizer.md). Its own library is not kept: it leaked about 40 MB a
//   decode; moonshine-voice's runs the same files. Its decoder is rebuilt once unpacked
//   (moonshine-decoder.py, in a throwaway Python environment with the pins of
//   requirements-moonshine-decoder.txt): as shipped, it turns its int8 weights back into floats for
//   every token. Installed only when asked for (`withBase`: the tests, the speech benchmark,
//   MOONSHINE_MODEL=base-en, the agent's image), beside an install that has tiny-en alone.
//
// Layout (.tools/moonshine/):
//   lib/libmoonshine.so, lib/libonnxruntime-<hash>.so.1   libmoonshine's RPATH starts with
//                                                          $ORIGIN, so its runtime loads from lib/
//   tiny-en/encoder_model.ort, decoder_model_merged.ort, tokenizer.bin
//   base-en/encoder_model.ort, decoder_model_merged.ort, tokenizer.bin
//   LICENSE, LICENSE.moonshine-cpp (MIT), VERSION (the stamp: one line per wheel installed, its
//   version and checksum, and what was done to it)
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

const MODEL_FILES = ['encoder_model.ort', 'decoder_model_merged.ort', 'tokenizer.bin'];
const CPP_DIR = 'moonshine_cpp-0.1.4.data/purelib/moonshine_cpp';
const DECODER_SCRIPT = join(import.meta.dirname, 'moonshine-decoder.py');
const DECODER_REQUIREMENTS = join(import.meta.dirname, 'requirements-moonshine-decoder.txt');

/**
 * The pinned wheels, each with what is kept of it: `wanted(member)` is where a member goes under
 * .tools/moonshine, or undefined; `needs` are the files the install must hold afterwards.
 */
export const MOONSHINE_WHEELS = [
  {
    name: 'moonshine-voice',
    version: '0.1.0',
    sha256: '0f833deb43bad5dcfb4cfd3257b6df83ef9abd3f27be3199622fe41932e8d916',
    wanted(member) {
      if (member === 'moonshine_voice/libmoonshine.so') return 'lib/libmoonshine.so';
      const runtime = /^moonshine_voice\.libs\/(libonnxruntime-[0-9a-f]+\.so\.1)$/.exec(member);
      if (runtime) return `lib/${runtime[1]}`;
      const model = /^moonshine_voice\/assets\/tiny-en\/([^/]+)$/.exec(member);
      if (model && MODEL_FILES.includes(model[1])) return `tiny-en/${model[1]}`;
      if (/^moonshine_voice-[^/]+\.dist-info\/licenses\/LICENSE$/.test(member)) return 'LICENSE';
      return undefined;
    },
    needs: ['lib/libmoonshine.so', 'LICENSE', ...MODEL_FILES.map((f) => `tiny-en/${f}`)],
  },
  {
    name: 'moonshine-cpp',
    version: '0.1.4',
    sha256: 'f7afc662bdd3ef98815ee3b940438b456e77d5a77cea5396ed9c572785412ebd',
    wanted(member) {
      if (member === `${CPP_DIR}/LICENSE`) return 'LICENSE.moonshine-cpp';
      const model = new RegExp(`^${CPP_DIR}/models/base-en/([^/]+)$`).exec(member);
      if (model && MODEL_FILES.includes(model[1])) return `base-en/${model[1]}`;
      return undefined;
    },
    needs: ['LICENSE.moonshine-cpp', ...MODEL_FILES.map((f) => `base-en/${f}`)],
    done: 'decoder int8 (onnxruntime 1.23.2)',
    prepare: (into, tmp, fail) =>
      fastDecoder(join(into, 'base-en', 'decoder_model_merged.ort'), tmp, fail),
  },
];

const stampLine = (w) => `${w.name} ${w.version} sha256:${w.sha256}${w.done ? ` ${w.done}` : ''}\n`;

/** The wheels whose stamp line and files are all in `dir`. */
function installedWheels(dir) {
  const stamp = join(dir, 'VERSION');
  const lines = existsSync(stamp) ? readFileSync(stamp, 'utf8') : '';
  return MOONSHINE_WHEELS.filter(
    (w) => lines.includes(stampLine(w)) && w.needs.every((f) => existsSync(join(dir, f))),
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

function downloadWheel(wanted, tmp, fail) {
  const spec = `${wanted.name}==${wanted.version}`;
  const args = ['-m', 'pip', 'download', spec, '--no-deps', '--only-binary=:all:', '-d', tmp];
  run('python3', [...args, '--quiet', '--disable-pip-version-check'], fail, 'pip download');
  const prefix = `${wanted.name.replace(/-/g, '_')}-${wanted.version}-`;
  const wheel = readdirSync(tmp).find((f) => f.startsWith(prefix) && f.endsWith('.whl'));
  if (!wheel) fail(`pip download left no wheel for ${spec}.`);
  const path = join(tmp, wheel);
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  if (sha !== wanted.sha256) {
    fail(
      `${wheel} has sha256 ${sha}, not the pinned ${wanted.sha256}; refusing to ` +
        'install it (a different build for this platform, or a tampered download).',
    );
  }
  return path;
}

/** Extracts the kept members with Python's zipfile (python3 is already required for pip). */
function unpack(wanted, wheel, into, fail) {
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
  const members = listing.split('\n').filter((m) => wanted.wanted(m) !== undefined);
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

/** Rebuilds base-en's decoder in place (moonshine-decoder.py), in an environment made for it. */
function fastDecoder(decoder, tmp, fail) {
  const venv = join(tmp, 'decoder-venv');
  const python = join(venv, 'bin', 'python');
  const needs = '; it needs python3 with venv and pip (Debian: apt-get install python3-venv).';
  run('python3', ['-m', 'venv', venv], (m) => fail(m + needs), 'making a Python environment');
  const pip = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input'];
  const req = ['--only-binary=:all:', '-r', DECODER_REQUIREMENTS];
  if (run(python, [...pip, ...req], fail, "installing the decoder rebuild's pins") === undefined) {
    fail(`making a Python environment left no ${python}${needs}`);
  }
  const rebuilt = `${decoder}.rebuilt`;
  run(python, [DECODER_SCRIPT, decoder, rebuilt], fail, "rebuilding base-en's decoder");
  renameSync(rebuilt, decoder);
}

/** Downloads the wheels and copies what is kept of each under `into`, prepared. */
function fetchWheels(wheels, into, tmp, fail) {
  for (const w of wheels) {
    const wheel = downloadWheel(w, tmp, fail);
    const unpacked = join(tmp, `unpacked-${w.name}`);
    for (const m of unpack(w, wheel, unpacked, fail)) {
      const to = join(into, w.wanted(m));
      mkdirSync(join(to, '..'), { recursive: true });
      copyFileSync(join(unpacked, m), to);
    }
    w.prepare?.(into, tmp, fail);
  }
}

/**
 * Ensures .tools/moonshine holds the pinned recognizer (tiny-en; base-en too with `withBase`);
 * returns what it did. An install with tiny-en alone gets base-en added beside it.
 */
export function ensureMoonshine(root, fail, { withBase = false } = {}) {
  const dir = join(root, '.tools', 'moonshine');
  const wanted = withBase ? MOONSHINE_WHEELS : MOONSHINE_WHEELS.slice(0, 1);
  const versions = wanted.map((w) => `${w.name} ${w.version}`).join(', ');
  const have = installedWheels(dir);
  const missing = wanted.filter((w) => !have.includes(w));
  if (missing.length === 0) return `Moonshine (${versions}) present`;
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
  // The library's wheel present: the missing models are added to it. Otherwise a fresh install.
  const adding = have.includes(MOONSHINE_WHEELS[0]);
  try {
    rmSync(staging, { recursive: true, force: true });
    fetchWheels(adding ? missing : wanted, staging, tmp, failClean);
    if (adding) {
      for (const f of readdirSync(staging)) {
        rmSync(join(dir, f), { recursive: true, force: true });
        renameSync(join(staging, f), join(dir, f));
      }
      rmSync(staging, { recursive: true, force: true });
      writeFileSync(join(dir, 'VERSION'), [...have, ...missing].map(stampLine).join(''));
    } else {
      writeFileSync(join(staging, 'VERSION'), wanted.map(stampLine).join(''));
      checkLoads(root, staging, failClean);
      rmSync(dir, { recursive: true, force: true });
      renameSync(staging, dir);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (installedWheels(dir).length < wanted.length) {
    fail(`the Moonshine wheels lack files the recognizer needs (${dir}).`);
  }
  return `Moonshine (${versions}) installed in .tools/moonshine`;
}
