import { describe, expect, it } from 'vitest';
import { parseUseCases, type UseCase, type UseCaseCatalog } from '../../../contracts/use-cases.js';
import { createHandler } from '../../../lambdas/sma/handler.js';
import { UseCaseCache, versionedCatalog, type ReadVersion } from '../../../store/use-case-cache.js';
import {
  fixture,
  NOW,
  silentLogger,
  testConfig,
  testInstruments,
  USE_CASES_JSON,
  type Json,
} from '../../helpers/sma.js';

const OLD_QUEUE = '+12025550140';
const NEW_QUEUE = '+12025550199';

/** The bundled catalog as the table holds it, city-311 at `version` with its general queue at `number`. */
function stored(version: number, number: string): UseCaseCatalog {
  const file = structuredClone(USE_CASES_JSON) as Json;
  const city = file.useCases.find((u: Json) => u.id === 'city-311');
  city.queues.general.number = number;
  const catalog = parseUseCases(file);
  const versions = new Map(catalog.all.map((u) => [u.id, u.id === 'city-311' ? version : 1]));
  return versionedCatalog(catalog, versions);
}

async function cacheOf(read: () => UseCaseCatalog, readVersion?: ReadVersion) {
  const cache = new UseCaseCache({
    read: async () => read(),
    fallback: parseUseCases(USE_CASES_JSON),
    refreshMs: 3_600_000,
    timeoutMs: 1000,
    versionTimeoutMs: 20,
    readVersion,
  });
  await cache.refresh();
  return cache;
}

function handlerOf(cache: UseCaseCache) {
  const { instruments } = testInstruments();
  return createHandler({
    config: testConfig(),
    journal: { record: async () => ({ event: 'written', state: 'written', errors: [] }) },
    instruments,
    logger: silentLogger,
    now: () => NOW,
    useCases: cache,
  });
}

type Handler = ReturnType<typeof handlerOf>;

/** Starts a call; its TransactionAttributes. */
async function start(handler: Handler): Promise<Record<string, string>> {
  return (await handler(fixture('new-inbound-call'))).TransactionAttributes;
}

/** The agent asks for a transfer, its leg hangs up: the number the caller is bridged to. */
async function transferOf(handler: Handler, started: Record<string, string>): Promise<string> {
  const request = fixture('call-update-requested-transfer');
  Object.assign(request.CallDetails.TransactionAttributes, { version: started.version });
  const requested = await handler(request);
  const hungUp = fixture('action-successful-hangup-leg-b');
  hungUp.CallDetails.TransactionAttributes = requested.TransactionAttributes;
  const bridged = await handler(hungUp);
  const bridge = bridged.Actions.find((a) => a.Type === 'CallAndBridge') as Json;
  expect(bridged.TransactionAttributes.version).toBe(started.version);
  return bridge.Parameters.Endpoints[0].Uri;
}

describe('a call keeps the use case version it started with', () => {
  it('records the version at NEW_INBOUND_CALL; a put mid-call does not change its transfer', async () => {
    let current = stored(1, OLD_QUEUE);
    const cache = await cacheOf(() => current);
    const handler = handlerOf(cache);
    const started = await start(handler);
    expect(started.version).toBe('1');

    current = stored(2, NEW_QUEUE);
    await cache.refresh();
    expect(cache.versionOf('city-311')).toBe(2);
    expect(await transferOf(handler, started)).toBe(OLD_QUEUE);
  });

  it('starts the next call with the new version', async () => {
    let current = stored(1, OLD_QUEUE);
    const cache = await cacheOf(() => current);
    const handler = handlerOf(cache);
    await start(handler);
    current = stored(2, NEW_QUEUE);
    await cache.refresh();

    const next = await start(handler);
    expect(next.version).toBe('2');
    expect(await transferOf(handler, next)).toBe(NEW_QUEUE);
  });

  it('reads the version from the table in an environment that never held it', async () => {
    const asked: string[] = [];
    const old = stored(1, OLD_QUEUE).byIdOrUndefined('city-311')!;
    const cache = await cacheOf(
      () => stored(2, NEW_QUEUE),
      async (id, version) => {
        asked.push(`${id}#${version}`);
        return version === 1 ? old : undefined;
      },
    );
    const handler = handlerOf(cache);
    expect(await transferOf(handler, { version: '1' })).toBe(OLD_QUEUE);
    // Held once read: the next event of the call does not ask again.
    expect(asked).toEqual(['city-311#1']);
  });

  it('serves the current version when the old one cannot be read in budget', async () => {
    const never: ReadVersion = () => new Promise<UseCase | undefined>(() => undefined);
    const cache = await cacheOf(() => stored(2, NEW_QUEUE), never);
    expect(await transferOf(handlerOf(cache), { version: '1' })).toBe(NEW_QUEUE);
  });

  it('records no version when the use cases come from the bundled file', async () => {
    const cache = new UseCaseCache({
      read: async () => undefined,
      fallback: parseUseCases(USE_CASES_JSON),
      refreshMs: 3_600_000,
      timeoutMs: 1000,
    });
    await cache.refresh();
    const started = await start(handlerOf(cache));
    expect(started.useCase).toBe('city-311');
    expect(started.version).toBeUndefined();
  });
});
