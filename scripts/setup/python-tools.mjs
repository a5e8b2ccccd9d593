// Installs the Python tools the tests run (scripts/setup/requirements-test.txt: hadolint,
// cfn-lint, kubernetes-validate) into a virtual environment, .tools/python, from PyPI at exact
// pins; a fast check when the stamp matches the requirements file. Used in the mode `npm test`
// runs the setup in (--test-tools), so a first `npm start` does not pay for it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PYTHON_TOOLS_DIR = ['.tools', 'python'];

/** The executable of a tool installed in the environment. */
export function pythonTool(root, name) {
  return join(root, ...PYTHON_TOOLS_DIR, 'bin', name);
}

export function ensurePythonTools(root, fail) {
  const dir = join(root, ...PYTHON_TOOLS_DIR);
  const requirements = join(root, 'scripts', 'setup', 'requirements-test.txt');
  const want = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const stamp = join(dir, '.callbridge-requirements');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return 'Python test tools present';
  const run = (cmd, args, what) => {
    const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (res.status === 0) return;
    const out = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    process.stderr.write(`${out}\n`);
    fail(
      `${what} failed (the last lines of its output are above); the tests need python3 with ` +
        'venv and pip (Debian: apt-get install python3-venv python3-pip).',
    );
  };
  rmSync(dir, { recursive: true, force: true });
  run('python3', ['-m', 'venv', dir], 'creating .tools/python');
  run(
    join(dir, 'bin', 'python'),
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-input',
      '--only-binary=:all:',
      '-r',
      requirements,
    ],
    'pip install -r scripts/setup/requirements-test.txt',
  );
  writeFileSync(stamp, want);
  return 'Python test tools installed in .tools/python';
}
