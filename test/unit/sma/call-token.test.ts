// The call token on the SMA's side: every bridge to the agent is signed, and an update is acted on
// only when its token verifies for that very call (contracts/call-token.ts).
import { describe, expect, it } from 'vitest';
import { signCallToken, verifyCallToken } from '../../../contracts/call-token.js';
import type { Decision } from '../../../lambdas/sma/decide/index.js';
import {
  CALL_TOKEN_TTL_MS,
  decideRaw,
  fixture,
  NOW,
  TEST_CALL_TOKEN_SECRET,
  testConfig,
  type Json,
} from '../../helpers/sma.js';

const TX = 'c0a80101-4b2e-4f4e-9b1d-2f6a7e1c9d01';
const SMA = 'a1b2c3d4-0000-4000-8000-000000000001';
const CALL = { transactionId: TX, applicationId: SMA };
const AGENT_LEG = 'b-leg-agent-0001';
/** LEG-A's StartTimeInMilliseconds in the fixtures. */
const LEG_A_START = 1_763_740_800_000;
const STATE = { phase: 'ai_connected', useCase: 'city-311', aiLeg: AGENT_LEG };

const tokenFor = (claims = CALL, expiresAtMs = NOW + CALL_TOKEN_TTL_MS) =>
  signCallToken(claims, expiresAtMs, TEST_CALL_TOKEN_SECRET);

/** The fixture's update (transfer or hang-up) with `token` in place of the call's own. */
function updateWith(token: string | undefined, name = 'call-update-requested-transfer'): Json {
  const ev = fixture(name);
  if (token === undefined) delete ev.ActionData.Parameters.Arguments.token;
  else ev.ActionData.Parameters.Arguments.token = token;
  return ev;
}

function headersOf(d: Decision): Record<string, string> {
  return (d.actions[0]?.Parameters as Json).SipHeaders;
}

function expectRefused(d: Decision, reason: string): void {
  expect(d.actions).toEqual([]);
  expect(d.state).toEqual(STATE);
  expect(d.record).toEqual({});
  expect(d.metrics).toEqual([{ metric: 'refused', reason: 'forged' }]);
  expect(d.transfer).toBeUndefined();
  expect(d.notes).toEqual([
    {
      level: 'warn',
      msg: 'call update refused: not signed for this call',
      reason,
      fields: { action: expect.any(String) },
    },
  ]);
}

describe('decide: the call token of a bridge to the agent', () => {
  it('signs the bridge of a new inbound call for its TransactionId and SMA, valid for the TTL from LEG-A start', () => {
    const token = headersOf(decideRaw(fixture('new-inbound-call')))['X-Call-Token']!;
    const check = (nowMs: number) => verifyCallToken(token, CALL, TEST_CALL_TOKEN_SECRET, nowMs);
    expect(check(LEG_A_START + CALL_TOKEN_TTL_MS - 1)).toEqual({
      ok: true,
      expiresAtMs: LEG_A_START + CALL_TOKEN_TTL_MS,
    });
    expect(check(LEG_A_START + CALL_TOKEN_TTL_MS)).toEqual({ ok: false, reason: 'expired' });
  });

  it('gives a retried event the same token, whenever it comes', () => {
    const first = headersOf(decideRaw(fixture('new-inbound-call'), NOW));
    const retry = headersOf(decideRaw(fixture('new-inbound-call'), NOW + 5_000));
    expect(retry['X-Call-Token']).toBe(first['X-Call-Token']);
  });

  it('dates the token from the invocation when the event does not say when LEG-A started', () => {
    const ev = fixture('new-inbound-call');
    delete ev.CallDetails.Participants[0].StartTimeInMilliseconds;
    const token = headersOf(decideRaw(ev, NOW))['X-Call-Token'];
    expect(token).toBe(tokenFor(CALL, NOW + CALL_TOKEN_TTL_MS));
  });

  it('signs the bridge of a call it placed once the callee answers', () => {
    const ev = fixture('call-answered');
    const headers = headersOf(decideRaw(ev));
    const claims = {
      transactionId: ev.CallDetails.TransactionId,
      applicationId: ev.CallDetails.SipMediaApplicationId,
    };
    expect(verifyCallToken(headers['X-Call-Token'], claims, TEST_CALL_TOKEN_SECRET, NOW).ok).toBe(
      true,
    );
  });

  it('signs with the configured secret and TTL, not fixed ones', () => {
    const ev = fixture('new-inbound-call');
    const config = { ...testConfig(), callToken: { secret: 'y'.repeat(40), ttlMs: 60_000 } };
    const token = headersOf(decideRaw(ev, NOW, config))['X-Call-Token'];
    expect(token).toBe(signCallToken(CALL, LEG_A_START + 60_000, 'y'.repeat(40)));
  });
});

