// The call-control stack: the SMA handler's function (the `npm run build:sma` bundle, behind the
// entry that reads its secrets), the SIP media application, the Voice Connector and what
// CloudFormation lacks for them (origination routes to the LiveKit SIP hosts and termination, one
// SIP rule per dialed number), through callbridge's own custom resources. docs/deploy.md.
import { createHash } from 'node:crypto';
import {
  ArnFormat,
  CfnOutput,
  CustomResource,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import * as chime from 'aws-cdk-lib/aws-chime';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { handoffPk } from '../../contracts/handoff-context.js';
import { USE_CASES_PK } from '../../contracts/use-case-items.js';
import type { Deployment } from '../config.js';
import { ORIGINATION_TYPE, SIP_RULE_TYPE } from '../custom-resources/events.js';
import { SECRET_VARIABLES } from '../lambda/sma-secrets.js';
import { smaLogMetrics } from '../log-metrics.js';
import type { CallbridgeSecrets } from './data.js';

/** What every claim item's key starts with (contracts/handoff-context.ts). */
export const HANDOFF_PREFIX = handoffPk('', '').replace(/#+$/, '#');

/** Lambda's Node.js runtime for every function: Node 24, supported by Lambda into 2028. */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface FunctionCode {
  /** The SMA asset (infra/assets.ts): handler `secrets.handler`. */
  sma: lambda.Code;
  /** The custom resources' asset: handler `index.handler`. */
  customResources: lambda.Code;
  /** The connect-context asset (`npm run build:connect-context`): handler `index.handler`. */
  connectContext: lambda.Code;
}

export interface CallControlStackProps extends StackProps {
  deployment: Deployment;
  table: dynamodb.ITableV2;
  secrets: CallbridgeSecrets;
  /**
   * Where Chime writes the calls' recordings and voicemail (the data stack's): the handler only
   * names it in its actions, Chime writes the objects under the bucket's own policy.
   */
  recordingsBucket: s3.IBucket;
  code: FunctionCode;
}

/** Chime SDK Voice ARNs of this account and region. */
export function chimeArn(stack: Stack, resource: string): string {
  return `arn:${stack.partition}:chime:${stack.region}:${stack.account}:${resource}`;
}

/** A short, stable id for a dialed number: logical ids and rule names never carry the number. */
export const numberTag = (number: string) =>
  createHash('sha256').update(number).digest('hex').slice(0, 10);

export class CallControlStack extends Stack {
  readonly smaFunction: lambda.Function;
  readonly sipMediaApplication: chime.CfnSipMediaApplication;
  readonly voiceConnector: chime.CfnVoiceConnector;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CallControlStackProps) {
    super(scope, id, props);
    const { config, dialedNumbers } = props.deployment;

    this.voiceConnector = new chime.CfnVoiceConnector(this, 'VoiceConnector', {
      name: `${config.name}-livekit`,
      awsRegion: this.region,
      requireEncryption: config.voiceConnector.encryption,
    });
    const voiceConnectorArn = chimeArn(this, `vc/${this.voiceConnector.attrVoiceConnectorId}`);

    this.logGroup = new logs.LogGroup(this, 'SmaLogs', {
      logGroupName: `/aws/lambda/${config.name}-sma`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.smaFunction = new lambda.Function(this, 'Sma', {
      functionName: `${config.name}-sma`,
      role: functionRole(this, 'SmaRole', this.logGroup),
      description: 'callbridge SIP media application call controller (lambdas/sma)',
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: 'secrets.handler',
      code: props.code.sma,
      memorySize: 512,
      // Chime invokes again after 5 s without an answer; the handler's own budgets are ~300 ms.
      timeout: Duration.seconds(5),
      logGroup: this.logGroup,
      paramsAndSecrets: lambda.ParamsAndSecretsLayerVersion.fromVersion(
        lambda.ParamsAndSecretsVersions.V1_0_103,
        { logLevel: lambda.ParamsAndSecretsLogLevel.WARN },
      ),
      environment: smaEnvironment(this, props, voiceConnectorArn),
    });
    grantSma(this.smaFunction, props.table, props.secrets);

    this.sipMediaApplication = new chime.CfnSipMediaApplication(this, 'SipMediaApplication', {
      name: `${config.name}-sma`,
      awsRegion: this.region,
      endpoints: [{ lambdaArn: this.smaFunction.functionArn }],
    });
    // Chime may invoke the function for this SMA of this account only (docs/sma.md).
    this.smaFunction.addPermission('ChimeInvoke', {
      principal: new iam.ServicePrincipal('voiceconnector.chime.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: this.account,
      sourceArn: this.sipMediaApplication.attrSipMediaApplicationArn,
    });

    const provider = this.customResourceProvider(props.code.customResources, voiceConnectorArn);
    new CustomResource(this, 'VoiceConnectorRouting', {
      serviceToken: provider.serviceToken,
      resourceType: ORIGINATION_TYPE,
      properties: {
        VoiceConnectorId: this.voiceConnector.attrVoiceConnectorId,
        Routes: config.livekit.sipHosts.map((h) => ({
          Host: h.host,
          Port: h.port,
          Protocol: h.protocol,
          Priority: h.priority,
          Weight: h.weight,
        })),
        ...(config.voiceConnector.termination
          ? {
              Termination: {
                CidrAllowedList: config.voiceConnector.termination.cidrAllowedList,
                CallingRegions: config.voiceConnector.termination.callingRegions,
                CpsLimit: config.voiceConnector.termination.cpsLimit,
              },
            }
          : {}),
      },
    });
    for (const number of dialedNumbers) {
      const tag = numberTag(number);
      const rule = new CustomResource(this, `SipRule${tag}`, {
        serviceToken: provider.serviceToken,
        resourceType: SIP_RULE_TYPE,
        properties: {
          Name: `${config.name}-${tag}`,
          PhoneNumber: number,
          SipMediaApplicationId: this.sipMediaApplication.attrSipMediaApplicationId,
          AwsRegion: this.region,
        },
      });
      // The SMA's function must be invocable before calls are routed to it.
      rule.node.addDependency(this.smaFunction.permissionsNode.findChild('ChimeInvoke'));
    }

    smaLogMetrics(this, this.logGroup, config.name);

    new CfnOutput(this, 'SipMediaApplicationId', {
      value: this.sipMediaApplication.attrSipMediaApplicationId,
      description: 'set as sma.applicationId in the deployment configuration, then deploy again',
    });
    new CfnOutput(this, 'VoiceConnectorArn', { value: voiceConnectorArn });
    new CfnOutput(this, 'SmaFunctionName', { value: this.smaFunction.functionName });
  }

  /** The provider framework in front of callbridge's custom resource handlers. */
  private customResourceProvider(code: lambda.Code, voiceConnectorArn: string): cr.Provider {
    const logGroup = new logs.LogGroup(this, 'ChimeResourcesLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const onEvent = new lambda.Function(this, 'ChimeResources', {
      description: 'callbridge custom resources: Voice Connector routing, SIP rules',
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code,
      timeout: Duration.minutes(1),
      logGroup,
      role: functionRole(this, 'ChimeResourcesRole', logGroup),
    });
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'VoiceConnectorRouting',
        actions: [
          'chime:PutVoiceConnectorOrigination',
          'chime:DeleteVoiceConnectorOrigination',
          'chime:PutVoiceConnectorTermination',
          'chime:DeleteVoiceConnectorTermination',
        ],
        resources: [voiceConnectorArn],
      }),
    );
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SipRules',
        actions: ['chime:CreateSipRule', 'chime:UpdateSipRule', 'chime:DeleteSipRule'],
        resources: [
          chimeArn(this, 'sip-rule/*'),
          this.sipMediaApplication.attrSipMediaApplicationArn,
        ],
      }),
    );
    return new cr.Provider(this, 'ChimeResourcesProvider', { onEventHandler: onEvent });
  }
}

