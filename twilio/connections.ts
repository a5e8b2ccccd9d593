// The gateway's connection items in the calls table (docs/architecture.md, "DynamoDB"): one per
// media stream, under the call's key, with the call's expiry, as the SMA keeps its event items:
//   pk = call#<CallSid>, sk = stream#<StreamSid>
//   Provider (twilio), CallSid, StreamSid, UseCase, SipCallId, ConnectedAt, EndedAt, EndReason,
//   FramesIn, FramesOut, Skipped, Clears, ExpiresAt (epoch seconds, CALL_RECORD_TTL_DAYS on).
// No phone number is written. Writes have a budget and never fail a call: a failure is logged.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Logger } from 'pino';
import type { StreamCall, StreamEnd } from './stream-session.js';
import { timeBudget } from '../store/time-budget.js';

export const connectionKey = (call: Pick<StreamCall, 'callSid' | 'streamSid'>) => ({
  pk: `call#${call.callSid}`,
  sk: `stream#${call.streamSid}`,
});

export interface ConnectionStoreOptions {
  table: string;
  ttlDays: number;
  timeoutMs?: number;
  logger: Logger;
}

export class ConnectionStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly opts: ConnectionStoreOptions,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  private expiresAt(atMs: number): number {
    return Math.floor(atMs / 1000) + this.opts.ttlDays * 86_400;
  }

  async opened(call: StreamCall, sipCallId: string, atMs: number): Promise<void> {
    await this.write('opened', call, () =>
      this.doc.send(
        new PutCommand({
          TableName: this.opts.table,
          Item: {
            ...connectionKey(call),
            Provider: 'twilio',
            CallSid: call.callSid,
            StreamSid: call.streamSid,
            UseCase: call.useCase ?? 'unknown',
            SipCallId: sipCallId,
            ConnectedAt: atMs,
            ExpiresAt: this.expiresAt(atMs),
          },
        }),
        { abortSignal: timeBudget(this.opts.timeoutMs ?? 1000).signal },
      ),
    );
  }

  async closed(call: StreamCall, end: StreamEnd, atMs: number): Promise<void> {
    await this.write('closed', call, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.opts.table,
          Key: connectionKey(call),
          UpdateExpression:
            'SET EndedAt = :at, EndReason = :reason, FramesIn = :in, FramesOut = :out, ' +
            'Skipped = :skipped, Clears = :clears, ExpiresAt = :exp, Provider = :provider, ' +
            'CallSid = :callSid, StreamSid = :streamSid',
          ExpressionAttributeValues: {
            ':at': atMs,
            ':reason': end.reason,
            ':in': end.framesIn,
            ':out': end.framesOut,
            ':skipped': end.skipped,
            ':clears': end.clears,
            ':exp': this.expiresAt(atMs),
            ':provider': 'twilio',
            ':callSid': call.callSid,
            ':streamSid': call.streamSid,
          },
        }),
        { abortSignal: timeBudget(this.opts.timeoutMs ?? 1000).signal },
      ),
    );
  }

  private async write(what: string, call: StreamCall, send: () => Promise<unknown>) {
    try {
      await send();
    } catch (err) {
      this.opts.logger.warn(
        { err: (err as Error).name, callSid: call.callSid, item: what },
        'connection item not written',
      );
    }
  }
}
