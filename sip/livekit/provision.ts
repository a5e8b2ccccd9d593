// Makes a LiveKit server's SIP configuration match the definitions (./definitions.ts): creates
// what is missing, updates in place what differs, deletes what callbridge created and no longer
// defines, and leaves everything else alone. A second run changes nothing. With `dryRun` it only
// reports the plan.
//
// Ownership: objects callbridge creates carry {"managedBy":"callbridge"} in their metadata and are
// matched by name. An object of someone else's with one of our names or numbers stops the run
// before anything is sent.
import {
  RoomAgentDispatch,
  RoomConfiguration,
  SIPDispatchRule,
  SIPDispatchRuleCallee,
  SIPDispatchRuleInfo,
  SIPInboundTrunkInfo,
  SIPOutboundTrunkInfo,
  type SipClient,
} from 'livekit-server-sdk';
import {
  MANAGED_BY,
  assertValidDefinitions,
  type DispatchRuleDef,
  type InboundTrunkDef,
  type OutboundTrunkDef,
  type SipDefinitions,
} from './definitions.js';

export type Kind = 'inbound trunk' | 'outbound trunk' | 'dispatch rule';

export interface Change {
  action: 'create' | 'update' | 'delete' | 'unchanged';
  kind: Kind;
  name: string;
  /** The server's id (absent for a create until it is applied). */
  id?: string;
  /** For an update: the fields that differ, as `field: old → new`. */
  differences?: string[];
}

export class ProvisionError extends Error {
  override name = 'ProvisionError';
}

/** The SipClient calls provisioning uses (an interface so tests can count calls). */
export type SipApi = Pick<
  SipClient,
  | 'listSipInboundTrunk'
  | 'listSipOutboundTrunk'
  | 'listSipDispatchRule'
  | 'createSipInboundTrunk'
  | 'createSipOutboundTrunk'
  | 'createSipDispatchRule'
  | 'updateSipInboundTrunk'
  | 'updateSipOutboundTrunk'
  | 'updateSipDispatchRule'
  | 'deleteSipTrunk'
  | 'deleteSipDispatchRule'
>;

type OutboundOptions = NonNullable<Parameters<SipApi['createSipOutboundTrunk']>[3]>;

export interface ProvisionResult {
  changes: Change[];
  /** Server ids by definition name, after the run (planned creates have none on a dry run). */
  ids: Record<string, string>;
  applied: boolean;
}

interface Metadata {
  managedBy?: string;
  useCase?: string;
}

function metadataOf(raw: string): Metadata {
  try {
    const m = JSON.parse(raw) as unknown;
    return typeof m === 'object' && m !== null ? (m as Metadata) : {};
  } catch {
    return {};
  }
}

const managed = (raw: string) => metadataOf(raw).managedBy === MANAGED_BY;
const metadata = (extra: Record<string, string> = {}) =>
  JSON.stringify({ managedBy: MANAGED_BY, ...extra });

// SIPTransport and SIPHeaderOptions values of the LiveKit protocol (livekit_sip.proto).
const TRANSPORT = { udp: 1, tcp: 2 } as const;
const SIP_NO_HEADERS = 0;

/** The comparable shape of each kind: what the definitions control, in a stable order. */
type Shape = Record<string, string | string[] | Record<string, string>>;

function sortedRecord(r: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(r ?? {}).sort(([a], [b]) => a.localeCompare(b)));
}

function inboundShape(t: InboundTrunkDef): Shape {
  return {
    numbers: [...t.numbers].sort(),
    allowedAddresses: [...t.allowedAddresses].sort(),
    headersToAttributes: sortedRecord(t.headersToAttributes),
    metadata: metadata({ useCase: t.useCase }),
  };
}
function inboundShapeOf(t: SIPInboundTrunkInfo): Shape {
  return {
    numbers: [...t.numbers].sort(),
    allowedAddresses: [...t.allowedAddresses].sort(),
    headersToAttributes: sortedRecord(t.headersToAttributes),
    metadata: t.metadata,
  };
}
function outboundShape(t: OutboundTrunkDef): Shape {
  return {
    address: t.address,
    transport: String(TRANSPORT[t.transport]),
    numbers: [...t.numbers].sort(),
    metadata: metadata(),
  };
}
function outboundShapeOf(t: SIPOutboundTrunkInfo): Shape {
  return {
    address: t.address,
    transport: String(t.transport),
    numbers: [...t.numbers].sort(),
    metadata: t.metadata,
  };
}
function ruleShape(r: DispatchRuleDef): Shape {
  return {
    rule: `callee prefix=${r.roomPrefix} randomize=true`,
    inboundTrunks: [...r.inboundTrunks].sort(),
    agents: [r.agentName],
    metadata: metadata(),
  };
}
function ruleShapeOf(r: SIPDispatchRuleInfo, trunkNames: Map<string, string>): Shape {
  const rule = r.rule?.rule;
  return {
    rule:
      rule?.case === 'dispatchRuleCallee'
        ? `callee prefix=${rule.value.roomPrefix} randomize=${rule.value.randomize}`
        : String(rule?.case ?? 'none'),
    inboundTrunks: r.trunkIds.map((id) => trunkNames.get(id) ?? id).sort(),
    agents: (r.roomConfig?.agents ?? []).map((a) => a.agentName),
    metadata: r.metadata,
  };
}

