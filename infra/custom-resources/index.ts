// The Lambda entry of callbridge's custom resources (one function for both kinds), behind CDK's
// provider framework, which answers CloudFormation: a thrown error fails the resource with its
// message. Bundled by infra/assets.ts.
import { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import {
  CustomResourceEvent,
  ORIGINATION_TYPE,
  SIP_RULE_TYPE,
  type CustomResourceResult,
} from './events.js';
import { onSipRuleEvent } from './sip-rule.js';
import { onRoutingEvent } from './voice-connector-routing.js';

export class UnknownResourceError extends Error {
  override name = 'UnknownResourceError';
}

export async function dispatch(
  raw: unknown,
  client: ChimeSDKVoiceClient,
): Promise<CustomResourceResult> {
  const event = CustomResourceEvent.parse(raw);
  switch (event.ResourceType) {
    case ORIGINATION_TYPE:
      return onRoutingEvent(event, client);
    case SIP_RULE_TYPE:
      return onSipRuleEvent(event, client);
    default:
      throw new UnknownResourceError(`no handler for ${event.ResourceType}`);
  }
}

const client = new ChimeSDKVoiceClient({});

export const handler = (raw: unknown) => dispatch(raw, client);
