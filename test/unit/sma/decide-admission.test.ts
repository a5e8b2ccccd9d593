import { describe, expect, it } from 'vitest';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { smaResponse } from '../../../lambdas/sma/actions.js';
import type { Admission } from '../../../lambdas/sma/admission/types.js';
import { readState, writeState } from '../../../lambdas/sma/call-state.js';
import { decide, type DecideConfig, type Decision } from '../../../lambdas/sma/decide/index.js';
import {
  NOW,
  USE_CASES_JSON,
  decideRaw,
  fixture,
  parsed,
  testConfig,
  type Json,
} from '../../helpers/sma.js';

const LEG_A = 'a-leg-0001';
const AGENT_LEG = 'b-leg-agent-0001';
const LEASE = 1_763_742_720_000;
const RESIDENTS_NUMBER = '+12025550133';
const CONNECTING = 'One moment please, I am connecting you to a member of our team.';
const RESIDENTS_NOT_ALLOWED =
  'This line is for Springfield residents who have registered their phone number. To register, visit springfield.gov slash 311 slash register, then call again. Goodbye.';
const OVER_LIMIT =
  "We're sorry, all of our lines are busy right now. Please call again in a little while. Goodbye.";

const speak = (text: string) => ({
  Type: 'Speak',
  Parameters: {
    CallId: LEG_A,
    Text: text,
    Engine: 'neural',
    LanguageCode: 'en-US',
    TextType: 'text',
    VoiceId: 'Joanna',
  },
});
const hangup = (callId: string) => ({
  Type: 'Hangup',
  Parameters: { CallId: callId, SipResponseCode: '0' },
});
const bridgeTo = (number: string) => ({
  Type: 'CallAndBridge',
  Parameters: {
    CallTimeoutSeconds: 30,
    CallerIdNumber: '+12065550100',
    Endpoints: [{ BridgeEndpointType: 'PSTN', Uri: number }],
  },
});
const toAgent = (d: Decision) =>
  d.actions.some(
    (a) => a.Type === 'CallAndBridge' && a.Parameters.Endpoints[0]?.BridgeEndpointType === 'AWS',
  );

/** The shipped use cases with `change` made to the file. */
function configWith(change: (file: Json) => void): DecideConfig {
  const file = structuredClone(USE_CASES_JSON) as Json;
  change(file);
  return { ...testConfig(), useCases: parseUseCases(file) };
}
const residents = (file: Json) => file.useCases.find((u: Json) => u.id === 'city-311-residents');
const city311 = (file: Json) => file.useCases.find((u: Json) => u.id === 'city-311');

function newCall(dialed = '+12025550131'): Json {
  const ev = fixture('new-inbound-call');
  ev.CallDetails.Participants[0].To = dialed;
  return ev;
}

function decideWith(raw: Json, admission: Admission | undefined, config = testConfig()): Decision {
  return decide(parsed(raw), { config, nowMs: NOW, admission });
}

/** The answer Chime would get: valid, whatever the decision. */
function expectValidAnswer(raw: Json, d: Decision): void {
  const response = {
    SchemaVersion: '1.0',
    Actions: d.actions,
    TransactionAttributes: writeState(raw.CallDetails.TransactionAttributes, d.state),
  };
  expect(smaResponse.safeParse(response).success).toBe(true);
}

describe('decide: admitted calls', () => {
  it('bridges to the agent as without admission when admitted without a slot', () => {
    const plain = decideRaw(newCall());
    const d = decideWith(newCall(), { verdict: 'admit', unchecked: [] });
    expect(d).toEqual(plain);
    expect(d.state.lease).toBeUndefined();
  });

  it('keeps the lease in the state when the call holds a slot', () => {
    const raw = newCall();
    const d = decideWith(raw, { verdict: 'admit', leaseExpiresAtMs: LEASE, unchecked: [] });
    expect(toAgent(d)).toBe(true);
    expect(d.state).toEqual({ phase: 'bridging_ai', useCase: 'city-311', lease: LEASE });
    expect(writeState(undefined, d.state)['lease']).toBe(String(LEASE));
    expect(readState(writeState(undefined, d.state)).lease).toBe(LEASE);
    expect(d.release).toBeUndefined();
    expectValidAnswer(raw, d);
  });

  it('counts, records and warns of the checks DynamoDB did not answer when admitted anyway', () => {
    const d = decideWith(newCall(), {
      verdict: 'admit',
      unchecked: ['rate', 'capacity', 'rate'],
    });
    expect(toAgent(d)).toBe(true);
    expect(d.metrics).toEqual([
      { metric: 'activeCalls', delta: 1 },
      { metric: 'unchecked', check: 'rate' },
      { metric: 'unchecked', check: 'capacity' },
    ]);
    expect(d.record.Unchecked).toEqual(['rate', 'capacity']);
    expect(d.notes.at(-1)).toMatchObject({
      level: 'warn',
      reason: 'admission_unchecked',
      fields: { checks: 'rate,capacity' },
    });
  });

  it('bridges a call we placed to the agent whatever verdict is passed: those are not checked', () => {
    const refused: Admission = { verdict: 'refuse', reason: 'unverified', unchecked: [] };
    const answered = decideWith(fixture('call-answered'), refused);
    expect(answered).toEqual(decideRaw(fixture('call-answered')));
    expect(toAgent(answered)).toBe(true);
  });
});

