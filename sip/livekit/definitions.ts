// What LiveKit SIP must hold for calls to reach the agent, declared in one place: the inbound
// trunks (one per use case: the number the Voice Connector dials, who may send it calls, the header
// contract mapped to attributes, and the longest call livekit-sip lets it carry; and one for the
// Twilio gateway's calls: the Twilio numbers, the gateway's address, the Twilio header contract)
// and the dispatch rules (a room per call, the agent dispatched by name through the room
// configuration, the caller's number kept out of the SIP participant). The product defines no
// outbound trunk; a caller of `sipDefinitions` may add its own before provisioning. `planProvision`
// (./provision-plan.ts) decides what a LiveKit server needs to match them.
import { headersToAttributes } from '../../contracts/headers.js';
import { isE164 } from '../../contracts/ids.js';
import { twilioHeadersToAttributes } from '../../contracts/twilio-call.js';
import type { UseCaseCatalog } from '../../contracts/use-cases.js';
import chimeRanges from './chime-voice-connector-ranges.json' with { type: 'json' };

/** Objects carrying this marker in their metadata are owned (created, updated, deleted) here. */
export const MANAGED_BY = 'callbridge';

export type Profile = 'local' | 'production';

export interface InboundTrunkDef {
  name: string;
  /**
   * Who places its calls: the SMA (through the Voice Connector), or the Twilio gateway (twilio/):
   * which header contract it maps.
   */
  provider: 'sma' | 'twilio';
  /** The use case of an SMA trunk; the Twilio trunk serves every use case (`*`). */
  useCase: string;
  /**
   * Numbers the INVITE's To user must match: the CallAndBridge `Uri` of the use case; for the
   * Twilio trunk, every use case's `dialedNumbers` (the numbers Twilio calls reach).
   */
  numbers: string[];
  /** Source IPs or CIDRs allowed to send INVITEs. Never empty: empty means anyone. */
  allowedAddresses: string[];
  /** SIP header → participant attribute (docs/architecture.md, "SIP headers"). */
  headersToAttributes: Record<string, string>;
  /**
   * livekit-sip hangs the call up (BYE) this many whole seconds after matching its INVITE: the
   * backstop should the agent not end the call at the use case's `limits.maxCallSeconds`.
   */
  maxCallDurationS: number;
}

export interface OutboundTrunkDef {
  name: string;
  /** host:port of the SIP server the trunk calls. */
  address: string;
  transport: 'udp' | 'tcp';
  /** Caller IDs calls through this trunk may present. */
  numbers: string[];
}

export interface DispatchRuleDef {
  name: string;
  /** Names of the inbound trunks whose calls this rule takes. */
  inboundTrunks: string[];
  /** Rooms are `<prefix>_<called number>_<random>`: one per call, no caller number in the name. */
  roomPrefix: string;
  /** The agent dispatched into each room (explicit dispatch, by name). */
  agentName: string;
  /**
   * Always true: the caller's number stays out of the SIP participant (its identity is
   * `sip_<hash>` instead of `sip_<number>`; no sip.phoneNumber, sip.trunkPhoneNumber or
   * sip.hostName attributes). docs/livekit.md, "Identities and room names".
   */
  hidePhoneNumber: true;
}

export interface SipDefinitions {
  profile: Profile;
  inboundTrunks: InboundTrunkDef[];
  outboundTrunks: OutboundTrunkDef[];
  dispatchRules: DispatchRuleDef[];
}

export interface DefinitionOptions {
  profile: Profile;
  useCases: UseCaseCatalog;
  agentName: string;
  /** production: the AWS regions of the Voice Connectors that send calls. */
  regions?: string[];
  /** production: extra allowed source addresses (an SBC, a second carrier). */
  extraAllowedAddresses?: string[];
  /**
   * The Twilio gateway's addresses (TWILIO_SIP_LOCAL_ADDRESS of each gateway; the lab's is
   * 127.0.0.1/32): the Twilio trunk and its dispatch rule are defined with them. Unset: neither.
   */
  twilioGatewayAddresses?: string[];
}

export const TWILIO_TRUNK = 'callbridge-in-twilio';
export const TWILIO_DISPATCH_RULE = 'callbridge-twilio';

/** Chime Voice Connector signalling ranges for a region (see the JSON file for sources). */
export function chimeSignallingRanges(region: string): string[] {
  const ranges = (chimeRanges.regions as Record<string, string[] | undefined>)[region];
  if (!ranges) {
    throw new DefinitionError(
      `no Chime Voice Connector ranges known for region "${region}" (known: ${Object.keys(chimeRanges.regions).join(', ')})`,
    );
  }
  return ranges;
}

export const ROOM_PREFIX = 'call';

/**
 * How far past the use case's `limits.maxCallSeconds` livekit-sip ends a call. Its clock starts
 * once it has matched the INVITE to a trunk, before the agent joins and the call is answered; the
 * agent's starts at the answer. At the maximum the agent still says its goodbye and has the SMA
 * hang up (retried within TRANSFER_RETRY_BUDGET_MS), or first waits for a transfer under way. Two
 * minutes covers all of these, so the backstop only ever ends a call the agent failed to end.
 */
