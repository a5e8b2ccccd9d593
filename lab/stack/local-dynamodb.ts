// dynalite: the real DynamoDB API, on loopback, in this process or a child process. The lab, `sma:replay`, the
// benchmarks and the integration tests use it; the code under test reaches it through the SDK's
// standard AWS_ENDPOINT_URL_DYNAMODB, exactly as it would reach AWS.
import { getPriority, setPriority } from 'node:os';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import dynalite from 'dynalite';
import { ensureCallsTable } from '../../lambdas/sma/table.js';

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** Its process, when it runs in one of its own (the soak benchmark reads its memory). */
  pid?: number;
  stop(): Promise<void>;
}

/** Credentials and region for a local endpoint (dynalite checks neither). */
export const LOCAL_AWS_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
} as const;

/** A client for the endpoint, the table created if asked, and a stop that closes both. */
async function connect(
  endpoint: string,
  table: string | undefined,
  stopServer: () => Promise<void>,
): Promise<LocalDynamo> {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  if (table) await ensureCallsTable(client, table);
  return {
    endpoint,
    client,
    async stop() {
      client.destroy();
      await stopServer();
    },
  };
}

/**
 * The table's CPU ahead of the calls': a real DynamoDB has CPU of its own, while dynalite shares
 * these two cores with every call of the lab. With ten calls at once (past capacity), it was
 * starved for over the SMA's 3 s journal budget and the journal lost an event a real table would
 * have kept. A higher priority needs CAP_SYS_NICE; without it dynalite runs at the lab's own.
 */
function aheadOfTheCalls(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, Math.max(-20, getPriority(0) - 5));
  } catch {
    // not permitted: the lab's own priority
  }
}

/**
 * dynalite in a process of its own, as a real DynamoDB is remote: its work does not share the
 * event loop of the code being measured (benchmarks, the lab).
 */
export async function startLocalDynamoProcess(opts: { table?: string } = {}): Promise<LocalDynamo> {
  const main = createRequire(import.meta.url).resolve('dynalite');
  const script = `const s=require(${JSON.stringify(main)})({createTableMs:0,deleteTableMs:0,updateTableMs:0});s.listen(0,'127.0.0.1',()=>console.log(s.address().port))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  aheadOfTheCalls(child.pid);
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const db = await connect(`http://127.0.0.1:${line.toString().trim()}`, opts.table, async () => {
    // Stopping twice (a test stops DynamoDB mid-call, then the lab stops) must not wait for an
    // exit that has already happened: a killed process has a signalCode, not an exitCode.
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill();
    await exited;
  });
  return { ...db, pid: child.pid };
}

export async function startLocalDynamo(
  opts: { table?: string; port?: number } = {},
): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return connect(`http://127.0.0.1:${port}`, opts.table, async () => {
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

/** Every item of one call (its state and its journal), read consistently. */
export async function callItems(
  client: DynamoDBClient,
  table: string,
  transactionId: string,
): Promise<Record<string, unknown>[]> {
  const res = await client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `call#${transactionId}` } },
      ConsistentRead: true,
    }),
  );
  return (res.Items ?? []).map((i) => unmarshall(i));
}
