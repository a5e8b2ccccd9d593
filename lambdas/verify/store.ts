// The DynamoDB adapter of the verification API: a caller's pending code, its verified item and the
// send counters, under the keys of contracts/callers.ts. Every count is one conditional
// UpdateItem, so concurrent requests cannot both take the last send or the last attempt.
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { CODE_SK, VERIFIED_SK, callerPk, sendsSk } from '../../contracts/callers.js';
import { MAX_ATTEMPTS, VERIFIED_TTL_MS, epochSeconds, windowStart } from './codes.js';
import type { SendLimit } from './config.js';

/** What an attempt at a code finds: the stored hash to compare, or why there is none to try. */
export type Attempt = { kind: 'try'; hash: string } | { kind: 'none' } | { kind: 'locked' };

/** The fields of the code item (the hash, never the code). */
const CodeItem = z.object({ CodeHash: z.string(), Attempts: z.number(), ExpiresAt: z.number() });

export interface VerificationStore {
  /** Counts one send in the window of `nowMs`; false when the window's sends are used up. */
  countSend(pk: string, limit: SendLimit, nowMs: number): Promise<boolean>;
  /** Replaces the caller's code; false when the current one is locked and has not expired. */
  putCode(key: string, hash: string, nowMs: number, expiresAtMs: number): Promise<boolean>;
  /** Takes one attempt at the caller's code. */
  attempt(key: string, nowMs: number): Promise<Attempt>;
  /** Records the number as verified now and removes the code that proved it. */
  markVerified(key: string, hash: string, nowMs: number): Promise<void>;
}

const isConditionFailure = (err: unknown) => err instanceof ConditionalCheckFailedException;

export class DynamoVerificationStore implements VerificationStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async countSend(pk: string, limit: SendLimit, nowMs: number): Promise<boolean> {
    const start = windowStart(nowMs, limit.windowMs);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk, sk: sendsSk(start) },
          UpdateExpression: 'ADD Sends :one SET ExpiresAt = :ttl',
          ConditionExpression: 'attribute_not_exists(Sends) OR Sends < :max',
          ExpressionAttributeValues: {
            ':one': 1,
            ':max': limit.max,
            ':ttl': epochSeconds(start + limit.windowMs),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async putCode(key: string, hash: string, nowMs: number, expiresAtMs: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: callerPk(key),
            sk: CODE_SK,
            CodeHash: hash,
            Attempts: 0,
            SentAt: nowMs,
            ExpiresAt: epochSeconds(expiresAtMs),
          },
          // A locked code keeps its lock until it expires: a new send does not buy more guesses.
          ConditionExpression: 'attribute_not_exists(pk) OR Attempts < :max OR ExpiresAt <= :now',
          ExpressionAttributeValues: { ':max': MAX_ATTEMPTS, ':now': Math.floor(nowMs / 1000) },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async attempt(key: string, nowMs: number): Promise<Attempt> {
    const Key = { pk: callerPk(key), sk: CODE_SK };
    const now = Math.floor(nowMs / 1000);
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key,
          UpdateExpression: 'SET Attempts = Attempts + :one',
          ConditionExpression:
            'attribute_exists(CodeHash) AND Attempts < :max AND ExpiresAt > :now',
          ExpressionAttributeValues: { ':one': 1, ':max': MAX_ATTEMPTS, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = CodeItem.safeParse(res.Attributes);
      return item.success ? { kind: 'try', hash: item.data.CodeHash } : { kind: 'none' };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    // Refused: tell a used-up code (locked) from an absent or expired one.
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key, ConsistentRead: true }),
    );
    const item = CodeItem.safeParse(res.Item);
    const locked = item.success && item.data.ExpiresAt > now && item.data.Attempts >= MAX_ATTEMPTS;
    return locked ? { kind: 'locked' } : { kind: 'none' };
  }

  async markVerified(key: string, hash: string, nowMs: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: callerPk(key),
          sk: VERIFIED_SK,
          VerifiedAt: nowMs,
          ExpiresAt: epochSeconds(nowMs + VERIFIED_TTL_MS),
        },
      }),
    );
    try {
      // Only the code that was confirmed: one sent meanwhile stays.
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: callerPk(key), sk: CODE_SK },
          ConditionExpression: 'CodeHash = :hash',
          ExpressionAttributeValues: { ':hash': hash },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
}