export const MAX_CALL_DURATION_MARGIN_S = 120;
/** livekit-sip's own ceiling (and its default for a trunk that sets none): 24 h. */
export const LIVEKIT_SIP_MAX_CALL_DURATION_S = 24 * 60 * 60;

export function sipDefinitions(opts: DefinitionOptions): SipDefinitions {
  let allowed: string[];
  if (opts.profile === 'production') {
    const regions = opts.regions ?? [];
    if (regions.length === 0) throw new DefinitionError('production needs at least one region');
    allowed = [...regions.flatMap(chimeSignallingRanges), ...(opts.extraAllowedAddresses ?? [])];
  } else {
    allowed = ['127.0.0.1/32'];
  }
  const inboundTrunks = opts.useCases.all.map((uc): InboundTrunkDef => ({
    name: `callbridge-in-${uc.id}`,
    provider: 'sma',
    useCase: uc.id,
    numbers: [uc.livekitNumber],
    allowedAddresses: [...new Set(allowed)],
    headersToAttributes: { ...headersToAttributes },
    maxCallDurationS: uc.limits.maxCallSeconds + MAX_CALL_DURATION_MARGIN_S,
  }));
  const dispatchRules: DispatchRuleDef[] = [
    {
      name: 'callbridge-agent',
      inboundTrunks: inboundTrunks.map((t) => t.name),
      roomPrefix: ROOM_PREFIX,
      agentName: opts.agentName,
      hidePhoneNumber: true,
    },
  ];
  const gateway = opts.twilioGatewayAddresses ?? [];
  if (gateway.length > 0) {
    inboundTrunks.push(twilioTrunk(opts.useCases, [...new Set(gateway)]));
    // Its calls are dispatched as the SMA's are: a room per call, the agent by name.
    dispatchRules.push({
      ...dispatchRules[0]!,
      name: TWILIO_DISPATCH_RULE,
      inboundTrunks: [TWILIO_TRUNK],
    });
  }
  return { profile: opts.profile, inboundTrunks, outboundTrunks: [], dispatchRules };
}

/**
 * The Twilio gateway's trunk: the numbers Twilio calls reach (every use case's `dialedNumbers`:
 * the webhook resolves the use case from them), its calls from the gateway only, the Twilio header
 * contract, and the longest call any use case allows.
 */
function twilioTrunk(useCases: UseCaseCatalog, allowedAddresses: string[]): InboundTrunkDef {
  return {
    name: TWILIO_TRUNK,
    provider: 'twilio',
    useCase: '*',
    numbers: [...new Set(useCases.all.flatMap((uc) => uc.dialedNumbers))],
    allowedAddresses,
    headersToAttributes: { ...twilioHeadersToAttributes },
    maxCallDurationS:
      Math.max(...useCases.all.map((uc) => uc.limits.maxCallSeconds)) + MAX_CALL_DURATION_MARGIN_S,
  };
}

export class DefinitionError extends Error {
  override name = 'DefinitionError';
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function validCidr(a: string): boolean {
  const [ip, bits, ...rest] = a.split('/');
  if (rest.length > 0 || ip === undefined || !IPV4.test(ip)) return false;
  return bits === undefined || (/^\d{1,2}$/.test(bits) && Number(bits) <= 32);
}

function isLoopback(a: string): boolean {
  return a.startsWith('127.');
}

/**
 * Every problem in the definitions, so one run shows them all. Nothing is sent to LiveKit when
 * this returns any.
 */
export function definitionProblems(defs: SipDefinitions): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const named = (kind: string, name: string) => {
    if (!NAME.test(name)) problems.push(`${kind} "${name}": names are lower-case words with "-"`);
    if (names.has(name)) problems.push(`${kind} "${name}": the name is used twice`);
    names.add(name);
  };
  const numberOwner = new Map<string, string>();
  for (const t of defs.inboundTrunks) {
    named('inbound trunk', t.name);
    const where = `inbound trunk "${t.name}"`;
    problems.push(
      ...inboundNumberProblems(where, t, numberOwner),
      ...addressProblems(where, t.allowedAddresses, defs.profile),
      ...headerProblems(where, t.headersToAttributes, t.provider),
      ...durationProblems(where, t.maxCallDurationS),
    );
  }
  for (const t of defs.outboundTrunks) {
    named('outbound trunk', t.name);
    problems.push(...outboundTrunkProblems(t));
  }
  const inboundNames = new Set(defs.inboundTrunks.map((t) => t.name));
  const ruleTrunks = new Map<string, string>();
  for (const r of defs.dispatchRules) {
    named('dispatch rule', r.name);
    problems.push(...dispatchRuleProblems(r, inboundNames, ruleTrunks));
  }
  for (const t of defs.inboundTrunks) {
    if (!ruleTrunks.has(t.name)) {
      problems.push(`inbound trunk "${t.name}": no dispatch rule takes its calls`);
    }
  }
  return problems;
}

