// The workloads stack: the AWS side of what runs on the LiveKit cluster (Kubernetes, EKS): an IAM
// role for each of its service accounts, assumed through EKS Pod Identity, each granted only what
// its code calls. The call guard runs there as a Deployment beside livekit-server, which sends it
// webhooks and whose agent workers hold presence connections to it (docs/decisions/deploy-hosting.md).
//   guard   DynamoDB on the calls table's state and lease items and its open-calls index, the
//           Voice API's UpdateSipMediaApplicationCall on the SMA, its presence and LiveKit secrets
//   agent   UpdateSipMediaApplicationCall on the SMA (transfers, hang-ups); DynamoDB on the call's
//           items (its state, conversation record, callback) and caller profiles, the rolling
//           numbers' claims of Twilio transfers, and reads of the use cases; with a Connect instance, its queues' figures and hours and outbound
//           callbacks; its call token, presence and LiveKit secrets
//   livekit the LiveKit API secret (livekit-server's keys, livekit-sip)
//   twilio  the Twilio gateway (twilio/): DynamoDB on its calls' stream and recording items
//           (`call#…`), admission's caller and lease items and reads of the use cases; S3
//           PutObject of recordings (`recordings/…`) in the recordings bucket; its call token,
//           caller key and LiveKit secrets
// With `guard.eksClusterName` set, the pod identity associations are made here too.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { profilePk } from '../../contracts/conversations.js';
import { RECORDINGS_PREFIX } from '../../contracts/recordings.js';
import { USE_CASES_PK } from '../../contracts/use-case-items.js';
import { OPEN_CALLS_INDEX } from '../../lambdas/sma/table.js';
import type { DeployConfig } from '../config.js';
import { HANDOFF_PREFIX } from './call-control.js';
import { recordingsBucketName, type CallbridgeSecrets } from './data.js';

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
  twilio: 'callbridge-twilio',
} as const;

export class WorkloadsStack extends Stack {
  readonly guardRole: iam.Role;
  readonly agentRole: iam.Role;
  readonly livekitRole: iam.Role;
  /** The Twilio gateway's, when the configuration has a `twilio` section. */
  readonly twilioRole: iam.Role | undefined;
  /** The recordings bucket (the data stack's, by its name) the gateway writes to. */
  readonly recordingsBucketName: string;
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
    // The rolling numbers' claims of Twilio transfers with context (store/handoff-claims.ts, the
    // SMA's own for Chime calls): written only, the connect-context function takes them.
    this.agentRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'HandoffClaims',
        actions: ['dynamodb:PutItem'],
        resources: [table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${HANDOFF_PREFIX}*`] },
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
            'connect:GetEffectiveHoursOfOperations',
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

    this.recordingsBucketName = recordingsBucketName(config);
    if (config.twilio) {
      this.twilioRole = this.podRole('TwilioRole', `${config.name}-twilio`);
      grantTwilioGateway(this.twilioRole, table, this.recordingsBucketName);
      // Not a LiveKit participant (its calls are SIP calls to livekit-sip): no LiveKit keys.
      this.twilioRole.addToPolicy(readSecrets(secrets.callToken, secrets.callerKey));
    }

    const cluster = config.guard.eksClusterName;
    if (cluster) {
      const roles = {
        guard: this.guardRole,
        agent: this.agentRole,
        livekit: this.livekitRole,
        ...(this.twilioRole ? { twilio: this.twilioRole } : {}),
      };
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
    if (this.twilioRole) new CfnOutput(this, 'TwilioRoleArn', { value: this.twilioRole.roleArn });
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

/**
 * What the Twilio gateway calls (twilio/, and the modules it runs: store/recordings.ts,
 * lambdas/sma/admission/, store/use-case-store.ts's catalog read), each on its own items:
 *   PutItem     its streams' connection items and recording items (`call#…`)
 *   UpdateItem  a stream's end (`call#…`), a caller's hourly calls (`caller#…`), leases (`limit#…`)
 *   Query       a caller's items (`caller#…`) and the use cases' catalog
 *   GetItem     the caps' leases (`limit#…`)
 *   PutObject   a call's recording under `recordings/` (never voicemail: only Chime writes that)
 */
function grantTwilioGateway(role: iam.Role, table: dynamodb.ITableV2, bucket: string): void {
  const onItems = (sid: string, actions: string[], leadingKeys: string[]) =>
    new iam.PolicyStatement({
      sid,
      actions,
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': leadingKeys } },
    });
  role.addToPolicy(onItems('StreamsAndRecordings', ['dynamodb:PutItem'], ['call#*']));
  role.addToPolicy(
    onItems('StreamsAndAdmission', ['dynamodb:UpdateItem'], ['call#*', 'caller#*', 'limit#*']),
  );
  role.addToPolicy(
    onItems('AdmissionCallersAndUseCases', ['dynamodb:Query'], ['caller#*', USE_CASES_PK]),
  );
  role.addToPolicy(onItems('AdmissionLeases', ['dynamodb:GetItem'], ['limit#*']));
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'Recordings',
      actions: ['s3:PutObject'],
      resources: [`arn:${Stack.of(role).partition}:s3:::${bucket}/${RECORDINGS_PREFIX}/*`],
    }),
  );
}
