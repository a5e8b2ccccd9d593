// Planning provisioning without a server: from the definitions and what a server lists, what to
// create, update, delete or keep, why, in which order, and what to leave alone.
import {
  SIPDispatchRule,
  SIPDispatchRuleDirect,
  SIPInboundTrunkInfo,
  SIPOutboundTrunkInfo,
} from 'livekit-server-sdk';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AGENT_NAME } from '../../../contracts/ids.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import {
  DefinitionError,
  sipDefinitions,
  type SipDefinitions,
} from '../../../sip/livekit/definitions.js';
import {
  ProvisionError,
  REASON,
  applyOrder,
  describePlan,
  planProvision,
  type Change,
} from '../../../sip/livekit/provision-plan.js';
import { MANAGED, calleeRule, managedFor, provisioned, ruleInfo } from '../../helpers/sip.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

// One use case: the plan's order and differences read plainly (definitions.test.ts covers several).
const shipped = parseUseCases(USE_CASES_JSON);
const useCases = parseUseCases({ ...shipped.file, useCases: [shipped.defaultUseCase] });

/** The local profile with an outbound trunk of its own: one object of every kind. */
function definitions(): SipDefinitions {
  const local = sipDefinitions({ profile: 'local', useCases, agentName: DEFAULT_AGENT_NAME });
  return {
    ...local,
    outboundTrunks: [
      { name: 'callbridge-out', address: '127.0.0.1:5060', transport: 'udp', numbers: ['*'] },
    ],
  };
}
const defs = definitions();
const inbound = defs.inboundTrunks[0]!;
const outbound = defs.outboundTrunks[0]!;
const rule = defs.dispatchRules[0]!;
const empty = { inbound: [], outbound: [], rules: [] };

