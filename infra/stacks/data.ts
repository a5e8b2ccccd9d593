// The data stack: the calls table (docs/architecture.md, "DynamoDB"; the same key, index and TTL
// as lambdas/sma/table.ts creates locally) and the secrets the other stacks read. The table holds
// phone numbers: it is encrypted with a KMS key, kept with point-in-time recovery, retained when
// the stack goes, and its items expire (ExpiresAt).
import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { OPEN_CALLS_INDEX, OPEN_CALL_ATTRIBUTE, TTL_ATTRIBUTE } from '../../lambdas/sma/table.js';
import type { DeployConfig } from '../config.js';

export interface DataStackProps extends StackProps {
  config: DeployConfig;
}

/** The secrets callbridge's parts share; each generated here unless the configuration names one. */
export interface CallbridgeSecrets {
  /** CALL_TOKEN_SECRET: the SMA signs, the agent checks (docs/architecture.md, "The call token"). */
  callToken: secretsmanager.ISecret;
  /** CALLER_KEY_SECRET: keys callers' items (contracts/callers.ts). */
  callerKey: secretsmanager.ISecret;
  /** GUARD_PRESENCE_SECRET: agent workers' presence connections to the guard. */
  guardPresence: secretsmanager.ISecret;
  /** LiveKit's API key and secret, JSON {LIVEKIT_API_KEY, LIVEKIT_API_SECRET}. */
  livekitApi: secretsmanager.ISecret;
}

export class DataStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly secrets: CallbridgeSecrets;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.table = new dynamodb.TableV2(this, 'Calls', {
      tableName: `${config.name}-calls`,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: [
        {
          indexName: OPEN_CALLS_INDEX,
          partitionKey: { name: OPEN_CALL_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
          sortKey: { name: 'LastEventTime', type: dynamodb.AttributeType.NUMBER },
          projectionType: dynamodb.ProjectionType.INCLUDE,
          nonKeyAttributes: ['TransactionId', 'Phase'],
        },
      ],
    });
    this.secrets = {
      callToken: plainSecret(
        this,
        'CallToken',
        `${config.name}/call-token`,
        config.secrets.callToken,
      ),
      callerKey: plainSecret(
        this,
        'CallerKey',
        `${config.name}/caller-key`,
        config.secrets.callerKey,
      ),
      guardPresence: plainSecret(
        this,
        'GuardPresence',
        `${config.name}/guard-presence`,
        config.secrets.guardPresence,
      ),
      livekitApi: config.secrets.livekitApi
        ? secretsmanager.Secret.fromSecretCompleteArn(this, 'LivekitApi', config.secrets.livekitApi)
        : new secretsmanager.Secret(this, 'LivekitApi', {
            secretName: `${config.name}/livekit-api`,
            description:
              'LiveKit API key and secret (livekit-server keys, livekit-sip, guard, agent)',
            generateSecretString: {
              secretStringTemplate: JSON.stringify({ LIVEKIT_API_KEY: config.livekit.apiKey }),
              generateStringKey: 'LIVEKIT_API_SECRET',
              passwordLength: 48,
              excludePunctuation: true,
            },
            removalPolicy: RemovalPolicy.RETAIN,
          }),
    };
  }
}

/** A plain-string secret of 48 random characters (at least 32 bytes, as the schemas ask). */
function plainSecret(
  scope: Construct,
  id: string,
  secretName: string,
  existingArn: string | undefined,
): secretsmanager.ISecret {
  if (existingArn) return secretsmanager.Secret.fromSecretCompleteArn(scope, id, existingArn);
  return new secretsmanager.Secret(scope, id, {
    secretName,
    generateSecretString: { passwordLength: 48, excludePunctuation: true },
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
