// Which numbers a callback may be placed to: the rule every number callbridge dials follows
// (contracts/phone-numbers.ts), and how digits keyed on the phone become a number. Pure.
import {
  type DialNumberProblem,
  type DialPolicy,
  dialNumberProblem,
} from '../../contracts/phone-numbers.js';
import type { UseCaseCallbacks } from '../../contracts/use-cases.js';

export type CallbackNumberProblem = DialNumberProblem;

type Policy = Pick<UseCaseCallbacks, 'callingCodes' | 'allowPremium'>;

/** Why `number` may not be called back, or undefined when it may (contracts/phone-numbers.ts). */
export function callbackNumberProblem(
  number: string,
  policy: DialPolicy,
): CallbackNumberProblem | undefined {
  return dialNumberProblem(number, policy);
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
