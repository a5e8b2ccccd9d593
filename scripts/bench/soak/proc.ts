// What a process holds, from Linux's /proc: its resident memory (VmRSS in /proc/<pid>/status) and
// its open file descriptors (the entries of /proc/<pid>/fd: files, sockets, pipes, epoll and timer
// handles alike). A process that is gone reads as null. Only the lab's own processes are read.
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcUsage {
  rssBytes: number;
  fds: number;
}

/** VmRSS of a /proc/<pid>/status text, in bytes; null when absent (a zombie has none). */
export function parseRssBytes(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * The parent and process group of a /proc/<pid>/stat line. The command name (second field, in
 * parentheses) may itself hold spaces and parentheses: the fields are read after its last ')'.
 */
export function parseStat(stat: string): { ppid: number; pgrp: number } | null {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // state ppid pgrp …
  const ppid = Number(rest[1]);
  const pgrp = Number(rest[2]);
  return Number.isInteger(ppid) && Number.isInteger(pgrp) && rest.length > 2
    ? { ppid, pgrp }
    : null;
}

export function readUsage(pid: number): ProcUsage | null {
  try {
    const rssBytes = parseRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (rssBytes === null) return null;
    return { rssBytes, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null; // exited meanwhile
  }
}

/** The processes of one process group (the agent worker leads its own: its job processes). */
export function processGroup(pgrp: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (parseStat(readFileSync(`/proc/${entry}/stat`, 'utf8'))?.pgrp === pgrp) {
        pids.push(Number(entry));
      }
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** The command line of a process, its arguments joined by spaces ('' once it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}
