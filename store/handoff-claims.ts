// Rolling-number claims (docs/handoff.md): one definition for every way in that bridges a caller
// to Connect with context, the SMA (lambdas/sma/handoff-claims.ts) and the Twilio gateway's
// transfers (twilio/call-control.ts). A queue's rolling number is claimed for a call in the calls
// table (a conditional write with an expiry, holding the context); Connect's queue-entry flow
// finds the context by the number dialled (lambdas/connect-context/ takes the claim).
import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { handoffPk, handoffSk, type HandoffContext } from '../contracts/handoff-context.js';
import { timeBudget, within } from './time-budget.js';

export interface ClaimRequest {
  /** The call's id (the SMA's transaction, Twilio's call SID): a retry claims its slot again. */
  transactionId: string;
  /** How many rolling numbers the queue has: the pool's slots are 0 … slots-1. */
  slots: number;
  context: HandoffContext;
  nowMs: number;
}

/** What a claim came to: the slot claimed, or why none was (`exhausted`, or an error's code). */
export type ClaimResult = { slot: number } | { slot: undefined; why: string };

export interface HandoffClaims {
  claim(req: ClaimRequest): Promise<ClaimResult>;
}

/**
 * How long a claim holds its number: the bridge's ring and Connect's flow up to its Lambda take
 * seconds; a claim the flow never read frees its number on its own after this.
 */
export const CLAIM_HOLD_MS = 120_000;

/** Where a call starts looking in its queue's pool: spread over the pool, the same on a retry. */
export function firstSlot(transactionId: string, slots: number): number {
  return createHash('sha256').update(transactionId).digest().readUInt32BE(0) % slots;
}

export interface DynamoHandoffClaimsOptions {
  /** One budget for all of a claim's writes (ADMISSION_TIMEOUT_MS: the same few hundred ms). */
  timeoutMs: number;
  holdMs?: number;
}

/**
 * Claims in the calls table: `pk = handoff#<use case>#<queue>`, `sk = line#<slot>`, one item per
 * rolling number, written only if absent, expired, or already this call's (a retried event claims
 * the same slot again). Slots are tried one after another from the call's first slot.
 */
export class DynamoHandoffClaims implements HandoffClaims {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly opts: DynamoHandoffClaimsOptions,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async claim(req: ClaimRequest): Promise<ClaimResult> {
    const { context: c, nowMs, transactionId } = req;
    const expiresAtMs = nowMs + (this.opts.holdMs ?? CLAIM_HOLD_MS);
    const budget = timeBudget(this.opts.timeoutMs);
    const start = firstSlot(transactionId, req.slots);
    for (let i = 0; i < req.slots; i++) {
      const slot = (start + i) % req.slots;
      const put = await within(budget, (abortSignal) =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              pk: handoffPk(c.useCase, c.queue),
              sk: handoffSk(slot),
              TransactionId: transactionId,
              Summary: c.summary,
              Topic: c.topic,
              Reason: c.reason,
              Verification: c.verification,
              TraceId: c.traceId,
              UseCase: c.useCase,
              Queue: c.queue,
              ClaimedAt: nowMs,
              ExpiresAtMs: expiresAtMs,
              ExpiresAt: Math.ceil(expiresAtMs / 1000),
            },
            ConditionExpression:
              'attribute_not_exists(pk) OR ExpiresAtMs <= :now OR TransactionId = :tx',
            ExpressionAttributeValues: { ':now': nowMs, ':tx': transactionId },
          }),
          { abortSignal },
        ),
      );
      if (put.ok) return { slot };
      if (!put.conflict) return { slot: undefined, why: put.code };
    }
    return { slot: undefined, why: 'exhausted' };
  }
}
