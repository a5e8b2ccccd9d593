// The local LiveKit stack: Redis, livekit-server and livekit-sip as real processes on loopback,
// started in order by the supervisor (./supervisor.ts), each healthy before the next starts, each
// logging to a file of its own, all stopped together. When one fails (exits, or never becomes
// healthy) the error names it and carries the tail of its log.
//
// The servers' configuration is the product's: ../../livekit.yaml and ../../sip/livekit/
// livekit-sip.yaml. The supervisor only moves ports (so tests never collide with a running lab)
// and passes the result as the config body.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import * as z from 'zod';
import { freePort, httpOk, redisPing, sipOptionsOk, udpFree } from './net.js';
import { LocalStackError, type RestartOptions, type ServerSpec, Supervisor } from './supervisor.js';

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
  /** ws:// URL of each livekit-server node, the first being `url` (see `nodes`). */
  nodeUrls: string[];
  /** Process ids by server name. */
  pids: Record<string, number>;
  /** Rejects when a server exits while the stack is meant to be up. */
  readonly failed: Promise<never>;
  /**
   * Stops one server (SIGTERM, or `signal`), leaves it down `downMs`, and starts it again on the
   * same ports; resolves once it is healthy, with how long it took to exit (the fault benchmark).
   */
  restart(name: StackServer, opts?: RestartOptions): Promise<{ exitedAfterMs: number }>;
  /**
   * Starts a second livekit-server node (`livekit-server-2`) on the stack's Redis, when there is
   * none yet; resolves with its URL once it is healthy (a planned restart of the first node).
   */
  addNode(): Promise<string>;
  /** Stops the second node (SIGTERM: it drains what it holds) and forgets it. */
  removeNode(): Promise<void>;
  stop(): Promise<void>;
}

/** The servers of the stack, by the names their logs and pids go under. */
export type StackServer = 'redis' | 'livekit-server' | 'livekit-server-2' | 'livekit-sip';

export { LocalStackError, logTail } from './supervisor.js';

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
  // Each port is free when asked for and closed again, so the next ask may return it again: a port
  // already chosen is asked for anew (two servers on one port: the second fails to start).
  const tcp: number[] = [];
  for (let i = 0; i < 20 && tcp.length < 2; i++) {
    const p = await freePort('tcp');
    if (!tcp.includes(p)) tcp.push(p);
  }
  // UDP and TCP on the same number for livekit-sip's signalling.
  let sip = 0;
  for (let i = 0; i < 20 && !sip; i++) {
    const p = await freePort('tcp');
    if (!tcp.includes(p) && (await udpFree(p))) sip = p;
  }
  const rtcUdp = await freePort('udp');
  // An RTP range of 100 ports in 30000-39999 with its first and last port free.
  let rtp = { start: 0, end: 0 };
  for (let i = 0; i < 50 && !rtp.start; i++) {
    const start = 30000 + 100 * Math.floor(Math.random() * 100);
    if ((await udpFree(start)) && (await udpFree(start + 99))) rtp = { start, end: start + 99 };
  }
  if (tcp.length < 2 || !sip || !rtp.start) {
    throw new LocalStackError('could not find free loopback ports for the stack');
  }
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
  /**
   * livekit-server nodes on the one Redis (default 1). The second, `livekit-server-2`, listens on
   * free ports of its own; rooms go to either node, and signalling, agent jobs and the server API
   * reach the room's node through Redis, as in a multi-node deployment. livekit-sip talks to the
   * first (`ws_url`).
   */
  nodes?: 1 | 2;
  log?: (line: string) => void;
}

/** Starts Redis, livekit-server and livekit-sip, each healthy before the next starts. */
export async function startLocalStack(opts: StartOptions = {}): Promise<LocalStack> {
  const ports = opts.ports ?? defaultPorts();
  const logDir = opts.logDir ?? join(ROOT, '.lab', 'logs');
  mkdirSync(logDir, { recursive: true });
  const servers = serverSpecs(ports, logDir, opts.webhookUrls);
  const second = opts.nodes === 2 ? await secondNode(ports, opts.webhookUrls) : undefined;
  if (second) servers.splice(servers.length - 1, 0, second.spec); // before livekit-sip
  const supervisor = new Supervisor(ROOT, logDir, opts.timeoutMs ?? 20_000, opts.log ?? (() => {}));
  try {
    for (const server of servers) await supervisor.launch(server);
  } catch (e) {
    await supervisor.stop();
    throw e;
  }
  const { url, apiKey, apiSecret } = stackAccess(ports);
  const nodeUrls = second ? [url, second.url] : [url];
  return {
    url,
    httpUrl: `http://127.0.0.1:${ports.http}`,
    apiKey,
    apiSecret,
    ports,
    sipAddress: `127.0.0.1:${ports.sip}`,
    logDir,
    env: { LIVEKIT_URL: url, LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret },
    nodeUrls,
    get pids() {
      return supervisor.pids;
    },
    failed: supervisor.failed,
    restart: (name, o) => supervisor.restart(name, o),
    addNode: async () => {
      if (nodeUrls[1]) return nodeUrls[1];
      const node = await secondNode(ports, opts.webhookUrls);
      await supervisor.launch(node.spec);
      nodeUrls.push(node.url);
      return node.url;
    },
    removeNode: async () => {
      if (!nodeUrls[1]) return;
      await supervisor.remove('livekit-server-2');
      nodeUrls.splice(1);
    },
    stop: () => supervisor.stop(),
  };
}

