// The Connect stack (only with `connect` in the configuration): the entry flow of the given
// instance, in the instance's region. Claiming the instance's phone numbers for the flow is left
// to the team (docs/deploy.md): the stack orders and moves no number.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as connect from 'aws-cdk-lib/aws-connect';
import type { Construct } from 'constructs';
import type { DeployConfig } from '../config.js';
import { entryFlow } from '../connect/entry-flow.js';

export interface ConnectStackProps extends StackProps {
  config: DeployConfig;
}

export class ConnectStack extends Stack {
  readonly entryFlow: connect.CfnContactFlow;

  constructor(scope: Construct, id: string, props: ConnectStackProps) {
    super(scope, id, props);
    const c = props.config.connect;
    if (!c) throw new Error('ConnectStack needs `connect` in the configuration');
    this.entryFlow = new connect.CfnContactFlow(this, 'EntryFlow', {
      instanceArn: c.instanceArn,
      name: `${props.config.name} entry`,
      description: 'Plays the notice and forwards the call to callbridge (the SMA)',
      type: 'CONTACT_FLOW',
      state: 'ACTIVE',
      content: JSON.stringify(entryFlow(c)),
    });
    new CfnOutput(this, 'EntryFlowArn', { value: this.entryFlow.attrContactFlowArn });
  }
}