/**
 * A function's role that may write its own log group and nothing else until granted more (the
 * managed AWSLambdaBasicExecutionRole would let it write every log group of the account).
 */
export function functionRole(scope: Construct, id: string, logGroup: logs.ILogGroup): iam.Role {
  const role = new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'OwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [
        Stack.of(scope).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: `${logGroup.logGroupName}:log-stream:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  );
  return role;
}

/** The handler's variables (lambdas/sma/config.ts); its two secrets come by ARN, read at start. */
function smaEnvironment(
  stack: Stack,
  props: CallControlStackProps,
  voiceConnectorArn: string,
): Record<string, string> {
  const { config } = props.deployment;
  const env: Record<string, string> = {
    CALLS_TABLE: props.table.tableName,
    VOICE_CONNECTOR_ARN: voiceConnectorArn,
    AWS_ACCOUNT_ID: stack.account,
    [SECRET_VARIABLES.CALL_TOKEN_SECRET]: props.secrets.callToken.secretArn,
    [SECRET_VARIABLES.CALLER_KEY_SECRET]: props.secrets.callerKey.secretArn,
    CALL_RECORD_TTL_DAYS: String(config.sma.callRecordTtlDays),
    RECORDINGS_BUCKET: props.recordingsBucket.bucketName,
    LOG_LEVEL: config.sma.logLevel,
    LOG_PII: 'false',
  };
  if (config.sma.maxConcurrentCalls !== undefined) {
    env['MAX_CONCURRENT_CALLS'] = String(config.sma.maxConcurrentCalls);
  }
  if (config.sma.applicationId) env['SMA_APPLICATION_ID'] = config.sma.applicationId;
  if (config.sma.otlpEndpoint) env['OTEL_EXPORTER_OTLP_ENDPOINT'] = config.sma.otlpEndpoint;
  return env;
}

/**
 * What the handler calls, and nothing more: the journal (PutItem of event items, UpdateItem of the
 * state item, both under `call#`), the rolling numbers' claims (PutItem under `handoff#`), admission (Query of a caller's items, UpdateItem of their hourly
 * calls, GetItem and UpdateItem of the cap's leases), the use cases' Query (store/use-case-store.ts)
 * and its two secrets.
 */
function grantSma(fn: lambda.Function, table: dynamodb.ITableV2, secrets: CallbridgeSecrets) {
  const onItems = (sid: string, actions: string[], leadingKeys: string[]) =>
    new iam.PolicyStatement({
      sid,
      actions,
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': leadingKeys } },
    });
  // The journal's events, and the rolling numbers' claims of transfers with context.
  fn.addToRolePolicy(
    onItems('JournalAndHandoffClaims', ['dynamodb:PutItem'], ['call#*', `${HANDOFF_PREFIX}*`]),
  );
  fn.addToRolePolicy(
    onItems('JournalAndAdmission', ['dynamodb:UpdateItem'], ['call#*', 'caller#*', 'limit#*']),
  );
  fn.addToRolePolicy(
    onItems('AdmissionCallersAndUseCases', ['dynamodb:Query'], ['caller#*', USE_CASES_PK]),
  );
  fn.addToRolePolicy(onItems('AdmissionLeases', ['dynamodb:GetItem'], ['limit#*']));
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'Secrets',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [secrets.callToken.secretArn, secrets.callerKey.secretArn],
    }),
  );
}
