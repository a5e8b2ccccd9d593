// The admission adapter (lambdas/sma/admission) against the real DynamoDB API: dynalite on
// loopback, one table per test so caps and rates start empty.
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_CALLS_PK,
  LEASES_SK,
  accessSk,
  callerKey,
  callerPk,
  callsSk,
  useCaseLimitPk,
} from '../../contracts/callers.js';
import { parseUseCases, type UseCase } from '../../contracts/use-cases.js';
import {
  DynamoCallAdmission,
  LEASE_GRACE_MS,
  type DynamoAdmissionOptions,
} from '../../lambdas/sma/admission/dynamo-admission.js';
import type { Admission, AdmissionRequest } from '../../lambdas/sma/admission/types.js';
import { ensureCallsTable } from '../../lambdas/sma/table.js';
import { startLocalDynamo, type LocalDynamo } from '../../lab/stack/local-dynamodb.js';

const SECRET = 'admission-test-secret-of-at-least-32-bytes';
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const T0 = Date.UTC(2026, 11, 6, 3, 10);
const CALLER = '+12065550100';

const catalog = parseUseCases(
  JSON.parse(readFileSync(join(import.meta.dirname, '../../contracts/use-cases.json'), 'utf8')),
);
const base = catalog.byIdOrUndefined('city-311')!;

function useCase(
  id: string,
  access: Partial<UseCase['access']> = {},
  limits: Partial<UseCase['limits']> = {},
): UseCase {
  return {
    ...base,
    id,
    access: { ...base.access, ...access },
    limits: { ...base.limits, ...limits },
  };
}

let db: LocalDynamo;
let doc: DynamoDBDocumentClient;
let tables = 0;

beforeAll(async () => {
  db = await startLocalDynamo();
  doc = DynamoDBDocumentClient.from(db.client);
});

afterAll(async () => {
  await db?.stop();
});

/** An adapter over a fresh, empty table. */
async function freshAdmission(opts: Partial<DynamoAdmissionOptions> = {}) {
  const table = `admission-it-${++tables}`;
  await ensureCallsTable(db.client, table);
  const admission = new DynamoCallAdmission(db.client, table, {
    timeoutMs: 2000,
    callerKeySecret: SECRET,
    ...opts,
  });
  const put = (number: string, sk: string, fields: Record<string, unknown>) =>
    doc.send(
      new PutCommand({
        TableName: table,
        Item: { pk: callerPk(callerKey(number, SECRET)), sk, ...fields },
      }),
    );
  const leases = async (pk: string) => {
    const res = await doc.send(
      new GetCommand({ TableName: table, Key: { pk, sk: LEASES_SK }, ConsistentRead: true }),
    );
    return [...((res.Item?.Leases as Set<string> | undefined) ?? [])].sort();
  };
  const get = async (pk: string, sk: string) =>
    (await doc.send(new GetCommand({ TableName: table, Key: { pk, sk }, ConsistentRead: true })))
      .Item;
  return { admission, put, leases, get };
}

function request(
  uc: UseCase,
  transactionId: string,
  over: Partial<AdmissionRequest> = {},
): AdmissionRequest {
  return { transactionId, useCase: uc, callerNumber: CALLER, nowMs: T0, ...over };
}

const tx = (n: number) => `0b9e4c1a-0000-4c2d-8e3f-${String(n).padStart(12, '0')}`;
const verdicts = (all: Admission[]) =>
  all.map((a) => (a.verdict === 'refuse' ? a.reason : a.verdict));

