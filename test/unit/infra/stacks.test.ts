// The synthesized templates tied to the code's contracts: the table to the journal, the SMA's
// environment to its configuration schema, and every IAM grant to a call the code makes.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { bucketName, RECORDINGS_PREFIX, VOICEMAIL_PREFIX } from '../../../contracts/recordings.js';
import { USE_CASES_PK } from '../../../contracts/use-case-items.js';
import { connectContextEnv } from '../../../lambdas/connect-context/config.js';
import { envSchema as smaEnvSchema } from '../../../lambdas/sma/config.js';
import {
  OPEN_CALLS_INDEX,
  OPEN_CALL_ATTRIBUTE,
  TTL_ATTRIBUTE,
} from '../../../lambdas/sma/table.js';
import { envSchema as telemetryEnvSchema } from '../../../otel/config.js';
import type { CallbridgeStacks } from '../../../infra/app.js';
import { SECRET_VARIABLES } from '../../../infra/lambda/sma-secrets.js';
import { SMA_LOG_METRICS } from '../../../infra/log-metrics.js';
import {
  agentWhisperFlow,
  QUEUE_FLOW_BLOCKS,
  queueEntryFlow,
} from '../../../infra/connect/context-flows.js';
import { FlowContent, flowProblems } from '../../../infra/connect/flow.js';
import { SUPPORTED_REGIONS } from '../../../infra/config.js';
import { CONTEXT_LAMBDA_TIMEOUT_S, contextQueues } from '../../../infra/stacks/connect.js';
import { recordingsBucketName } from '../../../infra/stacks/data.js';
import { deploymentOf, exampleConfig, synthStacks, synthTemplates } from './fixtures.js';

const root = join(import.meta.dirname, '../../..');

type Statement = {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Every statement of the policies attached to a role (by logical id prefix). */
function statementsOf(template: Template, roleLogicalIdPrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) =>
      asList(p['Properties']['Roles'] as unknown[]).some((r) =>
        JSON.stringify(r).includes(roleLogicalIdPrefix),
      ),
    )
    .flatMap((p) => p['Properties']['PolicyDocument']['Statement'] as Statement[]);
}

const actionsOf = (statements: Statement[], prefix: string) =>
  new Set(statements.flatMap((s) => asList(s.Action)).filter((a) => a.startsWith(prefix)));

/** The AWS calls a directory's code makes: `new XCommand(` of the DynamoDB and Chime clients. */
function commandsIn(dir: string, skip: string[] = []): Set<string> {
  const found = new Set<string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts') && !skip.some((s) => path.endsWith(s))) {
        for (const m of readFileSync(path, 'utf8').matchAll(/new (\w+)Command\(/g))
          found.add(m[1]!);
      }
    }
  };
  walk(join(root, dir));
  return found;
}

/**
 * The AWS calls a program can make, by module: `new XCommand(` in its entry and every module the
 * entry reaches through value imports of the project's own files (type-only imports carry no code).
 */
function commandsReachedFrom(entry: string): Map<string, Set<string>> {
  const byModule = new Map<string, Set<string>>();
  const seen = new Set<string>();
  const queue = [join(root, entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+'(\.[^']+)'/gms)) {
      const target = join(dirname(file), m[1]!).replace(/\.js$/, '.ts');
      if (existsSync(target)) queue.push(target);
    }
    const commands = new Set([...text.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!));
    if (commands.size > 0) byModule.set(relative(root, file), commands);
  }
  return byModule;
}

/** The IAM action each SDK command needs (the document client's names map to DynamoDB's). */
const IAM_ACTION: Record<string, string> = {
  Get: 'dynamodb:GetItem',
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Query: 'dynamodb:Query',
  BatchGet: 'dynamodb:BatchGetItem',
  Delete: 'dynamodb:DeleteItem',
  UpdateSipMediaApplicationCall: 'chime:UpdateSipMediaApplicationCall',
  GetCurrentMetricData: 'connect:GetCurrentMetricData',
  DescribeQueue: 'connect:DescribeQueue',
  DescribeHoursOfOperation: 'connect:DescribeHoursOfOperation',
  GetEffectiveHoursOfOperations: 'connect:GetEffectiveHoursOfOperations',
  StartOutboundVoiceContact: 'connect:StartOutboundVoiceContact',
  PutObject: 's3:PutObject',
};
function iamActionsOf(commands: Set<string>): Set<string> {
  return new Set(
    [...commands].map((c) => {
      const action = IAM_ACTION[c];
      if (!action) throw new Error(`no IAM action known for ${c}Command: add it to IAM_ACTION`);
      return action;
    }),
  );
}

