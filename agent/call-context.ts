// What the agent knows about the call it is in, read once from the SIP participant's attributes
// (the header contract in contracts/headers.ts, plus LiveKit's own sip.* attributes). A participant
// without SMA attributes is a developer in a dev room: same agent, but no phone call to control.
// The call's trace context is parsed here, once: everything after reads it from the CallContext.
import { trace, type Context } from '@opentelemetry/api';
import * as z from 'zod';
import { CallAttribute } from '../contracts/headers.js';
import type { UseCase, UseCaseCatalog } from '../contracts/use-cases.js';
import { contextFromTraceparent } from '../otel/traceparent.js';

/** LiveKit SIP's own participant attributes (livekit/protocol livekit/attrs.go). */
export const LiveKitSipAttribute = {
  phoneNumber: 'sip.phoneNumber',
  trunkPhoneNumber: 'sip.trunkPhoneNumber',
  callId: 'sip.callID',
  callStatus: 'sip.callStatus',
} as const;

const optional = z.string().min(1).optional().catch(undefined);

const attributes = z.object({
  [CallAttribute.transactionId]: optional,
  [CallAttribute.applicationId]: optional,
  [CallAttribute.region]: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
    .optional()
    .catch(undefined),
  [CallAttribute.useCase]: optional,
  [CallAttribute.traceparent]: optional,
  [LiveKitSipAttribute.phoneNumber]: optional,
  [LiveKitSipAttribute.trunkPhoneNumber]: optional,
  [LiveKitSipAttribute.callId]: optional,
});

export interface SmaCall {
  transactionId: string;
  sipMediaApplicationId: string;
  region: string;
}

export interface CallContext {
  /** `phone`: a call through the SMA the agent can transfer or hang up; `dev`: anything else. */
  kind: 'phone' | 'dev';
  sma: SmaCall | undefined;
  useCase: UseCase;
  callerNumber: string | undefined;
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

export function readCallContext(
  attrs: Record<string, string>,
  useCases: UseCaseCatalog,
): CallContext {
  const a = attributes.parse(attrs);
  const tx = a[CallAttribute.transactionId];
  const smaId = a[CallAttribute.applicationId];
  const region = a[CallAttribute.region];
  const sma =
    tx && smaId && region ? { transactionId: tx, sipMediaApplicationId: smaId, region } : undefined;
  const dialed = a[LiveKitSipAttribute.trunkPhoneNumber];
  const useCase =
    useCases.byIdOrUndefined(a[CallAttribute.useCase]) ??
    useCases.all.find((uc) => uc.livekitNumber === dialed) ??
    useCases.defaultUseCase;
  const tp = a[CallAttribute.traceparent];
  const traceContext = contextFromTraceparent(tp);
  return {
    kind: sma ? 'phone' : 'dev',
    sma,
    useCase,
    callerNumber: a[LiveKitSipAttribute.phoneNumber],
    dialedNumber: dialed,
    sipCallId: a[LiveKitSipAttribute.callId],
    traceparent: trace.getSpanContext(traceContext) ? tp : undefined,
    traceContext,
  };
}