describe('DynamoCallAdmission access', () => {
  it('refuses a blocked number in an open use case, for it or for all use cases', async () => {
    const { admission, put } = await freshAdmission();
    const open = useCase('open-line');
    await put('+12065550101', accessSk('open-line'), { List: 'block' });
    await put('+12065550102', accessSk('*'), { List: 'block' });
    await put('+12065550103', accessSk('other-line'), { List: 'block' });
    const answers = await Promise.all(
      ['+12065550101', '+12065550102', '+12065550103'].map((n) =>
        admission.admit(request(open, tx(1), { callerNumber: n })),
      ),
    );
    expect(verdicts(answers)).toEqual(['blocked', 'blocked', 'admit']);
    expect(answers.every((a) => a.unchecked.length === 0)).toBe(true);
  });

  it('admits a withheld number in an open use case and refuses it in a verified one', async () => {
    const { admission } = await freshAdmission();
    const open = await admission.admit(request(useCase('o'), tx(1), { callerNumber: undefined }));
    const verified = await admission.admit(
      request(useCase('v', { mode: 'verified' }), tx(2), { callerNumber: undefined }),
    );
    expect(verdicts([open, verified])).toEqual(['admit', 'unverified']);
  });

  it('admits a number verified within verifiedForDays only, when the use case is verified', async () => {
    const { admission, put } = await freshAdmission();
    const uc = useCase('residents', { mode: 'verified', verifiedForDays: 30 });
    await put('+12065550111', 'verified', { VerifiedAt: T0 - 29 * DAY_MS });
    await put('+12065550112', 'verified', { VerifiedAt: T0 - 31 * DAY_MS });
    await put('+12065550113', accessSk('*'), { List: 'allow' });
    await put('+12065550114', 'verified', { VerifiedAt: T0 - DAY_MS });
    await put('+12065550114', accessSk('residents'), { List: 'block' });
    const numbers = ['+12065550111', '+12065550112', '+12065550113', '+12065550114', CALLER];
    const answers = await Promise.all(
      numbers.map((n, i) => admission.admit(request(uc, tx(i), { callerNumber: n }))),
    );
    expect(verdicts(answers)).toEqual(['admit', 'unverified', 'admit', 'blocked', 'unverified']);
  });

  it('admits only allowed numbers when the use case is an allow list', async () => {
    const { admission, put } = await freshAdmission();
    const uc = useCase('staff', { mode: 'allowlist' });
    await put('+12065550121', accessSk('staff'), { List: 'allow' });
    await put('+12065550122', 'verified', { VerifiedAt: T0 });
    await put('+12065550123', accessSk('other'), { List: 'allow' });
    const numbers = ['+12065550121', '+12065550122', '+12065550123'];
    const answers = await Promise.all(
      numbers.map((n, i) => admission.admit(request(uc, tx(i), { callerNumber: n }))),
    );
    expect(verdicts(answers)).toEqual(['admit', 'unverified', 'unverified']);
  });
});

