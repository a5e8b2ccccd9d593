// What a LiveKit server's SIP configuration needs to match the definitions (./definitions.ts),
// decided without a server: given what the server holds, `planProvision` lists what to create,
// update in place, delete (what callbridge created and no longer defines) or keep, each with its
// reason, and what it leaves alone. ./provision.ts reads the server and carries a plan out. A plan
// made against a server that already matches holds only `unchanged` changes.
//
// Ownership: objects callbridge creates carry {"managedBy":"callbridge"} in their metadata and are
// matched by name. An object of someone else's with one of our names or numbers stops the plan.
import type {
  SIPDispatchRuleInfo,
  SIPInboundTrunkInfo,
  SIPOutboundTrunkInfo,
} from 'livekit-server-sdk';
import {
  assertValidDefinitions,
  type DispatchRuleDef,
  type InboundTrunkDef,
  type OutboundTrunkDef,
  type SipDefinitions,
} from './definitions.js';
import {
  INBOUND_SHAPES,
  OUTBOUND_SHAPES,
  differences,
  isManaged,
  ruleShapes,
  type Shape,
} from './provision-shapes.js';

export type Kind = 'inbound trunk' | 'outbound trunk' | 'dispatch rule';
export type Action = 'create' | 'update' | 'delete' | 'unchanged';

/** What the server holds, as the SIP API lists it. */
export interface ExistingSip {
  inbound: SIPInboundTrunkInfo[];
  outbound: SIPOutboundTrunkInfo[];
  rules: SIPDispatchRuleInfo[];
}

interface ChangeBase {
  action: Action;
  name: string;
  /** The server's id (absent for a create until it is applied). */
  id?: string;
  /** Why the plan does this, for people. */
  reason: string;
  /** For an update: the fields that differ, as `field: old → new`. */
  differences?: string[];
}

interface Definitions {
  'inbound trunk': InboundTrunkDef;
  'outbound trunk': OutboundTrunkDef;
  'dispatch rule': DispatchRuleDef;
}

/** A defined or managed object and what to do with it; creates and updates carry the definition. */
export type ChangeOf<K extends Kind> = ChangeBase & { kind: K; definition?: Definitions[K] };
export type Change = { [K in Kind]: ChangeOf<K> }[Kind];

/** An object on the server the plan leaves alone. */
export interface Untouched {
  kind: Kind;
  name: string;
  id: string;
  reason: string;
}

export interface ProvisionPlan {
  /** Inbound trunks, outbound trunks, dispatch rules as defined, then what goes. */
  changes: Change[];
  /** Server ids of the defined objects the server holds already, by name. */
  ids: Record<string, string>;
  untouched: Untouched[];
}

export class ProvisionError extends Error {
  override name = 'ProvisionError';
}

export const REASON = {
  create: 'not on the server',
  update: 'differs from the definition',
  unchanged: 'matches the definition',
  delete: 'created by callbridge and no longer defined',
  foreign: 'not managed by callbridge',
} as const;

interface KindPlan<K extends Kind, H> {
  kind: K;
  defs: Definitions[K][];
  /** The server's objects of this kind that callbridge manages. */
  have: H[];
}
interface KindShapes<K extends Kind, H> {
  idOf(h: H): string;
  want(d: Definitions[K]): Shape;
  got(h: H): Shape;
}

/** create, update or unchanged for each definition of a kind, then delete for what is left. */
function planKind<K extends Kind, H extends { name: string }>(
  k: KindPlan<K, H>,
  shapes: KindShapes<K, H>,
  ids: Record<string, string>,
): { kept: ChangeOf<K>[]; deleted: ChangeOf<K>[] } {
  const have = new Map(k.have.map((h) => [h.name, h]));
  const kept = k.defs.map((definition): ChangeOf<K> => {
    const { kind } = k;
    const { name } = definition;
    const h = have.get(name);
    if (!h) return { kind, name, definition, action: 'create', reason: REASON.create };
    const id = shapes.idOf(h);
    ids[name] = id;
    const diff = differences(shapes.want(definition), shapes.got(h));
    if (diff.length === 0) return { kind, name, id, action: 'unchanged', reason: REASON.unchanged };
    return {
      kind,
      name,
      definition,
      id,
      action: 'update',
      reason: REASON.update,
      differences: diff,
    };
  });
  const defined = new Set(k.defs.map((d) => d.name));
  const deleted = k.have
    .filter((h) => !defined.has(h.name))
    .map((h): ChangeOf<K> => {
      return {
        kind: k.kind,
        name: h.name,
        id: shapes.idOf(h),
        action: 'delete',
        reason: REASON.delete,
      };
    });
  return { kept, deleted };
}

/**
 * What the server needs to match `defs`. Throws DefinitionError for definitions with problems and
 * ProvisionError when an object callbridge does not manage holds one of its names or numbers.
 */
