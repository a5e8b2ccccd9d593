// A journal write's time budget against a busy event loop: a reply that came in while the loop was
// held up past the budget is taken, not reported as a timeout (store/time-budget.ts). DynamoDB is a
// process of its own here that answers every request 40 ms after it arrives, as a remote table does
// while the Lambda's loop is busy.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DynamoCallJournal, type JournalEntry } from '../../../lambdas/sma/journal.js';
import { timeBudget } from '../../../store/time-budget.js';

const REPLY_AFTER_MS = 40;
const BUDGET_MS = 120;
const STALL_MS = 400;

// Answers PutItem and UpdateItem as DynamoDB does (an empty JSON object), late; `/hang` never.
const server = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url.startsWith('/hang')) return;
    setTimeout(() => {
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      res.end('{}');
    }, ${REPLY_AFTER_MS});
  });
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;

let child: ChildProcess;
let endpoint = '';

beforeAll(async () => {
  child = spawn(process.execPath, ['-e', server], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  endpoint = `http://127.0.0.1:${line.toString().trim()}`;
});

afterAll(() => {
  child?.kill();
});

function journal(path = '') {
  const client = new DynamoDBClient({
    endpoint: `${endpoint}${path}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  return {
    client,
    journal: new DynamoCallJournal(client, 'calls', { timeoutMs: BUDGET_MS, ttlSeconds: 60 }),
  };
}

const entry = (sequence: number): JournalEntry => ({
  transactionId: 'budget',
  sequence,
  eventType: 'ACTION_SUCCESSFUL',
  actionDataType: undefined,
  errorType: undefined,
  actionTypes: [],
  phase: 'bridging_ai',
  receivedAtMs: Date.now(),
  record: {},
});

/**
 * Holds the event loop up for `ms` from the check phase, once the requests are on the wire: the
 * next turn of the loop then starts with the budget's timer already due and the reply unread.
 */
async function stallAfterSending(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, 10));
  await new Promise<void>((resolve) =>
    setImmediate(() => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        // busy, as a Lambda's loop is under a burst of events
      }
      resolve();
    }),
  );
}

it('takes a reply that came in while the loop was held up past the budget', async () => {
  const { client, journal: j } = journal();
  await j.record(entry(0)); // the SDK's first request loads its parts
  for (let sequence = 1; sequence <= 4; sequence++) {
    const recorded = j.record(entry(sequence));
    await stallAfterSending(STALL_MS);
    expect(await recorded).toEqual({ event: 'written', state: 'written', errors: [] });
  }
  client.destroy();
});

it('still calls a write late when no reply came in during the hold-up', async () => {
  const { client, journal: j } = journal('/hang');
  const started = Date.now();
  const recorded = j.record(entry(1));
  await stallAfterSending(STALL_MS);
  expect(await recorded).toEqual({
    event: 'failed',
    state: 'failed',
    errors: ['event:timeout', 'state:timeout'],
  });
  expect(Date.now() - started).toBeLessThan(STALL_MS + 500);
  client.destroy();
});

it('aborts its signal with a TimeoutError once the budget has run out', async () => {
  const started = performance.now();
  const budget = timeBudget(30);
  await expect(budget.expired).rejects.toMatchObject({ name: 'TimeoutError' });
  // On time with nothing else to wake the loop (an unref'd turn would wait for the next event).
  expect(performance.now() - started).toBeLessThan(250);
  expect(budget.signal.aborted).toBe(true);
  expect((budget.signal.reason as Error).name).toBe('TimeoutError');
});
