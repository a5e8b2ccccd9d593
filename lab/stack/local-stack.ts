// The local LiveKit stack's supervisor: Redis, livekit-server and livekit-sip as real processes on
// loopback. Each server starts in order, is waited on until it answers its own health check, logs
// to a file of its own, and is stopped with the others. When one fails (exits, or never becomes
// healthy) the error names it and carries the tail of its log.
//
// The servers' configuration is the product's: ../../livekit.yaml and ../../sip/livekit/
// livekit-sip.yaml. The supervisor only moves ports (so tests never collide with a running lab)
// and passes the result as the config body.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import * as z from 'zod';
import { freePort, httpOk, redisPing, sipOptionsOk, udpFree } from './net.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const TOOLS_BIN = join(ROOT, '.tools', 'bin');
export const LIVEKIT_YAML = join(ROOT, 'livekit.yaml');
export const LIVEKIT_SIP_YAML = join(ROOT, 'sip', 'livekit', 'livekit-sip.yaml');

/** Every port the stack listens on (all on 127.0.0.1). */
export interface StackPorts {
  redis: number;
  /** livekit-server HTTP/WebSocket API. */
  http: number;
  /** livekit-server WebRTC over UDP (one muxed port). */
  rtcUdp: number;
  /** livekit-sip signalling, UDP and TCP. */
  sip: number;
  /** livekit-sip RTP range, inclusive. */
  rtp: { start: number; end: number };
}

export interface LocalStack {
  /** ws:// URL for agents and clients. */
  url: string;
  /** http:// URL for the server APIs (RoomService, SIP, AgentDispatch). */
  httpUrl: string;
  apiKey: string;
  apiSecret: string;
  ports: StackPorts;
  /** The SIP address of livekit-sip, as a trunk or Voice Connector points at it. */
  sipAddress: string;
  logDir: string;
  /** Environment for processes that talk to this stack (agent worker, lk, livekit-sip). */
  env: Record<string, string>;
  /** Process ids by server name. */
  pids: Record<string, number>;
  /** Rejects when a server exits while the stack is meant to be up. */
  readonly failed: Promise<never>;
  stop(): Promise<void>;
}

export class LocalStackError extends Error {
  override name = 'LocalStackError';
}

const livekitYamlSchema = z.object({
  port: z.number().int(),
  keys: z.record(z.string(), z.string().min(32)).refine((k) => Object.keys(k).length > 0, {
    message: 'needs at least one key',
  }),
  redis: z.object({ address: z.string() }),
  rtc: z.object({ udp_port: z.number().int() }).loose(),
});
const sipYamlSchema = z.object({
  sip_port: z.number().int(),
  rtp_port: z.string().regex(/^\d+-\d+$/),
});

/** The ports of the committed configuration: what `npm start` uses. */
export function defaultPorts(): StackPorts {
  const lk = readYaml(LIVEKIT_YAML, livekitYamlSchema);
  const sip = readYaml(LIVEKIT_SIP_YAML, sipYamlSchema);
  const [start, end] = sip.rtp_port.split('-').map(Number) as [number, number];
  return {
    redis: Number(lk.redis.address.split(':').pop()),
    http: lk.port,
    rtcUdp: lk.rtc.udp_port,
    sip: sip.sip_port,
    rtp: { start, end },
  };
}

/** URL and keys of the local stack as `npm start` runs it (livekit.yaml). */
export function localStackCredentials(): { url: string; apiKey: string; apiSecret: string } {
  const lk = readYaml(LIVEKIT_YAML, livekitYamlSchema);
  const [apiKey, apiSecret] = Object.entries(lk.keys)[0] as [string, string];
  return { url: `ws://127.0.0.1:${lk.port}`, apiKey, apiSecret };
}