let stacks: CallbridgeStacks;
let data: Template;
let callControl: Template;
let workloads: Template;
let observability: Template;
let connectStack: Template;

beforeAll(() => {
  const synth = synthTemplates();
  stacks = synth.stacks;
  data = synth.templates.data!;
  callControl = synth.templates.callControl!;
  workloads = synth.templates.workloads!;
  observability = synth.templates.observability!;
  connectStack = synth.templates.connect!;
});

describe('data stack', () => {
  it('keys, indexes and expires the calls table as the journal writes it', () => {
    data.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
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
      Replicas: [
        Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        }),
      ],
    });
    data.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain' });
  });

  it('generates the four shared secrets and keeps them when the stack goes', () => {
    data.resourceCountIs('AWS::SecretsManager::Secret', 4);
    for (const name of ['call-token', 'caller-key', 'guard-presence', 'livekit-api']) {
      data.hasResource('AWS::SecretsManager::Secret', {
        Properties: Match.objectLike({ Name: `callbridge/${name}` }),
        DeletionPolicy: 'Retain',
      });
    }
  });

  it('keeps recordings private, encrypted, TLS only, logged and expiring with the call items', () => {
    const ttlDays = deploymentOf(exampleConfig()).config.sma.callRecordTtlDays;
    const buckets = data.findResources('AWS::S3::Bucket', {
      Properties: { BucketName: 'callbridge-recordings-123456789012-us-east-1' },
    });
    expect(Object.keys(buckets)).toHaveLength(1);
    const [id, bucket] = Object.entries(buckets)[0]!;
    expect(bucket['DeletionPolicy']).toBe('Retain');
    const p = bucket['Properties'] as Record<string, unknown>;
    expect(p['BucketEncryption']).toEqual({
      ServerSideEncryptionConfiguration: [
        { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
      ],
    });
    expect(p['PublicAccessBlockConfiguration']).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(p['VersioningConfiguration']).toBeUndefined();
    expect(p['OwnershipControls']).toEqual({
      Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
    });
    expect(p['LifecycleConfiguration']).toEqual({
      Rules: [
        {
          Id: 'expire-with-the-call',
          ExpirationInDays: ttlDays,
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        },
      ],
    });
    // Every request is logged to the logs bucket, which S3's logging service of this account
    // writes for this bucket only.
    const logging = p['LoggingConfiguration'] as { DestinationBucketName: { Ref: string } };
    expect(logging.DestinationBucketName.Ref).toMatch(/^RecordingsAccessLogs/);
    const logsPolicy = data.findResources('AWS::S3::BucketPolicy', {
      Properties: { Bucket: { Ref: logging.DestinationBucketName.Ref } },
    });
    const logStatements = Object.values(logsPolicy).flatMap(
      (r) => r['Properties']['PolicyDocument']['Statement'] as Statement[],
    );
    expect(logStatements.find((x) => x.Sid === 'S3ServerAccessLogs')?.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '123456789012' },
      ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [id, 'Arn'] } },
    });
    // The same expiry as the items: the SMA's and the gateway's CALL_RECORD_TTL_DAYS.
    expect(JSON.stringify(callControl.toJSON())).toContain(`"CALL_RECORD_TTL_DAYS":"${ttlDays}"`);
  });

  /** The recordings bucket's policy statements. */
  const recordingsPolicy = (t: Template) => {
    const policies = Object.values(t.findResources('AWS::S3::BucketPolicy')).filter((r) =>
      JSON.stringify(r['Properties']['Bucket']).includes('"Recordings'),
    );
    const ofRecordings = policies.filter(
      (r) => !JSON.stringify(r['Properties']['Bucket']).includes('RecordingsAccessLogs'),
    );
    expect(ofRecordings).toHaveLength(1);
    return ofRecordings[0]!['Properties']['PolicyDocument']['Statement'] as (Statement & {
      Effect: string;
      Principal: unknown;
    })[];
  };

  it("lets Chime's PSTN audio service of this account write recordings and voicemail, nothing else", () => {
    const statements = recordingsPolicy(data);
    // TLS only, for everyone.
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      ]),
    );
    const allows = statements.filter((x) => x.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    const chime = allows[0]!;
    expect(chime.Principal).toEqual({ Service: 'voiceconnector.chime.amazonaws.com' });
    expect(asList(chime.Action).sort()).toEqual(['s3:PutObject', 's3:PutObjectAcl']);
    const keys = asList(chime.Resource).map((r) =>
      (r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1),
    );
    expect(keys).toEqual([`/${RECORDINGS_PREFIX}/*`, `/${VOICEMAIL_PREFIX}*`]);
    // Until the SMA's id is configured: any SMA of this account and region.
    expect(chime.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '123456789012' },
      ArnLike: {
        'aws:SourceArn': {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':chime:us-east-1:123456789012:sma/*'],
          ],
        },
      },
    });
  });

  it('keeps the bucket to the one SMA once its id is configured', () => {
    const raw = exampleConfig();
    const id = 'a1b2c3d4-0000-4000-8000-000000000001';
    raw['sma'] = { applicationId: id };
    const chime = recordingsPolicy(synthTemplates(raw).templates.data!).find(
      (x) => x.Effect === 'Allow',
    )!;
    expect(chime.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '123456789012' },
      ArnEquals: {
        'aws:SourceArn': {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, `:chime:us-east-1:123456789012:sma/${id}`],
          ],
        },
      },
    });
  });

  it('names the bucket validly for the longest name and region', () => {
    const config = deploymentOf(exampleConfig()).config;
    for (const region of SUPPORTED_REGIONS) {
      const name = recordingsBucketName({
        ...config,
        name: 'a'.repeat(24),
        aws: { ...config.aws, region },
      });
      expect(bucketName.safeParse(name).success, name).toBe(true);
    }
  });

  it('uses existing secrets by ARN instead of generating them', () => {
    const raw = exampleConfig();
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:callbridge/token-AbCdEf';
    raw['secrets'] = { callToken: arn };
    const t = synthTemplates(raw).templates.data!;
    t.resourceCountIs('AWS::SecretsManager::Secret', 3);
  });
});

