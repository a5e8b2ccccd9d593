// The pieces of admission that need no DynamoDB: which lease a call keeps, which have expired, how
// long a caller's hour is kept, and how a request's outcome is read within its budget.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { leaseOf } from '../../../contracts/callers.js';
import { timeBudget, within } from '../../../store/time-budget.js';
import { callsExpiresAt } from '../../../lambdas/sma/admission/dynamo-admission.js';
import { expiredLeases, keptLease, leasesOfCall } from '../../../lambdas/sma/admission/leases.js';

const TX = '0b9e4c1a-1111-4c2d-8e3f-000000000001';
const OTHER = '0b9e4c1a-2222-4c2d-8e3f-000000000002';

describe('leasesOfCall', () => {
  it("finds only the call's own elements, not a call whose id starts the same", () => {
    const leases = [leaseOf(TX, 1), leaseOf(`${TX}b`, 2), leaseOf(TX, 3), leaseOf(OTHER, 4)];
    expect(leasesOfCall(leases, TX)).toEqual([leaseOf(TX, 1), leaseOf(TX, 3)]);
  });
});

describe('keptLease', () => {
  it('keeps the earliest lease of the call and none of another call', () => {
    const leases = [leaseOf(OTHER, 500), leaseOf(TX, 2000), leaseOf(TX, 1000)];
    expect(keptLease(leases, TX)).toBe(leaseOf(TX, 1000));
    expect(keptLease([leaseOf(OTHER, 500)], TX)).toBeUndefined();
  });

  it('compares expiries as numbers, not text', () => {
    expect(keptLease([leaseOf(TX, 10_000), leaseOf(TX, 9_000)], TX)).toBe(leaseOf(TX, 9_000));
  });
});

describe('expiredLeases', () => {
  it('lists the leases expired at or before now', () => {
    const leases = [leaseOf(TX, 999), leaseOf(OTHER, 1000), leaseOf('late', 1001)];
    expect(expiredLeases(leases, 1000)).toEqual([leaseOf(TX, 999), leaseOf(OTHER, 1000)]);
  });
});

describe('callsExpiresAt', () => {
  it('keeps a caller hour until an hour after it ends, in epoch seconds', () => {
    const hourStart = Date.UTC(2026, 11, 6, 3);
    const expected = Date.UTC(2026, 11, 6, 5) / 1000;
    expect(callsExpiresAt(hourStart)).toBe(expected);
    expect(callsExpiresAt(hourStart + 3_599_999)).toBe(expected);
  });
});

describe('within', () => {
  it('reads a failed condition as a conflict and other errors by name', async () => {
    const budget = timeBudget(1000);
    const conflict = new ConditionalCheckFailedException({ message: 'no', $metadata: {} });
    expect(await within(budget, () => Promise.reject(conflict))).toEqual({
      ok: false,
      conflict: true,
    });
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    expect(await within(budget, () => Promise.reject(throttled))).toEqual({
      ok: false,
      conflict: false,
      code: 'ThrottlingException',
    });
    expect(await within(budget, async () => 7)).toEqual({ ok: true, value: 7 });
  });

  it('gives up on a request that does not answer, and sends nothing once the budget is spent', async () => {
    const budget = timeBudget(5);
    const hanging = await within(budget, () => new Promise(() => undefined));
    expect(hanging).toEqual({ ok: false, conflict: false, code: 'timeout' });
    let sent = false;
    const late = await within(budget, async () => {
      sent = true;
    });
    expect(late).toEqual({ ok: false, conflict: false, code: 'timeout' });
    expect(sent).toBe(false);
  });
});
