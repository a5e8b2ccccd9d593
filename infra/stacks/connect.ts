// The Connect stack (only with `connect` in the configuration), in the instance's region:
//   - the entry flow: the notice, then the forward to the SMA's number;
//   - the context hand-off (docs/handoff.md): the connect-context function (the
//     `npm run build:connect-context` bundle) with a role that may take the rolling numbers' claims
//     and read the use cases, Connect's permission to invoke it for this instance only, its
//     association with the instance; the agent whisper flow; and one queue-entry flow per use-case
//     queue that lists rolling numbers.
// The stack orders, claims and moves no phone number: pointing the numbers at the flows is the
// team's step in Connect (docs/deploy.md).
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as connect from 'aws-cdk-lib/aws-connect';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { USE_CASES_PK } from '../../contracts/use-case-items.js';
import type { Deployment } from '../config.js';
import { agentWhisperFlow, queueEntryFlow } from '../connect/context-flows.js';
import { entryFlow } from '../connect/entry-flow.js';
import { HANDOFF_PREFIX, NODE_RUNTIME, functionRole, numberTag } from './call-control.js';
import { callsTableName } from './data.js';

export interface ConnectStackProps extends StackProps {
  deployment: Deployment;
  /** The connect-context asset: handler `index.handler`. */
  code: lambda.Code;
}

/** A use-case queue whose rolling numbers lead to a queue-entry flow. */
export interface ContextQueue {
  useCase: string;
  queue: string;
  /** The queue's ARN in the configured instance. */
  queueArn: string;
  apology: string;
}

/** The use-case queues that list rolling numbers (config.ts checks they name the instance's queue). */
export function contextQueues(d: Deployment): ContextQueue[] {
  const c = d.config.connect;
  if (!c) return [];
  return d.useCases.all.flatMap((uc) =>
    Object.entries(uc.queues)
      .filter(([, q]) => (q.rollingNumbers?.length ?? 0) > 0 && q.connect)
      .map(([key, q]) => ({
        useCase: uc.id,
        queue: key,
        queueArn: `${c.instanceArn}/queue/${q.connect!.queueId}`,
        apology: uc.messages.apology,
      })),
  );
}

/** Connect waits this long for the function in the queue-entry flow (its limit is 8 s). */
export const CONTEXT_LAMBDA_TIMEOUT_S = 3;

export class ConnectStack extends Stack {
  readonly entryFlow: connect.CfnContactFlow;
  readonly contextFunction: lambda.Function;
  readonly whisperFlow: connect.CfnContactFlow;
  /** By `<use case>#<queue>`. */
  readonly queueEntryFlows = new Map<string, connect.CfnContactFlow>();

