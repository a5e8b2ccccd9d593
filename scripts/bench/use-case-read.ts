// Benchmark of the use-case read on the SMA's NEW_INBOUND_CALL: prints figures, asserts nothing.
//   npm run bench:use-cases [-- --calls 1000 --rounds 5]
// The handler with its real journal and admission against dynalite (a process of its own, on
// loopback), the open use case, three ways, in interleaved rounds so drift hits each alike:
// - `file`: the use cases fixed at start (as before they lived in the table);
// - `table, 30 s`: read through the cache (store/use-case-cache.ts) as deployed, refreshed in the
//   background every 30 s;
// - `table, every call`: the cache due on every call, so each NEW_INBOUND_CALL also starts a
//   background read of the table (the worst case: a refresh overlapping the call's own requests).
// Then the cache's read alone (µs) and one background read of the catalog (ms).
import { metrics } from '@opentelemetry/api';
import { pino } from 'pino';
import bundled from '../../contracts/use-cases.json' with { type: 'json' };
import { LOCAL_SMA_ENV } from '../../lab/chime/local-sma-env.js';
import { SimulatedChimeCall } from '../../lab/chime/simulated-call.js';
import { startLocalDynamoProcess } from '../../lab/stack/local-dynamodb.js';
import { quantile, summary as summarize } from '../../lab/stats.js';
import { DynamoCallAdmission } from '../../lambdas/sma/admission/dynamo-admission.js';
import { loadSmaConfig } from '../../lambdas/sma/config.js';
import { createHandler, type SmaHandler } from '../../lambdas/sma/handler.js';
import { DynamoCallJournal } from '../../lambdas/sma/journal.js';
import { createSmaInstruments } from '../../otel/instruments.js';
import { UseCaseCache, type UseCaseSource } from '../../store/use-case-cache.js';
import { UseCaseStore } from '../../store/use-case-store.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npm run bench:use-cases --', {
  calls: { type: 'string', default: '1000' },
  rounds: { type: 'string', default: '5' },
});
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);
const summary = (samplesMs: number[]) => summarize(samplesMs, 3, true);

const CONFIG = loadSmaConfig({ ...LOCAL_SMA_ENV }, bundled);
const db = await startLocalDynamoProcess({ table: CONFIG.callsTable });
const store = new UseCaseStore(db.client, CONFIG.callsTable);
await store.seed(bundled);

const cacheWith = (refreshMs: number) =>
  new UseCaseCache({
    read: (abortSignal) => store.readCatalog({ abortSignal }),
    fallback: CONFIG.decide.useCases,
    refreshMs,
    timeoutMs: 500,
  });

function handlerWith(useCases: UseCaseSource | undefined): SmaHandler {
  return createHandler({
    config: CONFIG.decide,
    journal: new DynamoCallJournal(db.client, CONFIG.callsTable, {
      timeoutMs: 300,
      ttlSeconds: 3600,
    }),
    admission: new DynamoCallAdmission(db.client, CONFIG.callsTable, CONFIG.admission),
    instruments: createSmaInstruments(metrics.getMeter('bench')),
    logger: pino({ level: 'silent' }),
    now: Date.now,
    useCases,
  });
}

let callers = 0;
/** `count` new calls, each NEW_INBOUND_CALL timed, the caller's hang-up (freeing the slot) not. */
async function timeNewCalls(handler: SmaHandler, count: number): Promise<number[]> {
  const samples: number[] = [];
  const timed = async (e: unknown) => {
    if ((e as { InvocationEventType?: string }).InvocationEventType !== 'NEW_INBOUND_CALL') {
      return handler(e);
    }
    const t = performance.now();
    const r = await handler(e);
    samples.push(performance.now() - t);
    return r;
  };
  for (let i = 0; i < count; i++) {
    const call = new SimulatedChimeCall({
      handler: timed,
      call: {
        transactionId: crypto.randomUUID(),
        smaId: 'bench',
        region: 'us-east-1',
        accountId: '000000000000',
      },
      caller: `+1206${String(callers++ % 100_000).padStart(7, '0')}`,
      dialed: '+12025550131',
      agentAnswers: true,
    });
    await call.startInbound();
    await call.remoteHangup('LEG-A');
  }
  return samples;
}

const steady = cacheWith(30_000);
await steady.refresh();
const eager = cacheWith(0);
await eager.refresh();
const ways: [string, SmaHandler][] = [
  ['file                ', handlerWith(undefined)],
  ['table, 30 s refresh ', handlerWith(steady)],
  ['table, every call   ', handlerWith(eager)],
];
const samples = new Map<string, number[]>(ways.map(([n]) => [n, []]));
const perRound = Math.ceil(CALLS / ROUNDS);
for (const [, h] of ways) await timeNewCalls(h, 100); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, h] of ways) samples.get(name)!.push(...(await timeNewCalls(h, perRound)));
}
console.log(
  `use-case read on NEW_INBOUND_CALL (open use case, journal and admission on dynalite; Node ${process.versions.node})`,
);
const p = (xs: number[], q: number) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    q,
  );
const base = samples.get(ways[0]![0])!;
for (const [name] of ways) {
  const s = samples.get(name)!;
  const d = (q: number) => (p(s, q) - p(base, q)).toFixed(3);
  console.log(`  ${name} ${summary(s)}  (vs file: p50 ${d(0.5)} ms, p99 ${d(0.99)} ms)`);
}
console.log(
  `  background reads started: every call ${eager.status().refreshes + eager.status().failures}`,
);

const reads: number[] = [];
for (let i = 0; i < 200_000; i++) {
  const t = performance.now();
  steady.current();
  reads.push((performance.now() - t) * 1000);
}
reads.sort((a, b) => a - b);
console.log(
  `  cache read (current()): median ${quantile(reads, 0.5).toFixed(2)} µs, p99 ${quantile(reads, 0.99).toFixed(2)} µs`,
);
const catalogReads: number[] = [];
for (let i = 0; i < 200; i++) {
  const t = performance.now();
  await store.readCatalog();
  catalogReads.push(performance.now() - t);
}
console.log(`  one background read of the catalog (query + validation): ${summary(catalogReads)}`);
eager.stop();
await db.stop();
