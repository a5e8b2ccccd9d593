// The allow and block lists, for operators (docs/verification.md): the `access#...` items of
// contracts/callers.ts in the calls table, which the SMA reads on each new call.
//
//   npm run access -- allow|block|remove NUMBER [--use-case ID|*]   (default: every use case, *)
//   npm run access -- check NUMBER
//
// Reads CALLS_TABLE and CALLER_KEY_SECRET (the deployment's: a key made with another secret finds
// nothing), and AWS_ENDPOINT_URL_DYNAMODB for a local table. The number is printed only here, to
// the operator's terminal; the table holds its key.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import bundledUseCases from '../contracts/use-cases.json' with { type: 'json' };
import { type AccessList, accessSk, callerKey, callerPk } from '../contracts/callers.js';
import { isE164, useCaseId } from '../contracts/ids.js';
import { loadUseCases } from '../contracts/use-cases.js';
import { MAX_ATTEMPTS } from '../lambdas/verify/codes.js';
import { envSchema } from '../lambdas/verify/config.js';

export type AccessCommand =
  | { op: 'allow' | 'block' | 'remove'; number: string; useCase: string }
  | { op: 'check'; number: string };

const USAGE = `usage: npm run access -- allow|block|remove NUMBER [--use-case ID|*]
       npm run access -- check NUMBER
NUMBER is E.164 (+15550100311); without --use-case the entry applies to every use case (*).`;

/** The command line, or what is wrong with it (never echoing the number). */
export function parseAccessArgs(
  argv: readonly string[],
  knownUseCases: readonly string[],
): AccessCommand | { error: string } {
  const [op, number, ...rest] = argv;
  if (op !== 'allow' && op !== 'block' && op !== 'remove' && op !== 'check') {
    return { error: `unknown command${op ? ` "${op}"` : ''}\n${USAGE}` };
  }
  if (!isE164(number)) return { error: `NUMBER must be E.164, like +15550100311\n${USAGE}` };
  if (op === 'check') {
    return rest.length === 0 ? { op, number } : { error: `check takes only NUMBER\n${USAGE}` };
  }
  if (rest.length === 0) return { op, number, useCase: '*' };
  const [flag, id, ...extra] = rest;
  if (flag !== '--use-case' || id === undefined || extra.length > 0) return { error: USAGE };
  if (id !== '*' && !(useCaseId.safeParse(id).success && knownUseCases.includes(id))) {
    return { error: `no use case "${id}"; known: ${knownUseCases.join(', ')}, or * for all` };
  }
  return { op, number, useCase: id };
}

/** One line per item of the caller: what the SMA will make of the number. */
export function describeCaller(items: Record<string, unknown>[], nowMs: number): string[] {
  const date = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString() : '?');
  const lines = items.flatMap((i): string[] => {
    const sk = String(i.sk);
    if (sk === 'verified') return [`verified at ${date(i.VerifiedAt)}`];
    if (sk.startsWith('access#')) return [`${i.List} for ${sk.slice('access#'.length)}`];
    if (sk === 'code') {
      const live = typeof i.ExpiresAt === 'number' && i.ExpiresAt * 1000 > nowMs;
      return [
        live ? `code pending, ${i.Attempts} of ${MAX_ATTEMPTS} attempts used` : 'code expired',
      ];
    }
    return [];
  });
  return lines.length > 0 ? lines : ['no verification, no allow or block entry'];
}

async function run(cmd: AccessCommand, table: string, secret: string): Promise<string[]> {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const pk = callerPk(callerKey(cmd.number, secret));
  try {
    if (cmd.op === 'check') {
      const res = await doc.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ConsistentRead: true,
        }),
      );
      return describeCaller(res.Items ?? [], Date.now()).map((l) => `${cmd.number}: ${l}`);
    }
    const Key = { pk, sk: accessSk(cmd.useCase) };
    if (cmd.op === 'remove') {
      const res = await doc.send(
        new DeleteCommand({ TableName: table, Key, ReturnValues: 'ALL_OLD' }),
      );
      const what = res.Attributes ? `removed ${res.Attributes.List}` : 'had no entry';
      return [`${cmd.number}: ${what} for ${cmd.useCase}`];
    }
    const list: AccessList = cmd.op;
    await doc.send(
      new PutCommand({ TableName: table, Item: { ...Key, List: list, UpdatedAt: Date.now() } }),
    );
    return [`${cmd.number}: ${list} for ${cmd.useCase}`];
  } finally {
    doc.destroy();
  }
}

async function main(): Promise<number> {
  const env = envSchema.pick({ CALLS_TABLE: true, CALLER_KEY_SECRET: true }).safeParse(process.env);
  if (!env.success) {
    const names = [...new Set(env.error.issues.map((i) => String(i.path[0])))];
    console.error(`access: set ${names.join(' and ')} (docs/configuration.md)`);
    return 2;
  }
  const useCases = loadUseCases(process.env.USE_CASES_FILE || undefined, bundledUseCases);
  const cmd = parseAccessArgs(
    process.argv.slice(2),
    useCases.all.map((u) => u.id),
  );
  if ('error' in cmd) {
    console.error(`access: ${cmd.error}`);
    return 2;
  }
  try {
    for (const line of await run(cmd, env.data.CALLS_TABLE, env.data.CALLER_KEY_SECRET)) {
      console.log(line);
    }
    return 0;
  } catch (err) {
    console.error(`access: ${(err as Error).name}: ${(err as Error).message}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
