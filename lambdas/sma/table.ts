// The calls table's definition (docs/architecture.md, "DynamoDB"): used to create it locally (dynalite)
// and documented in the README for production (CloudFormation/CDK/Terraform declare the same).
import {
  CreateTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

export const TTL_ATTRIBUTE = 'ExpiresAt';

/**
 * The open calls, for the call guard (docs/guard.md): a sparse index of the state items that carry
 * `OpenCall` (the journal sets it while the call is open and removes it when the call ends), sorted
 * by `LastEventTime` so a reader can leave out records older than any call.
 */
export const OPEN_CALLS_INDEX = 'open-calls';
export const OPEN_CALL_ATTRIBUTE = 'OpenCall';
export const OPEN_CALL_VALUE = 'open';

export async function ensureCallsTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: OPEN_CALL_ATTRIBUTE, AttributeType: 'S' },
          { AttributeName: 'LastEventTime', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: OPEN_CALLS_INDEX,
            KeySchema: [
              { AttributeName: OPEN_CALL_ATTRIBUTE, KeyType: 'HASH' },
              { AttributeName: 'LastEventTime', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['TransactionId', 'Phase'] },
          },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
    return;
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (err) {
    // dynalite does not implement TTL; AWS does. Expiry is housekeeping, not correctness.
    if ((err as Error).name !== 'UnknownOperationException') throw err;
  }
}
