// Who may reach the agent, from a caller's items in the calls table (lambdas/sma/admission/access.ts).
import { describe, expect, it } from 'vitest';
import { accessSk, VERIFIED_SK } from '../../../contracts/callers.js';
import type { UseCaseAccess } from '../../../contracts/use-cases.js';
import { accessVerdict } from '../../../lambdas/sma/admission/access.js';

const NOW = Date.UTC(2026, 11, 6, 3);
const DAY_MS = 86_400_000;
const UC = 'residents';
const mode = (m: UseCaseAccess['mode'], verifiedForDays = 30): UseCaseAccess => ({
  mode: m,
  refused: 'message',
  verifiedForDays,
});
const block = (scope: string) => ({ sk: accessSk(scope), List: 'block' });
const allow = (scope: string) => ({ sk: accessSk(scope), List: 'allow' });
const verifiedAt = (ms: number) => ({ sk: VERIFIED_SK, VerifiedAt: ms });

describe('accessVerdict', () => {
  it('refuses a blocked number in every mode, even when it is also allowed or verified', () => {
    for (const m of ['open', 'verified', 'allowlist'] as const) {
      expect(accessVerdict([block(UC)], UC, mode(m), NOW)).toBe('blocked');
      expect(accessVerdict([allow(UC), block('*'), verifiedAt(NOW)], UC, mode(m), NOW)).toBe(
        'blocked',
      );
    }
  });

  it('ignores the lists of other use cases', () => {
    expect(accessVerdict([block('other')], UC, mode('open'), NOW)).toBe('admit');
    expect(accessVerdict([allow('other')], UC, mode('allowlist'), NOW)).toBe('unverified');
  });

  it('admits an unknown number only when the use case is open', () => {
    expect(accessVerdict([], UC, mode('open'), NOW)).toBe('admit');
    expect(accessVerdict([], UC, mode('verified'), NOW)).toBe('unverified');
    expect(accessVerdict([], UC, mode('allowlist'), NOW)).toBe('unverified');
  });

  it('admits an allowed number (for the use case or all) in verified and allowlist modes', () => {
    for (const m of ['verified', 'allowlist'] as const) {
      expect(accessVerdict([allow(UC)], UC, mode(m), NOW)).toBe('admit');
      expect(accessVerdict([allow('*')], UC, mode(m), NOW)).toBe('admit');
    }
  });

  it('admits a verified number until verifiedForDays have passed, only in verified mode', () => {
    const at = NOW - 7 * DAY_MS;
    expect(accessVerdict([verifiedAt(at)], UC, mode('verified', 8), NOW)).toBe('admit');
    expect(accessVerdict([verifiedAt(at)], UC, mode('verified', 7), NOW)).toBe('unverified');
    expect(accessVerdict([verifiedAt(at)], UC, mode('allowlist', 8), NOW)).toBe('unverified');
  });

  it('reads a malformed item as absent rather than failing', () => {
    const items = [
      { sk: VERIFIED_SK, VerifiedAt: 'yesterday' },
      { sk: accessSk(UC), List: 'maybe' },
      42,
    ];
    expect(accessVerdict(items, UC, mode('verified'), NOW)).toBe('unverified');
    expect(accessVerdict(items, UC, mode('open'), NOW)).toBe('admit');
  });
});
