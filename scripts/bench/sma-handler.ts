// Benchmark of the SMA handler: prints figures, asserts nothing.
//   npm run bench:sma [-- --events 10000 --calls 2000 --tokens 10000]
// - bundle size (esbuild, as deployed);
// - module initialisation (cold start) of the bundle in fresh Node processes;
// - handler time per invocation over N events of whole simulated calls, without DynamoDB and
//   against dynalite (the real DynamoDB API, in a process of its own, on loopback);
// - NEW_INBOUND_CALL alone with admission against dynalite, for the verified use case (access,
//   rate, the use case's and the deployment's caps) and the open one (block list, deployment cap);
// - the agent's check of a call token (verifyCallToken), in microseconds.
import { execFileSync } from 'node:child_process';
import { pino } from 'pino';
import { metrics } from '@opentelemetry/api';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  type BatchWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { createSmaInstruments } from '../../otel/instruments.js';
import { signCallToken, verifyCallToken } from '../../contracts/call-token.js';
import { VERIFIED_SK, callerKey, callerPk } from '../../contracts/callers.js';
import { loadSmaConfig, type SmaConfig } from '../../lambdas/sma/config.js';
import { DynamoCallAdmission } from '../../lambdas/sma/admission/dynamo-admission.js';
import type { CallAdmission } from '../../lambdas/sma/admission/types.js';
import { LOCAL_SMA_ENV } from '../../lab/chime/local-sma-env.js';
import { createHandler, type SmaHandler } from '../../lambdas/sma/handler.js';
import { DynamoCallJournal, noJournal, type CallJournal } from '../../lambdas/sma/journal.js';
import { SimulatedChimeCall } from '../../lab/chime/simulated-call.js';
import useCases from '../../contracts/use-cases.json' with { type: 'json' };
import { SMA_BUNDLE, buildSma, describeSize } from '../build-sma.js';
import { startLocalDynamoProcess } from '../../lab/stack/local-dynamodb.js';
import { quantile, summary as summarize } from '../../lab/stats.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npm run bench:sma --', {
  events: { type: 'string', default: '10000' },
  'cold-runs': { type: 'string', default: '15' },
  /** New calls per admission figure (each one NEW_INBOUND_CALL timed, its other events not). */
  calls: { type: 'string', default: '2000' },
  tokens: { type: 'string', default: '10000' },
});
const EVENTS = Number(values.events);
const CALLS = Number(values.calls);
const TOKENS = Number(values.tokens);

const summary = (samplesMs: number[]) => summarize(samplesMs, 3, true);

const CONFIG: SmaConfig = loadSmaConfig({ ...LOCAL_SMA_ENV }, useCases);

function handlerWith(journal: CallJournal, admission?: CallAdmission): SmaHandler {
  return createHandler({
    config: CONFIG.decide,
    journal,
    instruments: createSmaInstruments(metrics.getMeter('bench')),
    logger: pino({ level: 'silent' }),
    now: Date.now,
    admission,
  });
}

/** A new call's identity, as the bench's Chime presents it. */
const benchCall = () => ({
  transactionId: crypto.randomUUID(),
  smaId: 'bench',
  region: 'us-east-1',
  accountId: '000000000000',
});

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
      call: benchCall(),
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

/** How admission answered: `admit`, `refuse:<reason>`, `unknown`, and whether a check was skipped. */
type Tally = Map<string, number>;

function tallied(admission: CallAdmission, tally: Tally): CallAdmission {
  return {
    async admit(req) {
      const v = await admission.admit(req);
      const verdict = v.verdict === 'refuse' ? `refuse:${v.reason}` : v.verdict;
      const key = v.unchecked.length ? `${verdict} (unchecked ${v.unchecked.join(',')})` : verdict;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      return v;
    },
    release: (lease) => admission.release(lease),
  };
}

const describeTally = (tally: Tally) =>
  [...tally].map(([verdict, n]) => `${verdict} ${n}`).join(', ');

/** Verified callers of the verified use case: their `verified` items, written beforehand. */
async function verifyCallers(client: DynamoDBClient, numbers: string[]): Promise<void> {
  const doc = DynamoDBDocumentClient.from(client);
  const nowMs = Date.now();
  for (let i = 0; i < numbers.length; i += 25) {
    let requests: NonNullable<BatchWriteCommandInput['RequestItems']>[string] = numbers
      .slice(i, i + 25)
      .map((n) => ({
        PutRequest: {
          Item: {
            pk: callerPk(callerKey(n, CONFIG.admission.callerKeySecret)),
            sk: VERIFIED_SK,
            VerifiedAt: nowMs,
            ExpiresAt: Math.floor(nowMs / 1000) + 86_400,
          },
        },
      }));
    while (requests.length > 0) {
      const res = await doc.send(
        new BatchWriteCommand({ RequestItems: { [CONFIG.callsTable]: requests } }),
      );
      requests = res.UnprocessedItems?.[CONFIG.callsTable] ?? [];
    }
  }
}

