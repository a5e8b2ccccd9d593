// The Lambda function Amazon Connect invokes from the queue-entry flow (infra/connect/queue-flow.ts)
// to learn what the AI agent learned of a transferred caller (docs/handoff.md). Connect sends its
// documented invocation event; the number the call reached (`Details.ContactData.SystemEndpoint
// .Address`) is one of a queue's rolling numbers, claimed by the SMA for the call with the agent's
// context. The claim is taken (read and deleted at once: its number is free for the next call) and
// returned as a flat map of strings, the flow's contact attributes.
// https://docs.aws.amazon.com/connect/latest/adminguide/connect-lambda-functions.html
//
// Whatever happens, Connect gets a map: an unknown number, an expired or absent claim, a malformed
// event or a failing table give an empty map (the person then gets no context, the caller is
// queued all the same), never an error, which would send the flow down its error branch.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import {
  connectAttributesOf,
  handoffPk,
  handoffSk,
  HandoffContext,
} from '../../contracts/handoff-context.js';
import { isE164 } from '../../contracts/ids.js';
import type { UseCaseCatalog } from '../../contracts/use-cases.js';
import type { Logger } from '../sma/logger.js';
import { timeBudget } from '../../store/time-budget.js';

/** The part of Connect's event the handler reads; everything else is ignored. */
export const ConnectEvent = z.object({
  Details: z.object({
    ContactData: z.object({
      ContactId: z.string().optional(),
      Channel: z.string().optional(),
      SystemEndpoint: z.object({ Address: z.string(), Type: z.string().optional() }).nullish(),
    }),
    Parameters: z.record(z.string(), z.unknown()).optional(),
  }),
  Name: z.string().optional(),
});

/** Where a rolling number's claim lives: its use case's queue and its slot in the pool. */
export interface PoolSlot {
  useCase: string;
  queue: string;
  slot: number;
}

/** The pool slot of a dialed number, from the use cases; undefined for any other number. */
export function poolSlotOf(catalog: UseCaseCatalog, number: string): PoolSlot | undefined {
  for (const uc of catalog.all) {
    for (const [queue, q] of Object.entries(uc.queues)) {
      const slot = q.rollingNumbers?.indexOf(number) ?? -1;
      if (slot >= 0) return { useCase: uc.id, queue, slot };
    }
  }
  return undefined;
}

export interface ContextClaims {
  /** The claim's context, taken (deleted) if it has not expired; undefined otherwise. */
  take(at: PoolSlot, nowMs: number): Promise<HandoffContext | undefined>;
}

/** The claims in the calls table (lambdas/sma/handoff-claims.ts writes them). */
export class DynamoContextClaims implements ContextClaims {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly timeoutMs: number,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async take(at: PoolSlot, nowMs: number): Promise<HandoffContext | undefined> {
    try {
      const out = await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: handoffPk(at.useCase, at.queue), sk: handoffSk(at.slot) },
          ConditionExpression: 'ExpiresAtMs > :now',
          ExpressionAttributeValues: { ':now': nowMs },
          ReturnValues: 'ALL_OLD',
        }),
        { abortSignal: timeBudget(this.timeoutMs).signal },
      );
      const item = out.Attributes ?? {};
      const parsed = HandoffContext.safeParse({
        summary: item['Summary'],
        topic: item['Topic'] ?? '',
        reason: item['Reason'],
        verification: item['Verification'],
        traceId: item['TraceId'],
        useCase: item['UseCase'],
        queue: item['Queue'],
      });
      return parsed.success ? parsed.data : undefined;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }
}

export interface ConnectContextDeps {
  useCases: () => UseCaseCatalog;
  claims: ContextClaims;
  logger: Logger;
  now: () => number;
}

export type ConnectContextHandler = (event: unknown) => Promise<Record<string, string>>;

/** Why a lookup found nothing: a fixed code, for the log line and the tests. */
export type Miss = 'malformed_event' | 'not_a_rolling_number' | 'no_claim' | 'lookup_failed';

export function createConnectContextHandler(deps: ConnectContextDeps): ConnectContextHandler {
  const miss = (reason: Miss, fields: Record<string, unknown> = {}) => {
    deps.logger.info({ reason, ...fields }, 'no context for the contact');
    return {};
  };
  return async (raw) => {
    try {
      const event = ConnectEvent.safeParse(raw);
      if (!event.success) return miss('malformed_event');
      const { ContactData } = event.data.Details;
      const contactId = ContactData.ContactId;
      const dialed = ContactData.SystemEndpoint?.Address;
      if (!dialed || !isE164(dialed)) return miss('malformed_event', { contactId });
      const at = poolSlotOf(deps.useCases(), dialed);
      if (!at) return miss('not_a_rolling_number', { contactId });
      const context = await deps.claims.take(at, deps.now());
      if (!context) return miss('no_claim', { contactId, queue: at.queue, slot: at.slot });
      deps.logger.info(
        { reason: 'context_found', contactId, queue: at.queue, slot: at.slot },
        'context handed to Connect',
      );
      return connectAttributesOf(context);
    } catch (err) {
      return miss('lookup_failed', { errorType: err instanceof Error ? err.name : 'unknown' });
    }
  };
}