describe('call-control stack: the SMA function', () => {
  const smaFunction = () => {
    const fns = callControl.findResources('AWS::Lambda::Function', {
      Properties: { Handler: 'secrets.handler' },
    });
    expect(Object.keys(fns)).toHaveLength(1);
    return Object.values(fns)[0]!['Properties'] as Record<string, unknown>;
  };

  it('runs the bundle on a current Node runtime, with less time than Chime waits', () => {
    const fn = smaFunction();
    expect(fn['Runtime']).toBe('nodejs24.x');
    expect(fn['Timeout']).toBeLessThanOrEqual(5);
  });

  it('sets only variables the handler reads, and every one it needs', () => {
    const env = (smaFunction()['Environment'] as { Variables: Record<string, unknown> }).Variables;
    const known = new Set([
      ...Object.keys(smaEnvSchema.shape),
      ...Object.keys(telemetryEnvSchema.shape),
      ...Object.values(SECRET_VARIABLES),
    ]);
    const unknown = Object.keys(env).filter(
      (k) =>
        !known.has(k) &&
        // the Parameters and Secrets extension's own settings
        !/^(PARAMETERS_SECRETS_EXTENSION_|SECRETS_MANAGER_|SSM_PARAMETER_STORE_)/.test(k),
    );
    expect(unknown).toEqual([]);
    // Required: neither optional nor defaulted, so missing would stop the cold start.
    const required = Object.entries(smaEnvSchema.shape)
      .filter(([, s]) => !s.safeParse(undefined).success)
      .map(([k]) => k);
    const supplied = new Set([...Object.keys(env), ...Object.keys(SECRET_VARIABLES)]);
    expect(required.filter((k) => !supplied.has(k))).toEqual([]);
    expect(env['LOG_PII']).toBe('false');
    // A secret's value never sits in the function's configuration.
    expect(Object.keys(env)).not.toContain('CALL_TOKEN_SECRET');
    expect(Object.keys(env)).not.toContain('CALLER_KEY_SECRET');
  });

  it('names the recordings bucket, and calls no S3 API itself (Chime writes the objects)', () => {
    const env = (smaFunction()['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(JSON.stringify(env['RECORDINGS_BUCKET'])).toMatch(/Recordings(?!AccessLogs)/);
    const s3Commands = [...commandsIn('lambdas/sma')].filter((c) =>
      IAM_ACTION[c]?.startsWith('s3:'),
    );
    expect(s3Commands).toEqual([]);
    expect(actionsOf(statementsOf(callControl, 'SmaRole'), 's3:').size).toBe(0);
  });

  it('sets SMA_APPLICATION_ID once the configuration names the application', () => {
    const raw = exampleConfig();
    raw['sma'] = { applicationId: 'a1b2c3d4-0000-4000-8000-000000000001' };
    const t = synthTemplates(raw).templates.callControl!;
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'secrets.handler',
      Environment: {
        Variables: Match.objectLike({ SMA_APPLICATION_ID: 'a1b2c3d4-0000-4000-8000-000000000001' }),
      },
    });
  });

  it('grants on the table exactly the calls the handler makes, each on its own items', () => {
    const statements = statementsOf(callControl, 'SmaRole');
    const code = iamActionsOf(commandsIn('lambdas/sma', ['table.ts']));
    expect(actionsOf(statements, 'dynamodb:')).toEqual(code);
    for (const s of statements.filter((x) => asList(x.Action)[0]!.startsWith('dynamodb:'))) {
      const keys = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
      expect(keys, `${s.Sid} is limited by leading keys`).toBeDefined();
      expect(
        asList(keys as string[]).every((k) =>
          /^((call|caller|limit|handoff)#\*|usecases)$/.test(k),
        ),
      ).toBe(true);
    }
    const byAction = Object.fromEntries(
      statements.flatMap((s) =>
        asList(s.Action).map((a) => [
          a,
          asList(s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? []),
        ]),
      ),
    );
    // The journal's events and the rolling numbers' claims (lambdas/sma/handoff-claims.ts).
    expect(byAction['dynamodb:PutItem']).toEqual(['call#*', 'handoff#*']);
    // A caller's items (admission) and the use cases' catalog item collection (store/).
    expect(byAction['dynamodb:Query']).toEqual(['caller#*', USE_CASES_PK]);
    expect(byAction['dynamodb:GetItem']).toEqual(['limit#*']);
  });

  it('reads its two secrets and no other, and nothing with a wildcard', () => {
    const statements = statementsOf(callControl, 'SmaRole');
    const secrets = statements.filter((s) =>
      asList(s.Action).includes('secretsmanager:GetSecretValue'),
    );
    expect(secrets).toHaveLength(1);
    expect(JSON.stringify(secrets[0]!.Resource)).toMatch(/CallToken.*CallerKey/);
    for (const s of statements) {
      expect(asList(s.Action).some((a) => a.endsWith('*'))).toBe(false);
      expect(s.Resource).not.toBe('*');
    }
    expect(actionsOf(statements, '')).toEqual(
      new Set([
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:Query',
        'dynamodb:GetItem',
        'secretsmanager:GetSecretValue',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]),
    );
    const logs = statements.find((x) => x.Sid === 'OwnLogs')!;
    expect(JSON.stringify(logs.Resource)).toMatch(
      /:log-group:",\{"Ref":"SmaLogs\w+"\},":log-stream:\*/,
    );
  });

  it('has a role of its own, with no managed policy', () => {
    callControl.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'secrets.handler',
      Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SmaRole'), 'Arn'] },
    });
    const roles = callControl.findResources('AWS::IAM::Role');
    const sma = Object.entries(roles).find(([id]) => id.startsWith('SmaRole'))![1];
    expect(sma['Properties']['ManagedPolicyArns']).toBeUndefined();
  });

  it('lets Chime invoke it only for this SMA of this account', () => {
    callControl.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'voiceconnector.chime.amazonaws.com',
      SourceAccount: '123456789012',
      SourceArn: { 'Fn::GetAtt': ['SipMediaApplication', 'SipMediaApplicationArn'] },
    });
    callControl.resourceCountIs('AWS::Lambda::Permission', 1);
  });
});