describe('decide: refused calls', () => {
  it('says notAllowed and hangs up an unverified caller of a verified use case (refused: message)', () => {
    const raw = newCall(RESIDENTS_NUMBER);
    const d = decideWith(raw, { verdict: 'refuse', reason: 'unverified', unchecked: [] });
    expect(d.actions).toEqual([speak(RESIDENTS_NOT_ALLOWED), hangup(LEG_A)]);
    expect(d.state).toEqual({ phase: 'ending', useCase: 'city-311-residents', end: 'refused' });
    expect(d.record).toEqual({
      Phase: 'ending',
      UseCase: 'city-311-residents',
      CallerNumber: '+12065550100',
      DialedNumber: RESIDENTS_NUMBER,
      Direction: 'inbound',
      Refused: 'unverified',
    });
    // Counted as refused, never as a call in progress.
    expect(d.metrics).toEqual([{ metric: 'refused', reason: 'unverified' }]);
    expect(d.notes).toContainEqual(
      expect.objectContaining({ level: 'info', reason: 'unverified', msg: 'call refused' }),
    );
    expectValidAnswer(raw, d);
  });

  it('sends an over-capacity caller to the default queue as a failover does (overLimit: people)', () => {
    const raw = newCall();
    const d = decideWith(raw, { verdict: 'refuse', reason: 'over_capacity', unchecked: [] });
    expect(d.actions).toEqual([speak(CONNECTING), bridgeTo('+12025550140')]);
    expect(d.state).toEqual({
      phase: 'bridging_human',
      useCase: 'city-311',
      queue: 'general',
      target: 'primary',
      reason: 'not_admitted',
      requestedAt: NOW,
    });
    expect(d.record).toMatchObject({
      Phase: 'bridging_human',
      Direction: 'inbound',
      Refused: 'over_capacity',
      TransferQueue: 'general',
      TransferReason: 'not_admitted',
      PendingTransferToPstn: '+12025550140',
    });
    expect(d.metrics).toEqual([
      { metric: 'refused', reason: 'over_capacity' },
      { metric: 'activeCalls', delta: 1 },
    ]);
    expectValidAnswer(raw, d);
  });

  it('says overLimit and hangs up a rate-limited caller when the use case answers with a message', () => {
    const config = configWith((f) => {
      city311(f).limits = { overLimit: 'message' };
    });
    const d = decideWith(
      newCall(),
      { verdict: 'refuse', reason: 'rate_limited', unchecked: [] },
      config,
    );
    expect(d.actions).toEqual([speak(OVER_LIMIT), hangup(LEG_A)]);
    expect(d.record.Refused).toBe('rate_limited');
    expect(d.state.end).toBe('refused');
  });

  it('sends an unverified caller to people when the use case says access.refused: people', () => {
    const config = configWith((f) => {
      residents(f).access.refused = 'people';
    });
    const d = decideWith(
      newCall(RESIDENTS_NUMBER),
      { verdict: 'refuse', reason: 'unverified', unchecked: [] },
      config,
    );
    expect(d.actions).toEqual([speak(CONNECTING), bridgeTo('+12025550140')]);
    expect(d.record).toMatchObject({ Refused: 'unverified', TransferReason: 'not_admitted' });
  });

  it('says notAllowed to a blocked caller even when refusals go to people: never to people', () => {
    const config = configWith((f) => {
      residents(f).access.refused = 'people';
    });
    const d = decideWith(
      newCall(RESIDENTS_NUMBER),
      { verdict: 'refuse', reason: 'blocked', unchecked: [] },
      config,
    );
    expect(d.actions).toEqual([speak(RESIDENTS_NOT_ALLOWED), hangup(LEG_A)]);
    expect(d.metrics).toEqual([{ metric: 'refused', reason: 'blocked' }]);
  });

  it.each([
    ['unverified', 'message'],
    ['unverified', 'people'],
    ['blocked', 'message'],
    ['blocked', 'people'],
    ['over_capacity', 'message'],
    ['over_capacity', 'people'],
    ['rate_limited', 'message'],
    ['rate_limited', 'people'],
  ] as const)('never bridges a %s caller to the agent (answer %s)', (reason, answer) => {
    const config = configWith((f) => {
      for (const uc of f.useCases) {
        uc.access = { ...uc.access, refused: answer };
        uc.limits = { ...uc.limits, overLimit: answer };
      }
    });
    for (const dialed of ['+12025550131', RESIDENTS_NUMBER]) {
      const raw = newCall(dialed);
      const d = decideWith(raw, { verdict: 'refuse', reason, unchecked: ['capacity'] }, config);
      expect(toAgent(d)).toBe(false);
      expect(d.actions.length).toBeGreaterThan(0);
      expect(d.state.lease).toBeUndefined();
      expect(d.metrics.filter((m) => m.metric === 'refused')).toEqual([
        { metric: 'refused', reason },
      ]);
      expectValidAnswer(raw, d);
    }
  });
});

