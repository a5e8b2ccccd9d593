// Chime SMA invocation events, parsed once at the edge into a normalised, typed SmaEvent.
// Shapes: https://docs.aws.amazon.com/chime-sdk/latest/dg/pstn-invocations.html
// The parser is lenient where the documentation itself varies (see the notes on each field) and
// strict only where a decision depends on the value.
import * as z from 'zod';
import { parseActionData, participantTag, type ActionData, type LegTag } from './action-data.js';

export const EventType = z.enum([
  'NEW_INBOUND_CALL',
  'NEW_OUTBOUND_CALL',
  'RINGING',
  'CALL_ANSWERED',
  'ACTION_SUCCESSFUL',
  'ACTION_FAILED',
  'ACTION_INTERRUPTED',
  'HANGUP',
  'CALL_UPDATE_REQUESTED',
  'INVALID_LAMBDA_RESPONSE',
  'DIGITS_RECEIVED',
]);
export type EventType = z.infer<typeof EventType>;

/** Chime sends some numbers as strings (StartTimeInMilliseconds) and some as numbers. */
const intLike = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d{1,16}$/)
    .transform(Number),
]);
const optionalText = z
  .union([z.string(), z.number()])
  .transform(String)
  .optional()
  .catch(undefined);

const participant = z.object({
  CallId: optionalText,
  ParticipantTag: participantTag,
  To: optionalText,
  From: optionalText,
  Direction: optionalText,
  StartTimeInMilliseconds: intLike.optional().catch(undefined),
  // Missing in some documented events (NEW_INBOUND_CALL in several samples).
  Status: z.enum(['Connected', 'Disconnected']).optional().catch(undefined),
  SipHeaders: z.record(z.string(), z.string()).optional().catch(undefined),
});

const recordedObject = z
  .object({ Type: optionalText, BucketName: optionalText, Key: optionalText })
  .optional()
  .catch(undefined);

const actionData = z.object({
  Type: optionalText,
  Parameters: z.record(z.string(), z.unknown()).optional().catch(undefined),
  ErrorType: optionalText,
  ErrorMessage: optionalText,
  ReceivedDigits: optionalText,
  // StartCallRecording's ACTION_SUCCESSFUL: `<bucket>/<key>` of the recording (start-call-recording.html).
  CallRecordingDestination: z
    .object({ Type: optionalText, Location: optionalText })
    .optional()
    .catch(undefined),
  // RecordAudio's ACTION_SUCCESSFUL: the message's bucket and key (record-audio.html, whose sample
  // spells it `RecordinDestination`).
  RecordingDestination: recordedObject,
  RecordinDestination: recordedObject,
});

const rawEvent = z.object({
  SchemaVersion: optionalText,
  Sequence: intLike,
  InvocationEventType: z.string(),
  ActionData: actionData.optional().catch(undefined),
  // INVALID_LAMBDA_RESPONSE: DG puts these in ActionData, its own examples at the top level.
  ErrorType: optionalText,
  ErrorMessage: optionalText,
  CallDetails: z.object({
    TransactionId: z.string().min(1),
    TransactionAttributes: z.record(z.string(), z.unknown()).optional().catch(undefined),
    AwsAccountId: optionalText,
    AwsRegion: optionalText,
    SipRuleId: optionalText,
    SipMediaApplicationId: optionalText,
    // One DG example spells the id this way.
    SipApplicationId: optionalText,
    Participants: z.array(z.unknown()).optional().catch(undefined),
  }),
});

export interface Participant {
  callId?: string;
  tag?: LegTag;
  to?: string;
  from?: string;
  direction?: string;
  startMs?: number;
  status?: 'Connected' | 'Disconnected';
}

export interface SmaEvent {
  type: EventType;
  sequence: number;
  transactionId: string;
  applicationId: string | undefined;
  /** CallDetails.AwsAccountId: the account the invoking SMA belongs to. */
  accountId: string | undefined;
  region: string | undefined;
  /** TransactionAttributes as Chime sent them, values as strings; undefined when absent. */
  attributes: Record<string, string> | undefined;
  legA: Participant | undefined;
  /** The current LEG-B: the connected one if any, else the last one listed. */
  legB: Participant | undefined;
  /** ActionData: the action that ran (or the update or outbound call requested), typed. */
  action: ActionData | undefined;
  error: { type: string | undefined; message: string | undefined } | undefined;
}