function differences(want: Shape, have: Shape): string[] {
  const out: string[] = [];
  for (const key of Object.keys(want)) {
    const a = JSON.stringify(have[key]);
    const b = JSON.stringify(want[key]);
    if (a !== b) out.push(`${key}: ${a} → ${b}`);
  }
  return out;
}

/** Plans (and unless `dryRun`, applies) the changes that make the server match `defs`. */
export async function provision(
  api: SipApi,
  defs: SipDefinitions,
  opts: { dryRun?: boolean } = {},
): Promise<ProvisionResult> {
  assertValidDefinitions(defs);
  const [inbound, outbound, rules] = await Promise.all([
    api.listSipInboundTrunk(),
    api.listSipOutboundTrunk(),
    api.listSipDispatchRule(),
  ]);

  checkForeignConflicts(defs, inbound, outbound, rules);

  const changes: Change[] = [];
  const ids: Record<string, string> = {};
  const byName = <T extends { name: string; metadata: string }>(list: T[]) =>
    new Map(list.filter((x) => managed(x.metadata)).map((x) => [x.name, x]));

  /** create, update or unchanged for each definition of a kind, against what the server has. */
  const plan = <D extends { name: string }, H>(
    kind: Kind,
    list: D[],
    have: Map<string, H>,
    idOf: (h: H) => string,
    want: (d: D) => Shape,
    got: (h: H) => Shape,
  ) => {
    for (const def of list) {
      const h = have.get(def.name);
      if (!h) {
        changes.push({ action: 'create', kind, name: def.name });
        continue;
      }
      const id = idOf(h);
      ids[def.name] = id;
      const diff = differences(want(def), got(h));
      changes.push({
        action: diff.length ? 'update' : 'unchanged',
        kind,
        name: def.name,
        id,
        ...(diff.length ? { differences: diff } : {}),
      });
    }
  };
  const trunkId = (t: { sipTrunkId: string }) => t.sipTrunkId;
  // Inbound trunks first: the dispatch rule refers to them by id.
  const haveIn = byName(inbound);
  plan('inbound trunk', defs.inboundTrunks, haveIn, trunkId, inboundShape, inboundShapeOf);
  const haveOut = byName(outbound);
  plan('outbound trunk', defs.outboundTrunks, haveOut, trunkId, outboundShape, outboundShapeOf);
  const trunkNames = new Map(inbound.map((t) => [t.sipTrunkId, t.name]));
  const haveRules = byName(rules);
  plan(
    'dispatch rule',
    defs.dispatchRules,
    haveRules,
    (r) => r.sipDispatchRuleId,
    ruleShape,
    (r) => ruleShapeOf(r, trunkNames),
  );
  // What callbridge created and no longer defines. Rules go before the trunks they refer to.
  const wanted = new Set([
    ...defs.inboundTrunks.map((d) => d.name),
    ...defs.outboundTrunks.map((d) => d.name),
    ...defs.dispatchRules.map((d) => d.name),
  ]);
  for (const r of haveRules.values()) {
    if (!wanted.has(r.name)) {
      changes.push({
        action: 'delete',
        kind: 'dispatch rule',
        name: r.name,
        id: r.sipDispatchRuleId,
      });
    }
  }
  for (const [kind, list] of [
    ['inbound trunk', haveIn],
    ['outbound trunk', haveOut],
  ] as const) {
    for (const t of list.values()) {
      if (!wanted.has(t.name))
        changes.push({ action: 'delete', kind, name: t.name, id: t.sipTrunkId });
    }
  }

  if (opts.dryRun) return { changes, ids, applied: false };

  const defOf = <T extends { name: string }>(list: T[], name: string) =>
    list.find((d) => d.name === name) as T;
  const order: Kind[] = ['inbound trunk', 'outbound trunk', 'dispatch rule'];
  // Deletes of rules first (they may hold trunks), then trunks in order, then rules.
  for (const c of changes.filter((c) => c.action === 'delete' && c.kind === 'dispatch rule')) {
    await api.deleteSipDispatchRule(c.id as string);
  }
  for (const kind of order) {
    for (const c of changes.filter((c) => c.kind === kind)) {
      if (c.action === 'create' || c.action === 'update') {
        const id = await write(api, defs, kind, defOf, c, ids);
        ids[c.name] = id;
        c.id = id;
      } else if (c.action === 'delete' && kind !== 'dispatch rule') {
        await api.deleteSipTrunk(c.id as string);
      }
    }
  }
  return { changes, ids, applied: true };
}

