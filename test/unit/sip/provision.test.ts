// Carrying a provisioning plan out against an in-memory SIP API: what is sent, in which order,
// with which ids; that a second run sends nothing but the lists; and that bad definitions or
// conflicts send nothing at all. The same against livekit-server: test/e2e/livekit-sip.test.ts.
import { SIPInboundTrunkInfo } from 'livekit-server-sdk';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AGENT_NAME } from '../../../contracts/ids.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { sipDefinitions, type SipDefinitions } from '../../../sip/livekit/definitions.js';
import {
  ProvisionError,
  applyPlan,
  planProvision,
  provision,
  readExisting,
} from '../../../sip/livekit/provision.js';
import { memorySipApi, provisioned } from '../../helpers/sip.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

// One use case: the plan's order and differences read plainly (definitions.test.ts covers several).
const shipped = parseUseCases(USE_CASES_JSON);
const useCases = parseUseCases({ ...shipped.file, useCases: [shipped.defaultUseCase] });
const local = () => sipDefinitions({ profile: 'local', useCases, agentName: DEFAULT_AGENT_NAME });
const withOutbound = (defs: SipDefinitions): SipDefinitions => ({
  ...defs,
  outboundTrunks: [
    { name: 'callbridge-out', address: '127.0.0.1:5060', transport: 'udp', numbers: ['*'] },
  ],
});
const LISTS = ['listSipInboundTrunk', 'listSipOutboundTrunk', 'listSipDispatchRule'];

describe('provision', () => {
  it('provision sends nothing when the definitions are bad', async () => {
    const defs = local();
    const bad = { ...defs, inboundTrunks: [{ ...defs.inboundTrunks[0]!, numbers: [] }] };
    const { api, calls } = memorySipApi();
    await expect(provision(api, bad)).rejects.toThrow(/nothing was sent[\s\S]*no numbers/);
    expect(calls).toEqual([]);
  });

  it('provision stops, changing nothing, when a trunk it does not manage holds one of its numbers', async () => {
    const defs = local();
    const foreign = new SIPInboundTrunkInfo({
      sipTrunkId: 'ST_foreign',
      name: 'someone-elses',
      numbers: [defs.inboundTrunks[0]!.numbers[0]!],
      metadata: '',
    });
    const { api, calls } = memorySipApi({ inbound: [foreign] });
    await expect(provision(api, defs)).rejects.toThrow(ProvisionError);
    await expect(provision(api, defs)).rejects.toThrow(/someone-elses.*does not manage/);
    expect(calls.every((c) => c.startsWith('list'))).toBe(true);
  });

  it('creates trunks before the rule, and gives the rule the new inbound trunk id', async () => {
    const defs = withOutbound(local());
    const { api, calls, held } = memorySipApi();
    const result = await provision(api, defs);
    expect(calls.slice(3)).toEqual([
      'createSipInboundTrunk',
      'updateSipInboundTrunk',
      'createSipOutboundTrunk',
      'createSipDispatchRule',
    ]);
    expect(result.applied).toBe(true);
    const [trunk] = held.inbound;
    expect(held.rules[0]!.trunkIds).toEqual([trunk!.sipTrunkId]);
    expect(result.ids).toEqual({
      [defs.inboundTrunks[0]!.name]: trunk!.sipTrunkId,
      'callbridge-out': held.outbound[0]!.sipTrunkId,
      [defs.dispatchRules[0]!.name]: held.rules[0]!.sipDispatchRuleId,
    });
    expect(result.changes.map((c) => [c.action, c.id])).toEqual([
      ['create', trunk!.sipTrunkId],
      ['create', held.outbound[0]!.sipTrunkId],
      ['create', held.rules[0]!.sipDispatchRuleId],
    ]);
  });

  it("writes the use case's max call duration on a new trunk, whose create options cannot carry it", async () => {
    const defs = local();
    const { api, held } = memorySipApi();
    await provision(api, defs);
    expect(held.inbound.map((t) => [t.name, t.maxCallDuration?.seconds])).toEqual([
      [defs.inboundTrunks[0]!.name, BigInt(useCases.defaultUseCase.limits.maxCallSeconds + 120)],
    ]);
    expect(held.inbound[0]!.allowedAddresses).toEqual(['127.0.0.1/32']);
  });

  it('updates a trunk whose max call duration differs in place, keeping its id', async () => {
    const defs = local();
    const trunk = defs.inboundTrunks[0]!;
    const { api, calls, held } = memorySipApi(
      provisioned({ ...defs, inboundTrunks: [{ ...trunk, maxCallDurationS: 600 }] }),
    );
    await provision(api, defs);
    expect(calls.slice(3)).toEqual(['updateSipInboundTrunk']);
    expect(held.inbound.map((t) => [t.sipTrunkId, t.maxCallDuration?.seconds])).toEqual([
      [`ST_${trunk.name}`, BigInt(trunk.maxCallDurationS)],
    ]);
  });

  it("creates the rule with the caller's number hidden", async () => {
    const { api, held } = memorySipApi();
    await provision(api, local());
    expect(held.rules.map((r) => [r.name, r.hidePhoneNumber])).toEqual([
      ['callbridge-agent', true],
    ]);
  });

  it("updates a rule that shows the caller's number in place, keeping its id", async () => {
    const defs = local();
    const server = provisioned(defs);
    server.rules[0]!.hidePhoneNumber = false;
    const { api, calls, held } = memorySipApi(server);
    await provision(api, defs);
    expect(calls.slice(3)).toEqual(['updateSipDispatchRule']);
    expect(held.rules.map((r) => [r.sipDispatchRuleId, r.hidePhoneNumber])).toEqual([
      [`SDR_${defs.dispatchRules[0]!.name}`, true],
    ]);
  });

  it('a second run against what the first wrote sends nothing but the lists', async () => {
    const defs = withOutbound(local());
    const { api, calls } = memorySipApi();
    const first = await provision(api, defs);
    calls.length = 0;
    const again = await provision(api, defs);
    expect(calls.sort()).toEqual([...LISTS].sort());
    expect(again.changes.every((c) => c.action === 'unchanged')).toBe(true);
    expect(again.ids).toEqual(first.ids);
  });

  it('a dry run plans against the server and writes nothing', async () => {
    const { api, calls } = memorySipApi();
    const dry = await provision(api, local(), { dryRun: true });
    expect(dry.applied).toBe(false);
    expect(dry.changes.map((c) => c.action)).toEqual(['create', 'create']);
    expect(calls.sort()).toEqual([...LISTS].sort());
  });
});

