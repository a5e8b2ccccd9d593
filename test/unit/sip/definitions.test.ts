// The SIP definitions: what the product declares for LiveKit, and the checks that stop a bad
// definition before anything is sent to a server. The lab's outbound trunk is the lab's
// (test/unit/lab/lab-sip.test.ts); planning and applying are in provision*.test.ts.
import { describe, expect, it } from 'vitest';
import { SipHeader } from '../../../contracts/headers.js';
import {
  DefinitionError,
  MAX_CALL_DURATION_MARGIN_S,
  TWILIO_DISPATCH_RULE,
  TWILIO_TRUNK,
  definitionProblems,
  sipDefinitions,
  type SipDefinitions,
} from '../../../sip/livekit/definitions.js';
import { DEFAULT_AGENT_NAME } from '../../../contracts/ids.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

const useCases = parseUseCases(USE_CASES_JSON);
const local = () =>
  sipDefinitions({
    profile: 'local',
    useCases,
    agentName: DEFAULT_AGENT_NAME,
  });

describe('SIP definitions', () => {
  it('local: one inbound trunk per use case from loopback, no outbound trunk, one rule by agent name', () => {
    const defs = local();
    expect(definitionProblems(defs)).toEqual([]);
    expect(useCases.all.length).toBeGreaterThan(1);
    expect(defs.inboundTrunks).toEqual(
      useCases.all.map((uc) =>
        expect.objectContaining({
          name: `callbridge-in-${uc.id}`,
          numbers: [uc.livekitNumber],
          allowedAddresses: ['127.0.0.1/32'],
        }),
      ),
    );
    // Every contract header maps to its attribute.
    expect(defs.inboundTrunks[0]!.headersToAttributes).toMatchObject({
      [SipHeader.transactionId]: 'sma.transactionId',
      [SipHeader.traceparent]: 'trace.traceparent',
    });
    expect(defs.outboundTrunks).toEqual([]);
    expect(defs.dispatchRules).toEqual([
      {
        name: 'callbridge-agent',
        inboundTrunks: useCases.all.map((uc) => `callbridge-in-${uc.id}`),
        roomPrefix: 'call',
        agentName: 'callbridge-agent',
        hidePhoneNumber: true,
      },
    ]);
  });

  it("gives each use case's trunk that use case's longest call plus two minutes, as livekit-sip's backstop", () => {
    const [first, second] = useCases.file.useCases;
    const longer = parseUseCases({
      ...useCases.file,
      useCases: [first, { ...second!, limits: { ...second!.limits, maxCallSeconds: 3600 } }],
    });
    const defs = sipDefinitions({ profile: 'local', useCases: longer, agentName: 'a' });
    expect(MAX_CALL_DURATION_MARGIN_S).toBe(120);
    expect(defs.inboundTrunks.map((t) => [t.useCase, t.maxCallDurationS])).toEqual([
      [first!.id, first!.limits.maxCallSeconds + 120],
      [second!.id, 3600 + 120],
    ]);
  });

  it('production: only Chime Voice Connector signalling ranges of the regions, no lab trunk', () => {
    const defs = sipDefinitions({
      profile: 'production',
      useCases,
      agentName: 'callbridge-agent',
      regions: ['us-east-1', 'us-west-2'],
      extraAllowedAddresses: ['198.51.100.7/32'],
    });
    expect(definitionProblems(defs)).toEqual([]);
    expect(defs.outboundTrunks).toEqual([]);
    expect(defs.inboundTrunks[0]!.allowedAddresses).toEqual(
      expect.arrayContaining(['3.80.16.0/23', '99.77.253.0/24', '198.51.100.7/32']),
    );
    expect(defs.inboundTrunks[0]!.allowedAddresses.some((a) => a.startsWith('127.'))).toBe(false);
    // The caller's number stays out of participant identities and attributes in production too.
    expect(defs.dispatchRules.map((r) => r.hidePhoneNumber)).toEqual([true]);
  });

  it('production needs a known region', () => {
    const base = { profile: 'production' as const, useCases, agentName: 'a' };
    expect(() => sipDefinitions(base)).toThrow(DefinitionError);
    expect(() => sipDefinitions({ ...base, regions: ['mars-north-1'] })).toThrow(/mars-north-1/);
  });

  it('finds a number on two trunks, a contract header without its mapping, and open trunks', () => {
    const defs = local();
    const trunk = defs.inboundTrunks[0]!;
    const { [SipHeader.useCase]: _dropped, ...partial } = trunk.headersToAttributes;
    const bad: SipDefinitions = {
      ...defs,
      inboundTrunks: [
        { ...trunk, headersToAttributes: partial },
        { ...trunk, name: 'callbridge-in-copy', allowedAddresses: [] },
      ],
    };
    const problems = definitionProblems(bad).join('\n');
    expect(problems).toContain(`${trunk.numbers[0]} is also on inbound trunk "${trunk.name}"`);
    expect(problems).toContain(`contract header ${SipHeader.useCase} has no mapping`);
    expect(problems).toContain('no allowed addresses');
    expect(problems).toContain(
      'inbound trunk "callbridge-in-copy": no dispatch rule takes its calls',
    );
  });

  it('finds a mapping to the wrong attribute, loopback in production, and a dangling rule', () => {
    const defs = local();
    const trunk = defs.inboundTrunks[0]!;
    const bad: SipDefinitions = {
      ...defs,
      profile: 'production',
      inboundTrunks: [
        {
          ...trunk,
          headersToAttributes: { ...trunk.headersToAttributes, [SipHeader.region]: 'region' },
        },
      ],
      dispatchRules: [{ ...defs.dispatchRules[0]!, inboundTrunks: [trunk.name, 'nowhere'] }],
    };
    const problems = definitionProblems(bad).join('\n');
    expect(problems).toContain(`${SipHeader.region} maps to "region", not sma.region`);
    expect(problems).toContain('loopback address 127.0.0.1/32 in a production definition');
    expect(problems).toContain('unknown inbound trunk "nowhere"');
  });

  it('finds a max call duration livekit-sip would read as its 24 h default', () => {
    const defs = local();
    const trunk = defs.inboundTrunks[0]!;
    const bad = (maxCallDurationS: number): SipDefinitions => ({
      ...defs,
      inboundTrunks: [{ ...trunk, maxCallDurationS }, ...defs.inboundTrunks.slice(1)],
    });
    for (const seconds of [0, 90.5, 86_401]) {
      expect(definitionProblems(bad(seconds))).toEqual([
        `inbound trunk "${trunk.name}": max call duration ${seconds} s is not 1-86400 whole seconds`,
      ]);
    }
    expect(definitionProblems(bad(86_400))).toEqual([]);
  });

  it('takes only E.164 numbers on trunks, and "*" only on outbound trunks', () => {
    const defs = local();
    const trunk = defs.inboundTrunks[0]!;
    const bad: SipDefinitions = {
      ...defs,
      inboundTrunks: [{ ...trunk, numbers: ['+15550100311', '15550100311', '*'] }],
      outboundTrunks: [
        { name: 'out', address: '127.0.0.1:5060', transport: 'udp', numbers: ['*', '+0123'] },
      ],
    };
    expect(definitionProblems(bad).filter((p) => p.includes('E.164'))).toEqual([
      `inbound trunk "${trunk.name}": 15550100311 is not an E.164 number`,
      `inbound trunk "${trunk.name}": * is not an E.164 number`,
      'outbound trunk "out": +0123 is not an E.164 number',
    ]);
  });

  it("defines the Twilio gateway's trunk and rule only with the gateway's addresses", () => {
    expect(local().inboundTrunks.some((t) => t.provider === 'twilio')).toBe(false);
    const defs = sipDefinitions({
      profile: 'production',
      regions: ['us-east-1'],
      useCases,
      agentName: DEFAULT_AGENT_NAME,
      twilioGatewayAddresses: ['10.0.3.7/32'],
    });
    expect(definitionProblems(defs)).toEqual([]);
    const trunk = defs.inboundTrunks.find((t) => t.name === TWILIO_TRUNK)!;
    // The numbers Twilio calls reach; the gateway alone may call; the Twilio header contract.
    expect(trunk.numbers.sort()).toEqual(useCases.all.flatMap((uc) => uc.dialedNumbers).sort());
    expect(trunk.allowedAddresses).toEqual(['10.0.3.7/32']);
    expect(trunk.headersToAttributes).toEqual({
      'X-Call-Provider': 'call.provider',
      'X-Twilio-Call-Sid': 'twilio.callSid',
      'X-Twilio-Account-Sid': 'twilio.accountSid',
      'X-Use-Case': 'call.useCase',
      'X-Traceparent': 'trace.traceparent',
      'X-Call-Token': 'sma.callToken',
    });
    const longest = Math.max(...useCases.all.map((uc) => uc.limits.maxCallSeconds));
    expect(trunk.maxCallDurationS).toBe(longest + MAX_CALL_DURATION_MARGIN_S);
    // Dispatched as the SMA's calls are: a room per call, the agent by name, the number hidden.
    const rule = defs.dispatchRules.find((r) => r.name === TWILIO_DISPATCH_RULE)!;
    expect(rule).toEqual({
      ...defs.dispatchRules[0],
      name: TWILIO_DISPATCH_RULE,
      inboundTrunks: [TWILIO_TRUNK],
    });
    // No SMA header is mapped on it, and a trunk missing the Twilio contract is refused.
    expect(trunk.headersToAttributes[SipHeader.transactionId]).toBeUndefined();
    const { [SipHeader.callToken]: _token, ...noToken } = trunk.headersToAttributes;
    const broken: SipDefinitions = {
      ...defs,
      inboundTrunks: defs.inboundTrunks.map((t) =>
        t === trunk ? { ...t, headersToAttributes: noToken } : t,
      ),
    };
    expect(definitionProblems(broken)).toEqual([
      `inbound trunk "${TWILIO_TRUNK}": contract header X-Call-Token has no mapping (want sma.callToken)`,
    ]);
  });
});
