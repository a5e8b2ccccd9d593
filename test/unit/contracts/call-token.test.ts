import { describe, expect, it } from 'vitest';
import {
  callTokenSecret,
  signCallToken,
  verifyCallToken,
  type CallTokenClaims,
} from '../../../contracts/call-token.js';

const SECRET = 'a-test-secret-of-at-least-thirty-two-bytes';
const OTHER_SECRET = 'another-test-secret-of-thirty-two-bytes-or-more';
const NOW = 1_763_740_862_000;
const CALL: CallTokenClaims = {
  transactionId: 'c0a80101-4b2e-4f4e-9b1d-2f6a7e1c9d01',
  applicationId: 'a1b2c3d4-0000-4000-8000-000000000001',
};
const HOUR = 3_600_000;

const signed = (claims = CALL, expiresAtMs = NOW + HOUR, secret = SECRET) =>
  signCallToken(claims, expiresAtMs, secret);

describe('signCallToken', () => {
  it('writes version, expiry in epoch seconds and a 256-bit MAC when a call is signed', () => {
    expect(signed()).toMatch(/^v1\.1763744462\.[A-Za-z0-9_-]{43}$/);
  });

  it('rounds the expiry up to the second when it falls between seconds', () => {
    expect(signed(CALL, NOW + 1).split('.')[1]).toBe('1763740863');
    expect(verifyCallToken(signed(CALL, NOW + 1), CALL, SECRET, NOW)).toEqual({
      ok: true,
      expiresAtMs: 1_763_740_863_000,
    });
  });

  it('signs the same call the same way when asked twice', () => {
    expect(signed()).toBe(signed());
  });
});

describe('verifyCallToken', () => {
  it('accepts the token of this call before it expires', () => {
    expect(verifyCallToken(signed(), CALL, SECRET, NOW)).toEqual({
      ok: true,
      expiresAtMs: NOW + HOUR,
    });
  });

  it('says missing when there is no token or an empty one', () => {
    expect(verifyCallToken(undefined, CALL, SECRET, NOW)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyCallToken('', CALL, SECRET, NOW)).toEqual({ ok: false, reason: 'missing' });
  });

  it.each([
    ['another version', signed().replace(/^v1/, 'v2')],
    ['no MAC', signed().split('.').slice(0, 2).join('.')],
    ['a MAC one character short', signed().slice(0, -1)],
    ['a MAC one character long', `${signed()}A`],
    ['base64 padding', `${signed().slice(0, -1)}=`],
    ['a non-numeric expiry', signed().replace(/\.\d+\./, '.soon.')],
    ['a phone number', '+12065550100'],
  ])('says malformed when the token has %s', (_what, token) => {
    expect(verifyCallToken(token, CALL, SECRET, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it("says mismatch when the token is another call's", () => {
    const other = signed({ ...CALL, transactionId: 'd0a80101-4b2e-4f4e-9b1d-2f6a7e1c9d02' });
    expect(verifyCallToken(other, CALL, SECRET, NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it("says mismatch when the token is another SMA application's", () => {
    const other = signed({ ...CALL, applicationId: 'e1b2c3d4-0000-4000-8000-000000000009' });
    expect(verifyCallToken(other, CALL, SECRET, NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('says mismatch when the token was signed with another secret', () => {
    const other = signed(CALL, NOW + HOUR, OTHER_SECRET);
    expect(verifyCallToken(other, CALL, SECRET, NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('says mismatch when the expiry was moved without the MAC', () => {
    const [version, expires, mac] = signed().split('.');
    const extended = `${version}.${Number(expires) + 86_400}.${mac}`;
    expect(verifyCallToken(extended, CALL, SECRET, NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('says mismatch when one bit of the MAC is flipped', () => {
    const token = signed();
    const mac = Buffer.from(token.split('.')[2]!, 'base64url');
    mac[0] = mac[0]! ^ 1;
    const flipped = `${token.split('.').slice(0, 2).join('.')}.${mac.toString('base64url')}`;
    expect(verifyCallToken(flipped, CALL, SECRET, NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('says expired at and after its expiry, and accepts it a millisecond before', () => {
    const token = signed(CALL, NOW + HOUR);
    expect(verifyCallToken(token, CALL, SECRET, NOW + HOUR - 1).ok).toBe(true);
    expect(verifyCallToken(token, CALL, SECRET, NOW + HOUR)).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(verifyCallToken(token, CALL, SECRET, NOW + 2 * HOUR)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('says mismatch rather than expired when an expired token is also forged', () => {
    const forged = signed(CALL, NOW - HOUR, OTHER_SECRET);
    expect(verifyCallToken(forged, CALL, SECRET, NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });
});

describe('callTokenSecret', () => {
  it('accepts 32 bytes or more and refuses fewer', () => {
    expect(callTokenSecret.safeParse('x'.repeat(32)).success).toBe(true);
    expect(callTokenSecret.safeParse('x'.repeat(31)).success).toBe(false);
    expect(callTokenSecret.safeParse('').success).toBe(false);
  });

  it('counts bytes, not characters, when the secret is not ASCII', () => {
    expect(callTokenSecret.safeParse('é'.repeat(16)).success).toBe(true);
    expect(callTokenSecret.safeParse('é'.repeat(15)).success).toBe(false);
  });
});
