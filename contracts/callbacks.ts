// A callback the agent queued in Amazon Connect for a caller who did not want to wait, kept beside
// the call's other items in the calls table (docs/architecture.md, "DynamoDB"):
//
//   pk call#<TransactionId>  sk callback   ContactId, Number, NumberFrom, Queue, QueuedAt
//
// The number is personal data: it never goes to logs (outside `pii.*`), metrics or keys. It was
// the caller's own (caller ID) or keyed in on their phone, checked (agent/callbacks/) and confirmed
// by the caller before Connect was asked to call it.
import * as z from 'zod';
import { e164, queueKey } from './ids.js';

export const CALLBACK_SK = 'callback';

export const callbackItem = z.object({
  pk: z.string().startsWith('call#'),
  sk: z.literal(CALLBACK_SK),
  /** Connect's contact id of the queued callback (StartOutboundVoiceContact's answer). */
  ContactId: z.string().min(1),
  Number: e164,
  /** Where the number came from: the call's caller ID or digits the caller keyed in. */
  NumberFrom: z.enum(['caller_id', 'keypad']),
  /** The use case's queue the caller asked for. */
  Queue: queueKey,
  QueuedAt: z.number().int(),
  ExpiresAt: z.number().int().optional(),
});
export type CallbackItem = z.infer<typeof callbackItem>;