async function write(
  api: SipApi,
  defs: SipDefinitions,
  kind: Kind,
  defOf: <T extends { name: string }>(list: T[], name: string) => T,
  c: Change,
  ids: Record<string, string>,
): Promise<string> {
  if (kind === 'inbound trunk') {
    const d = defOf(defs.inboundTrunks, c.name);
    const info = new SIPInboundTrunkInfo({
      name: d.name,
      metadata: metadata({ useCase: d.useCase }),
      numbers: d.numbers,
      allowedAddresses: d.allowedAddresses,
      headersToAttributes: d.headersToAttributes,
    });
    if (c.action === 'create') {
      const t = await api.createSipInboundTrunk(d.name, d.numbers, {
        metadata: info.metadata,
        allowedAddresses: d.allowedAddresses,
        headersToAttributes: d.headersToAttributes,
      });
      return t.sipTrunkId;
    }
    info.sipTrunkId = c.id as string;
    return (await api.updateSipInboundTrunk(c.id as string, info)).sipTrunkId;
  }
  if (kind === 'outbound trunk') {
    const d = defOf(defs.outboundTrunks, c.name);
    const info = new SIPOutboundTrunkInfo({
      name: d.name,
      metadata: metadata(),
      address: d.address,
      transport: TRANSPORT[d.transport],
      numbers: d.numbers,
      includeHeaders: SIP_NO_HEADERS,
    });
    if (c.action === 'create') {
      const t = await api.createSipOutboundTrunk(d.name, d.address, d.numbers, {
        metadata: info.metadata,
        transport: info.transport as OutboundOptions['transport'],
      });
      return t.sipTrunkId;
    }
    info.sipTrunkId = c.id as string;
    return (await api.updateSipOutboundTrunk(c.id as string, info)).sipTrunkId;
  }
  const d = defOf(defs.dispatchRules, c.name);
  const trunkIds = d.inboundTrunks.map((n) => {
    const id = ids[n];
    if (!id) throw new ProvisionError(`dispatch rule "${d.name}": trunk "${n}" has no id yet`);
    return id;
  });
  const roomConfig = new RoomConfiguration({
    agents: [new RoomAgentDispatch({ agentName: d.agentName })],
  });
  if (c.action === 'create') {
    const r = await api.createSipDispatchRule(
      { type: 'callee', roomPrefix: d.roomPrefix, randomize: true },
      { name: d.name, metadata: metadata(), trunkIds, roomConfig },
    );
    return r.sipDispatchRuleId;
  }
  const info = new SIPDispatchRuleInfo({
    sipDispatchRuleId: c.id as string,
    name: d.name,
    metadata: metadata(),
    trunkIds,
    roomConfig,
    rule: new SIPDispatchRule({
      rule: {
        case: 'dispatchRuleCallee',
        value: new SIPDispatchRuleCallee({ roomPrefix: d.roomPrefix, randomize: true }),
      },
    }),
  });
  return (await api.updateSipDispatchRule(c.id as string, info)).sipDispatchRuleId;
}

/** Someone else's object that would clash with ours stops the run before anything is sent. */
function checkForeignConflicts(
  defs: SipDefinitions,
  inbound: SIPInboundTrunkInfo[],
  outbound: SIPOutboundTrunkInfo[],
  rules: SIPDispatchRuleInfo[],
): void {
  const problems: string[] = [];
  const ourNumbers = new Map(defs.inboundTrunks.flatMap((t) => t.numbers.map((n) => [n, t.name])));
  const ourNames = new Set([
    ...defs.inboundTrunks.map((t) => t.name),
    ...defs.outboundTrunks.map((t) => t.name),
    ...defs.dispatchRules.map((r) => r.name),
  ]);
  for (const t of inbound) {
    if (managed(t.metadata)) continue;
    for (const n of t.numbers) {
      const ours = ourNumbers.get(n);
      if (ours) {
        problems.push(
          `${n} (inbound trunk "${ours}") is already on inbound trunk "${t.name}" (${t.sipTrunkId}), which callbridge does not manage`,
        );
      }
    }
  }
  for (const x of [...inbound, ...outbound, ...rules]) {
    if (!managed(x.metadata) && ourNames.has(x.name)) {
      const id = 'sipTrunkId' in x ? x.sipTrunkId : x.sipDispatchRuleId;
      problems.push(`"${x.name}" (${id}) exists and is not managed by callbridge`);
    }
  }
  if (problems.length > 0) {
    throw new ProvisionError(
      `conflicts with objects callbridge does not manage; nothing was changed:\n  - ${problems.join('\n  - ')}`,
    );
  }
}

/** One line per change, for people. */
export function describeChange(c: Change): string {
  const head = `${c.action.padEnd(9)} ${c.kind} ${c.name}${c.id ? ` (${c.id})` : ''}`;
  return c.differences?.length
    ? `${head}\n${c.differences.map((d) => `            ${d}`).join('\n')}`
    : head;
}
