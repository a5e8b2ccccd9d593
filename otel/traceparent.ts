// W3C trace context (https://www.w3.org/TR/trace-context/#traceparent-header) for one call.
// The SMA handler derives the call's trace id from the Chime TransactionId, so every invocation of
// the call (and a retry of the same one) joins the same trace without storing anything, and an
// operator holding a TransactionId can find its trace.
import { createHash } from 'node:crypto';
import { ROOT_CONTEXT, TraceFlags, trace, type Context } from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceContextIds {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

function hex(input: string, chars: number): string {
  return createHash('sha256').update(input).digest('hex').slice(0, chars);
}

/** Trace id of a call: the TransactionId's own 128 bits when it is a UUID, else a hash of it. */
export function callTraceId(transactionId: string): string {
  const compact = transactionId.replace(/-/g, '').toLowerCase();
  if (/^[0-9a-f]{32}$/.test(compact) && !/^0+$/.test(compact)) return compact;
  return hex(`trace:${transactionId}`, 32);
}

/** The call's root span id (the parent the agent's session spans hang from). */
export function callRootSpanId(transactionId: string): string {
  const id = hex(`span:${transactionId}`, 16);
  return /^0+$/.test(id) ? '0000000000000001' : id;
}

export function callTraceparent(transactionId: string): string {
  return `00-${callTraceId(transactionId)}-${callRootSpanId(transactionId)}-01`;
}

export function parseTraceparent(value: string | undefined): TraceContextIds | undefined {
  const m = value === undefined ? null : TRACEPARENT.exec(value.trim().toLowerCase());
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, sampled: (parseInt(m[3]!, 16) & 1) === 1 };
}

/**
 * A context whose parent is the call's remote span, so spans started inside `fn` (the agent
 * framework's session spans) join the call's trace. Without a registered tracer provider this
 * costs nothing.
 */
export function contextFromTraceparent(value: string | undefined): Context {
  const ids = parseTraceparent(value);
  if (!ids) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: ids.traceId,
    spanId: ids.spanId,
    traceFlags: ids.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

/** The W3C traceparent of a span context (the inverse of {@link parseTraceparent}). */
export function formatTraceparent(sc: {
  traceId: string;
  spanId: string;
  traceFlags: number;
}): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}
