// The command-line checkers the infra tests run, installed by the setup in the mode `npm test`
// uses (node scripts/setup/ensure.mjs --test-tools: scripts/setup/python-tools.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..', '..');

/** Runs one of the Python tools; its combined output and exit status. */
export function runTool(
  name: 'hadolint' | 'cfn-lint' | 'kubernetes-validate',
  args: string[],
  opts: { cwd?: string; input?: string } = {},
): { status: number; output: string } {
  const bin = join(ROOT, '.tools', 'python', 'bin', name);
  if (!existsSync(bin)) {
    throw new Error(
      `${name} is not installed (${bin}); run: node scripts/setup/ensure.mjs --test-tools`,
    );
  }
  const res = spawnSync(bin, args, {
    cwd: opts.cwd ?? ROOT,
    input: opts.input,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (res.error) throw res.error;
  return { status: res.status ?? -1, output: `${res.stdout}${res.stderr}`.trim() };
}