/** An inbound trunk's numbers; `numberOwner` remembers each number's trunk across trunks. */
function inboundNumberProblems(
  where: string,
  t: InboundTrunkDef,
  numberOwner: Map<string, string>,
): string[] {
  const problems: string[] = [];
  if (t.numbers.length === 0) {
    problems.push(`${where}: no numbers (a trunk without numbers takes every call)`);
  }
  for (const n of t.numbers) {
    if (!isE164(n)) problems.push(`${where}: ${n} is not an E.164 number`);
    const owner = numberOwner.get(n);
    if (owner !== undefined && owner !== t.name) {
      problems.push(`${where}: ${n} is also on inbound trunk "${owner}"`);
    }
    numberOwner.set(n, t.name);
  }
  return problems;
}

function addressProblems(where: string, addresses: string[], profile: Profile): string[] {
  const problems: string[] = [];
  if (addresses.length === 0) {
    problems.push(`${where}: no allowed addresses (an empty list accepts calls from anyone)`);
  }
  for (const a of addresses) {
    if (!validCidr(a)) problems.push(`${where}: "${a}" is not an IPv4 address or CIDR`);
    if (profile === 'production' && isLoopback(a)) {
      problems.push(`${where}: loopback address ${a} in a production definition`);
    }
  }
  return problems;
}

/**
 * Every contract header mapped to its attribute (the SMA's, or the Twilio gateway's), and only X-
 * headers (Chime sends no others).
 */
function headerProblems(
  where: string,
  mapping: Record<string, string>,
  provider: InboundTrunkDef['provider'],
): string[] {
  const problems: string[] = [];
  const contract = provider === 'twilio' ? twilioHeadersToAttributes : headersToAttributes;
  for (const [header, want] of Object.entries(contract)) {
    const attr = mapping[header];
    if (attr === undefined) {
      problems.push(`${where}: contract header ${header} has no mapping (want ${want})`);
    } else if (attr !== want) {
      problems.push(`${where}: contract header ${header} maps to "${attr}", not ${want}`);
    }
  }
  for (const header of Object.keys(mapping)) {
    if (!/^X-/i.test(header)) {
      problems.push(`${where}: ${header} is not an X- header (Chime only sends X- headers)`);
    }
  }
  return problems;
}

/** livekit-sip takes 0 (or anything over 24 h) as 24 h: the backstop would be gone unnoticed. */
function durationProblems(where: string, seconds: number): string[] {
  return Number.isInteger(seconds) && seconds > 0 && seconds <= LIVEKIT_SIP_MAX_CALL_DURATION_S
    ? []
    : [
        `${where}: max call duration ${seconds} s is not 1-${LIVEKIT_SIP_MAX_CALL_DURATION_S} whole seconds`,
      ];
}

function outboundTrunkProblems(t: OutboundTrunkDef): string[] {
  const where = `outbound trunk "${t.name}"`;
  const problems: string[] = [];
  if (!/^[a-zA-Z0-9.-]+(:\d{1,5})?$/.test(t.address)) {
    problems.push(`${where}: address "${t.address}" is not host[:port]`);
  }
  if (t.numbers.length === 0) problems.push(`${where}: no numbers`);
  for (const n of t.numbers) {
    if (n !== '*' && !isE164(n)) problems.push(`${where}: ${n} is not an E.164 number`);
  }
  return problems;
}

/** A rule's trunks must exist; `ruleTrunks` remembers which rule took each trunk. */
function dispatchRuleProblems(
  r: DispatchRuleDef,
  inboundNames: Set<string>,
  ruleTrunks: Map<string, string>,
): string[] {
  const where = `dispatch rule "${r.name}"`;
  const problems: string[] = [];
  if (r.inboundTrunks.length === 0) {
    problems.push(`${where}: no inbound trunks (a rule without trunks takes every call)`);
  }
  for (const t of r.inboundTrunks) {
    if (!inboundNames.has(t)) problems.push(`${where}: unknown inbound trunk "${t}"`);
    const other = ruleTrunks.get(t);
    if (other !== undefined) problems.push(`${where}: trunk "${t}" is also taken by "${other}"`);
    ruleTrunks.set(t, r.name);
  }
  if (!/^[a-zA-Z0-9-]{1,32}$/.test(r.roomPrefix)) {
    problems.push(`${where}: room prefix "${r.roomPrefix}" must be 1-32 letters, digits or "-"`);
  }
  if (r.agentName.trim() === '') problems.push(`${where}: no agent name`);
  return problems;
}

export function assertValidDefinitions(defs: SipDefinitions): void {
  const problems = definitionProblems(defs);
  if (problems.length > 0) {
    throw new DefinitionError(
      `the SIP definitions are not valid; nothing was sent:\n  - ${problems.join('\n  - ')}`,
    );
  }
}
