// The revision a benchmark measured, for the figures it prints: the commit, and whether the
// working tree differed from it.
import { execSync } from 'node:child_process';
import { ROOT } from '../../lab/stack/local-stack.js';

export function revision(): string {
  try {
    const rev = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
    const dirty = execSync('git status --porcelain', { cwd: ROOT }).toString().trim() !== '';
    return dirty ? `${rev} with local changes` : rev;
  } catch {
    return 'unknown';
  }
}
