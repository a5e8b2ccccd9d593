// Replays Chime SMA events through the handler, for people debugging calls from their logs.
//
//   npm run sma:replay -- FILE        (FILE: one JSON event per line; `-` reads standard input)
//
// Writes exactly one line to standard output per input line: the handler's JSON response, in
// order. Logs go to standard error. The handler runs with the local default configuration against
// a local DynamoDB (dynalite, in memory). Between events of one TransactionId it behaves as Chime
// does: the previous response's TransactionAttributes go into the next event's CallDetails unless
// that event carries its own.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { LOCAL_SMA_ENV } from '../lab/chime/local-sma-env.js';
import { LOCAL_AWS_ENV, startLocalDynamo } from '../lab/stack/local-dynamodb.js';

type Json = Record<string, unknown>;

function usage(): never {
  process.stderr.write(
    'usage: npm run sma:replay -- FILE   (one Chime event per line; - for stdin)\n',
  );
  process.exit(2);
}

/** Puts the attributes Chime would carry into an event that has none of its own. */
export function carryAttributes(
  event: unknown,
  memory: Map<string, Record<string, string>>,
): unknown {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return event;
  const details = (event as Json)['CallDetails'];
  if (details === null || typeof details !== 'object' || Array.isArray(details)) return event;
  const d = details as Json;
  const tx = d['TransactionId'];
  if (typeof tx !== 'string' || d['TransactionAttributes'] !== undefined) return event;
  const remembered = memory.get(tx);
  if (!remembered) return event;
  return { ...event, CallDetails: { ...d, TransactionAttributes: { ...remembered } } };
}

function transactionIdOf(event: unknown): string | undefined {
  const tx = (event as { CallDetails?: { TransactionId?: unknown } } | null)?.CallDetails
    ?.TransactionId;
  return typeof tx === 'string' ? tx : undefined;
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file || process.argv.length > 3) usage();
  const db = await startLocalDynamo({ table: LOCAL_SMA_ENV.CALLS_TABLE });
  Object.assign(process.env, LOCAL_AWS_ENV, LOCAL_SMA_ENV, {
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  });
  const { handler } = await import('../lambdas/sma/index.js');
  const memory = new Map<string, Record<string, string>>();
  const input = file === '-' ? process.stdin : createReadStream(file);
  input.on('error', (err: Error) => {
    process.stderr.write(`sma:replay: cannot read ${file}: ${err.message}\n`);
    process.exit(2);
  });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n += 1;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      process.stderr.write(
        `sma:replay: line ${n} is not JSON; the handler answers it as malformed\n`,
      );
      event = line;
    }
    event = carryAttributes(event, memory);
    const response = await handler(event);
    const tx = transactionIdOf(event);
    if (tx) memory.set(tx, response.TransactionAttributes);
    process.stdout.write(`${JSON.stringify(response)}\n`);
  }
  await db.stop();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`sma:replay failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
