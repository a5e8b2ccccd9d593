// How provisioning compares and marks what it writes: the comparable shape of each kind (what the
// definitions control, from a definition and from the server's object), their differences, and
// the metadata marking callbridge's own objects.
import type {
  SIPDispatchRuleInfo,
  SIPInboundTrunkInfo,
  SIPOutboundTrunkInfo,
} from 'livekit-server-sdk';
import {
  MANAGED_BY,
  type DispatchRuleDef,
  type InboundTrunkDef,
  type OutboundTrunkDef,
} from './definitions.js';

// SIPTransport and SIPHeaderOptions values of the LiveKit protocol (livekit_sip.proto).
export const TRANSPORT = { udp: 1, tcp: 2 } as const;
export const SIP_NO_HEADERS = 0;

/** The metadata of every object callbridge writes. */
export function managedMetadata(extra: Record<string, string> = {}): string {
  return JSON.stringify({ managedBy: MANAGED_BY, ...extra });
}

/** Whether callbridge wrote (and so owns) an object, by its metadata. */
export function isManaged(raw: string): boolean {
  try {
    const m = JSON.parse(raw) as unknown;
    return typeof m === 'object' && m !== null && 'managedBy' in m && m.managedBy === MANAGED_BY;
  } catch {
    return false;
  }
}

/** The comparable shape of each kind: what the definitions control, in a stable order. */
export type Shape = Record<string, string | string[] | Record<string, string>>;

const sorted = (list: readonly string[]) => [...list].sort();
function sortedRecord(r: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(r ?? {}).sort(([a], [b]) => a.localeCompare(b)));
}

/** A protobuf Duration as `<seconds>s`; an unset one reads `0s` (livekit-sip's 24 h default). */
function durationText(d: SIPInboundTrunkInfo['maxCallDuration']): string {
  const seconds = Number(d?.seconds ?? 0n) + (d?.nanos ?? 0) / 1e9;
  return `${seconds}s`;
}

const inboundShape = (t: InboundTrunkDef): Shape => ({
  numbers: sorted(t.numbers),
  allowedAddresses: sorted(t.allowedAddresses),
  headersToAttributes: sortedRecord(t.headersToAttributes),
  maxCallDuration: `${t.maxCallDurationS}s`,
  metadata: managedMetadata({ useCase: t.useCase }),
});
const inboundShapeOf = (t: SIPInboundTrunkInfo): Shape => ({
  numbers: sorted(t.numbers),
  allowedAddresses: sorted(t.allowedAddresses),
  headersToAttributes: sortedRecord(t.headersToAttributes),
  maxCallDuration: durationText(t.maxCallDuration),
  metadata: t.metadata,
});
const outboundShape = (t: OutboundTrunkDef): Shape => ({
  address: t.address,
  transport: String(TRANSPORT[t.transport]),
  numbers: sorted(t.numbers),
  metadata: managedMetadata(),
});
const outboundShapeOf = (t: SIPOutboundTrunkInfo): Shape => ({
  address: t.address,
  transport: String(t.transport),
  numbers: sorted(t.numbers),
  metadata: t.metadata,
});
const ruleShape = (r: DispatchRuleDef): Shape => ({
  rule: `callee prefix=${r.roomPrefix} randomize=true`,
  inboundTrunks: sorted(r.inboundTrunks),
  agents: [r.agentName],
  hidePhoneNumber: String(r.hidePhoneNumber),
  metadata: managedMetadata(),
});
function ruleShapeOf(r: SIPDispatchRuleInfo, trunkNames: Map<string, string>): Shape {
  const rule = r.rule?.rule;
  return {
    rule:
      rule?.case === 'dispatchRuleCallee'
        ? `callee prefix=${rule.value.roomPrefix} randomize=${rule.value.randomize}`
        : String(rule?.case ?? 'none'),
    inboundTrunks: sorted(r.trunkIds.map((id) => trunkNames.get(id) ?? id)),
    agents: (r.roomConfig?.agents ?? []).map((a) => a.agentName),
    hidePhoneNumber: String(r.hidePhoneNumber),
    metadata: r.metadata,
  };
}

/** `field: old → new` for each field of `want` that `have` does not match. */
export function differences(want: Shape, have: Shape): string[] {
  const out: string[] = [];
  for (const key of Object.keys(want)) {
    const a = JSON.stringify(have[key]);
    const b = JSON.stringify(want[key]);
    if (a !== b) out.push(`${key}: ${a} → ${b}`);
  }
  return out;
}

/** Each kind's shape from its definition (`want`) and from the server's object (`got`). */
export const INBOUND_SHAPES = { want: inboundShape, got: inboundShapeOf };
export const OUTBOUND_SHAPES = { want: outboundShape, got: outboundShapeOf };
/** A rule names its trunks by id; `trunkNames` maps the server's trunk ids to names. */
export const ruleShapes = (trunkNames: Map<string, string>) => ({
  want: ruleShape,
  got: (r: SIPDispatchRuleInfo) => ruleShapeOf(r, trunkNames),
});
