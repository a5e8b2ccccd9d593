// The workloads stack: the AWS side of what runs on the LiveKit cluster (Kubernetes, EKS): an IAM
// role for each of its service accounts, assumed through EKS Pod Identity, each granted only what
// its code calls. The call guard runs there as a Deployment beside livekit-server, which sends it
// webhooks and whose agent workers hold presence connections to it (docs/decisions/deploy-hosting.md).
//   guard   DynamoDB on the calls table's state and lease items and its open-calls index, the
//           Voice API's UpdateSipMediaApplicationCall on the SMA, its presence and LiveKit secrets
//   agent   UpdateSipMediaApplicationCall on the SMA (transfers, hang-ups); DynamoDB on the call's
//           items (its state, conversation record, callback) and caller profiles, and reads of
//           the use cases; with a Connect instance, its queues' figures and hours and outbound
//           callbacks; its call token, presence and LiveKit secrets
//   livekit the LiveKit API secret (livekit-server's keys, livekit-sip)
// With `guard.eksClusterName` set, the pod identity associations are made here too.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { profilePk } from '../../contracts/conversations.js';
import { USE_CASES_PK } from '../../contracts/use-case-items.js';
import { OPEN_CALLS_INDEX } from '../../lambdas/sma/table.js';
import type { DeployConfig } from '../config.js';
import type { CallbridgeSecrets } from './data.js';

export interface WorkloadsStackProps extends StackProps {
  config: DeployConfig;
  table: dynamodb.ITableV2;
  secrets: CallbridgeSecrets;
  /** The SIP media application's ARN (the call-control stack's). */
  sipMediaApplicationArn: string;
}

/** Kubernetes service accounts of the workloads (infra/livekit/manifests.ts uses the same). */
export const SERVICE_ACCOUNTS = {
  guard: 'callbridge-guard',
  agent: 'callbridge-agent',
  livekit: 'livekit',
} as const;

export class WorkloadsStack extends Stack {
  readonly guardRole: iam.Role;
  readonly agentRole: iam.Role;
  readonly livekitRole: iam.Role;
  /** The Connect instance whose resources the agent may read and call back through, if any. */
  readonly connectInstanceArn: string | undefined;

  constructor(scope: Construct, id: string, props: WorkloadsStackProps) {
    super(scope, id, props);
    const { config, table, secrets } = props;
    const readSecrets = (...s: { secretArn: string }[]) =>
      new iam.PolicyStatement({
        sid: 'Secrets',
        actions: ['secretsmanager:GetSecretValue'],
        resources: s.map((x) => x.secretArn),
      });
    const updateCalls = new iam.PolicyStatement({
      sid: 'CallUpdates',
      actions: ['chime:UpdateSipMediaApplicationCall'],
      resources: [props.sipMediaApplicationArn],
    });

    this.guardRole = this.podRole('GuardRole', `${config.name}-guard`);
    // Items the guard reads and writes: call states (`call#…`/state) and leases (`limit#…`).
    const guardItems = {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['call#*', 'limit#*'] },
    };
    this.guardRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OpenCalls',
        actions: ['dynamodb:Query'],
        resources: [`${table.tableArn}/index/${OPEN_CALLS_INDEX}`],
      }),
    );
    this.guardRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CallRecords',
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
        resources: [table.tableArn],
        conditions: guardItems,
      }),
    );
    this.guardRole.addToPolicy(updateCalls);
    this.guardRole.addToPolicy(readSecrets(secrets.guardPresence, secrets.livekitApi));

    this.agentRole = this.podRole('AgentRole', `${config.name}-agent`);
    this.agentRole.addToPolicy(updateCalls);
    // A call's items (`call#…`: the caller's number from its state for a callback, its record, its
    // callback) and caller profiles (`profile#…`, deleted when a caller asks to be forgotten).
    this.agentRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CallItems',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['call#*', profilePk('*')] },
        },
      }),
    );
    // The use cases' catalog, read through the agent's cache; never written by the agent.
    this.agentRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'UseCases',
        actions: ['dynamodb:Query'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [USE_CASES_PK] } },
      }),
    );
    this.connectInstanceArn = config.connect?.instanceArn;
    if (config.connect) {
      // The queue check before a transfer and the callbacks it offers (agent/queue-status,
      // agent/callbacks), on this instance's resources only.
      this.agentRole.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ConnectQueues',
          actions: [
            'connect:GetCurrentMetricData',
            'connect:DescribeQueue',
            'connect:DescribeHoursOfOperation',
            'connect:StartOutboundVoiceContact',
          ],
          resources: [config.connect.instanceArn, `${config.connect.instanceArn}/*`],
        }),
      );
    }
    this.agentRole.addToPolicy(
      readSecrets(secrets.callToken, secrets.guardPresence, secrets.livekitApi),
    );

    this.livekitRole = this.podRole('LivekitRole', `${config.name}-livekit`);
    this.livekitRole.addToPolicy(readSecrets(secrets.livekitApi));

    const cluster = config.guard.eksClusterName;
    if (cluster) {
      const roles = { guard: this.guardRole, agent: this.agentRole, livekit: this.livekitRole };
      for (const [key, role] of Object.entries(roles)) {
        new eks.CfnPodIdentityAssociation(this, `${key}PodIdentity`, {
          clusterName: cluster,
          namespace: config.guard.namespace,
          serviceAccount: SERVICE_ACCOUNTS[key as keyof typeof SERVICE_ACCOUNTS],
          roleArn: role.roleArn,
        });
      }
    }
    new CfnOutput(this, 'GuardRoleArn', { value: this.guardRole.roleArn });
    new CfnOutput(this, 'AgentRoleArn', { value: this.agentRole.roleArn });
    new CfnOutput(this, 'LivekitRoleArn', { value: this.livekitRole.roleArn });
  }

  /** A role EKS Pod Identity may hand to pods of this account's clusters only. */
  private podRole(id: string, roleName: string): iam.Role {
    const role = new iam.Role(this, id, {
      roleName,
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': this.account },
      }),
    });
    role.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        actions: ['sts:TagSession'],
        principals: [new iam.ServicePrincipal('pods.eks.amazonaws.com')],
      }),
    );
    return role;
  }
}