/** Free loopback ports for a stack of its own (tests, benchmarks). */
export async function freePorts(): Promise<StackPorts> {
  const tcp: number[] = [];
  while (tcp.length < 2) tcp.push(await freePort('tcp'));
  // UDP and TCP on the same number for livekit-sip's signalling.
  let sip = 0;
  for (let i = 0; i < 20 && !sip; i++) {
    const p = await freePort('tcp');
    if (await udpFree(p)) sip = p;
  }
  const rtcUdp = await freePort('udp');
  // An RTP range of 100 ports in 30000-39999 with its first and last port free.
  let rtp = { start: 0, end: 0 };
  for (let i = 0; i < 50 && !rtp.start; i++) {
    const start = 30000 + 100 * Math.floor(Math.random() * 100);
    if ((await udpFree(start)) && (await udpFree(start + 99))) rtp = { start, end: start + 99 };
  }
  if (!sip || !rtp.start) throw new LocalStackError('could not find free ports for livekit-sip');
  const [redis, http] = tcp as [number, number];
  return { redis, http, rtcUdp, sip, rtp };
}

export interface StartOptions {
  ports?: StackPorts;
  /** Where each server's log goes (default .lab/logs). */
  logDir?: string;
  /** Start-up budget per server. */
  timeoutMs?: number;
  /** Where livekit-server posts its webhooks (signed with the stack's key): the call guard. */
  webhookUrls?: string[];
  log?: (line: string) => void;
}

interface Managed {
  name: string;
  child: ChildProcess;
  logFile: string;
  stopping: boolean;
}