describe('applyPlan', () => {
  it('deletes rules before trunks, updates in place by id, and writes the rule last', async () => {
    const defs = withOutbound(local());
    const server = provisioned({
      ...defs,
      dispatchRules: [...defs.dispatchRules, { ...defs.dispatchRules[0]!, name: 'callbridge-old' }],
      outboundTrunks: [
        ...defs.outboundTrunks,
        { ...defs.outboundTrunks[0]!, name: 'callbridge-gone' },
      ],
    });
    server.inbound[0]!.allowedAddresses = ['10.1.2.0/24'];
    const { api, calls, held } = memorySipApi(server);
    const plan = planProvision(defs, await readExisting(api));
    calls.length = 0;
    const result = await applyPlan(api, plan);
    expect(calls).toEqual(['deleteSipDispatchRule', 'updateSipInboundTrunk', 'deleteSipTrunk']);
    const trunkId = `ST_${defs.inboundTrunks[0]!.name}`;
    expect(held.inbound.map((t) => [t.sipTrunkId, t.allowedAddresses])).toEqual([
      [trunkId, ['127.0.0.1/32']],
    ]);
    expect(held.rules.map((r) => r.name)).toEqual([defs.dispatchRules[0]!.name]);
    expect(held.outbound.map((t) => t.name)).toEqual(['callbridge-out']);
    expect(result.ids[defs.inboundTrunks[0]!.name]).toBe(trunkId);
    expect(result.ids).not.toHaveProperty('callbridge-gone');
  });
});
