// The Voice Connector's origination (calls from Chime to the LiveKit SIP hosts: the SMA's
// CallAndBridge to the Voice Connector goes there) and, when configured, its termination (calls
// from LiveKit into Chime). CloudFormation's AWS::Chime::VoiceConnector sets neither, so this
// custom resource does, with the Chime SDK Voice API:
//   PutVoiceConnectorOrigination / DeleteVoiceConnectorOrigination
//   PutVoiceConnectorTermination / DeleteVoiceConnectorTermination
// https://docs.aws.amazon.com/chime-sdk/latest/APIReference/API_voice-chime_PutVoiceConnectorOrigination.html
// Put replaces the whole setting, so create and update are the same call. A Voice Connector that is
// already gone has nothing left to delete.
import {
  DeleteVoiceConnectorOriginationCommand,
  DeleteVoiceConnectorTerminationCommand,
  PutVoiceConnectorOriginationCommand,
  PutVoiceConnectorTerminationCommand,
  type ChimeSDKVoiceClient,
} from '@aws-sdk/client-chime-sdk-voice';
import * as z from 'zod';
import {
  cfnInt,
  isNotFound,
  type CustomResourceEvent,
  type CustomResourceResult,
} from './events.js';

const route = z.object({
  Host: z.string().min(1),
  Port: cfnInt.pipe(z.number().min(1).max(65_535)),
  Protocol: z.enum(['UDP', 'TCP']),
  Priority: cfnInt.pipe(z.number().min(1).max(99)),
  Weight: cfnInt.pipe(z.number().min(1).max(99)),
});

export const RoutingProps = z.object({
  VoiceConnectorId: z.string().min(1),
  // Chime takes at most 10 origination routes.
  Routes: z.array(route).min(1).max(10),
  Termination: z
    .object({
      CidrAllowedList: z.array(z.string().min(1)).min(1),
      CallingRegions: z.array(z.string().min(1)).min(1),
      CpsLimit: cfnInt.pipe(z.number().min(1)),
    })
    .optional(),
});
export type RoutingProps = z.infer<typeof RoutingProps>;

const physicalId = (p: RoutingProps) => `${p.VoiceConnectorId}/routing`;

async function put(client: ChimeSDKVoiceClient, p: RoutingProps, old?: RoutingProps) {
  await client.send(
    new PutVoiceConnectorOriginationCommand({
      VoiceConnectorId: p.VoiceConnectorId,
      Origination: { Routes: p.Routes, Disabled: false },
    }),
  );
  if (p.Termination) {
    await client.send(
      new PutVoiceConnectorTerminationCommand({
        VoiceConnectorId: p.VoiceConnectorId,
        Termination: { ...p.Termination, Disabled: false },
      }),
    );
  } else if (old?.Termination && old.VoiceConnectorId === p.VoiceConnectorId) {
    // Termination taken out of the configuration: calls from LiveKit into Chime stop.
    await ignoreNotFound(() =>
      client.send(
        new DeleteVoiceConnectorTerminationCommand({ VoiceConnectorId: p.VoiceConnectorId }),
      ),
    );
  }
}

async function ignoreNotFound(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

async function remove(client: ChimeSDKVoiceClient, p: RoutingProps): Promise<void> {
  const id = p.VoiceConnectorId;
  await ignoreNotFound(() =>
    client.send(new DeleteVoiceConnectorOriginationCommand({ VoiceConnectorId: id })),
  );
  if (p.Termination) {
    await ignoreNotFound(() =>
      client.send(new DeleteVoiceConnectorTerminationCommand({ VoiceConnectorId: id })),
    );
  }
}

export async function onRoutingEvent(
  event: CustomResourceEvent,
  client: ChimeSDKVoiceClient,
): Promise<CustomResourceResult> {
  const p = RoutingProps.parse(event.ResourceProperties);
  switch (event.RequestType) {
    case 'Create':
      await put(client, p);
      return { PhysicalResourceId: physicalId(p) };
    case 'Update': {
      // A new Voice Connector gets a new physical id: CloudFormation then deletes the old one's
      // routing (which went with it).
      await put(client, p, RoutingProps.parse(event.OldResourceProperties));
      return { PhysicalResourceId: physicalId(p) };
    }
    case 'Delete':
      await remove(client, p);
      return { PhysicalResourceId: event.PhysicalResourceId };
  }
}