const summary = (changes: Change[]) => changes.map((c) => `${c.action} ${c.kind} ${c.name}`);
const only = (changes: Change[], name: string) => {
  const found = changes.filter((c) => c.name === name);
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('planProvision', () => {
  it('creates every definition, trunks before the rule, when the server holds nothing', () => {
    const plan = planProvision(defs, empty);
    expect(summary(plan.changes)).toEqual([
      `create inbound trunk ${inbound.name}`,
      `create outbound trunk ${outbound.name}`,
      `create dispatch rule ${rule.name}`,
    ]);
    expect(plan.changes.map((c) => [c.definition, c.id, c.reason])).toEqual([
      [inbound, undefined, REASON.create],
      [outbound, undefined, REASON.create],
      [rule, undefined, REASON.create],
    ]);
    expect(plan.ids).toEqual({});
    expect(plan.untouched).toEqual([]);
  });

  it('keeps what matches, with its server id, and has nothing to apply', () => {
    const plan = planProvision(defs, provisioned(defs));
    expect(plan.changes.map((c) => [c.action, c.reason])).toEqual([
      ['unchanged', REASON.unchanged],
      ['unchanged', REASON.unchanged],
      ['unchanged', REASON.unchanged],
    ]);
    expect(plan.ids).toEqual({
      [inbound.name]: `ST_${inbound.name}`,
      [outbound.name]: `ST_${outbound.name}`,
      [rule.name]: `SDR_${rule.name}`,
    });
    expect(applyOrder(plan)).toEqual([]);
  });

  it('reads lists and header mappings in any order as the same', () => {
    const two: SipDefinitions = {
      ...defs,
      inboundTrunks: [
        {
          ...inbound,
          numbers: ['+15550100001', '+15550100002'],
          allowedAddresses: ['10.0.0.0/8', '127.0.0.1/32'],
        },
      ],
    };
    const server = provisioned(two);
    const trunk = server.inbound[0]!;
    trunk.numbers.reverse();
    trunk.allowedAddresses.reverse();
    trunk.headersToAttributes = Object.fromEntries(
      Object.entries(trunk.headersToAttributes).reverse(),
    );
    expect(planProvision(two, server).changes.every((c) => c.action === 'unchanged')).toBe(true);
  });

  it('updates an inbound trunk in place when its addresses or use case differ, naming each difference', () => {
    const server = provisioned(defs);
    server.inbound[0]!.allowedAddresses = ['10.1.2.0/24'];
    server.inbound[0]!.metadata = managedFor('old');
    const change = only(planProvision(defs, server).changes, inbound.name);
    expect(change).toMatchObject({
      action: 'update',
      id: `ST_${inbound.name}`,
      reason: REASON.update,
      definition: inbound,
    });
    expect(change.differences).toEqual([
      'allowedAddresses: ["10.1.2.0/24"] → ["127.0.0.1/32"]',
      `metadata: ${JSON.stringify(managedFor('old'))} → ${JSON.stringify(managedFor(inbound.useCase))}`,
    ]);
  });

  it("updates an inbound trunk in place when its max call duration differs from the use case's", () => {
    const server = provisioned({ ...defs, inboundTrunks: [{ ...inbound, maxCallDurationS: 600 }] });
    const change = only(planProvision(defs, server).changes, inbound.name);
    expect(change).toMatchObject({ action: 'update', id: `ST_${inbound.name}` });
    expect(change.differences).toEqual(['maxCallDuration: "600s" → "1920s"']);
  });

  it('updates an inbound trunk that sets no max call duration (livekit-sip would allow 24 h)', () => {
    const server = provisioned(defs);
    server.inbound[0]!.maxCallDuration = undefined;
    const change = only(planProvision(defs, server).changes, inbound.name);
    expect(change.differences).toEqual(['maxCallDuration: "0s" → "1920s"']);
  });

  it('updates an outbound trunk whose address or transport differs', () => {
    const server = provisioned(defs);
    server.outbound[0]!.address = '127.0.0.1:5999';
    server.outbound[0]!.transport = 2;
    const change = only(planProvision(defs, server).changes, outbound.name);
    expect(change.action).toBe('update');
    expect(change.differences).toEqual([
      'address: "127.0.0.1:5999" → "127.0.0.1:5060"',
      'transport: "2" → "1"',
    ]);
  });

  it.each([
    [
      'the agent',
      (r: ReturnType<typeof ruleInfo>) => (r.roomConfig!.agents[0]!.agentName = 'other'),
      'agents',
    ],
    ['the room prefix', (r: ReturnType<typeof ruleInfo>) => (r.rule = calleeRule('room')), 'rule'],
    [
      'the kind of rule',
      (r: ReturnType<typeof ruleInfo>) =>
        (r.rule = new SIPDispatchRule({
          rule: { case: 'dispatchRuleDirect', value: new SIPDispatchRuleDirect({ roomName: 'x' }) },
        })),
      'rule',
    ],
    [
      'the trunks (one it cannot name)',
      (r: ReturnType<typeof ruleInfo>) => (r.trunkIds = ['ST_gone']),
      'inboundTrunks',
    ],
    [
      "whether the caller's number shows",
      (r: ReturnType<typeof ruleInfo>) => (r.hidePhoneNumber = false),
      'hidePhoneNumber',
    ],
    [
      'the owner marker',
      (r: ReturnType<typeof ruleInfo>) => (r.metadata = '{"managedBy":"callbridge","x":"1"}'),
      'metadata',
    ],
  ])('updates the dispatch rule when %s differs', (_what, alter, field) => {
    const server = provisioned(defs);
    alter(server.rules[0]!);
    const change = only(planProvision(defs, server).changes, rule.name);
    expect(change).toMatchObject({ action: 'update', id: `SDR_${rule.name}`, definition: rule });
    expect(change.differences?.map((d) => d.split(':')[0])).toEqual([field]);
  });

  it("updates a rule that shows the caller's number, in place, to hide it", () => {
    const server = provisioned(defs);
    server.rules[0]!.hidePhoneNumber = false;
    const change = only(planProvision(defs, server).changes, rule.name);
    expect(change).toMatchObject({ action: 'update', id: `SDR_${rule.name}` });
    expect(change.differences).toEqual(['hidePhoneNumber: "false" → "true"']);
  });

  it("names a rule's trunks by name: a trunk's new id is no change to the rule", () => {
    const server = provisioned(defs);
    server.inbound[0]!.sipTrunkId = 'ST_new';
    server.rules[0]!.trunkIds = ['ST_new'];
    const plan = planProvision(defs, server);
    expect(plan.changes.every((c) => c.action === 'unchanged')).toBe(true);
    expect(plan.ids[inbound.name]).toBe('ST_new');
  });

  it('deletes what it manages and no longer defines, rules listed before trunks', () => {
    const gone: SipDefinitions = {
      ...defs,
      inboundTrunks: [{ ...inbound, name: 'callbridge-in-old', numbers: ['+15550100777'] }],
      outboundTrunks: [{ ...outbound, name: 'callbridge-out-old' }],
      dispatchRules: [{ ...rule, name: 'callbridge-old', inboundTrunks: ['callbridge-in-old'] }],
    };
    const plan = planProvision(defs, provisioned(gone));
    expect(summary(plan.changes)).toEqual([
      `create inbound trunk ${inbound.name}`,
      `create outbound trunk ${outbound.name}`,
      `create dispatch rule ${rule.name}`,
      'delete dispatch rule callbridge-old',
      'delete inbound trunk callbridge-in-old',
      'delete outbound trunk callbridge-out-old',
    ]);
    const deletes = plan.changes.filter((c) => c.action === 'delete');
    expect(deletes.map((c) => [c.id, c.reason, c.definition])).toEqual([
      ['SDR_callbridge-old', REASON.delete, undefined],
      ['ST_callbridge-in-old', REASON.delete, undefined],
      ['ST_callbridge-out-old', REASON.delete, undefined],
    ]);
  });

  it('leaves what it does not manage alone, and says so', () => {
    const server = provisioned(defs);
    server.outbound.push(
      new SIPOutboundTrunkInfo({ sipTrunkId: 'ST_x', name: 'someone-else', metadata: '' }),
    );
    server.inbound.push(
      new SIPInboundTrunkInfo({
        sipTrunkId: 'ST_y',
        name: 'theirs',
        numbers: ['+15550100888'],
        metadata: 'not json',
      }),
    );
    server.rules.push(ruleInfo({ ...rule, name: 'their-rule' }, 'SDR_z', ['ST_y']));
    server.rules.at(-1)!.metadata = '{"managedBy":"someone"}';
    const plan = planProvision(defs, server);
    expect(plan.changes.every((c) => c.action === 'unchanged')).toBe(true);
    expect(plan.untouched).toEqual([
      { kind: 'inbound trunk', name: 'theirs', id: 'ST_y', reason: REASON.foreign },
      { kind: 'outbound trunk', name: 'someone-else', id: 'ST_x', reason: REASON.foreign },
      { kind: 'dispatch rule', name: 'their-rule', id: 'SDR_z', reason: REASON.foreign },
    ]);
  });

  it('stops when an object it does not manage has one of its names', () => {
    const server = provisioned(defs);
    server.outbound[0]!.metadata = '';
    expect(() => planProvision(defs, server)).toThrow(ProvisionError);
    expect(() => planProvision(defs, server)).toThrow(
      `"${outbound.name}" (ST_${outbound.name}) exists and is not managed by callbridge`,
    );
  });

  it('stops when an inbound trunk it does not manage holds one of its numbers', () => {
    const foreign = new SIPInboundTrunkInfo({
      sipTrunkId: 'ST_foreign',
      name: 'someone-elses',
      numbers: [inbound.numbers[0]!],
      metadata: MANAGED.replace('callbridge', 'someone'),
    });
    expect(() => planProvision(defs, { ...empty, inbound: [foreign] })).toThrow(
      `${inbound.numbers[0]} (inbound trunk "${inbound.name}") is already on inbound trunk "someone-elses" (ST_foreign)`,
    );
  });

  it('refuses definitions with problems, whatever the server holds', () => {
    const bad = { ...defs, inboundTrunks: [{ ...inbound, numbers: [] }] };
    expect(() => planProvision(bad, empty)).toThrow(DefinitionError);
    expect(() => planProvision(bad, empty)).toThrow(/nothing was sent[\s\S]*no numbers/);
  });

  it('replaces a renamed trunk: the new name created, the old deleted, the rule updated to it', () => {
    const renamed: SipDefinitions = {
      ...defs,
      inboundTrunks: [{ ...inbound, name: 'callbridge-in-new' }],
      dispatchRules: [{ ...rule, inboundTrunks: ['callbridge-in-new'] }],
    };
    const plan = planProvision(renamed, provisioned(defs));
    expect(summary(applyOrder(plan))).toEqual([
      'create inbound trunk callbridge-in-new',
      `delete inbound trunk ${inbound.name}`,
      `update dispatch rule ${rule.name}`,
    ]);
    expect(only(plan.changes, rule.name).differences).toEqual([
      `inboundTrunks: ["${inbound.name}"] → ["callbridge-in-new"]`,
    ]);
  });
});

describe('applyOrder', () => {
  it('deletes rules first, then writes inbound and outbound trunks, then rules; keeps order within a kind', () => {
    const second = { ...inbound, name: 'callbridge-in-second', numbers: ['+15550100002'] };
    const wanted: SipDefinitions = {
      ...defs,
      inboundTrunks: [inbound, second],
      dispatchRules: [{ ...rule, inboundTrunks: [inbound.name, second.name] }],
    };
    const server = provisioned({
      ...defs,
      dispatchRules: [rule, { ...rule, name: 'callbridge-old', inboundTrunks: [] }],
    });
    server.outbound[0]!.address = '127.0.0.1:5999';
    const plan = planProvision(wanted, server);
    expect(summary(applyOrder(plan))).toEqual([
      'delete dispatch rule callbridge-old',
      `create inbound trunk ${second.name}`,
      `update outbound trunk ${outbound.name}`,
      `update dispatch rule ${rule.name}`,
    ]);
  });
});

describe('describePlan', () => {
  it('gives each change its reason and differences, then what it leaves alone', () => {
    const server = provisioned(defs);
    server.outbound[0]!.address = '127.0.0.1:5999';
    server.outbound.push(
      new SIPOutboundTrunkInfo({ sipTrunkId: 'ST_x', name: 'someone-else', metadata: '' }),
    );
    expect(describePlan(planProvision(defs, server))).toEqual([
      `unchanged inbound trunk ${inbound.name} (ST_${inbound.name}): ${REASON.unchanged}`,
      `update    outbound trunk ${outbound.name} (ST_${outbound.name}): ${REASON.update}\n` +
        '            address: "127.0.0.1:5999" → "127.0.0.1:5060"',
      `unchanged dispatch rule ${rule.name} (SDR_${rule.name}): ${REASON.unchanged}`,
      `leave     outbound trunk someone-else (ST_x): ${REASON.foreign}`,
    ]);
  });
});
