// The call's state item in the calls table (pk `call#<TransactionId>`, sk `state`;
// docs/architecture.md, "DynamoDB"): the SMA handler writes it (lambdas/sma/journal.ts), the
// console, the call guard and the agent read it. Here: the fields other parts read that carry
// more than a name, each defined once.
import { LanguageTag } from './use-case-parts.js';

/**
 * `Language`: the language the call went on in after the caller switched it (a tag of the use
 * case's `languages`, checked by the SMA against the call's use case), set with each switch the
 * SMA is told of (contracts/call-update.ts). Absent on a call that never switched: it is in the
 * use case's own `language`.
 */
export const CALL_STATE_LANGUAGE = 'Language' as const;
export const CallStateLanguage = LanguageTag;

/**
 * The language of a call as its state item holds it: the switched language when there is a valid
 * one, else `fallback` (the use case's own language, for a reader that knows it).
 */
export function callLanguageOf(
  item: Record<string, unknown> | undefined,
  fallback?: string,
): string | undefined {
  const parsed = CallStateLanguage.safeParse(item?.[CALL_STATE_LANGUAGE]);
  return parsed.success ? parsed.data : fallback;
}