describe('call-control stack: Chime resources', () => {
  it('creates the SMA on the function and an unencrypted Voice Connector by default', () => {
    callControl.hasResourceProperties('AWS::Chime::SipMediaApplication', {
      AwsRegion: 'us-east-1',
      Endpoints: [{ LambdaArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Sma'), 'Arn'] } }],
    });
    callControl.hasResourceProperties('AWS::Chime::VoiceConnector', {
      AwsRegion: 'us-east-1',
      RequireEncryption: false,
    });
  });

  it('routes the Voice Connector to every LiveKit SIP host with its weight, and sets no termination', () => {
    callControl.hasResourceProperties('Custom::VoiceConnectorRouting', {
      VoiceConnectorId: { 'Fn::GetAtt': ['VoiceConnector', 'VoiceConnectorId'] },
      Routes: [
        { Host: 'sip-a.livekit.example.com', Port: 5060, Protocol: 'UDP', Priority: 1, Weight: 50 },
        { Host: 'sip-b.livekit.example.com', Port: 5060, Protocol: 'UDP', Priority: 1, Weight: 50 },
      ],
      Termination: Match.absent(),
    });
  });

  it('makes one SIP rule per dialed number, named and keyed without the number', () => {
    const { dialedNumbers } = deploymentOf(exampleConfig());
    const rules = callControl.findResources('Custom::SipRule');
    expect(Object.keys(rules)).toHaveLength(dialedNumbers.length);
    const numbers = Object.values(rules).map((r) => r['Properties']['PhoneNumber'] as string);
    expect(numbers.sort()).toEqual([...dialedNumbers].sort());
    for (const [logicalId, r] of Object.entries(rules)) {
      const digits = (r['Properties']['PhoneNumber'] as string).slice(1);
      expect(logicalId).not.toContain(digits);
      expect(r['Properties']['Name']).not.toContain(digits);
      expect(r['DependsOn']).toEqual(
        expect.arrayContaining([expect.stringMatching(/ChimeInvoke/)]),
      );
    }
  });

  it('lets the custom resources change only this Voice Connector, SMA and SIP rules', () => {
    const statements = statementsOf(callControl, 'ChimeResourcesRole');
    expect(actionsOf(statements, 'chime:')).toEqual(
      new Set([
        'chime:PutVoiceConnectorOrigination',
        'chime:DeleteVoiceConnectorOrigination',
        'chime:PutVoiceConnectorTermination',
        'chime:DeleteVoiceConnectorTermination',
        'chime:CreateSipRule',
        'chime:UpdateSipRule',
        'chime:DeleteSipRule',
      ]),
    );
    for (const s of statements) expect(s.Resource).not.toBe('*');
  });

  it('turns each log line the alarms watch into a metric', () => {
    callControl.resourceCountIs('AWS::Logs::MetricFilter', Object.keys(SMA_LOG_METRICS).length);
    callControl.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.msg = "call update refused: not signed for this call" }',
      MetricTransformations: [
        Match.objectLike({ MetricName: 'ForgedCallUpdates', MetricNamespace: 'callbridge/sma' }),
      ],
    });
  });
});

