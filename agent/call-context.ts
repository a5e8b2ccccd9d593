// What the agent knows about the call it is in, read once from its participant's attributes (the
// header contract in contracts/headers.ts, plus LiveKit's own sip.* attributes), and whether it is
// a phone call the agent takes at all (admitCall). Only a SIP participant can be a phone call, and
// only with the call token the SMA signed for its TransactionId (contracts/call-token.ts): anyone
// can send an INVITE with made-up X-Sma-* headers. A participant of any other kind is a developer
// in a dev room: same agent, but no phone call to control, whatever attributes it carries.
// The call's trace context is parsed here, once: everything after reads it from the CallContext.
import { ParticipantKind } from '@livekit/rtc-node';
import { trace, type Context } from '@opentelemetry/api';
import * as z from 'zod';
import {
  verifyCallerKey,
  verifyCallToken,
  type CallerKeyCheck,
  type CallTokenCheck,
} from '../contracts/call-token.js';
import { CallAttribute } from '../contracts/headers.js';
import { CALL_PROVIDER, TwilioAttribute, twilioTokenClaims } from '../contracts/twilio-call.js';
import type { RefusedReason } from '../contracts/reasons.js';
import type { UseCase, UseCaseCatalog } from '../contracts/use-cases.js';
import { contextFromTraceparent } from '../otel/traceparent.js';

/** LiveKit SIP's own participant attributes (livekit/protocol livekit/attrs.go). */
export const LiveKitSipAttribute = {
  phoneNumber: 'sip.phoneNumber',
  trunkPhoneNumber: 'sip.trunkPhoneNumber',
  callId: 'sip.callID',
  callStatus: 'sip.callStatus',
} as const;

/** The AWS region form (us-east-1): the region decides where the agent's updates are sent. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;

const optional = z.string().min(1).optional().catch(undefined);

const attributes = z.object({
  [CallAttribute.transactionId]: optional,
  [CallAttribute.applicationId]: optional,
  [CallAttribute.region]: z.string().regex(REGION_PATTERN).optional().catch(undefined),
  [CallAttribute.callToken]: optional,
  [CallAttribute.useCase]: optional,
  [CallAttribute.traceparent]: optional,
  [CallAttribute.callerKey]: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/)
    .optional()
    .catch(undefined),
  [LiveKitSipAttribute.phoneNumber]: optional,
  [LiveKitSipAttribute.trunkPhoneNumber]: optional,
  [LiveKitSipAttribute.callId]: optional,
  [TwilioAttribute.provider]: optional,
  [TwilioAttribute.callSid]: optional,
  [TwilioAttribute.accountSid]: optional,
});

export interface SmaCall {
  transactionId: string;
  sipMediaApplicationId: string;
  region: string;
  /**
   * The call's token as the SMA signed it, returned with every update; never logged. Empty when
   * the participant carried none: admitCall accepts no such call.
   */
  token: string;
}

/** A call that came in through Twilio's Media Streams gateway (twilio/, docs/twilio.md). */
export interface TwilioCall {
  callSid: string;
  accountSid: string;
  /** The call's token as the webhook signed it; never logged. Empty when none was carried. */
  token: string;
}

export interface CallContext {
  /**
   * `phone`: a call through the SMA (or, with `twilio` set, through Twilio) the agent can transfer
   * or hang up; `dev`: anything else.
   */
  kind: 'phone' | 'dev';
  sma: SmaCall | undefined;
  /** Set for a Twilio call (then `sma` is undefined). */
  twilio?: TwilioCall;
  useCase: UseCase;
  callerNumber: string | undefined;
  /**
   * The caller's key from the SMA (contracts/callers.ts: an HMAC of the number): what the caller's
   * profile is keyed by. Undefined for a withheld number, a dev room, a deployment without one.
   */
  callerKey?: string;
  dialedNumber: string | undefined;
  sipCallId: string | undefined;
  /** The call's X-Traceparent when it is well formed: what the agent forwards to the SMA. */
  traceparent: string | undefined;
  /**
   * The same trace as a context whose span is the call's remote root: the parent of the session's
   * spans and of the agent's decisions. ROOT_CONTEXT when the call has no trace.
   */
  traceContext: Context;
}

/**
 * The call as its attributes describe it: a phone call when they name an SMA call. Whether to
 * believe them is admitCall's decision; a call's start goes through admitCall only.
 */
export function readCallContext(
  attrs: Record<string, string>,
  useCases: UseCaseCatalog,
): CallContext {
  const a = attributes.parse(attrs);
  const tx = a[CallAttribute.transactionId];
  const smaId = a[CallAttribute.applicationId];
  const region = a[CallAttribute.region];
  const token = a[CallAttribute.callToken] ?? '';
  const viaTwilio = a[TwilioAttribute.provider] === CALL_PROVIDER.twilio;
  const sma =
    !viaTwilio && tx && smaId && region
      ? { transactionId: tx, sipMediaApplicationId: smaId, region, token }
      : undefined;
  const callSid = a[TwilioAttribute.callSid];
  const accountSid = a[TwilioAttribute.accountSid];
  const twilio = viaTwilio && callSid && accountSid ? { callSid, accountSid, token } : undefined;
  const dialed = a[LiveKitSipAttribute.trunkPhoneNumber];
  const useCase =
    useCases.byIdOrUndefined(a[CallAttribute.useCase]) ??
    useCases.all.find((uc) => uc.livekitNumber === dialed) ??
    useCases.defaultUseCase;
  const tp = a[CallAttribute.traceparent];
  const traceContext = contextFromTraceparent(tp);
  return {
    kind: sma || twilio ? 'phone' : 'dev',
    sma,
    ...(twilio ? { twilio } : {}),
    useCase,
    callerNumber: a[LiveKitSipAttribute.phoneNumber],
    callerKey: a[CallAttribute.callerKey],
    dialedNumber: dialed,
    sipCallId: a[LiveKitSipAttribute.callId],
    traceparent: trace.getSpanContext(traceContext) ? tp : undefined,
    traceContext,
  };
}