describe('decide: an update acted on only with its call token', () => {
  it("proceeds as it always has when the token is this call's", () => {
    const d = decideRaw(updateWith(tokenFor()));
    expect(d.actions).toEqual([
      { Type: 'Hangup', Parameters: { CallId: AGENT_LEG, SipResponseCode: '0' } },
    ]);
    expect(d.state).toMatchObject({ phase: 'transfer_pending', queue: 'general' });
    expect(d.metrics.map((m) => m.metric)).toEqual(['transferHop']);
  });

  it('refuses an update carrying the token of another call', () => {
    const callA = tokenFor({ ...CALL, transactionId: 'd1b90202-5c3f-4a5f-8c2e-3a7b8f2d0e02' });
    expectRefused(decideRaw(updateWith(callA)), 'call_token_mismatch');
  });

  it('refuses an update carrying a token of another SMA application', () => {
    const other = tokenFor({ ...CALL, applicationId: 'ffffffff-0000-4000-8000-000000000009' });
    expectRefused(decideRaw(updateWith(other)), 'call_token_mismatch');
  });

  it('refuses a token signed with another secret', () => {
    const forged = signCallToken(CALL, NOW + CALL_TOKEN_TTL_MS, 'not-the-secret'.repeat(4));
    expectRefused(decideRaw(updateWith(forged)), 'call_token_mismatch');
  });

  it('refuses an expired token', () => {
    expectRefused(decideRaw(updateWith(tokenFor(CALL, NOW))), 'call_token_expired');
    const token = tokenFor();
    expectRefused(decideRaw(updateWith(token), NOW + CALL_TOKEN_TTL_MS), 'call_token_expired');
  });

  it.each(['v1.abc', 'Bearer x', '+12065550100'])('refuses the malformed token %j', (token) => {
    expectRefused(decideRaw(updateWith(token)), 'call_token_malformed');
  });

  it('refuses an update without a token, or with an empty one', () => {
    expectRefused(decideRaw(updateWith(undefined)), 'call_token_missing');
    expectRefused(decideRaw(updateWith('')), 'call_token_missing');
  });

  it('refuses a forged hang-up as well as a forged transfer', () => {
    const ok = decideRaw(updateWith(tokenFor(), 'call-update-requested-hangup'));
    expect(ok.actions.map((a) => a.Type)).toEqual(['Hangup']);
    expectRefused(
      decideRaw(updateWith(undefined, 'call-update-requested-hangup')),
      'call_token_missing',
    );
  });

  it('refuses before looking at the queue, so a forged number is not even counted as one', () => {
    const ev = updateWith('v1.1.x');
    ev.ActionData.Parameters.Arguments.queue = '+12025559999';
    expectRefused(decideRaw(ev), 'call_token_malformed');
  });

  it('never puts the token in a note', () => {
    const token = tokenFor({ ...CALL, transactionId: 'another-call' });
    const d = decideRaw(updateWith(token));
    expect(JSON.stringify(d)).not.toContain(token.split('.')[2]);
  });
});