/** Starts Redis, livekit-server and livekit-sip, each healthy before the next starts. */
export async function startLocalStack(opts: StartOptions = {}): Promise<LocalStack> {
  const ports = opts.ports ?? defaultPorts();
  const logDir = opts.logDir ?? join(ROOT, '.lab', 'logs');
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const log = opts.log ?? (() => {});
  mkdirSync(logDir, { recursive: true });
  const pidFile = join(logDir, 'stack.pids');
  killStale(pidFile);
  for (const bin of ['livekit-server', 'livekit-sip']) {
    if (!existsSync(join(TOOLS_BIN, bin))) {
      throw new LocalStackError(
        `${bin} is not installed in .tools/bin; run \`npm run setup\` (scripts/setup/livekit-tools.sh)`,
      );
    }
  }
  const redisServer = findRedisServer();

  const { apiKey, apiSecret } = localStackCredentials();
  const redisAddress = `127.0.0.1:${ports.redis}`;
  const url = `ws://127.0.0.1:${ports.http}`;

  const livekitConfig = parse(readFileSync(LIVEKIT_YAML, 'utf8')) as Record<string, unknown>;
  livekitConfig.port = ports.http;
  livekitConfig.redis = { ...(livekitConfig.redis as object), address: redisAddress };
  livekitConfig.rtc = { ...(livekitConfig.rtc as object), udp_port: ports.rtcUdp };
  if (opts.webhookUrls?.length) {
    livekitConfig.webhook = { api_key: apiKey, urls: opts.webhookUrls };
  }

  const sipConfig = parse(readFileSync(LIVEKIT_SIP_YAML, 'utf8')) as Record<string, unknown>;
  Object.assign(sipConfig, {
    api_key: apiKey,
    api_secret: apiSecret,
    ws_url: url,
    redis: { ...(sipConfig.redis as object), address: redisAddress },
    sip_port: ports.sip,
    rtp_port: `${ports.rtp.start}-${ports.rtp.end}`,
  });
  // The health endpoint of livekit-sip listens on every interface; the supervisor checks health
  // over SIP itself (OPTIONS on loopback), as a Voice Connector's origination health check does.
  delete sipConfig.health_port;

  const managed: Managed[] = [];
  let rejectFailed: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  failed.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection

  const killAll = () => {
    for (const m of managed) if (m.child.exitCode === null) m.child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const stop = async () => {
    process.off('exit', killAll);
    for (const m of [...managed].reverse()) {
      m.stopping = true;
      if (m.child.exitCode !== null || m.child.signalCode !== null) continue;
      m.child.kill('SIGTERM');
      const exited = once(m.child, 'exit');
      const timer = setTimeout(() => m.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(pidFile, { force: true });
  };

  const launch = async (
    name: string,
    cmd: string,
    args: string[],
    env: Record<string, string>,
    healthy: () => Promise<boolean>,
  ) => {
    const logFile = join(logDir, `${name}.log`);
    const fd = openSync(logFile, 'w');
    const started = Date.now();
    const child = spawn(cmd, args, {
      cwd: ROOT,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env },
    });
    closeSync(fd);
    const m: Managed = { name, child, logFile, stopping: false };
    managed.push(m);
    writeFileSync(pidFile, managed.map((x) => `${x.child.pid} ${x.name}`).join('\n'));
    let exited: string | null = null;
    child.on('error', (e) => {
      exited = `could not start (${e.message})`;
    });
    child.on('exit', (code, signal) => {
      exited = `exited with ${signal ?? `code ${code}`}`;
      if (!m.stopping) {
        rejectFailed(new LocalStackError(`${name} ${exited}\n${logTail(logFile, name)}`));
      }
    });
    while (!(await healthy().catch(() => false))) {
      if (exited) {
        await stop();
        throw new LocalStackError(`${name} ${exited} during start-up\n${logTail(logFile, name)}`);
      }
      if (Date.now() - started > timeoutMs) {
        await stop();
        throw new LocalStackError(
          `${name} was not healthy after ${timeoutMs} ms\n${logTail(logFile, name)}`,
        );
      }
      await sleep(50);
    }
    log(`${name} healthy in ${Date.now() - started} ms (log: ${logFile})`);
  };

  try {
    await launch(
      'redis',
      redisServer,
      [
        '--port',
        String(ports.redis),
        '--bind',
        '127.0.0.1',
        // A throwaway store: no snapshots, no append-only file, nothing written to disk.
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        logDir,
      ],
      {},
      () => redisPing(ports.redis),
    );
    await launch(
      'livekit-server',
      join(TOOLS_BIN, 'livekit-server'),
      ['--config-body', stringify(livekitConfig)],
      {},
      () => httpOk(`http://127.0.0.1:${ports.http}/`),
    );
    await launch(
      'livekit-sip',
      join(TOOLS_BIN, 'livekit-sip'),
      [],
      { SIP_CONFIG_BODY: stringify(sipConfig) },
      () => sipOptionsOk(ports.sip),
    );
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    url,
    httpUrl: `http://127.0.0.1:${ports.http}`,
    apiKey,
    apiSecret,
    ports,
    sipAddress: `127.0.0.1:${ports.sip}`,
    logDir,
    env: { LIVEKIT_URL: url, LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret },
    pids: Object.fromEntries(managed.map((m) => [m.name, m.child.pid as number])),
    failed,
    stop,
  };
}

/**
 * Servers a previous supervisor started and could not stop (it was killed outright): killed, so
 * their ports are free again. Only processes still running the binary recorded are touched.
 */
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

function killStale(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  for (const line of readFileSync(pidFile, 'utf8').split('\n')) {
    const [pid, name] = line.split(' ');
    if (!pid || !name) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone
    }
    const binary = name === 'redis' ? 'redis-server' : name;
    if (cmdline.includes(binary)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // exited meanwhile
      }
      // Its ports are free once it is gone: wait for that (a moment at most).
      const until = Date.now() + 2000;
      while (existsSync(`/proc/${pid}`) && Date.now() < until) Atomics.wait(SLEEPER, 0, 0, 20);
    }
  }
  rmSync(pidFile, { force: true });
}

function readYaml<T>(file: string, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new LocalStackError(`${file}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

function findRedisServer(): string {
  for (const p of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    if (existsSync(p)) return p;
  }
  throw new LocalStackError(
    'redis-server is not installed; run `npm run setup` (or apt-get install redis-server)',
  );
}

/** The last lines of a server's log, for an error that names it. */
export function logTail(file: string, name: string, lines = 20): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return `(no log at ${file})`;
  }
  const tail = text.trimEnd().split('\n').slice(-lines);
  return [`--- last ${tail.length} lines of ${name}'s log (${file}) ---`, ...tail].join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