/** Which phone calls the worker takes (agent/config.ts). */
export interface CallTrust {
  /** The SMA's call-token secret; undefined: the worker serves dev rooms only. */
  secret: string | undefined;
  /** Set: a call from another SMA application or region is refused (`foreign_sma`). */
  applicationId: string | undefined;
  region: string | undefined;
}

/** Why a refused participant was refused, in more detail than its reason (for the log). */
export type RefusalCheck =
  | Extract<CallTokenCheck, { ok: false }>['reason']
  | 'dev_rooms_only'
  | 'incomplete'
  | 'application_id'
  | 'region';

export interface Refusal {
  reason: Extract<RefusedReason, 'forged' | 'foreign_sma'>;
  check: RefusalCheck;
}

export type Admission =
  | {
      accepted: true;
      call: CallContext;
      /**
       * Set when the participant claimed a caller key its token does not bind: the call is taken,
       * without the key (no profile is read or written). For the log: never the key itself.
       */
      callerKeyRefused?: Exclude<CallerKeyCheck, 'bound'>;
    }
  | ({
      accepted: false;
      /** As claimed: for the log and the metric only. */ call: CallContext;
    } & Refusal);

/** The participant as admitCall needs it (a RemoteParticipant). */
export interface JoiningParticipant {
  kind: ParticipantKind;
  attributes: Record<string, string>;
}

/**
 * Whether the agent takes this participant's call, and as what: any participant but a SIP one is
 * a dev room; a SIP participant is a phone call only when its token verifies for its TransactionId
 * and SMA application id, from the configured SMA when one is. One HMAC: microseconds.
 */
export function admitCall(
  participant: JoiningParticipant,
  useCases: UseCaseCatalog,
  trust: CallTrust,
  nowMs: number,
): Admission {
  const claimed = readCallContext(participant.attributes, useCases);
  if (participant.kind !== ParticipantKind.SIP) {
    return { accepted: true, call: { ...claimed, kind: 'dev', sma: undefined, twilio: undefined } };
  }
  const refusal =
    participant.attributes[TwilioAttribute.provider] === CALL_PROVIDER.twilio
      ? twilioRefusalOf(claimed.twilio, trust, nowMs)
      : refusalOf(claimed.sma, participant.attributes, trust, nowMs);
  if (refusal) return { accepted: false, call: claimed, ...refusal };
  const keyCheck = callerKeyCheckOf(claimed, trust);
  if (keyCheck === 'bound' || keyCheck === undefined) return { accepted: true, call: claimed };
  const { callerKey: _unbound, ...call } = claimed;
  return { accepted: true, call, callerKeyRefused: keyCheck };
}

/**
 * Whether the caller key the participant claims is the one its token binds to the call (a valid
 * token must not be paired with another caller's key). Undefined when it claims none. Only the
 * SMA sends one; a Twilio call claiming one has it refused.
 */
function callerKeyCheckOf(call: CallContext, trust: CallTrust): CallerKeyCheck | undefined {
  if (call.callerKey === undefined) return undefined;
  if (!call.sma || trust.secret === undefined) return 'unbound';
  const claims = {
    transactionId: call.sma.transactionId,
    applicationId: call.sma.sipMediaApplicationId,
    callerKey: call.callerKey,
  };
  return verifyCallerKey(call.sma.token, claims, trust.secret);
}

/**
 * A SIP participant the Twilio gateway brought in: a phone call only with the token the TwiML
 * webhook signed for its CallSid and account (contracts/twilio-call.ts). The SMA's application and
 * region do not apply to it.
 */
function twilioRefusalOf(
  call: TwilioCall | undefined,
  trust: CallTrust,
  nowMs: number,
): Refusal | undefined {
  if (trust.secret === undefined) return { reason: 'forged', check: 'dev_rooms_only' };
  if (!call) return { reason: 'forged', check: 'incomplete' };
  const claims = twilioTokenClaims(call.callSid, call.accountSid);
  const token = verifyCallToken(call.token, claims, trust.secret, nowMs);
  return token.ok ? undefined : { reason: 'forged', check: token.reason };
}

function refusalOf(
  sma: SmaCall | undefined,
  attrs: Record<string, string>,
  trust: CallTrust,
  nowMs: number,
): Refusal | undefined {
  if (trust.secret === undefined) return { reason: 'forged', check: 'dev_rooms_only' };
  if (!sma) {
    const check = attrs[CallAttribute.callToken] ? 'incomplete' : 'missing';
    return { reason: 'forged', check };
  }
  const claims = { transactionId: sma.transactionId, applicationId: sma.sipMediaApplicationId };
  const token = verifyCallToken(sma.token, claims, trust.secret, nowMs);
  if (!token.ok) return { reason: 'forged', check: token.reason };
  // Checked after the token: a foreign SMA is one that signed a genuine token with our secret.
  if (trust.applicationId !== undefined && sma.sipMediaApplicationId !== trust.applicationId) {
    return { reason: 'foreign_sma', check: 'application_id' };
  }
  if (trust.region !== undefined && sma.region !== trust.region) {
    return { reason: 'foreign_sma', check: 'region' };
  }
  return undefined;
}
