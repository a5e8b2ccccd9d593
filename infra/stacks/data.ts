// The data stack: the calls table (docs/architecture.md, "DynamoDB"; the same key, index and TTL
// as lambdas/sma/table.ts creates locally), the call recordings' bucket and the secrets the other
// stacks read. The table holds phone numbers: it is encrypted with a KMS key, kept with
// point-in-time recovery, retained when the stack goes, and its items expire (ExpiresAt). The
// bucket holds callers' voices: private, encrypted, TLS only, its objects expiring with the call's
// items, every request to it logged to a second bucket, and written by Chime (the SMA's
// StartCallRecording and RecordAudio) and the Twilio gateway (its pod role, the workloads stack).
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { RECORDINGS_PREFIX, VOICEMAIL_PREFIX } from '../../contracts/recordings.js';
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

/** The calls table's name: the data stack's, and how stacks in another region find it. */
export const callsTableName = (config: DeployConfig) => `${config.name}-calls`;

/**
 * The recordings bucket's name: S3 names are global, so the account and region are in it (63
 * characters at most for every valid configuration). The manifests name it the same way.
 */
export const recordingsBucketName = (config: DeployConfig) =>
  `${config.name}-recordings-${config.aws.account}-${config.aws.region}`;

/** The key prefixes Chime and the gateway write under (contracts/recordings.ts), as `x/*`. */
export const RECORDING_KEY_PATTERNS = [RECORDINGS_PREFIX, VOICEMAIL_PREFIX].map(
  (p) => `${p.replace(/\/+$/, '')}/*`,
);

/** How long the server access logs of the recordings bucket are kept: a year, or the recordings' time. */
export const accessLogDays = (config: DeployConfig) => Math.max(365, config.sma.callRecordTtlDays);

export class DataStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly secrets: CallbridgeSecrets;
  /** Call recordings (`recordings/…`) and voicemail (`voicemail/…`), docs/deploy.md. */
  readonly recordingsBucket: s3.Bucket;
  /** The recordings bucket's server access logs. */
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.table = new dynamodb.TableV2(this, 'Calls', {
      tableName: callsTableName(config),
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
    ({ recordings: this.recordingsBucket, logs: this.accessLogsBucket } = recordingsBuckets(
      this,
      config,
    ));
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

/**
 * The recordings bucket and its access logs' bucket. SSE-S3: Chime's service principal and the
 * gateway's role write without a key grant (the Chime SDK documents no KMS permission for the
 * PSTN audio service's writes), and every object is encrypted at rest with AES-256. Unversioned:
 * each object is written once under a key of its own, and an expired recording must be gone, not
 * kept as a noncurrent version. Objects expire after `sma.callRecordTtlDays`, the call items' TTL.
 */
function recordingsBuckets(
  stack: Stack,
  config: DeployConfig,
): { recordings: s3.Bucket; logs: s3.Bucket } {
  const common = {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    versioned: false,
    removalPolicy: RemovalPolicy.RETAIN,
  } satisfies s3.BucketProps;
  const logs = new s3.Bucket(stack, 'RecordingsAccessLogs', {
    ...common,
    lifecycleRules: [{ id: 'expire', expiration: Duration.days(accessLogDays(config)) }],
  });
  const recordings = new s3.Bucket(stack, 'Recordings', {
    ...common,
    bucketName: recordingsBucketName(config),
    lifecycleRules: [
      {
        id: 'expire-with-the-call',
        expiration: Duration.days(config.sma.callRecordTtlDays),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
  });
  // Server access logs, delivered under the logs bucket's policy (S3's logging service of this
  // account, for this bucket only), as S3 recommends over ACLs, which the bucket owner disables.
  const logPrefix = 'recordings/';
  (recordings.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
    destinationBucketName: logs.bucketName,
    logFilePrefix: logPrefix,
  };
  logs.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'S3ServerAccessLogs',
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [logs.arnForObjects(`${logPrefix}*`)],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': recordings.bucketArn },
      },
    }),
  );
  // Chime's PSTN audio service writes StartCallRecording's and RecordAudio's objects as the SIP
  // media application of this account (record-audio.html: s3:PutObject and s3:PutObjectAcl to
  // voiceconnector.chime.amazonaws.com; play-audio-get-digits.html: aws:SourceAccount, and
  // aws:SourceArn to keep the bucket to one SIP media application). Until the application's id is
  // configured (sma.applicationId, after the first deployment) any SMA of this account and region
  // may write.
  const smaArn = `arn:${stack.partition}:chime:${stack.region}:${stack.account}:sma/${
    config.sma.applicationId ?? '*'
  }`;
  recordings.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'ChimeWritesRecordings',
      principals: [new iam.ServicePrincipal('voiceconnector.chime.amazonaws.com')],
      actions: ['s3:PutObject', 's3:PutObjectAcl'],
      resources: RECORDING_KEY_PATTERNS.map((p) => recordings.arnForObjects(p)),
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        [config.sma.applicationId ? 'ArnEquals' : 'ArnLike']: { 'aws:SourceArn': smaArn },
      },
    }),
  );
  return { recordings, logs };
}
