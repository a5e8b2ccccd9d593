// The use cases in the calls table (contracts/use-case-items.ts): read the catalog in one query,
// list a use case's versions, put a new version, roll back to an old one, seed a fresh table.
// Every write is checked against the whole catalog it would make (contracts/use-cases.ts), so the
// table never holds a catalog the SMA or the agent would refuse.
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  CATALOG_SK_RANGE,
  CURRENT_PREFIX,
  DEFAULT_SK,
  MAX_VERSION,
  USE_CASES_PK,
  currentItem,
  currentSk,
  defaultItem,
  useCasePk,
  versionItem,
  versionSk,
  type UseCaseChange,
  type VersionItem,
} from '../contracts/use-case-items.js';
import {
  parseUseCases,
  useCaseFileProblems,
  useCaseSchema,
  type UseCase,
  type UseCaseCatalog,
} from '../contracts/use-cases.js';
import { versionedCatalog } from './use-case-cache.js';

export class UseCaseStoreError extends Error {
  override name = 'UseCaseStoreError';
  constructor(
    message: string,
    /** Each problem of a refused change, one line each (`path: message`). */
    readonly problems: string[] = [],
    options?: ErrorOptions,
  ) {
    super(problems.length ? `${message}:\n  ${problems.join('\n  ')}` : message, options);
  }
}

/** The catalog as stored: the bodies as written, each with its current version. */
export interface StoredCatalog {
  defaultUseCase: string;
  useCases: { id: string; version: number; body: unknown; updatedAt: number }[];
}

export interface PutResult {
  id: string;
  /** The new current version, or the current one when the body was already that. */
  version: number;
  changed: boolean;
}

/** Options of one read: a signal that aborts it (the cache's time budget). */
interface ReadOptions {
  abortSignal?: AbortSignal;
}

