// The DynamoDB adapter of admission (docs/architecture.md, "Access and limits"): access, then the
// caller's rate and the call slots, in the calls table, within one time budget. DynamoDB slow or
// down never refuses a caller: a check it could not answer is listed as unchecked.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  ALL_CALLS_PK,
  callerKey,
  callerPk,
  callsSk,
  leaseExpiry,
  leaseOf,
  useCaseLimitPk,
} from '../../../contracts/callers.js';
import type { UseCase } from '../../../contracts/use-cases.js';
import { accessVerdict, queryCaller } from './access.js';
import { timeBudget, within, type TimeBudget } from '../../../store/time-budget.js';
import { LeaseStore, type Cap, type LeaseResult } from './leases.js';
import type {
  Admission,
  AdmissionCheck,
  AdmissionRequest,
  CallAdmission,
  LeaseRelease,
} from './types.js';

const HOUR_MS = 3_600_000;
/** A lease outlives the longest conversation by the AI leg's ring time and the goodbye. */
export const LEASE_GRACE_MS = 120_000;

export interface DynamoAdmissionOptions {
  timeoutMs: number;
  callerKeySecret: string;
  /** The deployment's cap on calls with the agent at once; unset: none. */
  maxConcurrentCalls?: number;
}

/** A check's answer: what it decided, or `unchecked` when DynamoDB did not answer. */
type Check = 'pass' | 'refuse' | 'unchecked';

/** The slots a call took: the elements to remove should it be refused after all. */
interface Slots {
  check: Check;
  held: { pk: string; lease: string }[];
  leaseExpiresAtMs?: number;
}

/** Calls of one number in one clock hour: kept until an hour after the hour ends. */
export function callsExpiresAt(nowMs: number): number {
  return (Math.floor(nowMs / HOUR_MS) * HOUR_MS + 2 * HOUR_MS) / 1000;
}

