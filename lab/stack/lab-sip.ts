// The lab's SIP definitions: the product's local profile (sip/livekit/definitions.ts) with the
// Twilio gateway's trunk (the lab's gateway is on loopback), and the lab's own outbound trunk,
// through which the lab's SipLeg (../phone/sip-leg.ts) places calls into the same livekit-sip as a
// second call leg. Production defines no outbound trunk.
import type { UseCaseCatalog } from '../../contracts/use-cases.js';
import {
  type OutboundTrunkDef,
  type SipDefinitions,
  sipDefinitions,
} from '../../sip/livekit/definitions.js';

export const LAB_OUTBOUND_TRUNK = 'callbridge-lab-pstn';
/** Where the lab's Twilio gateway places its calls from (lab/twilio/lab-twilio.ts). */
export const LAB_TWILIO_GATEWAY = '127.0.0.1/32';

/** The lab's outbound trunk to livekit-sip at `sipAddress` (host:port). */
export function labOutboundTrunk(sipAddress: string): OutboundTrunkDef {
  return {
    name: LAB_OUTBOUND_TRUNK,
    address: sipAddress,
    transport: 'udp',
    // The lab's callers present any number; the SMA sets the caller's own as caller ID.
    numbers: ['*'],
  };
}

/** `defs` with the lab's outbound trunk added. */
export function withLabOutboundTrunk(defs: SipDefinitions, sipAddress: string): SipDefinitions {
  return { ...defs, outboundTrunks: [...defs.outboundTrunks, labOutboundTrunk(sipAddress)] };
}

/** What the lab provisions on its local stack: the local profile and the lab's outbound trunk. */
export function labSipDefinitions(opts: {
  useCases: UseCaseCatalog;
  agentName: string;
  sipAddress: string;
}): SipDefinitions {
  const local = sipDefinitions({
    profile: 'local',
    useCases: opts.useCases,
    agentName: opts.agentName,
    twilioGatewayAddresses: [LAB_TWILIO_GATEWAY],
  });
  return withLabOutboundTrunk(local, opts.sipAddress);
}
