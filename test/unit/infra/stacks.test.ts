// The synthesized templates tied to the code's contracts: the table to the journal, the SMA's
// environment to its configuration schema, and every IAM grant to a call the code makes.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { USE_CASES_PK } from '../../../contracts/use-case-items.js';
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
  StartOutboundVoiceContact: 'connect:StartOutboundVoiceContact',
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

beforeAll(() => {
  const synth = synthTemplates();
  stacks = synth.stacks;
  data = synth.templates.data!;
  callControl = synth.templates.callControl!;
  workloads = synth.templates.workloads!;
  observability = synth.templates.observability!;
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
        asList(keys as string[]).every((k) => /^((call|caller|limit)#\*|usecases)$/.test(k)),
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
    expect(byAction['dynamodb:PutItem']).toEqual(['call#*']);
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
    workloads.resourceCountIs('AWS::EKS::PodIdentityAssociation', 3);
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
    const useCases = statements.find((s) => s.Sid === 'UseCases')!;
    expect(asList(useCases.Action)).toEqual(['dynamodb:Query']);
    expect(useCases.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [USE_CASES_PK] },
    });
    const connect = statements.find((s) => s.Sid === 'ConnectQueues')!;
    expect(JSON.stringify(connect.Resource)).toContain(
      'instance/00000000-0000-4000-8000-000000000001',
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
  it('is made only for a configured instance, in its region', () => {
    expect(stacks.connect?.region).toBe('us-east-1');
    const raw = exampleConfig();
    delete raw['connect'];
    expect(synthStacks(raw).connect).toBeUndefined();
  });
});
