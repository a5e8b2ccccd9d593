// Benchmark of the SMA handler: prints figures, asserts nothing.
//   npm run bench:sma [-- --events 10000]
// - bundle size (esbuild, as deployed);
// - module initialisation (cold start) of the bundle in fresh Node processes;
// - handler time per invocation over N events of whole simulated calls, without DynamoDB and
//   against dynalite (the real DynamoDB API, in a process of its own, on loopback).
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { metrics } from '@opentelemetry/api';
import { createSmaInstruments } from '../../otel/instruments.js';
import { loadSmaConfig } from '../../lambdas/sma/config.js';
import { LOCAL_SMA_ENV } from '../../lab/chime/local-sma-env.js';
import { createHandler, type SmaHandler } from '../../lambdas/sma/handler.js';
import { DynamoCallJournal, noJournal, type CallJournal } from '../../lambdas/sma/journal.js';
import { SimulatedChimeCall } from '../../lab/chime/simulated-call.js';
import useCases from '../../contracts/use-cases.json' with { type: 'json' };
import { SMA_BUNDLE, buildSma, describeSize } from '../build-sma.js';
import { startLocalDynamoProcess } from '../../lab/stack/local-dynamodb.js';
import { summary as summarize } from '../../lab/stats.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000' },
    'cold-runs': { type: 'string', default: '15' },
  },
});
const EVENTS = Number(values.events);

const summary = (samplesMs: number[]) => summarize(samplesMs, 3, true);

function handlerWith(journal: CallJournal): SmaHandler {
  const config = loadSmaConfig({ ...LOCAL_SMA_ENV }, useCases);
  return createHandler({
    config: config.decide,
    journal,
    instruments: createSmaInstruments(metrics.getMeter('bench')),
    logger: pino({ level: 'silent' }),
    now: Date.now,
  });
}

/** Runs whole calls (four call shapes in turn) until `count` events were handled; times each. */
async function timeEvents(handler: SmaHandler, count: number): Promise<number[]> {
  const samples: number[] = [];
  const timed = async (e: unknown) => {
    const t = performance.now();
    const r = await handler(e);
    samples.push(performance.now() - t);
    return r;
  };
  for (let i = 0; samples.length < count; i++) {
    const shape = i % 4;
    const call = new SimulatedChimeCall({
      handler: timed,
      call: {
        transactionId: crypto.randomUUID(),
        smaId: 'bench',
        region: 'us-east-1',
        accountId: '000000000000',
      },
      caller: '+12065550100',
      dialed: '+12025550131',
      agentAnswers: shape !== 2,
      numberAnswers: () => shape !== 3,
    });
    await call.startInbound();
    if (shape === 1) await call.requestHangup();
    else await call.requestTransfer('general', Date.now());
    await call.remoteHangup('LEG-A');
  }
  return samples.slice(0, count);
}

function coldStarts(runs: number): number[] {
  const script = `const t=performance.now();await import(${JSON.stringify(SMA_BUNDLE)});process.stdout.write(String(performance.now()-t));`;
  const env = {
    ...process.env,
    ...LOCAL_SMA_ENV,
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    LOG_LEVEL: 'silent',
  };
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const ms = execFileSync(
      process.execPath,
      ['--no-warnings', '--input-type=module', '-e', script],
      { env, encoding: 'utf8' },
    );
    out.push(Number(ms));
  }
  return out;
}

console.log(
  `SMA handler benchmark (Node ${process.versions.node}, ${(await import('node:os')).cpus().length} cores)`,
);
console.log(`bundle: ${describeSize(await buildSma())}`);
console.log(
  `cold start (bundle import, fresh process): ${summary(coldStarts(Number(values['cold-runs'])))}`,
);

await timeEvents(handlerWith(noJournal), 1000); // warm-up
console.log(
  `handler without DynamoDB:   ${summary(await timeEvents(handlerWith(noJournal), EVENTS))}`,
);

const db = await startLocalDynamoProcess({ table: LOCAL_SMA_ENV.CALLS_TABLE });
const journal = new DynamoCallJournal(db.client, LOCAL_SMA_ENV.CALLS_TABLE, {
  timeoutMs: 300,
  ttlSeconds: 3600,
});
await timeEvents(handlerWith(journal), 500); // warm-up
console.log(
  `handler against dynalite:   ${summary(await timeEvents(handlerWith(journal), EVENTS))}`,
);
await db.stop();
