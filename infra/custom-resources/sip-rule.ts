// A SIP rule: calls to one dialed number go to the SIP media application. CloudFormation has no
// type for it, so this custom resource manages it with the Chime SDK Voice API:
//   CreateSipRule, UpdateSipRule, and on delete UpdateSipRule(Disabled) then DeleteSipRule: Chime
//   refuses to delete a rule that is enabled.
// https://docs.aws.amazon.com/chime-sdk/latest/APIReference/API_voice-chime_DeleteSipRule.html
// A rule's trigger cannot change, so a new number is a new rule (a new physical id, after which
// CloudFormation deletes the old rule).
import {
  CreateSipRuleCommand,
  DeleteSipRuleCommand,
  UpdateSipRuleCommand,
  type ChimeSDKVoiceClient,
} from '@aws-sdk/client-chime-sdk-voice';
import * as z from 'zod';
import {
  cfnInt,
  isNotFound,
  type CustomResourceEvent,
  type CustomResourceResult,
} from './events.js';

export const SipRuleProps = z.object({
  Name: z.string().min(1).max(256),
  // The number callers dial, E.164 (ToPhoneNumber rules).
  PhoneNumber: z.string().regex(/^\+[1-9]\d{1,14}$/),
  SipMediaApplicationId: z.string().min(1),
  AwsRegion: z.string().min(1),
  Priority: cfnInt.pipe(z.number().min(1).max(25)).default(1),
});
export type SipRuleProps = z.infer<typeof SipRuleProps>;

const targets = (p: SipRuleProps) => [
  { SipMediaApplicationId: p.SipMediaApplicationId, Priority: p.Priority, AwsRegion: p.AwsRegion },
];

export class SipRuleError extends Error {
  override name = 'SipRuleError';
}

async function create(client: ChimeSDKVoiceClient, p: SipRuleProps): Promise<CustomResourceResult> {
  const res = await client.send(
    new CreateSipRuleCommand({
      Name: p.Name,
      TriggerType: 'ToPhoneNumber',
      TriggerValue: p.PhoneNumber,
      Disabled: false,
      TargetApplications: targets(p),
    }),
  );
  const id = res.SipRule?.SipRuleId;
  if (!id) throw new SipRuleError('CreateSipRule answered without a SipRuleId');
  return { PhysicalResourceId: id, Data: { SipRuleId: id } };
}

async function disableThenDelete(client: ChimeSDKVoiceClient, id: string, p: SipRuleProps) {
  try {
    await client.send(
      new UpdateSipRuleCommand({
        SipRuleId: id,
        Name: p.Name,
        Disabled: true,
        TargetApplications: targets(p),
      }),
    );
    await client.send(new DeleteSipRuleCommand({ SipRuleId: id }));
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

export async function onSipRuleEvent(
  event: CustomResourceEvent,
  client: ChimeSDKVoiceClient,
): Promise<CustomResourceResult> {
  const p = SipRuleProps.parse(event.ResourceProperties);
  switch (event.RequestType) {
    case 'Create':
      return create(client, p);
    case 'Update': {
      const old = SipRuleProps.parse(event.OldResourceProperties);
      if (old.PhoneNumber !== p.PhoneNumber) return create(client, p);
      await client.send(
        new UpdateSipRuleCommand({
          SipRuleId: event.PhysicalResourceId,
          Name: p.Name,
          Disabled: false,
          TargetApplications: targets(p),
        }),
      );
      return {
        PhysicalResourceId: event.PhysicalResourceId,
        Data: { SipRuleId: event.PhysicalResourceId },
      };
    }
    case 'Delete':
      await disableThenDelete(client, event.PhysicalResourceId, p);
      return { PhysicalResourceId: event.PhysicalResourceId };
  }
}