/** Hands out the pool's numbers in turn, across every run, so each caller's hourly count stays low. */
function callerRotation(numbers: string[]): () => string {
  let next = 0;
  return () => numbers[next++ % numbers.length]!;
}

/**
 * `count` new calls to `dialed`, one after another: each call's NEW_INBOUND_CALL is timed (the
 * admission checks and the journal), then the caller hangs up, untimed, which frees the call's
 * slots, so the caps never fill.
 */
async function timeNewCalls(
  handler: SmaHandler,
  dialed: string,
  nextCaller: () => string,
  count: number,
): Promise<number[]> {
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
      call: benchCall(),
      caller: nextCaller(),
      dialed,
      agentAnswers: true,
    });
    await call.startInbound();
    await call.remoteHangup('LEG-A');
  }
  return samples;
}

/** NEW_INBOUND_CALL of one use case with the real admission and journal; prints its line. */
async function admissionFigure(
  client: DynamoDBClient,
  useCaseId: string,
  label: string,
  nextCaller: () => string,
): Promise<void> {
  const tally: Tally = new Map();
  const handler = handlerWith(
    new DynamoCallJournal(client, CONFIG.callsTable, { timeoutMs: 300, ttlSeconds: 3600 }),
    tallied(new DynamoCallAdmission(client, CONFIG.callsTable, CONFIG.admission), tally),
  );
  const dialed = CONFIG.decide.useCases.byIdOrUndefined(useCaseId)?.dialedNumbers[0];
  if (!dialed) throw new Error(`use case ${useCaseId} is not in contracts/use-cases.json`);
  await timeNewCalls(handler, dialed, nextCaller, Math.min(200, CALLS)); // warm-up
  tally.clear();
  const samples = await timeNewCalls(handler, dialed, nextCaller, CALLS);
  console.log(`${label}${summary(samples)}`);
  console.log(`  ${useCaseId}: ${describeTally(tally)}`);
}

/** The agent's token check of each joining call: distinct calls, tokens signed as the SMA does. */
function tokenChecksUs(count: number): number[] {
  const secret = CONFIG.decide.callToken.secret;
  const nowMs = Date.now();
  const calls = Array.from({ length: count }, () => ({
    transactionId: crypto.randomUUID(),
    applicationId: crypto.randomUUID(),
  }));
  const tokens = calls.map((c) => signCallToken(c, nowMs + CONFIG.decide.callToken.ttlMs, secret));
  const run = () =>
    calls.map((claims, i) => {
      const t = performance.now();
      const check = verifyCallToken(tokens[i], claims, secret, nowMs);
      const us = (performance.now() - t) * 1000;
      if (!check.ok) throw new Error(`token refused: ${check.reason}`);
      return us;
    });
  run(); // warm-up
  return run();
}

/** `summary` of microsecond samples. */
function summaryUs(samplesUs: number[]): string {
  const s = [...samplesUs].sort((a, b) => a - b);
  const f = (q: number) => `${quantile(s, q).toFixed(1)} µs`;
  return `n=${s.length}  median ${f(0.5)}  p95 ${f(0.95)}  p99 ${f(0.99)}  min ${f(0)}  max ${f(1)}`;
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

const db = await startLocalDynamoProcess({ table: CONFIG.callsTable });
const journal = new DynamoCallJournal(db.client, CONFIG.callsTable, {
  timeoutMs: 300,
  ttlSeconds: 3600,
});
await timeEvents(handlerWith(journal), 500); // warm-up
console.log(
  `handler against dynalite:   ${summary(await timeEvents(handlerWith(journal), EVENTS))}`,
);

// Each number is called at most five times an hour across both figures: under the verified use
// case's rate, so every call is admitted and the figure times the whole path.
const warmUps = Math.min(200, CALLS);
const callers = Array.from(
  { length: Math.max(1000, Math.ceil((2 * (CALLS + warmUps)) / 5)) },
  (_, i) => `+1206${String(i).padStart(7, '0')}`,
);
await verifyCallers(db.client, callers);
const nextCaller = callerRotation(callers);
console.log(
  `admission: ${callers.length} verified callers, deployment cap ${CONFIG.admission.maxConcurrentCalls ?? 'none'}`,
);
await admissionFigure(
  db.client,
  'city-311-residents',
  'NEW_INBOUND_CALL, verified use case (access, rate, caps): ',
  nextCaller,
);
await admissionFigure(
  db.client,
  'city-311',
  'NEW_INBOUND_CALL, open use case (block list, cap):        ',
  nextCaller,
);
await db.stop();

console.log(`agent call-token check (verifyCallToken): ${summaryUs(tokenChecksUs(TOKENS))}`);
