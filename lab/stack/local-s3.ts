// The lab's S3: moto's standalone server (installed by the setup into .tools/moto,
// scripts/setup/local-s3.mjs) on loopback, supervised like the other local servers and stopped
// with them. The code under test reaches it through the SDK's standard AWS_ENDPOINT_URL_S3, as it
// would reach S3 (an IP address as the endpoint makes the SDK address buckets by path).
// docs/decisions/local-s3.md.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { freePort, httpOk } from './net.js';
import { LocalStackError, Supervisor } from './supervisor.js';
import { LOCAL_AWS_ENV } from './local-dynamodb.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const LOCAL_S3_PYTHON = join(ROOT, '.tools', 'moto', 'bin', 'python');

/** The lab's recordings bucket (RECORDINGS_BUCKET). */
export const LAB_RECORDINGS_BUCKET = 'callbridge-lab-recordings';

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  client: S3Client;
  /** AWS_ENDPOINT_URL_S3 and RECORDINGS_BUCKET for the processes that write recordings. */
  env: { AWS_ENDPOINT_URL_S3: string; RECORDINGS_BUCKET: string };
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface LocalS3Options {
  /** Where its log goes (default .lab/logs/local-s3). */
  logDir?: string;
  bucket?: string;
  log?: (line: string) => void;
}

/** Starts the local S3 on a free loopback port, with the bucket created. */
export async function startLocalS3(opts: LocalS3Options = {}): Promise<LocalS3> {
  if (!existsSync(LOCAL_S3_PYTHON)) {
    throw new LocalStackError(
      'the local S3 (moto) is not installed in .tools/moto; run `npm run setup` ' +
        '(scripts/setup/local-s3.mjs)',
    );
  }
  // A directory per process: the supervisor keeps its pid file there, and kills what a pid file
  // in its directory names. Labs and tests run side by side, so each has its own; those of
  // processes that are gone (killed outright) are cleaned up here.
  const root = join(ROOT, '.lab', 'logs', 'local-s3');
  if (!opts.logDir) cleanUpAfterTheDead(root);
  const logDir = opts.logDir ?? join(root, String(process.pid));
  mkdirSync(logDir, { recursive: true });
  const bucket = opts.bucket ?? LAB_RECORDINGS_BUCKET;
  // Once, moto answered the first CreateBucket with a 404 right after its health check passed (the
  // cause is not known: the port, free when picked, is bound only a second later, and moto builds
  // its S3 backend on the first request). An attempt whose bucket is refused starts over, on
  // another port with a fresh server.
  let lastError: unknown;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freePort('tcp');
    const endpoint = `http://127.0.0.1:${port}`;
    const supervisor = new Supervisor(ROOT, logDir, 20_000, opts.log ?? (() => {}));
    await supervisor.launch({
      name: 'moto',
      cmd: LOCAL_S3_PYTHON,
      args: ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)],
      env: { PYTHONDONTWRITEBYTECODE: '1' },
      healthy: () => httpOk(`${endpoint}/moto-api/`),
    });
    const client = localS3Client(endpoint);
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return started(endpoint, bucket, client, supervisor);
    } catch (e) {
      lastError = e;
      client.destroy();
      await supervisor.stop();
    }
  }
  throw lastError;
}

/** Tries at most this many ports (see startLocalS3). */
const PORT_ATTEMPTS = 3;

function started(
  endpoint: string,
  bucket: string,
  client: S3Client,
  supervisor: Supervisor,
): LocalS3 {
  return {
    endpoint,
    bucket,
    client,
    env: { AWS_ENDPOINT_URL_S3: endpoint, RECORDINGS_BUCKET: bucket },
    pid: supervisor.pids['moto'],
    async stop() {
      client.destroy();
      await supervisor.stop();
    },
  };
}

/** The local S3s of processes that are gone: their servers killed, their directories removed. */
function cleanUpAfterTheDead(root: string): void {
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) {
    if (!/^\d+$/.test(name) || alive(Number(name))) continue;
    const dir = join(root, name);
    void new Supervisor(ROOT, dir, 0, () => {}).stop(); // kills what its pid file names
    rmSync(dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A client for the local S3 (moto checks no credentials). */
export function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    forcePathStyle: true,
  });
}

/** The keys under `prefix` in `bucket`. */
export async function listKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!).filter(Boolean);
}

/** An object's bytes and metadata. */
export async function readObject(client: S3Client, bucket: string, key: string) {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return {
    bytes: Buffer.from(await res.Body!.transformToByteArray()),
    metadata: res.Metadata ?? {},
    contentType: res.ContentType,
  };
}

/** Whether an object exists. */
export async function objectExists(client: S3Client, bucket: string, key: string) {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}
