// The CDK app's stacks, from one validated deployment configuration (infra/config.ts). Used by
// infra/main.ts (`npm run infra -- synth`) and the tests, which hand in their own code assets.
import type { App } from 'aws-cdk-lib';
import type { Deployment } from './config.js';
import { CallControlStack, type FunctionCode } from './stacks/call-control.js';
import { ConnectStack } from './stacks/connect.js';
import { DataStack } from './stacks/data.js';
import { ObservabilityStack } from './stacks/observability.js';
import { WorkloadsStack } from './stacks/workloads.js';

export interface CallbridgeStacks {
  data: DataStack;
  callControl: CallControlStack;
  workloads: WorkloadsStack;
  observability: ObservabilityStack;
  connect?: ConnectStack;
}

/** Connect's region is its instance's, which may differ from the SMA's. */
export function connectRegion(instanceArn: string): string {
  return instanceArn.split(':')[3] ?? '';
}

export function buildStacks(
  app: App,
  deployment: Deployment,
  code: FunctionCode,
): CallbridgeStacks {
  const { config } = deployment;
  const env = { account: config.aws.account, region: config.aws.region };
  const tags = { application: 'callbridge', deployment: config.name };
  const data = new DataStack(app, `${config.name}-data`, { env, tags, config });
  const callControl = new CallControlStack(app, `${config.name}-call-control`, {
    env,
    tags,
    deployment,
    table: data.table,
    secrets: data.secrets,
    recordingsBucket: data.recordingsBucket,
    code,
  });
  const workloads = new WorkloadsStack(app, `${config.name}-workloads`, {
    env,
    tags,
    config,
    table: data.table,
    secrets: data.secrets,
    sipMediaApplicationArn: callControl.sipMediaApplication.attrSipMediaApplicationArn,
  });
  const observability = new ObservabilityStack(app, `${config.name}-observability`, {
    env,
    tags,
    config,
    smaFunction: callControl.smaFunction,
  });
  const connect = config.connect
    ? new ConnectStack(app, `${config.name}-connect`, {
        env: { account: config.aws.account, region: connectRegion(config.connect.instanceArn) },
        tags,
        deployment,
        code: code.connectContext,
      })
    : undefined;
  return { data, callControl, workloads, observability, ...(connect ? { connect } : {}) };
}