  constructor(scope: Construct, id: string, props: ConnectStackProps) {
    super(scope, id, props);
    const { config } = props.deployment;
    const c = config.connect;
    if (!c) throw new Error('ConnectStack needs `connect` in the configuration');
    this.entryFlow = new connect.CfnContactFlow(this, 'EntryFlow', {
      instanceArn: c.instanceArn,
      name: `${config.name} entry`,
      description: 'Plays the notice and forwards the call to callbridge (the SMA)',
      type: 'CONTACT_FLOW',
      state: 'ACTIVE',
      content: JSON.stringify(entryFlow(c)),
    });
    new CfnOutput(this, 'EntryFlowArn', { value: this.entryFlow.attrContactFlowArn });

    this.contextFunction = this.contextLambda(props);
    // Connect may invoke it for this instance of this account only.
    this.contextFunction.addPermission('ConnectInvoke', {
      principal: new iam.ServicePrincipal('connect.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: this.account,
      sourceArn: c.instanceArn,
    });
    // Adds the function to the instance: a flow may name only functions the instance has.
    const association = new connect.CfnIntegrationAssociation(this, 'ContextFunctionAssociation', {
      instanceId: c.instanceArn,
      integrationType: 'LAMBDA_FUNCTION',
      integrationArn: this.contextFunction.functionArn,
    });

    this.whisperFlow = new connect.CfnContactFlow(this, 'WhisperFlow', {
      instanceArn: c.instanceArn,
      name: `${config.name} context whisper`,
      description: 'Reads what the AI agent learned to the person before the caller is connected',
      type: 'AGENT_WHISPER',
      state: 'ACTIVE',
      content: JSON.stringify(agentWhisperFlow()),
    });
    new CfnOutput(this, 'WhisperFlowArn', { value: this.whisperFlow.attrContactFlowArn });

    for (const q of contextQueues(props.deployment)) {
      const key = `${q.useCase}#${q.queue}`;
      const flow = new connect.CfnContactFlow(this, `QueueEntryFlow${numberTag(key)}`, {
        instanceArn: c.instanceArn,
        name: `${config.name} context ${q.useCase} ${q.queue}`,
        description: `Queue entry of the rolling numbers of ${q.useCase}/${q.queue}: the context, the whisper, the queue`,
        type: 'CONTACT_FLOW',
        state: 'ACTIVE',
        content: this.toJsonString(
          queueEntryFlow({
            contextFunctionArn: this.contextFunction.functionArn,
            queueArn: q.queueArn,
            whisperFlowArn: this.whisperFlow.attrContactFlowArn,
            apology: q.apology,
            lambdaTimeoutSeconds: CONTEXT_LAMBDA_TIMEOUT_S,
          }),
        ),
      });
      flow.addResourceDependency(association);
      this.queueEntryFlows.set(key, flow);
      new CfnOutput(this, `QueueEntryFlowArn${numberTag(key)}`, {
        value: flow.attrContactFlowArn,
        description: `point the rolling numbers of ${q.useCase}/${q.queue} at this flow`,
      });
    }
  }

  /** The connect-context function, its log group and its role: the claims and the use cases. */
  private contextLambda(props: ConnectStackProps): lambda.Function {
    const { config } = props.deployment;
    const logGroup = new logs.LogGroup(this, 'ConnectContextLogs', {
      logGroupName: `/aws/lambda/${config.name}-connect-context`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const tableName = callsTableName(config);
    const environment: Record<string, string> = {
      CALLS_TABLE: tableName,
      CONTEXT_TIMEOUT_MS: '1000',
      LOG_LEVEL: config.sma.logLevel,
      LOG_PII: 'false',
    };
    // The table is the data stack's, in the SMA's region; Connect's instance may be elsewhere.
    if (config.aws.region !== this.region) environment['CALLS_TABLE_REGION'] = config.aws.region;
    const fn = new lambda.Function(this, 'ConnectContext', {
      functionName: `${config.name}-connect-context`,
      role: functionRole(this, 'ConnectContextRole', logGroup),
      description:
        'callbridge context for the person: the claim of a rolling number (lambdas/connect-context)',
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: props.code,
      memorySize: 256,
      timeout: Duration.seconds(CONTEXT_LAMBDA_TIMEOUT_S),
      logGroup,
      environment,
    });
    const tableArn = this.formatArn({
      service: 'dynamodb',
      region: config.aws.region,
      resource: 'table',
      resourceName: tableName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const onItems = (sid: string, actions: string[], leadingKeys: string[]) =>
      new iam.PolicyStatement({
        sid,
        actions,
        resources: [tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': leadingKeys } },
      });
    // Takes a claim: read and deleted at once (DeleteItem, ReturnValues ALL_OLD).
    fn.addToRolePolicy(onItems('HandoffClaims', ['dynamodb:DeleteItem'], [`${HANDOFF_PREFIX}*`]));
    // The use cases' catalog (store/use-case-store.ts readCatalog).
    fn.addToRolePolicy(onItems('UseCases', ['dynamodb:Query'], [USE_CASES_PK]));
    return fn;
  }
}
