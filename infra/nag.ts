// cdk-nag's AWS Solutions rules over every stack, run at synthesis: a finding nobody explained
// fails `npm run infra -- synth`. Each acknowledgement below names the finding exactly and says
// why it stands.
import { Validations, type CfnElement, type Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { RECORDINGS_PREFIX } from '../contracts/recordings.js';
import type { CallbridgeStacks } from './app.js';

export interface Acknowledgement {
  /** Path of the construct under its stack (e.g. `CallToken`). */
  path: string;
  id: string;
  reason: string;
}

const ROTATION =
  'Shared by several services (HMAC and bearer secrets compared as they are), so a rotation ' +
  'must reach all of them together and, for the call token, when no call is up ' +
  '(docs/sma.md): rotated by an operator, not on a schedule.';

const RUNTIME =
  'Node.js 24 (Lambda support into 2028) is the newest runtime the project builds and tests ' +
  'for; a newer one is taken with the CI that runs it.';

/** The acknowledgements of one deployment's stacks. */
export function acknowledgements(stacks: CallbridgeStacks): Map<Stack, Acknowledgement[]> {
  const { data, callControl, workloads, connect } = stacks;
  const rule = (r: string) => `AwsSolutions-${r}`;
  const own = (path: string, id: string, reason: string): Acknowledgement => ({ path, id, reason });
  const provider = 'ChimeResourcesProvider/framework-onEvent';
  // cdk-nag names a finding's resources by their logical ids.
  const logicalId = (path: string, stack: Stack = callControl) =>
    `<${stack.getLogicalId(stack.node.findChild(path).node.defaultChild as CfnElement)}>`;
  const streams = (logGroupPath: string, stack: Stack = callControl) =>
    rule(
      `IAM5[Resource::arn:<AWS::Partition>:logs:${stack.region}:${stack.account}:` +
        `log-group:${logicalId(logGroupPath, stack)}:log-stream:*]`,
    );
  return new Map<Stack, Acknowledgement[]>([
    [
      data,
      ['CallToken', 'CallerKey', 'GuardPresence', 'LivekitApi'].map((path) =>
        own(path, rule('SMG4'), ROTATION),
      ),
    ],
    [
      callControl,
      [
        own('Sma', rule('L1'), RUNTIME),
        own('ChimeResources', rule('L1'), RUNTIME),
        own(
          provider,
          rule('L1'),
          "The provider framework's own function, on the runtime aws-cdk-lib chose for it.",
        ),
        own(
          `${provider}/ServiceRole`,
          rule(
            'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          ),
          "The provider framework's own role (aws-cdk-lib): it only writes its logs and invokes the handler.",
        ),
        own(
          `${provider}/ServiceRole/DefaultPolicy`,
          rule(`IAM5[Resource::${logicalId('ChimeResources').slice(0, -1)}.Arn>:*]`),
          "Invokes the versions of callbridge's own custom resource function, nothing else.",
        ),
        own(
          'ChimeResourcesRole/DefaultPolicy',
          rule(
            `IAM5[Resource::arn:<AWS::Partition>:chime:${callControl.region}:${callControl.account}:sip-rule/*]`,
          ),
          'A SIP rule gets its id when it is created, so its ARN cannot be named before; the ' +
            "rules are the account's and region's only.",
        ),
        own(
          'SmaRole/DefaultPolicy',
          streams('SmaLogs'),
          'The log streams of its own log group, which Lambda names per instance.',
        ),
        own(
          'ChimeResourcesRole/DefaultPolicy',
          streams('ChimeResourcesLogs'),
          'The log streams of its own log group, which Lambda names per instance.',
        ),
      ],
    ],
    [
      workloads,
      [
        ...(workloads.connectInstanceArn
          ? [
              own(
                'AgentRole/DefaultPolicy',
                rule(`IAM5[Resource::${workloads.connectInstanceArn}/*]`),
                "Connect names a queue, its hours and each outbound contact under the instance, and a contact's id is made per call: the agent's queue checks and callbacks are granted this one instance's resources.",
              ),
            ]
          : []),
        ...(workloads.twilioRole
          ? [
              own(
                'TwilioRole/DefaultPolicy',
                rule(
                  `IAM5[Resource::arn:<AWS::Partition>:s3:::${workloads.recordingsBucketName}/${RECORDINGS_PREFIX}/*]`,
                ),
                "A recording's key is made per call (its date, call and stream ids, " +
                  'contracts/recordings.ts): the gateway may put objects under recordings/ of ' +
                  'the one bucket, and nothing else (no read, no delete, no voicemail/).',
              ),
            ]
          : []),
      ],
    ],
    ...(connect
      ? ([
          [
            connect,
            [
              own('ConnectContext', rule('L1'), RUNTIME),
              own(
                'ConnectContextRole/DefaultPolicy',
                streams('ConnectContextLogs', connect),
                'The log streams of its own log group, which Lambda names per instance.',
              ),
            ],
          ],
        ] as [Stack, Acknowledgement[]][])
      : []),
  ]);
}

/** Adds the rules to the app and the acknowledgements to their constructs. */
export function checkWithNag(app: Construct, stacks: CallbridgeStacks): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  for (const [stack, acks] of acknowledgements(stacks)) {
    for (const a of acks) {
      const target = a.path.split('/').reduce<Construct>((c, id) => c.node.findChild(id), stack);
      Validations.of(target).acknowledge({
        id: a.id,
        reason: a.reason,
      });
    }
  }
}
