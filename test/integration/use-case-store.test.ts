// The use cases in the calls table (store/use-case-store.ts) and the cache the SMA and the agent
// read them through (store/use-case-cache.ts), against the real DynamoDB API: dynalite on loopback,
// behind a proxy that can slow it down or take it down.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import bundled from '../../contracts/use-cases.json' with { type: 'json' };
import { parseUseCases } from '../../contracts/use-cases.js';
import { catalogVersions, UseCaseCache } from '../../store/use-case-cache.js';
import { UseCaseStore, UseCaseStoreError } from '../../store/use-case-store.js';
import { ensureCallsTable } from '../../lambdas/sma/table.js';
import { runUseCaseCommand } from '../../scripts/use-case.js';
import { startLocalDynamo, type LocalDynamo } from '../../lab/stack/local-dynamodb.js';
import { startSlowProxy, type SlowProxy } from '../../lab/stack/slow-proxy.js';

const fallback = parseUseCases(bundled, 'bundled use cases');
const city = bundled.useCases[0]!;

let db: LocalDynamo;
let proxy: SlowProxy;
let proxied: DynamoDBClient;
let tables = 0;

beforeAll(async () => {
  db = await startLocalDynamo();
  proxy = await startSlowProxy(db.endpoint);
  proxied = new DynamoDBClient({
    endpoint: proxy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  proxied?.destroy();
  await proxy?.stop();
  await db?.stop();
});

async function freshStore(): Promise<{ store: UseCaseStore; table: string }> {
  const table = `use-cases-it-${++tables}`;
  await ensureCallsTable(db.client, table);
  return { store: new UseCaseStore(db.client, table), table };
}

const withGreeting = (greeting: string) => ({ ...city, greeting });

describe('UseCaseStore', () => {
  it('seeds a fresh table from the bundled file, once', async () => {
    const { store } = await freshStore();
    expect(await store.readCatalog()).toBeUndefined();
    expect(await store.seed(bundled)).toBe(true);
    expect(await store.seed(bundled)).toBe(false);
    const catalog = await store.readCatalog();
    expect(catalog?.file).toEqual(fallback.file);
    expect((await store.versions('city-311')).map((v) => [v.Version, v.Change])).toEqual([
      [1, 'seed'],
    ]);
  });

  it('makes each change a new version and moves the pointer to it', async () => {
    const { store } = await freshStore();
    await store.seed(bundled);
    expect(await store.put(withGreeting('Hello from version two.'))).toEqual({
      id: 'city-311',
      version: 2,
      changed: true,
    });
    expect(await store.put(withGreeting('Hello from version two.'))).toEqual({
      id: 'city-311',
      version: 2,
      changed: false,
    });
    const catalog = await store.readCatalog();
    expect(catalog?.byIdOrUndefined('city-311')?.greeting).toBe('Hello from version two.');
    expect(catalog?.byIdOrUndefined('city-311-residents')?.greeting).toBe(
      bundled.useCases[1]!.greeting,
    );
    expect((await store.versions('city-311')).map((v) => v.Version)).toEqual([1, 2]);
  });

  it('rolls back to an old version as a new one, keeping the history', async () => {
    const { store } = await freshStore();
    await store.seed(bundled);
    await store.put(withGreeting('Version two.'));
    await store.put(withGreeting('Version three.'));
    expect(await store.rollback('city-311', 1)).toEqual({
      id: 'city-311',
      version: 4,
      changed: true,
    });
    const history = await store.versions('city-311');
    expect(history.map((v) => [v.Version, v.Change, v.From])).toEqual([
      [1, 'seed', undefined],
      [2, 'put', undefined],
      [3, 'put', undefined],
      [4, 'rollback', 1],
    ]);
    expect((await store.readCatalog())?.byIdOrUndefined('city-311')?.greeting).toBe(city.greeting);
    await expect(store.rollback('city-311', 9)).rejects.toThrow('has no version 9');
  });

  it('reads the catalog with each use case version, and any one version (a call in progress keeps its own)', async () => {
    const { store } = await freshStore();
    await store.seed(bundled);
    await store.put(withGreeting('Version two.'));
    const catalog = await store.readCatalog();
    expect(catalogVersions(catalog!)?.get('city-311')).toBe(2);
    expect(catalogVersions(catalog!)?.get('city-311-residents')).toBe(1);
    expect((await store.useCaseAt('city-311', 1))?.greeting).toBe(city.greeting);
    expect((await store.useCaseAt('city-311', 2))?.greeting).toBe('Version two.');
    expect(await store.useCaseAt('city-311', 7)).toBeUndefined();

    // An environment that started after the put reads version 1 from the table once.
    const cache = new UseCaseCache({
      read: (abortSignal) => store.readCatalog({ abortSignal }),
      readVersion: (id, version, abortSignal) => store.useCaseAt(id, version, { abortSignal }),
      fallback,
      refreshMs: 60_000,
      timeoutMs: 2000,
      versionTimeoutMs: 2000,
    });
    await cache.refresh();
    expect(cache.versionOf('city-311')).toBe(2);
    expect((await cache.atVersion('city-311', 1))?.greeting).toBe(city.greeting);
    expect((await cache.atVersion('city-311', 2))?.greeting).toBe('Version two.');
  });

  it('refuses an invalid use case with every problem named, and writes nothing', async () => {
    const { store } = await freshStore();
    await store.seed(bundled);
    const bad = {
      ...city,
      greeting: '',
      dialedNumbers: ['+12025550133'], // the residents line's
      defaultQueue: 'billing',
      language: 'Spanish',
    };
    const err = await store.put(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UseCaseStoreError);
    const problems = (err as UseCaseStoreError).problems;
    expect(problems.some((p) => p.startsWith('greeting:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('language:'))).toBe(true);
    expect(problems).toContain('defaultQueue: "billing" is not one of this use case\'s queues');
    expect(problems).toContain(
      'dialedNumbers.0: +12025550133 is already used by city-311-residents',
    );
    expect((await store.versions('city-311')).map((v) => v.Version)).toEqual([1]);
  });

  it('refuses a change whose pointer moved meanwhile', async () => {
    const { store, table } = await freshStore();
    await store.seed(bundled);
    // Another operator's change lands between this one's read and its pointer write.
    const other = new UseCaseStore(db.client, table);
    const racing = new UseCaseStore(db.client, table);
    const readStored = racing.readStored.bind(racing);
    racing.readStored = async (opts) => {
      const stale = await readStored(opts);
      await other.put(withGreeting('The other operator.'));
      return stale;
    };
    await expect(racing.put(withGreeting('Mine.'))).rejects.toThrow('changed meanwhile');
    expect((await store.readCatalog())?.byIdOrUndefined('city-311')?.greeting).toBe(
      'The other operator.',
    );
  });
});

describe('UseCaseCache', () => {
  async function seededCache(timeoutMs = 300) {
    const { store, table } = await freshStore();
    await store.seed(bundled);
    const errors: string[] = [];
    let now = 0;
    const through = new UseCaseStore(proxied, table);
    const cache = new UseCaseCache({
      read: (abortSignal) => through.readCatalog({ abortSignal }),
      fallback,
      refreshMs: 30_000,
      timeoutMs,
      retryMs: 5000,
      now: () => now,
      onError: (code) => errors.push(code),
    });
    return { store, cache, errors, advance: (ms: number) => (now += ms) };
  }

  it('serves the bundled file until the table answers, then the table', async () => {
    const { store, cache } = await seededCache();
    await store.put(withGreeting('From the table.'));
    expect(cache.current()).toBe(fallback);
    await cache.refresh();
    expect(cache.current().byIdOrUndefined('city-311')?.greeting).toBe('From the table.');
    expect(cache.status().source).toBe('table');
  });

  it('takes a change at the next refresh, not before', async () => {
    const { store, cache, advance } = await seededCache();
    await cache.refresh();
    await store.put(withGreeting('Changed.'));
    cache.current();
    expect(cache.current().byIdOrUndefined('city-311')?.greeting).toBe(city.greeting);
    advance(30_000);
    cache.current(); // due: starts the refresh in the background
    await cache.refresh(); // joins it
    expect(cache.current().byIdOrUndefined('city-311')?.greeting).toBe('Changed.');
  });

  it('serves the last good catalog while DynamoDB is slow, answering every read at once', async () => {
    const { store, cache, errors, advance } = await seededCache(200);
    await store.put(withGreeting('Last good.'));
    await cache.refresh();
    await store.put(withGreeting('Not yet read.'));
    proxy.setDelay(1500);
    try {
      advance(30_000);
      const during = cache.current(); // starts a refresh that cannot finish in time
      expect(during.byIdOrUndefined('city-311')?.greeting).toBe('Last good.');
      await cache.refresh();
      expect(errors).toEqual(['timeout']);
      expect(cache.current().byIdOrUndefined('city-311')?.greeting).toBe('Last good.');
    } finally {
      proxy.setDelay(0);
    }
  });

  it('serves the last good catalog while DynamoDB is down, and catches up when it is back', async () => {
    const { store, cache, errors, advance } = await seededCache();
    await cache.refresh();
    await store.put(withGreeting('Made while down.'));
    await proxy.down();
    try {
      advance(30_000);
      await cache.refresh();
      expect(errors.length).toBe(1);
      expect(cache.current().byIdOrUndefined('city-311')?.greeting).toBe(city.greeting);
    } finally {
      await proxy.up();
    }
    advance(5000); // the retry interval
    cache.current();
    await cache.refresh();
    expect(cache.current().byIdOrUndefined('city-311')?.greeting).toBe('Made while down.');
  });

  it('serves the bundled file when DynamoDB is down before any read', async () => {
    const { cache, errors } = await seededCache();
    await proxy.down();
    try {
      await cache.refresh();
    } finally {
      await proxy.up();
    }
    expect(errors.length).toBe(1);
    expect(cache.current()).toBe(fallback);
    expect(cache.status().source).toBe('fallback');
  });
});

describe('npm run use-case', () => {
  const dir = mkdtempSync(join(tmpdir(), 'use-case-cli-'));
  const file = (name: string, data: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(data));
    return path;
  };

  it('puts a file into an empty table after seeding it, and diffs and lists', async () => {
    const { store } = await freshStore();
    const changed = file('changed.json', withGreeting('Hello from the command line.'));
    expect(await runUseCaseCommand(['diff', changed], store)).toEqual(['city-311: new use case']);
    expect(await runUseCaseCommand(['put', changed], store)).toEqual([
      'the table held no use cases: seeded from the bundled file',
      'city-311: version 2 is current',
    ]);
    expect(await runUseCaseCommand(['diff', changed], store)).toEqual(['city-311: no change']);
    const again = file('again.json', withGreeting('Again.'));
    expect(await runUseCaseCommand(['diff', again], store)).toEqual([
      'city-311 (current version 2):',
      '  ~ greeting: "Hello from the command line." -> "Again."',
    ]);
    const list = await runUseCaseCommand(['list'], store);
    expect(list[0]).toBe('default: city-311');
    expect(list.some((l) => l.startsWith('city-311  v2  '))).toBe(true);
    expect(await runUseCaseCommand(['rollback', 'city-311', '1'], store)).toEqual([
      'city-311: version 3 (a copy of version 1) is current',
    ]);
    const history = await runUseCaseCommand(['history', 'city-311'], store);
    expect(history.at(-1)).toMatch(/^v3 .* rollback of v1 {2}\(current\)$/);
  });

  it('refuses an invalid file naming every problem, writing nothing', async () => {
    const { store } = await freshStore();
    await store.seed(bundled);
    const { greeting: _g, ...noGreeting } = city;
    const bad = file('bad.json', {
      ...noGreeting,
      queues: { general: { number: '555-0100' } },
      limits: { maxCallSeconds: 5 },
    });
    const err = await runUseCaseCommand(['put', bad], store).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UseCaseStoreError);
    expect((err as UseCaseStoreError).problems).toEqual([
      'greeting: Invalid input: expected string, received undefined',
      'queues.general.number: must be an E.164 number like +15550100311',
      'limits.maxCallSeconds: Too small: expected number to be >=120',
    ]);
    expect((await store.versions('city-311')).length).toBe(1);
  });
});