describe('decide: access not known in time', () => {
  it('sends the caller to the default queue with a warning, neither refused nor to the agent', () => {
    const raw = newCall(RESIDENTS_NUMBER);
    const d = decideWith(raw, { verdict: 'unknown', unchecked: ['access'] });
    expect(d.actions).toEqual([speak(CONNECTING), bridgeTo('+12025550140')]);
    expect(d.state).toMatchObject({ phase: 'bridging_human', reason: 'not_admitted' });
    expect(d.record).toMatchObject({ Unchecked: ['access'], TransferReason: 'not_admitted' });
    expect(d.record.Refused).toBeUndefined();
    expect(d.metrics).toEqual([
      { metric: 'activeCalls', delta: 1 },
      { metric: 'unchecked', check: 'access' },
    ]);
    expect(d.notes).toContainEqual(
      expect.objectContaining({ level: 'warn', reason: 'admission_unknown' }),
    );
    expectValidAnswer(raw, d);
  });
});

describe('decide: a refused call ends', () => {
  const refusedState = { phase: 'ending', useCase: 'city-311-residents', end: 'refused' };

  it('closes the record as refused, uncounted, once Chime has hung up the caller', () => {
    const ev = fixture('action-successful-hangup-leg-b');
    ev.ActionData.Parameters = { CallId: LEG_A, ParticipantTag: 'LEG-A', SipResponseCode: '0' };
    ev.CallDetails.TransactionAttributes = refusedState;
    ev.CallDetails.Participants = [ev.CallDetails.Participants[0]];
    const d = decideRaw(ev);
    expect(d.state.phase).toBe('ended');
    expect(d.record).toMatchObject({ Phase: 'ended', Disposition: 'refused' });
    expect(d.metrics).toEqual([]);
  });

  it('closes the record as refused, uncounted, when the caller hangs up during the message', () => {
    const ev = fixture('hangup-leg-a');
    ev.CallDetails.TransactionAttributes = refusedState;
    ev.CallDetails.Participants = [ev.CallDetails.Participants[0]];
    const d = decideRaw(ev);
    expect(d.record).toMatchObject({ Phase: 'ended', Disposition: 'refused' });
    expect(d.metrics).toEqual([]);
  });
});

describe('decide: the lease is released when the call leaves the agent', () => {
  const held = {
    phase: 'ai_connected',
    useCase: 'city-311',
    aiLeg: AGENT_LEG,
    lease: String(LEASE),
  };
  const release = {
    transactionId: 'c0a80101-4b2e-4f4e-9b1d-2f6a7e1c9d01',
    useCaseId: 'city-311',
    leaseExpiresAtMs: LEASE,
  };
  const withState = (name: string, attrs: Record<string, string>, edit?: (ev: Json) => void) => {
    const ev = fixture(name);
    ev.CallDetails.TransactionAttributes = attrs;
    edit?.(ev);
    return ev;
  };

  it.each([
    ['the agent asks for a transfer', withState('call-update-requested-transfer', held)],
    ['the caller hangs up', withState('hangup-leg-a', held)],
    ['the agent leg fails', withState('hangup-leg-b-during-transfer', held)],
    [
      'the agent does not answer',
      withState('action-failed-bridge-agent', { ...held, phase: 'bridging_ai' }),
    ],
    [
      'the agent ends the call',
      withState('call-update-requested-transfer', held, (ev) => {
        ev.ActionData.Parameters.Arguments.action = 'hangup';
      }),
    ],
  ])('releases once %s and drops the lease from the state', (_why, raw) => {
    const d = decideRaw(raw);
    expect(d.release).toEqual(release);
    expect(d.state.lease).toBeUndefined();
    expect(d.state.phase).not.toMatch(/^(bridging_ai|ai_connected)$/);
    expect(writeState(raw.CallDetails.TransactionAttributes, d.state)).not.toHaveProperty('lease');
  });

  it.each([
    [
      'the agent answers',
      withState('action-successful-bridge-agent', { ...held, phase: 'bridging_ai' }),
    ],
    [
      'an update is not signed for the call',
      withState('call-update-requested-transfer', held, (ev) => {
        ev.ActionData.Parameters.Arguments.token = 'forged';
      }),
    ],
    [
      'a transfer names a queue that is not the use case',
      withState('call-update-requested-transfer', held, (ev) => {
        ev.ActionData.Parameters.Arguments.queue = 'billing';
      }),
    ],
    ['digits arrive', withState('digits-received', held)],
    ['an action is interrupted', withState('action-interrupted', held)],
  ])('keeps the lease and releases nothing when %s', (_why, raw) => {
    const d = decideRaw(raw);
    expect(d.release).toBeUndefined();
    expect(d.state.lease).toBe(LEASE);
  });

  it('releases nothing for a call that leaves the agent without a lease', () => {
    const { lease: _lease, ...noLease } = held;
    expect(decideRaw(withState('hangup-leg-a', noLease)).release).toBeUndefined();
  });
});