/** The URL and keys of a stack on `ports` (the keys are livekit.yaml's). */
function stackAccess(ports: StackPorts) {
  return { ...localStackCredentials(), url: `ws://127.0.0.1:${ports.http}` };
}

/** The three servers in start order; throws when one is not installed. */
function serverSpecs(ports: StackPorts, logDir: string, webhookUrls?: string[]): ServerSpec[] {
  for (const bin of ['livekit-server', 'livekit-sip']) {
    if (!existsSync(join(TOOLS_BIN, bin))) {
      throw new LocalStackError(
        `${bin} is not installed in .tools/bin; run \`npm run setup\` (scripts/setup/livekit-tools.sh)`,
      );
    }
  }
  const livekitServer = livekitServerSpec('livekit-server', ports, webhookUrls);
  const livekitSip: ServerSpec = {
    name: 'livekit-sip',
    cmd: join(TOOLS_BIN, 'livekit-sip'),
    args: [],
    env: { SIP_CONFIG_BODY: stringify(sipConfig(ports)) },
    healthy: () => sipOptionsOk(ports.sip),
  };
  return [redisServer(ports.redis, logDir), livekitServer, livekitSip];
}

function livekitServerSpec(name: StackServer, ports: StackPorts, webhookUrls?: string[]) {
  return {
    name,
    cmd: join(TOOLS_BIN, 'livekit-server'),
    args: ['--config-body', stringify(livekitConfig(ports, webhookUrls))],
    healthy: () => httpOk(`http://127.0.0.1:${ports.http}/`),
  } satisfies ServerSpec;
}

/**
 * A second livekit-server: the same configuration on an API and a media port of its own (its node
 * id is random), as livekit-server's own multi-node tests run two nodes on one machine.
 */
async function secondNode(ports: StackPorts, webhookUrls?: string[]) {
  const node = { ...ports, http: await freePort('tcp'), rtcUdp: await freePort('udp') };
  return {
    spec: livekitServerSpec('livekit-server-2', node, webhookUrls),
    url: `ws://127.0.0.1:${node.http}`,
  };
}

function redisServer(port: number, dir: string): ServerSpec {
  return {
    name: 'redis',
    cmd: findRedisServer(),
    // A throwaway store: no snapshots, no append-only file, nothing written to disk.
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    healthy: () => redisPing(port),
  };
}

/** livekit.yaml with the stack's ports, and the webhook to the call guard. */
function livekitConfig(ports: StackPorts, webhookUrls?: string[]): Record<string, unknown> {
  const config = parse(readFileSync(LIVEKIT_YAML, 'utf8')) as Record<string, unknown>;
  config.port = ports.http;
  config.redis = { ...(config.redis as object), address: `127.0.0.1:${ports.redis}` };
  config.rtc = { ...(config.rtc as object), udp_port: ports.rtcUdp };
  if (webhookUrls?.length) {
    config.webhook = { api_key: localStackCredentials().apiKey, urls: webhookUrls };
  }
  return config;
}

/** sip/livekit/livekit-sip.yaml with the stack's ports and keys. */
function sipConfig(ports: StackPorts): Record<string, unknown> {
  const { url, apiKey, apiSecret } = stackAccess(ports);
  const config = parse(readFileSync(LIVEKIT_SIP_YAML, 'utf8')) as Record<string, unknown>;
  Object.assign(config, {
    api_key: apiKey,
    api_secret: apiSecret,
    ws_url: url,
    redis: { ...(config.redis as object), address: `127.0.0.1:${ports.redis}` },
    sip_port: ports.sip,
    rtp_port: `${ports.rtp.start}-${ports.rtp.end}`,
  });
  // The health endpoint of livekit-sip listens on every interface; the supervisor checks health
  // over SIP itself (OPTIONS on loopback), as a Voice Connector's origination health check does.
  delete config.health_port;
  return config;
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