describe('workloads stack: the call guard and agent roles', () => {
  it('grants the guard exactly the calls its code makes, on state and lease items', () => {
    const statements = statementsOf(workloads, 'GuardRole');
    const code = iamActionsOf(commandsIn('guard'));
    expect(
      new Set([...actionsOf(statements, 'dynamodb:'), ...actionsOf(statements, 'chime:')]),
    ).toEqual(code);
    const query = statements.find((s) => asList(s.Action).includes('dynamodb:Query'))!;
    expect(JSON.stringify(query.Resource)).toContain(`/index/${OPEN_CALLS_INDEX}`);
    const items = statements.find((s) => asList(s.Action).includes('dynamodb:UpdateItem'))!;
    expect(items.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['call#*', 'limit#*'] },
    });
    const chime = statements.find((s) =>
      asList(s.Action).includes('chime:UpdateSipMediaApplicationCall'),
    )!;
    expect(JSON.stringify(chime.Resource)).toContain('SipMediaApplicationArn');
    const secrets = statements.find((s) =>
      asList(s.Action).includes('secretsmanager:GetSecretValue'),
    )!;
    expect(JSON.stringify(secrets.Resource)).toMatch(/GuardPresence.*LivekitApi/);
    expect(JSON.stringify(secrets.Resource)).not.toMatch(/CallToken|CallerKey/);
  });

  it('lets only EKS Pod Identity of this account assume the roles, for the configured cluster', () => {
    workloads.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sts:AssumeRole',
            Principal: { Service: 'pods.eks.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
        ]),
      },
    });
    workloads.resourceCountIs('AWS::EKS::PodIdentityAssociation', 4);
    workloads.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      ServiceAccount: 'callbridge-twilio',
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TwilioRole'), 'Arn'] },
    });
    workloads.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      ClusterName: 'callbridge',
      Namespace: 'callbridge',
      ServiceAccount: 'callbridge-guard',
    });
  });

  it('grants the agent exactly the calls its code makes, and reads of the use cases', () => {
    const statements = statementsOf(workloads, 'AgentRole');
    // The agent reads the use cases through store/use-case-cache.ts (a Query); the store's writes
    // are the operators' command's, not the agent's.
    const code = iamActionsOf(new Set([...commandsIn('agent'), 'Query']));
    expect(
      new Set(['dynamodb:', 'chime:', 'connect:'].flatMap((p) => [...actionsOf(statements, p)])),
    ).toEqual(code);
    const items = statements.find((s) => s.Sid === 'CallItems')!;
    expect(items.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['call#*', 'profile#*'] },
    });
    // The claims of Twilio transfers with context (twilio/call-control.ts, store/handoff-claims.ts).
    expect(iamActionsOf(commandsIn('store', ['use-case-store.ts', 'recordings.ts']))).toEqual(
      new Set(['dynamodb:PutItem']),
    );
    const claims = statements.find((s) => s.Sid === 'HandoffClaims')!;
    expect(asList(claims.Action)).toEqual(['dynamodb:PutItem']);
    expect(claims.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['handoff#*'] },
    });
    const useCases = statements.find((s) => s.Sid === 'UseCases')!;
    expect(asList(useCases.Action)).toEqual(['dynamodb:Query']);
    expect(useCases.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [USE_CASES_PK] },
    });
    const connect = statements.find((s) => s.Sid === 'ConnectQueues')!;
    expect(JSON.stringify(connect.Resource)).toContain(
      'instance/aaaaaaaa-0311-4000-8000-000000000001',
    );
  });

  it('gives the agent the call token but not the caller key', () => {
    const secrets = statementsOf(workloads, 'AgentRole').find((s) =>
      asList(s.Action).includes('secretsmanager:GetSecretValue'),
    )!;
    expect(JSON.stringify(secrets.Resource)).toContain('CallToken');
    expect(JSON.stringify(secrets.Resource)).not.toContain('CallerKey');
  });
});