export class UseCaseStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  /** The stored catalog, or undefined when the table holds none (never seeded). */
  async readStored(opts: ReadOptions = {}): Promise<StoredCatalog | undefined> {
    const items = await this.queryAll(
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: {
          ':pk': USE_CASES_PK,
          ':lo': CATALOG_SK_RANGE[0],
          ':hi': CATALOG_SK_RANGE[1],
        },
        ConsistentRead: true,
      },
      opts,
    );
    const def = items.find((i) => i.sk === DEFAULT_SK);
    if (!def) return undefined;
    const useCases = items
      .filter((i) => String(i.sk).startsWith(CURRENT_PREFIX))
      .map((i) => {
        const item = currentItem.parse(i);
        return {
          id: item.sk.slice(CURRENT_PREFIX.length),
          version: item.Version,
          body: JSON.parse(item.Body) as unknown,
          updatedAt: item.UpdatedAt,
        };
      });
    return { defaultUseCase: defaultItem.parse(def).DefaultUseCase, useCases };
  }

  /** The stored catalog, validated; undefined when the table holds none. Throws when invalid. */
  async readCatalog(opts: ReadOptions = {}): Promise<UseCaseCatalog | undefined> {
    const stored = await this.readStored(opts);
    if (!stored) return undefined;
    const catalog = parseUseCases(fileOf(stored), `use cases in table ${this.table}`);
    return versionedCatalog(catalog, new Map(stored.useCases.map((u) => [u.id, u.version])));
  }

  /**
   * Use case `id` as it was at `version` (a call in progress keeps the version it started with);
   * undefined when the table holds no such version or its body no longer validates.
   */
  async useCaseAt(
    id: string,
    version: number,
    opts: ReadOptions = {},
  ): Promise<UseCase | undefined> {
    const item = await this.version(id, version, opts);
    if (!item) return undefined;
    const parsed = useCaseSchema.safeParse(JSON.parse(item.Body));
    return parsed.success ? parsed.data : undefined;
  }

  /** Every version of one use case, oldest first. */
  async versions(id: string): Promise<VersionItem[]> {
    const items = await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
      ExpressionAttributeValues: { ':pk': useCasePk(id), ':v': 'version#' },
      ConsistentRead: true,
    });
    return items.map((i) => versionItem.parse(i));
  }

  async version(
    id: string,
    version: number,
    opts: ReadOptions = {},
  ): Promise<VersionItem | undefined> {
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: useCasePk(id), sk: versionSk(version) },
        ConsistentRead: true,
      }),
      { abortSignal: opts.abortSignal },
    );
    return res.Item ? versionItem.parse(res.Item) : undefined;
  }

  /**
   * Writes the bundled (or an operator's) file into a table that holds no use cases: each use case
   * version 1. A table that holds some is left alone (false).
   */
  async seed(file: unknown): Promise<boolean> {
    const problems = useCaseFileProblems(file);
    if (problems.length) throw new UseCaseStoreError('the seed file is invalid', problems);
    const { defaultUseCase, useCases } = file as { defaultUseCase: string; useCases: unknown[] };
    if (await this.readStored()) return false;
    for (const body of useCases) {
      const id = (body as { id: string }).id;
      await this.writeVersion(id, 1, body, 'seed', undefined, undefined);
    }
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: USE_CASES_PK, sk: DEFAULT_SK, DefaultUseCase: defaultUseCase },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
    return true;
  }

  /**
   * A use case's new version (added when its id is new), refused with every problem named when the
   * catalog it would make is invalid. A body equal to the current one changes nothing.
   */
  async put(body: unknown, change: UseCaseChange = 'put', from?: number): Promise<PutResult> {
    const stored = await this.readStored();
    if (!stored) throw new UseCaseStoreError(`table ${this.table} holds no use cases: seed it`);
    const id = idOf(body);
    const current = stored.useCases.find((u) => u.id === id);
    const problems = candidateProblems(stored, id, body);
    if (problems.length) throw new UseCaseStoreError(`use case ${id} is refused`, problems);
    if (current && sameJson(current.body, body)) {
      return { id, version: current.version, changed: false };
    }
    const latest = (await this.versions(id)).at(-1)?.Version ?? 0;
    const version = latest + 1;
    if (version > MAX_VERSION) throw new UseCaseStoreError(`use case ${id} has no versions left`);
    await this.writeVersion(id, version, body, change, from, current?.version ?? null);
    return { id, version, changed: true };
  }

  /**
   * Every problem `body` has as a use case of the stored catalog (its schema, and numbers another
   * use case claims), without writing; the bundled catalog's when the table holds none.
   */
  async problemsOf(body: unknown, seed: unknown): Promise<string[]> {
    const stored = (await this.readStored()) ?? storedOf(seed);
    const id = (body as { id?: unknown } | null)?.id;
    return candidateProblems(stored, typeof id === 'string' ? id : '', body);
  }

  /** Makes an old version current again, as a new version (the history keeps every step). */
  async rollback(id: string, version: number): Promise<PutResult> {
    const old = await this.version(id, version);
    if (!old) throw new UseCaseStoreError(`use case ${id} has no version ${version}`);
    return this.put(JSON.parse(old.Body) as unknown, 'rollback', version);
  }

  /**
   * The version item, then the pointer, only if it still names `expected` (null: no pointer yet).
   * A version whose pointer write lost a race stays in the history, never current.
   */
  private async writeVersion(
    id: string,
    version: number,
    body: unknown,
    change: UseCaseChange,
    from: number | undefined,
    expected: number | null | undefined,
  ): Promise<void> {
    const at = this.now();
    const text = JSON.stringify(body);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: useCasePk(id),
            sk: versionSk(version),
            Version: version,
            Body: text,
            CreatedAt: at,
            Change: change,
            ...(from !== undefined ? { From: from } : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: USE_CASES_PK,
            sk: currentSk(id),
            Version: version,
            Body: text,
            UpdatedAt: at,
          },
          ...(expected === undefined
            ? {}
            : expected === null
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : {
                  ConditionExpression: 'Version = :expected',
                  ExpressionAttributeValues: { ':expected': expected },
                }),
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new UseCaseStoreError(
          `use case ${id} changed meanwhile: read it again and retry`,
          [],
          {
            cause: err,
          },
        );
      }
      throw err;
    }
  }

  private async queryAll(
    input: QueryCommandInput,
    opts: ReadOptions = {},
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }), {
        abortSignal: opts.abortSignal,
      });
      items.push(...(res.Items ?? []));
      start = res.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

/** The stored catalog as a use-case file (contracts/use-cases.ts). */
export function fileOf(stored: StoredCatalog): { defaultUseCase: string; useCases: unknown[] } {
  return { defaultUseCase: stored.defaultUseCase, useCases: stored.useCases.map((u) => u.body) };
}

/** A use-case file as a stored catalog (each use case at version 0), to check a body against. */
function storedOf(file: unknown): StoredCatalog {
  const f = file as { defaultUseCase: string; useCases: { id: string }[] };
  return {
    defaultUseCase: f.defaultUseCase,
    useCases: f.useCases.map((body) => ({ id: body.id, version: 0, body, updatedAt: 0 })),
  };
}

function idOf(body: unknown): string {
  const id = (body as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || id.length === 0) {
    throw new UseCaseStoreError('the use case is refused', ['id: missing']);
  }
  return id;
}

/** Every problem of the catalog `body` would make, its paths relative to the use case. */
function candidateProblems(stored: StoredCatalog, id: string, body: unknown): string[] {
  const others = stored.useCases.filter((u) => u.id !== id).map((u) => u.body);
  const index = others.length;
  const problems = useCaseFileProblems({
    defaultUseCase: stored.defaultUseCase,
    useCases: [...others, body],
  });
  const own = `useCases.${index}.`;
  return problems.map((p) => (p.startsWith(own) ? p.slice(own.length) : p));
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  }
  return v;
}
