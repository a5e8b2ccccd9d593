// The agent's adapter to Amazon Connect for callbacks: StartOutboundVoiceContact with the use
// case's queued-callback contact flow (the flow puts the callback in the queue: "Set callback
// number" and "Transfer to queue"), the queue, the number it comes from and the call's context as
// contact attributes; the client token makes a repeated request the same callback. The callback is
// then kept in the calls table beside the call's items (contracts/callbacks.ts), best effort.
// https://docs.aws.amazon.com/connect/latest/APIReference/API_StartOutboundVoiceContact.html
// https://docs.aws.amazon.com/connect/latest/adminguide/setup-queued-callback.html
import { ConnectClient, StartOutboundVoiceContactCommand } from '@aws-sdk/client-connect';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CALLBACK_SK, type CallbackItem } from '../../contracts/callbacks.js';
import type { UseCaseCallbacks } from '../../contracts/use-cases.js';
import { STATE_SORT_KEY, callKey } from '../../lambdas/sma/journal.js';
import { timeBudget } from '../../store/time-budget.js';

/** How long the caller ID read may take: the caller is waiting for the agent's answer. */
const CALLER_ID_READ_MS = 500;

export interface CallbackRequest {
  policy: UseCaseCallbacks;
  /** The call's TransactionId: the item's key and the request's idempotency token. */
  transactionId: string;
  number: string;
  numberFrom: CallbackItem['NumberFrom'];
  queue: string;
  /** Contact attributes for the flow and the person (string values; nothing else leaves). */
  attributes: Record<string, string>;
}

export interface CallbackQueuer {
  /** Queues the callback; resolves with Connect's contact id. */
  queue(req: CallbackRequest): Promise<string>;
  /**
   * The call's caller ID as the SMA recorded it (LiveKit never has it: the dispatch rule hides the
   * number), or undefined when it cannot be read within a small budget.
   */
  callerNumber?(transactionId: string): Promise<string | undefined>;
}

export class CallbackError extends Error {
  override name = 'CallbackError';
}

export interface ConnectCallbacksOptions {
  client: ConnectClient;
  timeoutMs?: number;
  /** Where the callback is kept; undefined: not kept (no CALLS_TABLE). */
  table?: { client: DynamoDBClient; name: string; ttlSeconds?: number };
  now?: () => number;
}

export class ConnectCallbacks implements CallbackQueuer {
  constructor(private readonly opts: ConnectCallbacksOptions) {}

  async queue(req: CallbackRequest): Promise<string> {
    const { policy } = req;
    let contactId: string | undefined;
    try {
      const out = await this.opts.client.send(
        new StartOutboundVoiceContactCommand({
          InstanceId: policy.instanceId,
          ContactFlowId: policy.contactFlowId,
          QueueId: policy.queueId,
          DestinationPhoneNumber: req.number,
          SourcePhoneNumber: policy.sourceNumber,
          Attributes: req.attributes,
          ClientToken: `callback-${req.transactionId}`.slice(0, 500),
        }),
        { abortSignal: timeBudget(this.opts.timeoutMs ?? 3000).signal },
      );
      contactId = out.ContactId;
    } catch (cause) {
      throw new CallbackError(`connect StartOutboundVoiceContact: ${(cause as Error).name}`, {
        cause,
      });
    }
    if (!contactId) throw new CallbackError('connect gave no contact id');
    await this.keep(req, contactId);
    return contactId;
  }

  async callerNumber(transactionId: string): Promise<string | undefined> {
    const table = this.opts.table;
    if (!table) return undefined;
    const out = await DynamoDBDocumentClient.from(table.client)
      .send(
        new GetCommand({
          TableName: table.name,
          Key: { pk: callKey(transactionId), sk: STATE_SORT_KEY },
          ProjectionExpression: 'CallerNumber',
        }),
        { abortSignal: timeBudget(CALLER_ID_READ_MS).signal },
      )
      .catch(() => undefined);
    const number: unknown = out?.Item?.['CallerNumber'];
    return typeof number === 'string' ? number : undefined;
  }

  /** The callback beside the call's items; a failure to keep it does not undo it. */
  private async keep(req: CallbackRequest, contactId: string): Promise<void> {
    const table = this.opts.table;
    if (!table) return;
    const now = (this.opts.now ?? Date.now)();
    const item: CallbackItem = {
      pk: `call#${req.transactionId}`,
      sk: CALLBACK_SK,
      ContactId: contactId,
      Number: req.number,
      NumberFrom: req.numberFrom,
      Queue: req.queue,
      QueuedAt: now,
      ...(table.ttlSeconds ? { ExpiresAt: Math.floor(now / 1000) + table.ttlSeconds } : {}),
    };
    await DynamoDBDocumentClient.from(table.client)
      .send(new PutCommand({ TableName: table.name, Item: item }), {
        abortSignal: timeBudget(2000).signal,
      })
      .catch(() => undefined);
  }
}