describe('workloads stack: the Twilio gateway role', () => {
  /**
   * Modules the gateway's entry reaches whose calls it never makes: it imports the agent's call
   * control for its error and retry helpers (the Twilio adapter moves calls through Twilio's REST
   * API, never the SMA), and the use cases' store only to read the catalog (readCatalog, a Query;
   * its writes are the operators' command's).
   */
  const notRun: Record<string, string[]> = {
    'agent/call-control.ts': ['UpdateSipMediaApplicationCall'],
    'store/use-case-store.ts': ['Get', 'Put'],
  };

  it('grants exactly the calls the gateway’s code makes', () => {
    const reached = commandsReachedFrom('twilio/main.ts');
    // The walk reaches the gateway's writers: its connection items, recordings, admission.
    expect([...reached.keys()]).toEqual(
      expect.arrayContaining([
        'twilio/connections.ts',
        'store/recordings.ts',
        'lambdas/sma/admission/access.ts',
        'lambdas/sma/admission/leases.ts',
        'store/use-case-store.ts',
      ]),
    );
    const commands = new Set(
      [...reached].flatMap(([file, cs]) => [...cs].filter((c) => !notRun[file]?.includes(c))),
    );
    const statements = statementsOf(workloads, 'TwilioRole');
    expect(
      new Set(
        ['dynamodb:', 's3:', 'chime:', 'connect:'].flatMap((p) => [...actionsOf(statements, p)]),
      ),
    ).toEqual(iamActionsOf(commands));
  });

  it('limits each table call to its items and writes only recordings/ of the bucket', () => {
    const statements = statementsOf(workloads, 'TwilioRole');
    const byAction = Object.fromEntries(
      statements
        .filter((x) => asList(x.Action)[0]!.startsWith('dynamodb:'))
        .flatMap((x) =>
          asList(x.Action).map((a) => [
            a,
            x.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'],
          ]),
        ),
    );
    expect(byAction).toEqual({
      // Connection items (stream#…) and recording items, under the call's key.
      'dynamodb:PutItem': ['call#*'],
      // A stream's end; a caller's hourly calls and the caps' leases (admission).
      'dynamodb:UpdateItem': ['call#*', 'caller#*', 'limit#*'],
      'dynamodb:Query': ['caller#*', USE_CASES_PK],
      'dynamodb:GetItem': ['limit#*'],
    });
    const put = statements.find((x) => asList(x.Action).includes('s3:PutObject'))!;
    expect(asList(put.Action)).toEqual(['s3:PutObject']);
    expect(put.Resource).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          `:s3:::callbridge-recordings-123456789012-us-east-1/${RECORDINGS_PREFIX}/*`,
        ],
      ],
    });
    for (const x of statements) {
      expect(asList(x.Action).some((a) => a.endsWith('*'))).toBe(false);
      expect(x.Resource).not.toBe('*');
    }
    const secrets = statements.find((x) =>
      asList(x.Action).includes('secretsmanager:GetSecretValue'),
    )!;
    expect(JSON.stringify(secrets.Resource)).toMatch(/CallToken.*CallerKey/);
    expect(JSON.stringify(secrets.Resource)).not.toMatch(/GuardPresence|LivekitApi/);
  });

  it('is made only with a Twilio section', () => {
    const raw = exampleConfig();
    delete raw['twilio'];
    const t = synthTemplates(raw).templates.workloads!;
    expect(statementsOf(t, 'TwilioRole')).toEqual([]);
    t.resourceCountIs('AWS::EKS::PodIdentityAssociation', 3);
  });
});

