import { describe, expect, it } from 'vitest';
import {
  CallUpdate,
  parseCallUpdateArguments,
  toCallUpdateArguments,
} from '../../../contracts/call-update.js';
import { isE164, queueKey } from '../../../contracts/ids.js';
import { RefusedReason, TransferReason, transferReasonOf } from '../../../contracts/reasons.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const TOKEN = 'v1.1700014400.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

describe('call-update arguments', () => {
  it('reads back what the agent sends when the update is a transfer', () => {
    const update: CallUpdate = {
      action: 'transfer',
      queue: 'billing',
      reason: 'out_of_scope',
      requestedAt: 1_700_000_000_123,
      traceparent: TRACEPARENT,
      token: TOKEN,
    };
    const args = toCallUpdateArguments(update);
    expect(args).toEqual({
      action: 'transfer',
      queue: 'billing',
      reason: 'out_of_scope',
      requestedAt: '1700000000123',
      traceparent: TRACEPARENT,
      token: TOKEN,
    });
    expect(parseCallUpdateArguments(args)).toEqual(update);
  });

  it('reads back what the agent sends when the update is a hang-up without a trace', () => {
    const args = toCallUpdateArguments({
      action: 'hangup',
      reason: 'caller_done',
      requestedAt: 5,
      token: TOKEN,
    });
    expect(args).toEqual({
      action: 'hangup',
      reason: 'caller_done',
      requestedAt: '5',
      token: TOKEN,
    });
    expect(parseCallUpdateArguments(args)).toEqual({
      action: 'hangup',
      reason: 'caller_done',
      requestedAt: 5,
      traceparent: undefined,
      token: TOKEN,
    });
  });

  it('reads a reason outside the agent set as unspecified when a model or a forger chose it', () => {
    for (const reason of ['caller_is_angry', '+15551234567', 'state_lost', '', undefined]) {
      const parsed = parseCallUpdateArguments({ action: 'transfer', queue: 'general', reason });
      expect(parsed).toMatchObject({ action: 'transfer', reason: 'unspecified' });
      const hangup = parseCallUpdateArguments({ action: 'hangup', reason });
      expect(hangup).toMatchObject({ action: 'hangup', reason: 'unspecified' });
    }
  });

  it('degrades a malformed requestedAt or queue instead of refusing when only action is right', () => {
    expect(
      parseCallUpdateArguments({ action: 'transfer', queue: '  ', requestedAt: '12:30' }),
    ).toEqual({
      action: 'transfer',
      queue: '',
      reason: 'unspecified',
      requestedAt: undefined,
      traceparent: undefined,
      token: undefined,
    });
  });

  it('reads an update without a token as one with token undefined, for the decision to refuse', () => {
    expect(parseCallUpdateArguments({ action: 'hangup', reason: 'caller_done' })).toMatchObject({
      token: undefined,
    });
  });

  it('refuses the map when action is missing, unknown or not a string map', () => {
    expect(parseCallUpdateArguments(undefined)).toBeUndefined();
    expect(parseCallUpdateArguments({ queue: 'general' })).toBeUndefined();
    expect(parseCallUpdateArguments({ action: 'dial', queue: '+15551234567' })).toBeUndefined();
    expect(parseCallUpdateArguments({ action: 'transfer', queue: 7 })).toBeUndefined();
  });

  it('rejects an update the agent could not send when its queue is a number or its reason free text', () => {
    const base = {
      action: 'transfer',
      queue: 'general',
      reason: 'caller_asked',
      requestedAt: 1,
      token: TOKEN,
    };
    expect(CallUpdate.safeParse(base).success).toBe(true);
    expect(CallUpdate.safeParse({ ...base, queue: '+15551234567' }).success).toBe(false);
    expect(CallUpdate.safeParse({ ...base, reason: 'caller_is_angry' }).success).toBe(false);
  });

  it('rejects an update the agent could not send when it carries no token', () => {
    const hangup = { action: 'hangup', reason: 'caller_done', requestedAt: 1 };
    expect(CallUpdate.safeParse(hangup).success).toBe(false);
    expect(CallUpdate.safeParse({ ...hangup, token: '' }).success).toBe(false);
    expect(CallUpdate.safeParse({ ...hangup, token: TOKEN }).success).toBe(true);
  });
});

describe('ids and reasons', () => {
  it('accepts E.164 and nothing looser when a number is checked', () => {
    expect(isE164('+15550100311')).toBe(true);
    for (const n of [
      '15550100311',
      '+05550100311',
      '+1555010031123456',
      '+1 555 0100',
      undefined,
    ]) {
      expect(isE164(n)).toBe(false);
    }
  });

  it('accepts names, never numbers, as queue keys', () => {
    expect(queueKey.safeParse('sanitation').success).toBe(true);
    expect(queueKey.safeParse('15551234567').success).toBe(false);
    expect(queueKey.safeParse('General').success).toBe(false);
  });

  it('keeps a transfer reason only when it is in the closed set', () => {
    for (const r of TransferReason.options) expect(transferReasonOf(r)).toBe(r);
    expect(transferReasonOf('caller_is_angry')).toBe('unspecified');
    expect(transferReasonOf(42)).toBe('unspecified');
  });

  it('names the refusals voice.calls.refused can carry, the produced ones first', () => {
    expect(RefusedReason.options.slice(0, 2)).toEqual(['forged', 'foreign_sma']);
    expect(RefusedReason.safeParse('caller_is_angry').success).toBe(false);
  });
});
