// Call slots (docs/architecture.md, "Access and limits"): a cap is a string set of leases in one
// item, `<expires ms>#<TransactionId>`; a lease is added only while the set has room, so the
// check and the count are one conditional UpdateItem, and an expired lease is pruned when a set
// is full.
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LEASES_SK, leaseExpiry, leaseTransaction } from '../../../contracts/callers.js';
import { within, type TimeBudget, type Outcome } from '../../../store/time-budget.js';

/** One cap: the item holding its leases and how many it allows. */
export interface Cap {
  /** Short name for error codes: `all`, `usecase`. */
  label: string;
  pk: string;
  max: number;
}

export type LeaseResult =
  /** The call holds a slot: this element (an earlier attempt's, when the event was retried). */
  | { kind: 'held'; lease: string }
  /** No slot, even after pruning expired leases. */
  | { kind: 'full' }
  /** DynamoDB did not answer; the element may have been added all the same (`maybeHeld`). */
  | { kind: 'failed'; code: string; maybeHeld: boolean };

/** The call's own elements of a lease set. */
export function leasesOfCall(leases: Iterable<string>, transactionId: string): string[] {
  return [...leases].filter((l) => leaseTransaction(l) === transactionId);
}

/** The lease a call keeps when it holds several (a retried event): the earliest, whoever asks. */
export function keptLease(leases: Iterable<string>, transactionId: string): string | undefined {
  return leasesOfCall(leases, transactionId).sort(
    (a, b) => leaseExpiry(a) - leaseExpiry(b) || a.localeCompare(b),
  )[0];
}

/** The leases of a set that expired by `nowMs`. */
export function expiredLeases(leases: Iterable<string>, nowMs: number): string[] {
  return [...leases].filter((l) => leaseExpiry(l) <= nowMs);
}

function leaseSet(value: unknown): Set<string> {
  return value instanceof Set
    ? new Set([...(value as Set<unknown>)].filter((v): v is string => typeof v === 'string'))
    : new Set();
}

const failed = (outcome: Outcome<unknown>, maybeHeld: boolean): LeaseResult => ({
  kind: 'failed',
  code: outcome.ok || outcome.conflict ? 'conflict' : outcome.code,
  maybeHeld,
});

export class LeaseStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Takes a slot for the call, or finds the one it holds; prunes and retries once when full. */
  async take(cap: Cap, lease: string, nowMs: number, budget: TimeBudget): Promise<LeaseResult> {
    const first = await this.add(cap, lease, budget);
    if (first.kind !== 'full') return first;
    const read = await within(budget, (abortSignal) => this.read(cap.pk, abortSignal));
    if (!read.ok) return failed(read, false);
    const own = keptLease(read.value, leaseTransaction(lease));
    if (own !== undefined) return { kind: 'held', lease: own };
    const expired = expiredLeases(read.value, nowMs);
    if (expired.length === 0) return first;
    const pruned = await this.remove(cap.pk, expired, budget);
    if (!pruned.ok && !pruned.conflict) return failed(pruned, false);
    return this.add(cap, lease, budget);
  }

  /** Deletes elements from a cap's set; deleting absent ones is harmless, and no item is created. */
  remove(pk: string, leases: string[], budget: TimeBudget): Promise<Outcome<unknown>> {
    return within(budget, (abortSignal) =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk, sk: LEASES_SK },
          UpdateExpression: 'DELETE Leases :leases',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':leases': new Set(leases) },
        }),
        { abortSignal },
      ),
    );
  }

  /** Deletes every lease the call holds in one cap's set (however many attempts took one). */
  async releaseCall(
    pk: string,
    transactionId: string,
    budget: TimeBudget,
  ): Promise<Outcome<number>> {
    const read = await within(budget, (abortSignal) => this.read(pk, abortSignal));
    if (!read.ok) return read;
    const held = leasesOfCall(read.value, transactionId);
    if (held.length === 0) return { ok: true, value: 0 };
    const removed = await this.remove(pk, held, budget);
    // A set that no longer exists holds nothing: nothing to give back.
    if (removed.ok || removed.conflict) return { ok: true, value: removed.ok ? held.length : 0 };
    return removed;
  }

  private async add(cap: Cap, lease: string, budget: TimeBudget): Promise<LeaseResult> {
    if (budget.signal.aborted) return { kind: 'failed', code: 'timeout', maybeHeld: false };
    const added = await within(budget, (abortSignal) =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: cap.pk, sk: LEASES_SK },
          UpdateExpression: 'ADD Leases :leases',
          ConditionExpression:
            'attribute_not_exists(Leases) OR size(Leases) < :max OR contains(Leases, :lease)',
          ExpressionAttributeValues: {
            ':leases': new Set([lease]),
            ':max': cap.max,
            ':lease': lease,
          },
          ReturnValues: 'UPDATED_NEW',
        }),
        { abortSignal },
      ),
    );
    if (!added.ok) return added.conflict ? { kind: 'full' } : failed(added, true);
    // A retried event arrives with a later time, so a new element: the call keeps its first.
    const kept =
      keptLease(leaseSet(added.value.Attributes?.Leases), leaseTransaction(lease)) ?? lease;
    if (kept !== lease) await this.remove(cap.pk, [lease], budget);
    return { kind: 'held', lease: kept };
  }

  private async read(pk: string, abortSignal: AbortSignal): Promise<Set<string>> {
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk, sk: LEASES_SK },
        ConsistentRead: true,
        ProjectionExpression: 'Leases',
      }),
      { abortSignal },
    );
    return leaseSet(res.Item?.Leases);
  }
}
