// The lab's SIP definitions: the product's local profile with the Twilio gateway's trunk, and the lab's own outbound trunk to
// the stack's livekit-sip, valid together.
import { describe, expect, it } from 'vitest';
import { DEFAULT_AGENT_NAME } from '../../../contracts/ids.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { definitionProblems, sipDefinitions } from '../../../sip/livekit/definitions.js';
import {
  LAB_OUTBOUND_TRUNK,
  LAB_TWILIO_GATEWAY,
  labSipDefinitions,
} from '../../../lab/stack/lab-sip.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

const useCases = parseUseCases(USE_CASES_JSON);

describe('labSipDefinitions', () => {
  it("adds the lab trunk to livekit-sip's address to the local profile, which it leaves as it is", () => {
    const opts = { useCases, agentName: DEFAULT_AGENT_NAME };
    const defs = labSipDefinitions({ ...opts, sipAddress: '127.0.0.1:5060' });
    expect(definitionProblems(defs)).toEqual([]);
    expect(defs.outboundTrunks.map((t) => [t.name, t.address])).toEqual([
      [LAB_OUTBOUND_TRUNK, '127.0.0.1:5060'],
    ]);
    const product = sipDefinitions({
      profile: 'local',
      ...opts,
      twilioGatewayAddresses: [LAB_TWILIO_GATEWAY],
    });
    expect({ ...defs, outboundTrunks: [] }).toEqual(product);
  });
});
