// The use cases in the calls table, for operators (docs/configuration.md, "Use cases"): every
// change a new version, the current one a pointer the SMA and the agent read within a minute.
//
//   npm run use-case -- list
//   npm run use-case -- get ID [VERSION]        the body as JSON (edit it, then put it)
//   npm run use-case -- history ID
//   npm run use-case -- put FILE                one use case, or a whole file (defaultUseCase, useCases)
//   npm run use-case -- diff FILE               what put FILE would change
//   npm run use-case -- rollback ID VERSION     VERSION current again, as a new version
//   npm run use-case -- seed [FILE]             a fresh table: FILE (default the bundled file)
//
// Reads CALLS_TABLE, and AWS_ENDPOINT_URL_DYNAMODB for a local table (the lab prints both). A
// file that is not a valid use case is refused with every problem named; nothing is written.
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import bundledUseCases from '../contracts/use-cases.json' with { type: 'json' };
import { UseCaseStore, UseCaseStoreError, type StoredCatalog } from '../store/use-case-store.js';

const USAGE = `usage: npm run use-case -- list
       npm run use-case -- get ID [VERSION]
       npm run use-case -- history ID
       npm run use-case -- put FILE | diff FILE
       npm run use-case -- rollback ID VERSION
       npm run use-case -- seed [FILE]`;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** A file's use cases: one use case, or each of a whole file's (and its default, if any). */
function useCasesIn(data: unknown): { useCases: unknown[]; defaultUseCase?: string } {
  if (
    data &&
    typeof data === 'object' &&
    Array.isArray((data as { useCases?: unknown }).useCases)
  ) {
    const file = data as { useCases: unknown[]; defaultUseCase?: string };
    return { useCases: file.useCases, defaultUseCase: file.defaultUseCase };
  }
  return { useCases: [data] };
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new UsageError(`cannot read ${path}: ${(cause as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new UsageError(`${path} is not valid JSON: ${(cause as Error).message}`);
  }
}

const date = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function listLines(stored: StoredCatalog | undefined): string[] {
  if (!stored) return ['no use cases in the table: the bundled file serves (seed it, or put one)'];
  return [
    `default: ${stored.defaultUseCase}`,
    ...stored.useCases.map((u) => {
      const b = u.body as { name?: string; dialedNumbers?: string[] };
      return `${u.id}  v${u.version}  ${date(u.updatedAt)}  ${b.name ?? ''}  ${(b.dialedNumbers ?? []).join(',')}`;
    }),
  ];
}

/** One line per difference: `~ path: old -> new`, `+ path: new`, `- path: old`. */
export function jsonDiff(before: unknown, after: unknown, path = ''): string[] {
  const show = (v: unknown) => JSON.stringify(v);
  const isObj = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => {
      const p = path ? `${path}.${k}` : k;
      if (!(k in after)) return [`- ${p}: ${show(before[k])}`];
      if (!(k in before)) return [`+ ${p}: ${show(after[k])}`];
      return jsonDiff(before[k], after[k], p);
    });
  }
  if (show(before) === show(after)) return [];
  return [`~ ${path || '(root)'}: ${show(before)} -> ${show(after)}`];
}

async function put(store: UseCaseStore, path: string): Promise<string[]> {
  const { useCases } = useCasesIn(readJson(path));
  // Every use case of the file is checked before any is written.
  const each = await Promise.all(useCases.map((body) => store.problemsOf(body, bundledUseCases)));
  const problems = each.flatMap((ps, i) =>
    ps.map((p) => (useCases.length > 1 ? `useCases.${i}.${p}` : p)),
  );
  if (problems.length) throw new UseCaseStoreError(`${path} is refused`, problems);
  const out: string[] = [];
  if (await store.seed(bundledUseCases))
    out.push('the table held no use cases: seeded from the bundled file');
  for (const body of useCases) {
    const r = await store.put(body);
    out.push(
      r.changed
        ? `${r.id}: version ${r.version} is current`
        : `${r.id}: unchanged (version ${r.version})`,
    );
  }
  return out;
}

async function diff(store: UseCaseStore, path: string): Promise<string[]> {
  const { useCases } = useCasesIn(readJson(path));
  const stored = await store.readStored();
  return useCases.flatMap((body) => {
    const id = String((body as { id?: unknown } | null)?.id ?? '?');
    const current = stored?.useCases.find((u) => u.id === id);
    if (!current) return [`${id}: new use case`];
    const lines = jsonDiff(current.body, body);
    return lines.length
      ? [`${id} (current version ${current.version}):`, ...lines.map((l) => `  ${l}`)]
      : [`${id}: no change`];
  });
}

function versionArg(v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`VERSION must be a whole number from 1\n${USAGE}`);
  return n;
}

/** Runs one command; returns what to print. Throws UsageError or UseCaseStoreError. */
export async function runUseCaseCommand(
  argv: readonly string[],
  store: UseCaseStore,
): Promise<string[]> {
  const [op, a, b, ...extra] = argv;
  if (extra.length) throw new UsageError(USAGE);
  switch (op) {
    case 'list':
      return listLines(await store.readStored());
    case 'get': {
      if (!a) throw new UsageError(USAGE);
      if (b !== undefined) {
        const v = await store.version(a, versionArg(b));
        if (!v) throw new UseCaseStoreError(`use case ${a} has no version ${b}`);
        return [JSON.stringify(JSON.parse(v.Body), null, 2)];
      }
      const current = (await store.readStored())?.useCases.find((u) => u.id === a);
      if (!current) throw new UseCaseStoreError(`no use case ${a} in the table`);
      return [JSON.stringify(current.body, null, 2)];
    }
    case 'history': {
      if (!a) throw new UsageError(USAGE);
      const versions = await store.versions(a);
      if (!versions.length) throw new UseCaseStoreError(`no use case ${a} in the table`);
      const current = (await store.readStored())?.useCases.find((u) => u.id === a)?.version;
      return versions.map(
        (v) =>
          `v${v.Version}  ${date(v.CreatedAt)}  ${v.Change}${v.From ? ` of v${v.From}` : ''}${v.Version === current ? '  (current)' : ''}`,
      );
    }
    case 'put':
      if (!a || b !== undefined) throw new UsageError(USAGE);
      return put(store, a);
    case 'diff':
      if (!a || b !== undefined) throw new UsageError(USAGE);
      return diff(store, a);
    case 'rollback': {
      if (!a) throw new UsageError(USAGE);
      const r = await store.rollback(a, versionArg(b));
      return [
        r.changed
          ? `${r.id}: version ${r.version} (a copy of version ${b}) is current`
          : `${r.id}: version ${b} is already current`,
      ];
    }
    case 'seed': {
      if (b !== undefined) throw new UsageError(USAGE);
      const seeded = await store.seed(a ? readJson(a) : bundledUseCases);
      return [seeded ? 'seeded' : 'the table already holds use cases: nothing written'];
    }
    default:
      throw new UsageError(`unknown command${op ? ` "${op}"` : ''}\n${USAGE}`);
  }
}

async function main(): Promise<number> {
  const table = process.env.CALLS_TABLE;
  if (!table) {
    console.error('use-case: set CALLS_TABLE (docs/configuration.md)');
    return 2;
  }
  const client = new DynamoDBClient({});
  try {
    for (const line of await runUseCaseCommand(
      process.argv.slice(2),
      new UseCaseStore(client, table),
    )) {
      console.log(line);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`use-case: ${err.message}`);
      return 2;
    }
    console.error(`use-case: ${(err as Error).name}: ${(err as Error).message}`);
    return 1;
  } finally {
    client.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
