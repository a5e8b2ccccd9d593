// The caller key bound to the call by its token: a valid token cannot be paired with another
// caller's key (the key is what the agent reads the caller's profile by).
import { ParticipantKind } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { admitCall, type CallTrust } from '../../../agent/call-context.js';
import { signCallToken, verifyCallerKey, verifyCallToken } from '../../../contracts/call-token.js';
import { callerKey } from '../../../contracts/callers.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import {
  decideRaw,
  fixture,
  TEST_CALL_TOKEN_SECRET,
  testConfig,
  USE_CASES_JSON,
  type Json,
} from '../../helpers/sma.js';

const SECRET = 'unit-test-call-token-secret-of-at-least-32-bytes';
const KEY_SECRET = 'unit-test-caller-key-secret-of-at-least-32-bytes';
const NOW = 1_900_000_000_000;
const CALL = { transactionId: '6f1c2d3e-1111-4222-8333-944455566677', applicationId: 'sma-1' };
const MINE = callerKey('+12065550100', KEY_SECRET);
const THEIRS = callerKey('+12065550199', KEY_SECRET);
const useCases = parseUseCases(USE_CASES_JSON);
const trust: CallTrust = { secret: SECRET, applicationId: 'sma-1', region: 'us-east-1' };

const sign = (key?: string) =>
  signCallToken({ ...CALL, ...(key ? { callerKey: key } : {}) }, NOW + 60_000, SECRET);

function participant(token: string, key?: string) {
  return {
    kind: ParticipantKind.SIP,
    attributes: {
      'sma.transactionId': CALL.transactionId,
      'sma.applicationId': CALL.applicationId,
      'sma.region': 'us-east-1',
      'sma.callToken': token,
      'sip.phoneNumber': '+12065550100',
      ...(key ? { 'sma.callerKey': key } : {}),
    },
  };
}

describe('call token: the caller key', () => {
  it('leaves a token without a key as it was: three parts, the call check alone', () => {
    const token = sign();
    expect(token.split('.')).toHaveLength(3);
    expect(verifyCallToken(token, CALL, SECRET, NOW)).toEqual({
      ok: true,
      expiresAtMs: NOW + 60_000,
    });
    expect(verifyCallerKey(token, { ...CALL, callerKey: MINE }, SECRET)).toBe('unbound');
  });

  it('binds the key in a fourth part; the call check (the SMA, Twilio) still passes', () => {
    const token = sign(MINE);
    expect(token.split('.')).toHaveLength(4);
    expect(token.startsWith(sign())).toBe(true);
    expect(verifyCallToken(token, CALL, SECRET, NOW).ok).toBe(true);
    expect(verifyCallerKey(token, { ...CALL, callerKey: MINE }, SECRET)).toBe('bound');
  });

  it('refuses a swapped key, a key part moved to another call, and one signed with another secret', () => {
    expect(verifyCallerKey(sign(MINE), { ...CALL, callerKey: THEIRS }, SECRET)).toBe('mismatch');
    const other = signCallToken(
      { transactionId: 'another-call', applicationId: 'sma-1', callerKey: THEIRS },
      NOW + 60_000,
      SECRET,
    );
    const grafted = `${sign()}.${other.split('.')[3]}`;
    expect(verifyCallerKey(grafted, { ...CALL, callerKey: THEIRS }, SECRET)).toBe('mismatch');
    expect(verifyCallerKey(sign(MINE), { ...CALL, callerKey: MINE }, `${SECRET}-other`)).toBe(
      'mismatch',
    );
    expect(verifyCallerKey('v1.1.garbage', { ...CALL, callerKey: MINE }, SECRET)).toBe('mismatch');
  });
});

describe('agent: a caller key the token does not bind reads as no key', () => {
  it('keeps a bound key', () => {
    const admission = admitCall(participant(sign(MINE), MINE), useCases, trust, NOW);
    expect(admission).toMatchObject({ accepted: true, call: { kind: 'phone', callerKey: MINE } });
    expect(admission.accepted && admission.callerKeyRefused).toBeUndefined();
  });

  it("takes the call without the key when another caller's key is paired with the token", () => {
    const admission = admitCall(participant(sign(MINE), THEIRS), useCases, trust, NOW);
    expect(admission).toMatchObject({ accepted: true, callerKeyRefused: 'mismatch' });
    expect(admission.call.kind).toBe('phone');
    expect(admission.call.callerKey).toBeUndefined();
  });

  it('takes the call without the key when the token binds none', () => {
    const admission = admitCall(participant(sign(), THEIRS), useCases, trust, NOW);
    expect(admission).toMatchObject({ accepted: true, callerKeyRefused: 'unbound' });
    expect(admission.call.callerKey).toBeUndefined();
  });

  it('takes a call that claims no key as before', () => {
    const admission = admitCall(participant(sign()), useCases, trust, NOW);
    expect(admission).toMatchObject({ accepted: true, call: { kind: 'phone' } });
    expect(admission.accepted && admission.callerKeyRefused).toBeUndefined();
  });
});

describe('SMA: the bridge binds the caller key it sends', () => {
  it('signs the key it sends in X-Caller-Key, and acts on the update that returns that token', () => {
    const config = { ...testConfig(), callerKeySecret: KEY_SECRET };
    const bridged = decideRaw(fixture('new-inbound-call'), undefined, config);
    const headers = (bridged.actions[0]?.Parameters as Json).SipHeaders as Record<string, string>;
    const call = {
      transactionId: 'c0a80101-4b2e-4f4e-9b1d-2f6a7e1c9d01',
      applicationId: 'a1b2c3d4-0000-4000-8000-000000000001',
    };
    const key = headers['X-Caller-Key']!;
    expect(key).toBe(callerKey('+12065550100', KEY_SECRET));
    expect(
      verifyCallerKey(headers['X-Call-Token'], { ...call, callerKey: key }, TEST_CALL_TOKEN_SECRET),
    ).toBe('bound');

    const update = fixture('call-update-requested-transfer');
    update.ActionData.Parameters.Arguments.token = headers['X-Call-Token'];
    const transfer = decideRaw(update, undefined, config);
    expect(transfer.state.phase).toBe('transfer_pending');
  });
});
