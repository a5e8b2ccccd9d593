// The agent's own span: its decision to transfer the caller (or to end the call). Its context is
// what the agent sends the SMA as the `traceparent` argument, so the handler's transfer spans link
// back to it, and the transfer delay can be followed from the decision to the person answering.
import {
  SpanStatusCode,
  context,
  isSpanContextValid,
  trace,
  type Context,
  type Tracer,
} from '@opentelemetry/api';
import { formatTraceparent } from './traceparent.js';

export const AGENT_TRACER = 'callbridge.agent';

export interface CallUpdateFacts {
  action: 'transfer' | 'voicemail' | 'hangup';
  reason: string;
  queue?: string;
  /** The call's trace (X-Traceparent), when the agent is in a phone call. */
  traceparent?: string;
  /** The same trace, parsed once when the call started (agent/call-context.ts). */
  callContext?: Context;
}

/**
 * The decision's parent: the active span when it belongs to the call's trace (the framework's
 * tool span, inside the session started under X-Traceparent), else the call's root span itself.
 */
function parentContext(callContext: Context | undefined): Context {
  const active = context.active();
  const call = callContext && trace.getSpanContext(callContext);
  if (!callContext || !call) return active;
  const sc = trace.getSpanContext(active);
  return sc && isSpanContextValid(sc) && sc.traceId === call.traceId ? active : callContext;
}

/**
 * Runs `send` inside the decision span and hands it the traceparent to send. Without a tracer
 * provider the span does not record and the traceparent is the call's own, as before.
 */
export async function withCallUpdateSpan<T>(
  u: CallUpdateFacts,
  send: (traceparent: string | undefined) => Promise<T>,
  tracer: Tracer = trace.getTracer(AGENT_TRACER),
): Promise<T> {
  const parent = parentContext(u.callContext);
  const span = tracer.startSpan(
    `agent.${u.action}_decision`,
    {
      attributes: {
        'callbridge.call_update.action': u.action,
        'callbridge.transfer.reason': u.reason,
        ...(u.queue !== undefined ? { 'callbridge.transfer.queue': u.queue } : {}),
      },
    },
    parent,
  );
  const sc = span.spanContext();
  const traceparent = isSpanContextValid(sc) ? formatTraceparent(sc) : u.traceparent;
  try {
    return await context.with(trace.setSpan(parent, span), () => send(traceparent));
  } catch (err) {
    span.setAttribute('error.type', (err as Error)?.name ?? 'Error');
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}
