// Which numbers a callback may be placed to. Only E.164 numbers whose country calling code the use
// case allows (by default the North American plan, +1), and in the North American plan only
// numbers that can be a subscriber's: area and exchange codes starting 2-9, no N11 service codes,
// and no premium-rate area codes (900, 976) unless the use case allows them. Pure.
import { E164_PATTERN } from '../../contracts/ids.js';
import type { UseCaseCallbacks } from '../../contracts/use-cases.js';

export type CallbackNumberProblem = 'not_e164' | 'foreign' | 'premium' | 'not_a_subscriber';

/** The North American plan's premium-rate area codes. */
const NANP_PREMIUM = new Set(['900', '976']);

type Policy = Pick<UseCaseCallbacks, 'callingCodes' | 'allowPremium'>;

/** Why `number` may not be called back, or undefined when it may. */
export function callbackNumberProblem(
  number: string,
  policy: Policy,
): CallbackNumberProblem | undefined {
  if (!E164_PATTERN.test(number)) return 'not_e164';
  const digits = number.slice(1);
  const code = policy.callingCodes.find((c) => digits.startsWith(c));
  if (code === undefined) return 'foreign';
  if (code !== '1') return undefined; // outside the North American plan: the length check only
  if (!/^1[2-9]\d{2}[2-9]\d{6}$/.test(digits)) return 'not_a_subscriber';
  const area = digits.slice(1, 4);
  const exchange = digits.slice(4, 7);
  if (area[1] === '1' && area[2] === '1') return 'not_a_subscriber'; // N11: 211, 411, 911 …
  if (exchange[1] === '1' && exchange[2] === '1') return 'not_a_subscriber';
  if (NANP_PREMIUM.has(area) && !policy.allowPremium) return 'premium';
  return undefined;
}

/**
 * Digits keyed on the phone as an E.164 number: 10 digits in the North American plan take +1, 11
 * starting with 1 take +, and international digits start with 011 (NANP) or are given with their
 * calling code after a leading `*` (none of which make a number valid: see callbackNumberProblem).
 */
export function keyedNumber(digits: string, policy: Policy): string | undefined {
  if (!/^[0-9*]{1,20}$/.test(digits)) return undefined;
  if (digits.startsWith('*')) return `+${digits.slice(1)}`;
  if (digits.startsWith('011')) return `+${digits.slice(3)}`;
  if (policy.callingCodes.includes('1')) {
    if (digits.length === 10) return `+1${digits}`;
    if (digits.length === 11 && digits.startsWith('1')) return `+${digits}`;
  }
  return `+${digits}`;
}

/** The last four digits, spaced for the agent's voice ("0 1 0 0"). */
export function lastFourSpoken(number: string): string {
  return number.slice(-4).split('').join(' ');
}