describe('observability stack', () => {
  it('has an alarm for each failure it watches, each telling the topic', () => {
    const alarms = observability.findResources('AWS::CloudWatch::Alarm');
    const names = Object.values(alarms).map((a) => a['Properties']['AlarmName'] as string);
    expect(names.map((n) => n.replace('callbridge-observability-', '')).sort()).toEqual(
      [
        'CallsOverCapacity',
        'ForeignInvocations',
        'ForgedCalls',
        'HandlerExceptions',
        'JournalFailures',
        'SmaDurationNearRetry',
        'SmaErrors',
        'SmaThrottles',
      ].sort(),
    );
    for (const a of Object.values(alarms)) {
      expect(JSON.stringify(a['Properties']['AlarmActions'])).toContain('Alarms');
    }
  });

  it('warns before Chime re-invokes: the duration alarm is under 5 s', () => {
    observability.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Duration',
      Namespace: 'AWS/Lambda',
      ExtendedStatistic: 'p99',
      Threshold: 3000,
    });
    observability.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });
});

describe('connect stack', () => {
  const contextFunction = () => {
    const fns = connectStack.findResources('AWS::Lambda::Function');
    expect(Object.keys(fns)).toHaveLength(1);
    const [id, fn] = Object.entries(fns)[0]!;
    return { id, props: fn['Properties'] as Record<string, unknown> };
  };
  /** Each flow's type and content, parsed back as Connect reads it (tokens as the template has them). */
  const flows = () =>
    Object.entries(connectStack.findResources('AWS::Connect::ContactFlow')).map(([id, r]) => {
      const p = r['Properties'] as Record<string, unknown>;
      return { id, type: p['Type'] as string, name: p['Name'] as string, content: p['Content'] };
    });
  /** A Content that is Fn::Join of strings and references, with each reference as its name. */
  const contentOf = (content: unknown): FlowContent => {
    if (typeof content === 'string') return FlowContent.parse(JSON.parse(content));
    const [sep, parts] = (content as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    const text = parts
      .map((p) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, "'")}>`))
      .join(sep);
    return FlowContent.parse(JSON.parse(text));
  };

  it('is made only for a configured instance, in its region', () => {
    expect(stacks.connect?.region).toBe('us-east-1');
    const raw = exampleConfig();
    delete raw['connect'];
    expect(synthStacks(raw).connect).toBeUndefined();
  });

  it('runs the connect-context bundle on a current Node runtime, within the flow’s wait', () => {
    const { props } = contextFunction();
    expect(props['Runtime']).toBe('nodejs24.x');
    expect(props['Handler']).toBe('index.handler');
    expect(props['Timeout']).toBe(CONTEXT_LAMBDA_TIMEOUT_S);
    expect(props['Timeout']).toBeLessThanOrEqual(8);
  });

  it('sets only variables the function reads, and every one it needs', () => {
    const env = (contextFunction().props['Environment'] as { Variables: Record<string, string> })
      .Variables;
    const known = new Set(Object.keys(connectContextEnv.shape));
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    const required = Object.entries(connectContextEnv.shape)
      .filter(([, s]) => !s.safeParse(undefined).success)
      .map(([k]) => k);
    expect(required.filter((k) => !(k in env))).toEqual([]);
    // Every value passes the function's own schema, as its cold start reads it.
    expect(connectContextEnv.safeParse(env).success).toBe(true);
    expect(env['CALLS_TABLE']).toBe('callbridge-calls');
    expect(env['LOG_PII']).toBe('false');
    // The instance is in the SMA's region: the table is local.
    expect(env['CALLS_TABLE_REGION']).toBeUndefined();
  });

  it('reads the table in the SMA’s region when the instance is in another', () => {
    const raw = exampleConfig();
    const other =
      'arn:aws:connect:us-west-2:123456789012:instance/aaaaaaaa-0311-4000-8000-000000000001';
    raw['connect'] = {
      ...(raw['connect'] as Record<string, unknown>),
      instanceArn: other,
      fallbackQueueArn: `${other}/queue/bbbbbbbb-0311-4000-8000-000000000140`,
    };
    const { stacks: s, templates } = synthTemplates(raw);
    expect(s.connect?.region).toBe('us-west-2');
    templates.connect!.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ CALLS_TABLE_REGION: 'us-east-1' }),
      },
    });
    const statements = statementsOf(templates.connect!, 'ConnectContextRole');
    const claims = statements.find((x) => x.Sid === 'HandoffClaims')!;
    expect(JSON.stringify(claims.Resource)).toContain(':dynamodb:us-east-1:');
  });

  it('grants on the table exactly the calls the function makes, each on its own items', () => {
    const statements = statementsOf(connectStack, 'ConnectContextRole');
    // The use cases are read through store/use-case-cache.ts (store/use-case-store.ts, a Query).
    const code = iamActionsOf(new Set([...commandsIn('lambdas/connect-context'), 'Query']));
    expect(actionsOf(statements, 'dynamodb:')).toEqual(code);
    const leadingKeys = Object.fromEntries(
      statements
        .filter((x) => asList(x.Action)[0]!.startsWith('dynamodb:'))
        .map((x) => [
          asList(x.Action).join(','),
          x.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'],
        ]),
    );
    expect(leadingKeys).toEqual({
      'dynamodb:DeleteItem': ['handoff#*'],
      'dynamodb:Query': [USE_CASES_PK],
    });
    for (const x of statements) {
      expect(asList(x.Action).some((a) => a.endsWith('*'))).toBe(false);
      expect(x.Resource).not.toBe('*');
    }
    expect(actionsOf(statements, '')).toEqual(
      new Set([
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]),
    );
    const roles = connectStack.findResources('AWS::IAM::Role');
    const role = Object.entries(roles).find(([id]) => id.startsWith('ConnectContextRole'))![1];
    expect(role['Properties']['ManagedPolicyArns']).toBeUndefined();
  });

  it('lets Connect invoke it only for this instance of this account, and adds it to the instance', () => {
    const instanceArn = deploymentOf(exampleConfig()).config.connect!.instanceArn;
    connectStack.resourceCountIs('AWS::Lambda::Permission', 1);
    connectStack.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'connect.amazonaws.com',
      SourceAccount: '123456789012',
      SourceArn: instanceArn,
      FunctionName: { 'Fn::GetAtt': [contextFunction().id, 'Arn'] },
    });
    connectStack.resourceCountIs('AWS::Connect::IntegrationAssociation', 1);
    connectStack.hasResourceProperties('AWS::Connect::IntegrationAssociation', {
      InstanceId: instanceArn,
      IntegrationType: 'LAMBDA_FUNCTION',
      IntegrationArn: { 'Fn::GetAtt': [contextFunction().id, 'Arn'] },
    });
    // No phone number is ordered or moved by the stack.
    connectStack.resourceCountIs('AWS::Connect::PhoneNumber', 0);
  });

  it('deploys the entry, whisper and one queue-entry flow per queue with rolling numbers', () => {
    const d = deploymentOf(exampleConfig());
    const queues = contextQueues(d);
    expect(queues.map((q) => `${q.useCase}/${q.queue}`)).toEqual(['city-311/general']);
    const byType = (t: string) => flows().filter((f) => f.type === t);
    expect(byType('AGENT_WHISPER')).toHaveLength(1);
    expect(byType('CONTACT_FLOW')).toHaveLength(1 + queues.length);
  });

  it('deploys the builders’ graphs: every block reachable, every error handled', () => {
    const d = deploymentOf(exampleConfig());
    const [q] = contextQueues(d);
    const whisper = flows().find((f) => f.type === 'AGENT_WHISPER')!;
    const queueEntry = flows().find((f) => f.id.startsWith('QueueEntryFlow'))!;
    expect(queueEntry.type).toBe('CONTACT_FLOW');
    const fnRef = `<{'Fn::GetAtt':['${contextFunction().id}','Arn']}>`;
    const whisperRef = `<{'Fn::GetAtt':['${whisper.id}','ContactFlowArn']}>`;
    const deployed = contentOf(queueEntry.content);
    expect(flowProblems(deployed)).toEqual([]);
    expect(deployed).toEqual(
      FlowContent.parse(
        JSON.parse(
          JSON.stringify(
            queueEntryFlow({
              contextFunctionArn: fnRef,
              queueArn: q!.queueArn,
              whisperFlowArn: whisperRef,
              apology: q!.apology,
              lambdaTimeoutSeconds: CONTEXT_LAMBDA_TIMEOUT_S,
            }),
          ),
        ),
      ),
    );
    // The queue is the use case's queue in the configured instance.
    const setQueue = deployed.Actions.find((a) => a.Identifier === QUEUE_FLOW_BLOCKS.setQueue)!;
    expect(setQueue.Parameters['QueueId']).toBe(
      `${d.config.connect!.instanceArn}/queue/bbbbbbbb-0311-4000-8000-000000000140`,
    );
    const whisperContent = contentOf(whisper.content);
    expect(flowProblems(whisperContent)).toEqual([]);
    expect(whisperContent).toEqual(FlowContent.parse(agentWhisperFlow()));
    // A flow may name the function only once the instance has it.
    const raw = connectStack.toJSON() as { Resources: Record<string, { DependsOn?: string[] }> };
    expect(raw.Resources[queueEntry.id]!.DependsOn).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ContextFunctionAssociation/)]),
    );
  });
});
