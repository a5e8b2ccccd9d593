// What the SIP suites share: CRLF-joined lines and an SDP answer as livekit-sip writes it (the lab
// phone's suites); and for provisioning, the objects a LiveKit server lists once callbridge has
// written them, and an in-memory SIP API that holds them.
import {
  RoomAgentDispatch,
  RoomConfiguration,
  SIPDispatchRule,
  SIPDispatchRuleCallee,
  SIPDispatchRuleInfo,
  SIPInboundTrunkInfo,
  SIPOutboundTrunkInfo,
  type CreateSipDispatchRuleOptions,
  type CreateSipInboundTrunkOptions,
  type CreateSipOutboundTrunkOptions,
  type SipDispatchRuleCallee,
} from 'livekit-server-sdk';
import type {
  DispatchRuleDef,
  InboundTrunkDef,
  OutboundTrunkDef,
  SipDefinitions,
} from '../../sip/livekit/definitions.js';
import type { ExistingSip } from '../../sip/livekit/provision-plan.js';
import type { SipApi } from '../../sip/livekit/provision.js';

export const crlf = (lines: string[]) => lines.join('\r\n');

export const ANSWER_SDP = crlf([
  'v=0',
  'o=LiveKit 1700000000 1700000001 IN IP4 127.0.0.1',
  's=LiveKit',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 20452 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  '',
]);

/** The metadata callbridge writes: written out here, so a change of its format shows. */
export const MANAGED = '{"managedBy":"callbridge"}';
export const managedFor = (useCase: string) => `{"managedBy":"callbridge","useCase":"${useCase}"}`;
/** SIPTransport UDP and TCP (livekit_sip.proto). */
const TRANSPORT = { udp: 1, tcp: 2 } as const;

export const inboundInfo = (d: InboundTrunkDef, id: string) =>
  new SIPInboundTrunkInfo({
    sipTrunkId: id,
    name: d.name,
    metadata: managedFor(d.useCase),
    numbers: d.numbers,
    allowedAddresses: d.allowedAddresses,
    headersToAttributes: d.headersToAttributes,
    maxCallDuration: { seconds: BigInt(d.maxCallDurationS) },
  });

export const outboundInfo = (d: OutboundTrunkDef, id: string) =>
  new SIPOutboundTrunkInfo({
    sipTrunkId: id,
    name: d.name,
    metadata: MANAGED,
    address: d.address,
    transport: TRANSPORT[d.transport],
    numbers: d.numbers,
  });

export const calleeRule = (roomPrefix: string) =>
  new SIPDispatchRule({
    rule: {
      case: 'dispatchRuleCallee',
      value: new SIPDispatchRuleCallee({ roomPrefix, randomize: true }),
    },
  });

export const ruleInfo = (d: DispatchRuleDef, id: string, trunkIds: string[]) =>
  new SIPDispatchRuleInfo({
    sipDispatchRuleId: id,
    name: d.name,
    metadata: MANAGED,
    trunkIds,
    hidePhoneNumber: d.hidePhoneNumber,
    roomConfig: new RoomConfiguration({
      agents: [new RoomAgentDispatch({ agentName: d.agentName })],
    }),
    rule: calleeRule(d.roomPrefix),
  });

/** What a server lists once `defs` are provisioned: trunk ids `ST_<name>`, rule ids `SDR_<name>`. */
export function provisioned(defs: SipDefinitions): ExistingSip {
  return {
    inbound: defs.inboundTrunks.map((t) => inboundInfo(t, `ST_${t.name}`)),
    outbound: defs.outboundTrunks.map((t) => outboundInfo(t, `ST_${t.name}`)),
    rules: defs.dispatchRules.map((r) =>
      ruleInfo(
        r,
        `SDR_${r.name}`,
        r.inboundTrunks.map((n) => `ST_${n}`),
      ),
    ),
  };
}

/**
 * A SIP API over lists in memory, as livekit-server keeps them: creates get fresh ids, updates
 * replace by id, deletes remove. `calls` records every call by method name, in order.
 */
export function memorySipApi(start: Partial<ExistingSip> = {}) {
  const held: ExistingSip = {
    inbound: [...(start.inbound ?? [])],
    outbound: [...(start.outbound ?? [])],
    rules: [...(start.rules ?? [])],
  };
  const calls: string[] = [];
  let next = 0;
  const replace = <T>(list: T[], at: (x: T) => boolean, x: T): T => {
    list.splice(list.findIndex(at), 1, x);
    return x;
  };
  const methods = {
    listSipInboundTrunk: async () => [...held.inbound],
    listSipOutboundTrunk: async () => [...held.outbound],
    listSipDispatchRule: async () => [...held.rules],
    createSipInboundTrunk: async (
      name: string,
      numbers: string[],
      o: CreateSipInboundTrunkOptions,
    ) => {
      const t = new SIPInboundTrunkInfo({
        sipTrunkId: `ST_${++next}`,
        name,
        numbers,
        metadata: o.metadata,
        allowedAddresses: o.allowedAddresses,
        headersToAttributes: o.headersToAttributes,
      });
      held.inbound.push(t);
      return t;
    },
    createSipOutboundTrunk: async (
      name: string,
      address: string,
      numbers: string[],
      o: CreateSipOutboundTrunkOptions,
    ) => {
      const t = new SIPOutboundTrunkInfo({
        sipTrunkId: `ST_${++next}`,
        name,
        address,
        numbers,
        metadata: o.metadata,
        transport: o.transport,
      });
      held.outbound.push(t);
      return t;
    },
    createSipDispatchRule: async (rule: SipDispatchRuleCallee, o: CreateSipDispatchRuleOptions) => {
      const r = new SIPDispatchRuleInfo({
        sipDispatchRuleId: `SDR_${++next}`,
        name: o.name,
        metadata: o.metadata,
        trunkIds: o.trunkIds,
        hidePhoneNumber: o.hidePhoneNumber,
        roomConfig: o.roomConfig,
        rule: new SIPDispatchRule({
          rule: { case: 'dispatchRuleCallee', value: new SIPDispatchRuleCallee(rule) },
        }),
      });
      held.rules.push(r);
      return r;
    },
    updateSipInboundTrunk: async (id: string, t: SIPInboundTrunkInfo) =>
      replace(held.inbound, (x) => x.sipTrunkId === id, t),
    updateSipOutboundTrunk: async (id: string, t: SIPOutboundTrunkInfo) =>
      replace(held.outbound, (x) => x.sipTrunkId === id, t),
    updateSipDispatchRule: async (id: string, r: SIPDispatchRuleInfo) =>
      replace(held.rules, (x) => x.sipDispatchRuleId === id, r),
    deleteSipTrunk: async (id: string) => {
      held.inbound = held.inbound.filter((t) => t.sipTrunkId !== id);
      held.outbound = held.outbound.filter((t) => t.sipTrunkId !== id);
      return {};
    },
    deleteSipDispatchRule: async (id: string) => {
      held.rules = held.rules.filter((r) => r.sipDispatchRuleId !== id);
      return {};
    },
  };
  const api = new Proxy(methods, {
    get: (target, name: string) => {
      const method = target[name as keyof typeof methods] as (...a: unknown[]) => unknown;
      return (...args: unknown[]) => {
        calls.push(name);
        return method(...args);
      };
    },
  }) as unknown as SipApi;
  return { api, calls, held };
}