export type ParseResult =
  | { ok: true; event: SmaEvent }
  | {
      ok: false;
      reason: string;
      transactionId: string | undefined;
      attributes: Record<string, string> | undefined;
    };

function stringifyAttributes(
  attrs: Record<string, unknown> | undefined,
): Record<string, string> | undefined {
  if (attrs === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
  }
  return out;
}

function toParticipant(raw: unknown): Participant | undefined {
  const p = participant.safeParse(raw);
  if (!p.success) return undefined;
  const d = p.data;
  return {
    callId: d.CallId,
    tag: d.ParticipantTag,
    to: d.To,
    from: d.From,
    direction: d.Direction,
    startMs: d.StartTimeInMilliseconds,
    status: d.Status,
  };
}

function pickLegs(list: unknown[]): Pick<SmaEvent, 'legA' | 'legB'> {
  const parts = list.map(toParticipant).filter((p): p is Participant => p !== undefined);
  // A participant without a tag is taken as LEG-A when it is listed first (single-leg events).
  const legA = parts.find((p) => p.tag === 'LEG-A') ?? (parts[0]?.tag ? undefined : parts[0]);
  const bs = parts.filter((p) => p.tag === 'LEG-B');
  const legB = bs.find((p) => p.status === 'Connected') ?? bs[bs.length - 1];
  return { legA, legB };
}

/** Best-effort pieces of an event that failed to parse, so the answer can still echo them. */
function salvage(
  raw: unknown,
): Pick<Extract<ParseResult, { ok: false }>, 'transactionId' | 'attributes'> {
  const details = (
    raw as { CallDetails?: { TransactionId?: unknown; TransactionAttributes?: unknown } }
  )?.CallDetails;
  const tx = details?.TransactionId;
  const attrs = details?.TransactionAttributes;
  return {
    transactionId: typeof tx === 'string' && tx.length > 0 ? tx : undefined,
    attributes:
      attrs !== null && typeof attrs === 'object' && !Array.isArray(attrs)
        ? stringifyAttributes(attrs as Record<string, unknown>)
        : undefined,
  };
}

/** INVALID_LAMBDA_RESPONSE: DG puts ErrorType in ActionData, its own examples at the top level. */
function errorOf(e: z.infer<typeof rawEvent>): SmaEvent['error'] {
  const type = e.ActionData?.ErrorType ?? e.ErrorType;
  const message = e.ActionData?.ErrorMessage ?? e.ErrorMessage;
  return type !== undefined || message !== undefined ? { type, message } : undefined;
}

export function parseEvent(raw: unknown): ParseResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, reason: 'not_an_object', transactionId: undefined, attributes: undefined };
  }
  const res = rawEvent.safeParse(raw);
  if (!res.success) {
    const first = res.error.issues[0];
    const where = first ? first.path.join('.') || '(root)' : '(root)';
    return { ok: false, reason: `malformed:${where}`, ...salvage(raw) };
  }
  const e = res.data;
  const type = EventType.safeParse(e.InvocationEventType);
  const attributes = stringifyAttributes(e.CallDetails.TransactionAttributes);
  if (!type.success) {
    return {
      ok: false,
      reason: 'unknown_event_type',
      transactionId: e.CallDetails.TransactionId,
      attributes,
    };
  }
  return {
    ok: true,
    event: {
      type: type.data,
      sequence: e.Sequence,
      transactionId: e.CallDetails.TransactionId,
      applicationId: e.CallDetails.SipMediaApplicationId ?? e.CallDetails.SipApplicationId,
      accountId: e.CallDetails.AwsAccountId,
      region: e.CallDetails.AwsRegion,
      attributes,
      ...pickLegs(e.CallDetails.Participants ?? []),
      action: e.ActionData
        ? parseActionData(type.data, e.ActionData.Type, e.ActionData.Parameters, {
            recordingLocation: e.ActionData.CallRecordingDestination?.Location,
            recorded: e.ActionData.RecordingDestination ?? e.ActionData.RecordinDestination,
          })
        : undefined,
      error: errorOf(e),
    },
  };
}
