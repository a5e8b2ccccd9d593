// Property tests: thousands of random and mutated events, and random whole calls. Whatever comes
// in, the handler answers with a valid SMA response and never throws; decisions do not depend on
// the clock (but for the call token of an event that does not say when LEG-A started); and after any sequence of call events the caller is never left connected alone.
// The same holds whatever admission answers, and a call it does not admit never reaches the agent.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyCallToken } from '../../../contracts/call-token.js';
import { SipHeader } from '../../../contracts/headers.js';
import { smaResponse, type Action } from '../../../lambdas/sma/actions.js';
import type {
  Admission,
  CallAdmission,
  LeaseRelease,
} from '../../../lambdas/sma/admission/types.js';
import { decide } from '../../../lambdas/sma/decide/index.js';
import { EventType, parseEvent } from '../../../lambdas/sma/events.js';
import { Phase } from '../../../lambdas/sma/call-state.js';
import { SimulatedChimeCall } from '../../../lab/chime/simulated-call.js';
import { FIXTURE_NAMES, fixture, testConfig, testHandler, type Json } from '../../helpers/sma.js';

const FIXTURES = FIXTURE_NAMES.map(fixture);

const EVENT_TYPES = EventType.options;
const PHASES = [...Phase.options, 'bogus'];

let generated = 0;
afterAll(() => {
  console.log(`property tests: ${generated} generated events through the SMA handler`);
});

/** Every path in a JSON value, as key arrays. */
function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return [prefix, ...keys.flatMap((k) => paths(v[k], [...prefix, k]))];
}

const mutation = fc.record({
  kind: fc.constantFrom('delete', 'replace', 'type', 'attrs', 'args', 'tag'),
  pick: fc.nat(),
  value: fc.jsonValue({ maxDepth: 2 }),
  type: fc.constantFrom(...EVENT_TYPES),
  phase: fc.constantFrom(...PHASES),
  queue: fc.oneof(
    fc.constantFrom('general', 'sanitation', 'billing', '+12025559999', ''),
    fc.string(),
  ),
  action: fc.constantFrom('transfer', 'hangup', 'dial', ''),
});

function mutate(base: Json, muts: Json[]): Json {
  const ev = structuredClone(base);
  for (const m of muts) {
    const all = paths(ev).filter((p) => p.length > 0);
    const path = all[m.pick % Math.max(1, all.length)] ?? ['Sequence'];
    const parent = path.slice(0, -1).reduce((o: Json, k) => o?.[k], ev);
    const key = path[path.length - 1]!;
    switch (m.kind) {
      case 'delete':
        if (parent && typeof parent === 'object') delete parent[key];
        break;
      case 'replace':
        if (parent && typeof parent === 'object') parent[key] = structuredClone(m.value);
        break;
      case 'type':
        ev.InvocationEventType = m.type;
        break;
      case 'attrs':
        if (ev.CallDetails && typeof ev.CallDetails === 'object') {
          ev.CallDetails.TransactionAttributes = {
            ...ev.CallDetails.TransactionAttributes,
            phase: m.phase,
            queue: m.queue,
            target: m.pick % 2 ? 'fallback' : 'primary',
          };
        }
        break;
      case 'args':
        ev.ActionData = {
          Type: 'CallUpdateRequest',
          Parameters: {
            Arguments: { action: m.action, queue: m.queue, requestedAt: String(m.pick) },
          },
        };
        break;
      case 'tag':
        if (Array.isArray(ev.CallDetails?.Participants)) {
          for (const p of ev.CallDetails.Participants)
            if (p && typeof p === 'object') p.ParticipantTag = m.pick % 2 ? 'Leg-A' : 'leg-b';
        }
        break;
    }
  }
  return ev;
}

