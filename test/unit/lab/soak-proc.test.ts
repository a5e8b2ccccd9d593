// Reading what a process holds from /proc: VmRSS, and the parent and process group from stat.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  commandLine,
  parseRssBytes,
  parseStat,
  processGroup,
  readUsage,
} from '../../../scripts/bench/soak/proc.js';

describe('parseRssBytes', () => {
  it('reads VmRSS in kB as bytes', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1200000 kB\nVmRSS:\t  312456 kB\nRssAnon:\t 200000 kB\n';
    expect(parseRssBytes(status)).toBe(312_456 * 1024);
  });

  it('is null when the process has no VmRSS (a zombie)', () => {
    expect(parseRssBytes('Name:\tnode\nState:\tZ (zombie)\n')).toBeNull();
  });
});

describe('parseStat', () => {
  it('reads the parent and the process group after the command name', () => {
    expect(parseStat('4242 (node) S 4000 4100 4100 0 -1 4194560 1234')).toEqual({
      ppid: 4000,
      pgrp: 4100,
    });
  });

  it('reads them when the command name holds spaces and parentheses', () => {
    expect(parseStat('77 (a (b) c) R 1 77 77 0')).toEqual({ ppid: 1, pgrp: 77 });
  });

  it('is null for a line it cannot read', () => {
    expect(parseStat('garbage')).toBeNull();
  });
});

describe('proc readers', () => {
  it('read this process: memory, open descriptors, and its place in its process group', () => {
    const usage = readUsage(process.pid);
    expect(usage!.rssBytes).toBeGreaterThan(0);
    expect(usage!.fds).toBeGreaterThan(2);
    const { pgrp } = parseStat(readFileSync(`/proc/${process.pid}/stat`, 'utf8'))!;
    expect(processGroup(pgrp)).toContain(process.pid);
  });

  it('read the command line with its arguments apart, the way the job processes are told apart', () => {
    expect(commandLine(process.pid)).toContain(` ${process.argv[1]}`);
    expect(commandLine(process.pid)).not.toContain('\0');
  });

  it('read a process that is gone as null, and its command line as empty', () => {
    expect(readUsage(2 ** 22 + 1)).toBeNull();
    expect(commandLine(2 ** 22 + 1)).toBe('');
  });
});
