// The commands' options (scripts/lib/cli.ts): a bad command line is named with the usage and exit
// 2, `--help` prints the usage, a good one gives the values with their defaults.
import { describe, expect, it } from 'vitest';
import { parseCli, usageOf } from '../../../scripts/lib/cli.js';

const OPTIONS = {
  calls: { type: 'string', default: '20' },
  json: { type: 'boolean', default: false },
} as const;

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    args,
    out: (t: string) => void out.push(t),
    err: (t: string) => void err.push(t),
    exit: (code: number): never => {
      throw new Exit(code);
    },
  };
  try {
    return { values: parseCli('npm run bench:lab --', OPTIONS, io), out, err };
  } catch (e) {
    if (e instanceof Exit) return { code: e.code, out, err };
    throw e;
  }
}

describe('parseCli', () => {
  it('gives the values, defaults filled in', () => {
    expect(run(['--calls', '5']).values).toEqual({ calls: '5', json: false });
    expect(run([]).values).toEqual({ calls: '20', json: false });
    expect(run(['--json']).values).toEqual({ calls: '20', json: true });
  });

  it('names an unknown option, shows the usage and exits 2, without a stack trace', () => {
    const r = run(['--bogus']);
    expect(r.code).toBe(2);
    expect(r.err.join('')).toContain("Unknown option '--bogus'");
    expect(r.err.join('')).toContain('usage: npm run bench:lab -- [options]');
    expect(r.err.join('')).not.toMatch(/\n\s+at /);
  });

  it('names an option given without its value, and a stray argument', () => {
    expect(run(['--calls']).code).toBe(2);
    expect(run(['--calls']).err.join('')).toContain('--calls');
    expect(run(['five']).code).toBe(2);
  });

  it('prints the usage on --help and -h, and exits 0', () => {
    for (const flag of ['--help', '-h']) {
      const r = run([flag]);
      expect(r.code).toBe(0);
      expect(r.out.join('')).toBe(`${usageOf('npm run bench:lab --', OPTIONS)}\n`);
    }
  });
});

describe('usageOf', () => {
  it('lists each option with its value and default', () => {
    expect(usageOf('npm run bench:lab --', OPTIONS, 'Whole lab calls.')).toBe(
      [
        'usage: npm run bench:lab -- [options]',
        '',
        'Whole lab calls.',
        '',
        'options:',
        '  --calls <value> (default 20)',
        '  --json',
        '  --help, -h (this text)',
      ].join('\n'),
    );
  });
});