export class DynamoCallAdmission implements CallAdmission {
  private readonly doc: DynamoDBDocumentClient;
  private readonly leases: LeaseStore;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly opts: DynamoAdmissionOptions,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
    this.leases = new LeaseStore(this.doc, table);
  }

  async admit(req: AdmissionRequest): Promise<Admission> {
    const errors: string[] = [];
    try {
      return await this.decide(req, timeBudget(this.opts.timeoutMs), errors);
    } catch (err) {
      // Not DynamoDB (its failures are answers above): still never a reason to refuse.
      errors.push(`admission:${err instanceof Error ? err.name : 'unknown_error'}`);
      const unchecked: AdmissionCheck[] = ['access', 'rate', 'capacity'];
      return req.useCase.access.mode === 'open'
        ? { verdict: 'admit', unchecked, errors }
        : { verdict: 'unknown', unchecked, errors };
    }
  }

  async release(lease: LeaseRelease): Promise<string[]> {
    const budget = timeBudget(this.opts.timeoutMs);
    const element = leaseOf(lease.transactionId, lease.leaseExpiresAtMs);
    // The use case's cap is not known here: its item is touched only if it exists.
    const pks = [useCaseLimitPk(lease.useCaseId)];
    if (this.opts.maxConcurrentCalls !== undefined) pks.push(ALL_CALLS_PK);
    const outcomes = await Promise.all(pks.map((pk) => this.leases.remove(pk, [element], budget)));
    return outcomes.flatMap((o, i) =>
      o.ok || o.conflict
        ? []
        : [`release:${pks[i] === ALL_CALLS_PK ? 'all' : 'usecase'}:${o.code}`],
    );
  }

  private async decide(
    req: AdmissionRequest,
    budget: TimeBudget,
    errors: string[],
  ): Promise<Admission> {
    const key =
      req.callerNumber === undefined
        ? undefined
        : callerKey(req.callerNumber, this.opts.callerKeySecret);
    const access = await this.access(req, key, budget, errors);
    if (access === 'unknown') return { verdict: 'unknown', unchecked: ['access'], errors };
    const unchecked: AdmissionCheck[] = access === 'unchecked' ? ['access'] : [];
    if (access === 'blocked' || access === 'unverified') {
      return { verdict: 'refuse', reason: access, unchecked, errors };
    }
    const [rate, slots] = await Promise.all([
      this.rate(req, key, budget, errors),
      this.slots(req, budget, errors),
    ]);
    if (rate === 'unchecked') unchecked.push('rate');
    if (slots.check === 'unchecked') unchecked.push('capacity');
    if (rate === 'refuse') {
      await this.drop(slots.held, budget, errors);
      return { verdict: 'refuse', reason: 'rate_limited', unchecked, errors };
    }
    if (slots.check === 'refuse') {
      return { verdict: 'refuse', reason: 'over_capacity', unchecked, errors };
    }
    return slots.leaseExpiresAtMs === undefined
      ? { verdict: 'admit', unchecked, errors }
      : { verdict: 'admit', leaseExpiresAtMs: slots.leaseExpiresAtMs, unchecked, errors };
  }

  private async access(
    req: AdmissionRequest,
    key: string | undefined,
    budget: TimeBudget,
    errors: string[],
  ): Promise<'admit' | 'blocked' | 'unverified' | 'unchecked' | 'unknown'> {
    const { mode } = req.useCase.access;
    if (key === undefined) return mode === 'open' ? 'admit' : 'unverified';
    const items = await within(budget, queryCaller(this.doc, this.table, key));
    if (items.ok) return accessVerdict(items.value, req.useCase.id, req.useCase.access, req.nowMs);
    errors.push(`access:${items.conflict ? 'conflict' : items.code}`);
    return mode === 'open' ? 'unchecked' : 'unknown';
  }

  /** Counts the call in its caller's hour; a retried event is the same element, counted once. */
  private async rate(
    req: AdmissionRequest,
    key: string | undefined,
    budget: TimeBudget,
    errors: string[],
  ): Promise<Check> {
    const max = req.useCase.limits.callsPerCallerPerHour;
    if (max === undefined || key === undefined) return 'pass';
    const counted = await within(budget, (abortSignal) =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: callerPk(key), sk: callsSk(req.nowMs) },
          UpdateExpression: 'ADD Calls :calls SET ExpiresAt = :expiresAt',
          ConditionExpression:
            'attribute_not_exists(Calls) OR size(Calls) < :max OR contains(Calls, :call)',
          ExpressionAttributeValues: {
            ':calls': new Set([req.transactionId]),
            ':call': req.transactionId,
            ':max': max,
            ':expiresAt': callsExpiresAt(req.nowMs),
          },
        }),
        { abortSignal },
      ),
    );
    if (counted.ok) return 'pass';
    if (counted.conflict) return 'refuse';
    errors.push(`rate:${counted.code}`);
    return 'unchecked';
  }

  private caps(useCase: UseCase): Cap[] {
    const caps: Cap[] = [];
    const deployment = this.opts.maxConcurrentCalls;
    if (deployment !== undefined) caps.push({ label: 'all', pk: ALL_CALLS_PK, max: deployment });
    const own = useCase.limits.maxConcurrentCalls;
    if (own !== undefined)
      caps.push({ label: 'usecase', pk: useCaseLimitPk(useCase.id), max: own });
    return caps;
  }

  /** A slot under every cap at once, or none: a refusal by one gives back the others. */
  private async slots(req: AdmissionRequest, budget: TimeBudget, errors: string[]): Promise<Slots> {
    const caps = this.caps(req.useCase);
    if (caps.length === 0) return { check: 'pass', held: [] };
    const expiresAtMs = req.nowMs + req.useCase.limits.maxCallSeconds * 1000 + LEASE_GRACE_MS;
    const lease = leaseOf(req.transactionId, expiresAtMs);
    const results = await Promise.all(
      caps.map((c) => this.leases.take(c, lease, req.nowMs, budget)),
    );
    const held = results.flatMap((r, i) => heldLease(r, lease, caps[i]!.pk));
    results.forEach((r, i) => {
      if (r.kind === 'failed') errors.push(`capacity:${caps[i]!.label}:${r.code}`);
    });
    if (results.some((r) => r.kind === 'full')) {
      await this.drop(held, budget, errors);
      return { check: 'refuse', held: [] };
    }
    const check = results.some((r) => r.kind === 'failed') ? 'unchecked' : 'pass';
    // A slot that may have been taken is released like one that was: deleting is harmless.
    return held.length === 0
      ? { check, held }
      : { check, held, leaseExpiresAtMs: leaseExpiry(held[0]!.lease) };
  }

  private async drop(held: Slots['held'], budget: TimeBudget, errors: string[]): Promise<void> {
    const outcomes = await Promise.all(
      held.map((h) => this.leases.remove(h.pk, [h.lease], budget)),
    );
    outcomes.forEach((o) => {
      if (!o.ok && !o.conflict) errors.push(`capacity:give_back:${o.code}`);
    });
  }
}

function heldLease(r: LeaseResult, lease: string, pk: string): { pk: string; lease: string }[] {
  if (r.kind === 'held') return [{ pk, lease: r.lease }];
  return r.kind === 'failed' && r.maybeHeld ? [{ pk, lease }] : [];
}