export function planProvision(defs: SipDefinitions, existing: ExistingSip): ProvisionPlan {
  assertValidDefinitions(defs);
  checkForeignConflicts(defs, existing);
  const ids: Record<string, string> = {};
  const ours = <T extends { metadata: string }>(list: T[]) =>
    list.filter((x) => isManaged(x.metadata));
  const trunkId = (t: { sipTrunkId: string }) => t.sipTrunkId;
  const inbound = planKind<'inbound trunk', SIPInboundTrunkInfo>(
    { kind: 'inbound trunk', defs: defs.inboundTrunks, have: ours(existing.inbound) },
    { idOf: trunkId, ...INBOUND_SHAPES },
    ids,
  );
  const outbound = planKind<'outbound trunk', SIPOutboundTrunkInfo>(
    { kind: 'outbound trunk', defs: defs.outboundTrunks, have: ours(existing.outbound) },
    { idOf: trunkId, ...OUTBOUND_SHAPES },
    ids,
  );
  const trunkNames = new Map(existing.inbound.map((t) => [t.sipTrunkId, t.name]));
  const rules = planKind(
    { kind: 'dispatch rule', defs: defs.dispatchRules, have: ours(existing.rules) },
    { idOf: (r) => r.sipDispatchRuleId, ...ruleShapes(trunkNames) },
    ids,
  );
  return {
    changes: [
      ...inbound.kept,
      ...outbound.kept,
      ...rules.kept,
      ...rules.deleted,
      ...inbound.deleted,
      ...outbound.deleted,
    ],
    ids,
    untouched: untouched(existing),
  };
}

function untouched(existing: ExistingSip): Untouched[] {
  const foreign = (kind: Kind, name: string, id: string, metadata: string) =>
    isManaged(metadata) ? [] : [{ kind, name, id, reason: REASON.foreign }];
  return [
    ...existing.inbound.flatMap((t) => foreign('inbound trunk', t.name, t.sipTrunkId, t.metadata)),
    ...existing.outbound.flatMap((t) =>
      foreign('outbound trunk', t.name, t.sipTrunkId, t.metadata),
    ),
    ...existing.rules.flatMap((r) =>
      foreign('dispatch rule', r.name, r.sipDispatchRuleId, r.metadata),
    ),
  ];
}

const RANK: Record<Kind, number> = { 'inbound trunk': 1, 'outbound trunk': 2, 'dispatch rule': 3 };

/**
 * The changes to carry out, in order: deleted dispatch rules first (they may hold trunks), then
 * inbound and outbound trunks, then dispatch rules (they refer to inbound trunks by id).
 */
export function applyOrder(plan: ProvisionPlan): Change[] {
  const rank = (c: Change) =>
    c.kind === 'dispatch rule' && c.action === 'delete' ? 0 : RANK[c.kind];
  return plan.changes
    .filter((c) => c.action !== 'unchanged')
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i)
    .map(({ c }) => c);
}

/** Someone else's object that would clash with ours stops the plan. */
function checkForeignConflicts(defs: SipDefinitions, existing: ExistingSip): void {
  const problems: string[] = [];
  const ourNumbers = new Map(defs.inboundTrunks.flatMap((t) => t.numbers.map((n) => [n, t.name])));
  const ourNames = new Set([
    ...defs.inboundTrunks.map((t) => t.name),
    ...defs.outboundTrunks.map((t) => t.name),
    ...defs.dispatchRules.map((r) => r.name),
  ]);
  for (const t of existing.inbound) {
    if (isManaged(t.metadata)) continue;
    for (const n of t.numbers) {
      const ours = ourNumbers.get(n);
      if (ours) {
        problems.push(
          `${n} (inbound trunk "${ours}") is already on inbound trunk "${t.name}" (${t.sipTrunkId}), which callbridge does not manage`,
        );
      }
    }
  }
  for (const x of [...existing.inbound, ...existing.outbound, ...existing.rules]) {
    if (!isManaged(x.metadata) && ourNames.has(x.name)) {
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

/** One line per change (and its differences), for people. */
export function describeChange(c: Change): string {
  const head = `${c.action.padEnd(9)} ${c.kind} ${c.name}${c.id ? ` (${c.id})` : ''}: ${c.reason}`;
  return c.differences?.length
    ? `${head}\n${c.differences.map((d) => `            ${d}`).join('\n')}`
    : head;
}

/** The plan for people: every change, then what it leaves alone. */
export function describePlan(plan: ProvisionPlan): string[] {
  return [
    ...plan.changes.map(describeChange),
    ...plan.untouched.map((u) => `${'leave'.padEnd(9)} ${u.kind} ${u.name} (${u.id}): ${u.reason}`),
  ];
}
