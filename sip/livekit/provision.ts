// Makes a LiveKit server's SIP configuration match the definitions (./definitions.ts): reads what
// the server holds, plans (./provision-plan.ts: nothing is decided here) and carries the plan out.
// A second run changes nothing. With `dryRun` it only plans.
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
  assertValidDefinitions,
  type DispatchRuleDef,
  type InboundTrunkDef,
  type OutboundTrunkDef,
  type SipDefinitions,
} from './definitions.js';
import { SIP_NO_HEADERS, TRANSPORT, managedMetadata } from './provision-shapes.js';
import {
  ProvisionError,
  applyOrder,
  planProvision,
  type Change,
  type ExistingSip,
  type ProvisionPlan,
} from './provision-plan.js';

export {
  ProvisionError,
  describeChange,
  describePlan,
  planProvision,
  type Change,
  type Kind,
  type ProvisionPlan,
} from './provision-plan.js';

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
  /** The plan's changes; once applied, creates carry their new ids. */
  changes: Change[];
  /** Server ids by definition name (planned creates have none until applied). */
  ids: Record<string, string>;
  applied: boolean;
}

export async function readExisting(api: SipApi): Promise<ExistingSip> {
  const [inbound, outbound, rules] = await Promise.all([
    api.listSipInboundTrunk(),
    api.listSipOutboundTrunk(),
    api.listSipDispatchRule(),
  ]);
  return { inbound, outbound, rules };
}

/** Plans (and unless `dryRun`, applies) the changes that make the server match `defs`. */
export async function provision(
  api: SipApi,
  defs: SipDefinitions,
  opts: { dryRun?: boolean } = {},
): Promise<ProvisionResult> {
  // Bad definitions stop the run before anything, even a list call, is sent.
  assertValidDefinitions(defs);
  const plan = planProvision(defs, await readExisting(api));
  if (opts.dryRun) return { changes: plan.changes, ids: { ...plan.ids }, applied: false };
  return applyPlan(api, plan);
}

/** Carries out a plan's changes in `applyOrder`. */
export async function applyPlan(api: SipApi, plan: ProvisionPlan): Promise<ProvisionResult> {
  const ids = { ...plan.ids };
  const written = new Map<Change, string>();
  for (const c of applyOrder(plan)) {
    if (c.action === 'delete') {
      if (c.kind === 'dispatch rule') await api.deleteSipDispatchRule(idOf(c));
      else await api.deleteSipTrunk(idOf(c));
      continue;
    }
    const id = await write(api, c, ids);
    ids[c.name] = id;
    written.set(c, id);
  }
  const changes = plan.changes.map((c) => (written.has(c) ? { ...c, id: written.get(c) } : c));
  return { changes, ids, applied: true };
}

function idOf(c: Change): string {
  if (!c.id) throw new ProvisionError(`${c.kind} "${c.name}": ${c.action} without a server id`);
  return c.id;
}

function definitionOf<D>(c: Change & { definition?: D }): D {
  if (!c.definition) throw new ProvisionError(`${c.kind} "${c.name}": no definition to write`);
  return c.definition;
}

/** Creates or updates the object of a change; resolves with its server id. */
function write(api: SipApi, c: Change, ids: Record<string, string>): Promise<string> {
  const update = c.action === 'update' ? idOf(c) : undefined;
  if (c.kind === 'inbound trunk') return writeInbound(api, definitionOf(c), update);
  if (c.kind === 'outbound trunk') return writeOutbound(api, definitionOf(c), update);
  return writeRule(api, definitionOf(c), ids, update);
}

/**
 * The SDK's create options carry no max call duration, so a new trunk is created with everything
 * else (never open to any address, even for a moment), then replaced whole as an update is.
 */
async function writeInbound(api: SipApi, d: InboundTrunkDef, id?: string): Promise<string> {
  const metadata = managedMetadata({ useCase: d.useCase });
  const trunkId =
    id ??
    (
      await api.createSipInboundTrunk(d.name, d.numbers, {
        metadata,
        allowedAddresses: d.allowedAddresses,
        headersToAttributes: d.headersToAttributes,
      })
    ).sipTrunkId;
  const info = new SIPInboundTrunkInfo({
    sipTrunkId: trunkId,
    name: d.name,
    metadata,
    numbers: d.numbers,
    allowedAddresses: d.allowedAddresses,
    headersToAttributes: d.headersToAttributes,
    maxCallDuration: { seconds: BigInt(d.maxCallDurationS) },
  });
  return (await api.updateSipInboundTrunk(trunkId, info)).sipTrunkId;
}

async function writeOutbound(api: SipApi, d: OutboundTrunkDef, id?: string): Promise<string> {
  const metadata = managedMetadata();
  const transport = TRANSPORT[d.transport];
  if (id === undefined) {
    const t = await api.createSipOutboundTrunk(d.name, d.address, d.numbers, {
      metadata,
      transport: transport as OutboundOptions['transport'],
    });
    return t.sipTrunkId;
  }
  const info = new SIPOutboundTrunkInfo({
    sipTrunkId: id,
    name: d.name,
    metadata,
    address: d.address,
    transport,
    numbers: d.numbers,
    includeHeaders: SIP_NO_HEADERS,
  });
  return (await api.updateSipOutboundTrunk(id, info)).sipTrunkId;
}

async function writeRule(
  api: SipApi,
  d: DispatchRuleDef,
  ids: Record<string, string>,
  id?: string,
): Promise<string> {
  const trunkIds = d.inboundTrunks.map((n) => {
    const trunk = ids[n];
    if (!trunk) throw new ProvisionError(`dispatch rule "${d.name}": trunk "${n}" has no id yet`);
    return trunk;
  });
  const metadata = managedMetadata();
  const roomConfig = new RoomConfiguration({
    agents: [new RoomAgentDispatch({ agentName: d.agentName })],
  });
  if (id === undefined) {
    const r = await api.createSipDispatchRule(
      { type: 'callee', roomPrefix: d.roomPrefix, randomize: true },
      { name: d.name, metadata, trunkIds, roomConfig, hidePhoneNumber: d.hidePhoneNumber },
    );
    return r.sipDispatchRuleId;
  }
  const info = new SIPDispatchRuleInfo({
    sipDispatchRuleId: id,
    name: d.name,
    metadata,
    trunkIds,
    roomConfig,
    hidePhoneNumber: d.hidePhoneNumber,
    rule: new SIPDispatchRule({
      rule: {
        case: 'dispatchRuleCallee',
        value: new SIPDispatchRuleCallee({ roomPrefix: d.roomPrefix, randomize: true }),
      },
    }),
  });
  return (await api.updateSipDispatchRule(id, info)).sipDispatchRuleId;
}