describe('DynamoCallAdmission capacity', () => {
  const uc = useCase('capped', {}, { maxCallSeconds: 600 });

  it('admits ten calls at once under a cap of ten and refuses the eleventh', async () => {
    const { admission, leases } = await freshAdmission({ maxConcurrentCalls: 10 });
    const ten = await Promise.all(
      Array.from({ length: 10 }, (_, i) => admission.admit(request(uc, tx(i)))),
    );
    expect(verdicts(ten)).toEqual(Array(10).fill('admit'));
    expect(ten[0]).toMatchObject({ leaseExpiresAtMs: T0 + 600_000 + LEASE_GRACE_MS });
    expect(await admission.admit(request(uc, tx(10)))).toMatchObject({
      verdict: 'refuse',
      reason: 'over_capacity',
      unchecked: [],
    });
    expect(await leases(ALL_CALLS_PK)).toHaveLength(10);

    const errors = await admission.release({
      transactionId: tx(3),
      useCaseId: uc.id,
      leaseExpiresAtMs: (ten[3] as { leaseExpiresAtMs: number }).leaseExpiresAtMs,
    });
    expect(errors).toEqual([]);
    expect((await admission.admit(request(uc, tx(11)))).verdict).toBe('admit');
    expect((await admission.admit(request(uc, tx(12)))).verdict).toBe('refuse');
  });

  it('admits a retried event of an admitted call without taking a second slot', async () => {
    const { admission, leases } = await freshAdmission({ maxConcurrentCalls: 2 });
    const first = await admission.admit(request(uc, tx(1)));
    // Chime retries 5 s later: the handler's clock has moved, the call has not.
    const retried = await admission.admit(request(uc, tx(1), { nowMs: T0 + 5000 }));
    expect(retried).toEqual(first);
    expect(await leases(ALL_CALLS_PK)).toHaveLength(1);
    await admission.admit(request(uc, tx(2)));
    const whenFull = await admission.admit(request(uc, tx(1), { nowMs: T0 + 10_000 }));
    expect(whenFull).toEqual(first);
    expect(await leases(ALL_CALLS_PK)).toHaveLength(2);
  });

  it('frees the slot of a lease whose release was lost once it expires', async () => {
    const { admission, leases } = await freshAdmission({ maxConcurrentCalls: 10 });
    for (let i = 0; i < 10; i++) await admission.admit(request(uc, tx(i), { nowMs: T0 + i }));
    const expiry = T0 + 600_000 + LEASE_GRACE_MS;
    expect((await admission.admit(request(uc, tx(10), { nowMs: expiry - 1 }))).verdict).toBe(
      'refuse',
    );
    // At `expiry` only the first call's lease has lapsed.
    const later = await admission.admit(request(uc, tx(10), { nowMs: expiry }));
    expect(later).toMatchObject({
      verdict: 'admit',
      leaseExpiresAtMs: expiry + 600_000 + LEASE_GRACE_MS,
    });
    const held = await leases(ALL_CALLS_PK);
    expect(held).toHaveLength(10);
    expect(held.some((l) => l.endsWith(tx(0)))).toBe(false);
  });

  it('holds the use case cap and the deployment cap, and a refusal by one leaves nothing in the other', async () => {
    const { admission, leases } = await freshAdmission({ maxConcurrentCalls: 3 });
    const a = useCase('a', {}, { maxConcurrentCalls: 2, maxCallSeconds: 600 });
    const b = useCase('b', {}, { maxCallSeconds: 600 });
    const [a1, a2] = await Promise.all([
      admission.admit(request(a, tx(1))),
      admission.admit(request(a, tx(2))),
    ]);
    expect(verdicts([a1!, a2!])).toEqual(['admit', 'admit']);
    expect(await admission.admit(request(a, tx(3)))).toMatchObject({ reason: 'over_capacity' });
    expect((await leases(ALL_CALLS_PK)).filter((l) => l.endsWith(tx(3)))).toEqual([]);

    expect((await admission.admit(request(b, tx(4)))).verdict).toBe('admit');
    await admission.release({
      transactionId: tx(1),
      useCaseId: 'a',
      leaseExpiresAtMs: (a1 as { leaseExpiresAtMs: number }).leaseExpiresAtMs,
    });
    expect((await admission.admit(request(b, tx(5)))).verdict).toBe('admit');
    // The use case has a free slot, the deployment none.
    expect(await admission.admit(request(a, tx(6)))).toMatchObject({ reason: 'over_capacity' });
    expect(await leases(useCaseLimitPk('a'))).toHaveLength(1);
    expect(await leases(ALL_CALLS_PK)).toHaveLength(3);
    // Releasing a call of a use case without a cap creates no item for it.
    await admission.release({ transactionId: tx(4), useCaseId: 'b', leaseExpiresAtMs: 1 });
    expect(await leases(useCaseLimitPk('b'))).toEqual([]);
  });
});

describe('DynamoCallAdmission rate', () => {
  const uc = useCase('rated', {}, { callsPerCallerPerHour: 3, maxCallSeconds: 600 });

  it('refuses the fourth call of a number in one hour and admits it the next hour', async () => {
    const { admission, get, leases } = await freshAdmission({ maxConcurrentCalls: 10 });
    const three = [];
    for (let i = 0; i < 3; i++) three.push(await admission.admit(request(uc, tx(i))));
    expect(verdicts(three)).toEqual(['admit', 'admit', 'admit']);
    expect((await admission.admit(request(uc, tx(0), { nowMs: T0 + 5000 }))).verdict).toBe('admit');
    expect(await admission.admit(request(uc, tx(3)))).toMatchObject({
      verdict: 'refuse',
      reason: 'rate_limited',
    });
    // The refused call gave its slot back.
    expect((await leases(ALL_CALLS_PK)).filter((l) => l.endsWith(tx(3)))).toEqual([]);
    expect(
      (await admission.admit(request(uc, tx(4), { callerNumber: '+12065550199' }))).verdict,
    ).toBe('admit');
    expect((await admission.admit(request(uc, tx(5), { nowMs: T0 + HOUR_MS }))).verdict).toBe(
      'admit',
    );
    const hour = await get(callerPk(callerKey(CALLER, SECRET)), callsSk(T0));
    expect(hour).toMatchObject({ ExpiresAt: Date.UTC(2026, 11, 6, 5) / 1000 });
    expect([...(hour!.Calls as Set<string>)].sort()).toEqual([tx(0), tx(1), tx(2)]);
  });
});

