// The call's control state, carried by Chime in TransactionAttributes from one invocation to the
// next (docs/architecture.md: DynamoDB may be down, so the next decision must not need it).
// Few, short keys: an older Chime error text caps the map at 10 pairs, so callbridge keeps to few
// (never all set at once: `lease` is dropped when the call leaves the agent, before the
// transfer's keys are set, `line` once a fallback or an apology takes over, `end` is set only once
// the call is ending, and `lang` only on a call whose caller switched language).
import * as z from 'zod';
import { CallStateLanguage } from '../../contracts/call-state.js';
import { transferReasonOf } from '../../contracts/reasons.js';
import { MAX_ATTRIBUTE_PAIRS, MAX_ATTRIBUTES_BYTES, attributesBytes } from './actions.js';

export const Phase = z.enum([
  /** Outbound call placed, waiting for the callee to answer. */
  'dialing',
  /** CallAndBridge to the LiveKit agent sent. */
  'bridging_ai',
  /** Caller talking with the agent. */
  'ai_connected',
  /** Transfer accepted: the agent leg (LEG-B) is being hung up. */
  'transfer_pending',
  /** The caller chose to leave a message: the agent leg is being hung up, then it is recorded. */
  'message_pending',
  /** CallAndBridge to a human queue's number sent. */
  'bridging_human',
  /** Caller talking with a person. */
  'human_connected',
  /** Apology or hang-up in progress; nothing else will be bridged. */
  'ending',
  /** Both legs gone. */
  'ended',
]);
export type Phase = z.infer<typeof Phase>;

export const TransferTarget = z.enum(['primary', 'fallback']);
export type TransferTarget = z.infer<typeof TransferTarget>;

/** Attribute keys and their schemas. Parsing is per key: one bad value never loses the others. */
const fields = {
  phase: Phase,
  useCase: z.string().min(1).max(64),
  /**
   * The stored version of the use case the call started with: later events of the call decide with
   * it, so an operator's change applies to the next call, never to this one. Unset when the use
   * cases come from the bundled file.
   */
  version: z
    .string()
    .regex(/^\d{1,9}$/)
    .transform(Number),
  queue: z.string().min(1).max(64),
  target: TransferTarget,
  /** A closed set (contracts/reasons.ts): anything else reads `unspecified`. */
  reason: z.string().transform(transferReasonOf),
  requestedAt: z
    .string()
    .regex(/^\d{1,16}$/)
    .transform(Number),
  aiLeg: z.string().min(1).max(128),
  agentTrace: z.string().max(128),
  /**
   * While a transfer with context is bridged: the slot of the queue's rolling number claimed for
   * the call (docs/handoff.md), never the number itself. Cleared once a fallback or an apology
   * takes over, so the map stays within ten keys.
   */
  line: z
    .string()
    .regex(/^\d{1,2}$/)
    .transform(Number),
  /**
   * The call's recording (contracts/recordings.ts): `pending` while StartCallRecording runs, then
   * its start (epoch ms), from which its length is known when the call ends.
   */
  rec: z.union([
    z.literal('pending'),
    z
      .string()
      .regex(/^\d{1,16}$/)
      .transform(Number),
  ]),
  /** While `ending`: how the call will be counted once its legs are gone. */
  end: z.enum(['ai_completed', 'transferred', 'abandoned', 'failed', 'refused']),
  /**
   * While the call is with the agent and holds a slot: the lease's expiry (epoch ms), all the
   * release needs, so freeing the slot never reads the table.
   */
  lease: z
    .string()
    .regex(/^\d{1,16}$/)
    .transform(Number),
  /**
   * The language the caller switched the call to (a tag of the use case's `languages`, checked
   * when the agent's update brought it): what Chime says itself from then on is in it. Unset: the
   * use case's own language.
   */
  lang: CallStateLanguage,
} as const;

type Fields = typeof fields;
export type CallState = { [K in keyof Fields]?: z.output<Fields[K]> };
const KEYS = Object.keys(fields) as (keyof Fields)[];

export function readState(attrs: Record<string, string> | undefined): CallState {
  const state: Record<string, unknown> = {};
  if (!attrs) return state;
  for (const k of KEYS) {
    const raw = attrs[k];
    if (raw === undefined) continue;
    const parsed = fields[k].safeParse(raw);
    if (parsed.success) state[k] = parsed.data;
  }
  return state as CallState;
}

/**
 * The full TransactionAttributes map to return: whatever Chime sent (Chime replaces the whole map
 * with what we return, so foreign keys are echoed) with callbridge's keys set from `state`.
 * Foreign keys are dropped only if the map would break Chime's limits.
 */
export function writeState(
  incoming: Record<string, string> | undefined,
  state: CallState,
): Record<string, string> {
  const ours: Record<string, string> = {};
  for (const k of KEYS) {
    const v = state[k];
    if (v !== undefined) ours[k] = String(v);
  }
  const out: Record<string, string> = { ...ours };
  const budget = MAX_ATTRIBUTE_PAIRS - Object.keys(ours).length;
  let kept = 0;
  for (const [k, v] of Object.entries(incoming ?? {})) {
    if ((KEYS as string[]).includes(k)) continue;
    if (kept >= budget) break;
    out[k] = v;
    if (attributesBytes(out) > MAX_ATTRIBUTES_BYTES) {
      delete out[k];
      break;
    }
    kept += 1;
  }
  return out;
}