describe('SMA handler properties', () => {
  const { handler } = testHandler();

  it('answers any JSON value with a valid response and never throws', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (raw) => {
        generated += 1;
        const res = await handler(raw);
        expect(smaResponse.safeParse(res).success).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('answers mutated Chime events with a valid response and never throws', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(FIXTURES.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (i, muts) => {
          generated += 1;
          const res = await handler(mutate(FIXTURES[i], muts));
          const check = smaResponse.safeParse(res);
          expect(check.success, JSON.stringify(check.error?.issues)).toBe(true);
        },
      ),
      { numRuns: 6000 },
    );
  });

  const headersOf = (action: Action) =>
    (action.Parameters as { SipHeaders?: Record<string, string> }).SipHeaders;
  const tokensOf = (actions: Action[]) =>
    actions.flatMap((x) => headersOf(x)?.[SipHeader.callToken] ?? []);
  const withoutToken = (actions: Action[]) =>
    actions.map((x) => {
      const headers = headersOf(x);
      if (!headers) return x;
      const { [SipHeader.callToken]: _token, ...rest } = headers;
      return { ...x, Parameters: { ...x.Parameters, SipHeaders: rest } };
    });

  it('decides the same actions whatever the time', () => {
    const config = testConfig();
    fc.assert(
      fc.property(
        fc.nat(FIXTURES.length - 1),
        fc.array(mutation, { maxLength: 3 }),
        fc.nat(),
        fc.nat(),
        (i, muts, t1, t2) => {
          generated += 1;
          const parsed = parseEvent(mutate(FIXTURES[i], muts));
          if (!parsed.ok) return;
          const a = decide(parsed.event, { config, nowMs: 1_700_000_000_000 + t1 });
          const b = decide(parsed.event, { config, nowMs: 1_700_000_000_000 + t2 });
          if (parsed.event.legA?.startMs !== undefined) {
            expect(b.actions).toEqual(a.actions);
            return;
          }
          // No LEG-A start to date the call token from: it is dated from the invocation, and both
          // answers still bridge the same way with a token valid for this call.
          expect(withoutToken(b.actions)).toEqual(withoutToken(a.actions));
          const claims = {
            transactionId: parsed.event.transactionId,
            applicationId: parsed.event.applicationId ?? '',
          };
          const valid = (actions: Action[], t: number) =>
            tokensOf(actions).every(
              (token) =>
                verifyCallToken(token, claims, config.callToken.secret, 1_700_000_000_000 + t).ok,
            );
          expect(valid(a.actions, t1) && valid(b.actions, t2)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  const op = fc.oneof(
    fc.record({
      op: fc.constant('transfer' as const),
      queue: fc.constantFrom('general', 'sanitation', 'billing', '+12025559999', undefined),
    }),
    fc.record({ op: fc.constant('hangup' as const) }),
    fc.record({
      op: fc.constant('remote' as const),
      leg: fc.constantFrom('LEG-A' as const, 'LEG-B' as const),
    }),
  );

  it('never leaves the caller connected alone, whatever happens in a call', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.array(op, { maxLength: 6 }),
        async (agentAnswers, queueAnswers, fallbackAnswers, hangupEventFirst, ops) => {
          const sim = new SimulatedChimeCall({
            handler: async (e) => {
              generated += 1;
              const res = await handler(e);
              expect(smaResponse.safeParse(res).success).toBe(true);
              return res;
            },
            call: {
              transactionId: `tx-${generated}`,
              smaId: 'sma',
              region: 'us-east-1',
              accountId: '111122223333',
            },
            caller: '+12065550100',
            dialed: '+12025550131',
            agentAnswers,
            hangupEventFirst,
            numberAnswers: (n) => (n === '+12025550141' ? fallbackAnswers : queueAnswers),
          });
          await sim.startInbound();
          for (const o of ops) {
            if (o.op === 'transfer')
              await sim.update({
                action: 'transfer',
                ...(o.queue ? { queue: o.queue } : {}),
                reason: 'caller_asked',
                requestedAt: '1',
                token: sim.callToken ?? '',
              });
            else if (o.op === 'hangup')
              await sim.update({ action: 'hangup', token: sim.callToken ?? '' });
            else await sim.remoteHangup(o.leg);
            const callerAlone = sim.legA?.Status === 'Connected' && sim.legB === undefined;
            expect(
              callerAlone,
              JSON.stringify(sim.timeline.map((s) => [s.type, s.actions.map((a) => a.Type)])),
            ).toBe(false);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

const check = fc.constantFrom('access' as const, 'rate' as const, 'capacity' as const);
const unchecked = fc.array(check, { maxLength: 4 });
/** Any verdict, including leases no adapter should send (negative, fractional, huge). */
const verdict = (lease: fc.Arbitrary<number>): fc.Arbitrary<Admission> =>
  fc.oneof(
    fc.record(
      { verdict: fc.constant('admit' as const), leaseExpiresAtMs: lease, unchecked },
      { requiredKeys: ['verdict', 'unchecked'] },
    ),
    fc.record({
      verdict: fc.constant('refuse' as const),
      reason: fc.constantFrom(
        'unverified' as const,
        'blocked' as const,
        'over_capacity' as const,
        'rate_limited' as const,
      ),
      unchecked,
    }),
    fc.record({ verdict: fc.constant('unknown' as const), unchecked }),
  );
const anyLease = fc.oneof(fc.integer({ min: 0, max: 9_999_999_999_999 }), fc.double());
const validLease = fc.integer({ min: 1, max: 9_999_999_999_999 });

/** An admission answering whatever the test last set, and keeping the releases. */
function scriptedAdmission() {
  const s = {
    next: { verdict: 'admit', unchecked: [] } as Admission,
    asked: 0,
    released: [] as LeaseRelease[],
  };
  const admission: CallAdmission = {
    admit: async () => {
      s.asked += 1;
      return s.next;
    },
    release: async (lease) => {
      s.released.push(lease);
      return [];
    },
  };
  return { admission, s };
}

const isAgentBridge = (a: { Type: string; Parameters?: unknown }) =>
  a.Type === 'CallAndBridge' &&
  (a.Parameters as Json)?.Endpoints?.[0]?.BridgeEndpointType === 'AWS';

const callOp = fc.oneof(
  fc.record({ op: fc.constant('transfer' as const), queue: fc.constantFrom('general', 'billing') }),
  fc.record({ op: fc.constant('hangup' as const) }),
  fc.record({
    op: fc.constant('remote' as const),
    leg: fc.constantFrom('LEG-A' as const, 'LEG-B' as const),
  }),
);

describe('SMA handler properties with admission', () => {
  const { admission, s } = scriptedAdmission();
  const { handler } = testHandler({ admission });

  it('answers mutated Chime events with a valid response whatever admission says', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(FIXTURES.length - 1),
        fc.array(mutation, { maxLength: 4 }),
        verdict(anyLease),
        async (i, muts, v) => {
          generated += 1;
          s.next = v;
          s.asked = 0;
          const res = await handler(mutate(FIXTURES[i], muts));
          const check = smaResponse.safeParse(res);
          expect(check.success, JSON.stringify(check.error?.issues)).toBe(true);
          // Asked only of new inbound calls; a verdict other than admit never reaches the agent.
          if (s.asked > 0 && v.verdict !== 'admit') {
            expect(res.Actions.some(isAgentBridge)).toBe(false);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('never bridges a call it does not admit to the agent, never leaves the caller alone, and frees a slot once', async () => {
    await fc.assert(
      fc.asyncProperty(
        verdict(validLease),
        fc.constantFrom('+12025550131', '+12025550133'),
        fc.boolean(),
        fc.array(callOp, { maxLength: 5 }),
        async (v, dialed, agentAnswers, ops) => {
          s.next = v;
          s.released = [];
          const sim = new SimulatedChimeCall({
            handler: async (e) => {
              generated += 1;
              const res = await handler(e);
              expect(smaResponse.safeParse(res).success).toBe(true);
              return res;
            },
            call: {
              transactionId: `tx-adm-${generated}`,
              smaId: 'sma',
              region: 'us-east-1',
              accountId: '111122223333',
            },
            caller: '+12065550100',
            dialed,
            agentAnswers,
          });
          await sim.startInbound();
          for (const o of ops) {
            if (o.op === 'transfer') await sim.requestTransfer(o.queue);
            else if (o.op === 'hangup') await sim.requestHangup();
            else await sim.remoteHangup(o.leg);
            expect(sim.legA?.Status === 'Connected' && sim.legB === undefined).toBe(false);
          }
          await sim.remoteHangup('LEG-A');
          const actions = sim.timeline.flatMap((step) => step.actions);
          if (v.verdict !== 'admit') expect(actions.some(isAgentBridge)).toBe(false);
          const leased = v.verdict === 'admit' && v.leaseExpiresAtMs !== undefined;
          expect(s.released.length).toBe(leased ? 1 : 0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