describe('DynamoCallAdmission when DynamoDB goes away', () => {
  const BUDGET_MS = 300;
  const SLACK_MS = 250;
  const open = useCase('open-limited', {}, { callsPerCallerPerHour: 5, maxConcurrentCalls: 50 });
  const verified = useCase('verified-line', { mode: 'verified' });

  async function timed(admission: DynamoCallAdmission, req: AdmissionRequest) {
    const started = performance.now();
    const answer = await admission.admit(req);
    return { answer, ms: performance.now() - started };
  }

  it('answers every admit of a burst within its budget when dynalite stops mid-burst', async () => {
    const local = await startLocalDynamo({ table: 'admission-it-outage' });
    const client = new DynamoDBClient({
      endpoint: local.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 2,
    });
    const admission = new DynamoCallAdmission(client, 'admission-it-outage', {
      timeoutMs: BUDGET_MS,
      callerKeySecret: SECRET,
      maxConcurrentCalls: 100,
    });
    const burst = (from: number) =>
      Array.from({ length: 10 }, (_, i) =>
        timed(admission, request(i % 2 ? verified : open, tx(from + i), { nowMs: Date.now() })),
      );
    const before = await Promise.all(burst(0));
    expect(verdicts(before.map((r) => r.answer))).toEqual(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? 'unverified' : 'admit')),
    );
    const during = burst(10);
    await local.stop();
    const after = await Promise.all([...during, ...burst(20)]);
    client.destroy();

    for (const { answer, ms } of after) {
      expect(ms).toBeLessThan(BUDGET_MS + SLACK_MS);
      expect(['admit', 'unknown', 'unverified']).toContain(answer.verdict);
    }
    const outage = after.slice(10).map((r) => r.answer);
    expect(outage.filter((_, i) => i % 2 === 0)).toEqual(
      Array(5).fill(
        expect.objectContaining({ verdict: 'admit', unchecked: ['access', 'rate', 'capacity'] }),
      ),
    );
    expect(outage.filter((_, i) => i % 2 === 1)).toEqual(
      Array(5).fill(expect.objectContaining({ verdict: 'unknown', unchecked: ['access'] })),
    );
  });

  describe('against a DynamoDB that hangs', () => {
    let blackhole: Server;
    let endpoint = '';
    const sockets = new Set<Socket>();

    beforeAll(async () => {
      blackhole = createServer((s) => sockets.add(s));
      await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', () => r()));
      endpoint = `http://127.0.0.1:${(blackhole.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => blackhole.close(() => r()));
    });

    it('times out admit and release within one budget each and never rejects', async () => {
      const client = new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
        maxAttempts: 1,
      });
      const admission = new DynamoCallAdmission(client, 't', {
        timeoutMs: BUDGET_MS,
        callerKeySecret: SECRET,
        maxConcurrentCalls: 10,
      });
      const [o, v] = await Promise.all([
        timed(admission, request(open, tx(1))),
        timed(admission, request(verified, tx(2))),
      ]);
      expect(o.answer).toEqual({
        verdict: 'admit',
        unchecked: ['access', 'rate', 'capacity'],
        errors: [
          'access:timeout',
          'rate:timeout',
          'capacity:all:timeout',
          'capacity:usecase:timeout',
        ],
        // No request was sent once the budget was spent: no slot can have been taken.
      });
      expect(v.answer).toEqual({
        verdict: 'unknown',
        unchecked: ['access'],
        errors: ['access:timeout'],
      });
      expect(Math.max(o.ms, v.ms)).toBeLessThan(BUDGET_MS + SLACK_MS);

      const started = performance.now();
      const errors = await admission.release({
        transactionId: tx(1),
        useCaseId: open.id,
        leaseExpiresAtMs: T0,
      });
      expect(errors).toEqual(['release:usecase:timeout', 'release:all:timeout']);
      expect(performance.now() - started).toBeLessThan(BUDGET_MS + SLACK_MS);
      client.destroy();
    });
  });
});
