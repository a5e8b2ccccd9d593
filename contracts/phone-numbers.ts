// Which numbers callbridge may dial: the one rule for a callback the agent queues in Connect
// (agent/callbacks/) and for an outbound call the console or `npm run call -- dial` places
// (console/outbound.ts). Only E.164 numbers whose country calling code the use case allows (by
// default the North American plan, +1), and in the North American plan only numbers that can be a
// subscriber's: area and exchange codes starting 2-9, no N11 service codes (211, 411, 911 …), and
// no premium-rate area codes (900, 976) unless the use case allows them. Pure.
import { E164_PATTERN } from './ids.js';

/** What a use case allows to be dialled (its `callbacks` or its `outbound` settings). */
export interface DialPolicy {
  /** Country calling codes that may be dialled, without the plus (`1`, `44`). */
  callingCodes: readonly string[];
  /** Premium-rate numbers (900, 976 in the North American plan) may be dialled. */
  allowPremium: boolean;
}

export type DialNumberProblem = 'not_e164' | 'foreign' | 'premium' | 'not_a_subscriber';

/** The North American plan's premium-rate area codes. */
const NANP_PREMIUM = new Set(['900', '976']);

/** Why `number` may not be dialled under `policy`, or undefined when it may. */
export function dialNumberProblem(
  number: string,
  policy: DialPolicy,
): DialNumberProblem | undefined {
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

/** Each problem in words for the person who typed the number (the number itself is not repeated). */
export function dialProblemText(problem: DialNumberProblem, policy: DialPolicy): string {
  switch (problem) {
    case 'not_e164':
      return 'the number must be in E.164 form: a plus, the country code and the number, digits only (+12025550123)';
    case 'foreign':
      return `this use case dials only numbers with the country code ${policy.callingCodes.map((c) => `+${c}`).join(', ')}`;
    case 'premium':
      return 'this use case does not dial premium-rate numbers (900, 976)';
    case 'not_a_subscriber':
      return "not a subscriber's number (service codes such as 911 or 411, and numbers too short or too long, are never dialled)";
  }
}
