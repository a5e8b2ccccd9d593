// The SMA handler's spans, loaded only when spans are exported (see sma-tracing.ts). One trace per
// call, its id derived from the TransactionId (traceparent.ts), so every invocation of the call
// joins it without storing anything:
//   call                      the call's root span, answer to hang-up; its span id is the one the
//                             handler sends the agent in X-Traceparent. Emitted when the call ends
//                             (its ids are fixed in advance, so it can be written last).
//   ├─ sma <EVENT_TYPE>       one per invocation
//   │  └─ sma.transfer        a transfer step (requested, bridging, completed, refused), linked to
//   │                         the agent's decision span (the `traceparent` argument)
//   └─ agent_session, ...     the agent's spans (the agents framework, parented to X-Traceparent)
// Attributes are low-cardinality codes only: never phone numbers, call ids or room names.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { callRootSpanId, callTraceId, parseTraceparent } from './traceparent.js';
import type {
  CallIdGenerator,
  CallTracing,
  InvocationFacts,
  InvocationSpan,
} from './sma-tracing.js';

const defined = (a: Record<string, string | number | string[] | undefined>): Attributes =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Attributes;

class SmaInvocation implements InvocationSpan {
  constructor(
    private readonly span: Span,
    private readonly tracer: Tracer,
    private readonly transactionId: string,
    private readonly ids: CallIdGenerator | undefined,
  ) {}

  decided(facts: () => InvocationFacts): void {
    if (!this.span.isRecording()) return;
    const f = facts();
    this.span.setAttributes(
      defined({
        'callbridge.use_case': f.useCase,
        'callbridge.phase': f.phase,
        'callbridge.actions': f.actionTypes,
        'callbridge.journal': f.journal,
      }),
    );
    if (f.transfer) this.transferSpan(f.transfer);
    if (f.ended) this.rootSpan(f.useCase, f.ended);
  }

  failed(reason: string): void {
    this.span.setAttribute('error.type', reason);
    this.span.setStatus({ code: SpanStatusCode.ERROR });
  }

  private transferSpan(t: NonNullable<InvocationFacts['transfer']>): void {
    const agent = parseTraceparent(t.agentTraceparent);
    const links: Link[] = agent
      ? [
          {
            context: {
              traceId: agent.traceId,
              spanId: agent.spanId,
              traceFlags: agent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
              isRemote: true,
            },
            attributes: { 'callbridge.link': 'agent_decision' },
          },
        ]
      : [];
    const parent = trace.setSpan(ROOT_CONTEXT, this.span);
    const attributes = defined({
      'callbridge.transfer.step': t.step,
      'callbridge.transfer.queue': t.queue,
      'callbridge.transfer.reason': t.reason,
      'callbridge.transfer.outcome': t.outcome,
      'callbridge.transfer.target': t.target,
    });
    this.tracer.startSpan('sma.transfer', { attributes, links }, parent).end();
  }

  private rootSpan(useCase: string | undefined, e: NonNullable<InvocationFacts['ended']>): void {
    if (!this.ids) return; // without fixed ids it would not be the span the others hang from
    const ids = {
      traceId: callTraceId(this.transactionId),
      spanId: callRootSpanId(this.transactionId),
    };
    const span = this.ids.withIds(ids, () =>
      this.tracer.startSpan(
        'call',
        {
          root: true,
          kind: SpanKind.SERVER,
          startTime: e.startMs,
          attributes: defined({
            'callbridge.use_case': useCase,
            'callbridge.disposition': e.disposition,
          }),
        },
        ROOT_CONTEXT,
      ),
    );
    span.end(e.endMs);
  }
}

export class SmaTracing implements CallTracing {
  /**
   * @param tracer the tracer of the SMA's tracer provider
   * @param ids the tracer provider's id generator, needed to write the call's root span
   */
  constructor(
    private readonly tracer: Tracer,
    private readonly ids?: CallIdGenerator,
  ) {}

  /** Runs one invocation inside its span, a child of the call's root span. */
  async invocation<T>(
    call: { transactionId: string; type: string; sequence: number },
    fn: (inv: InvocationSpan) => Promise<T>,
  ): Promise<T> {
    // The call's root span, as the agent sees it in X-Traceparent. (Built here rather than with
    // traceparent.ts's contextFromTraceparent, which would put the trace API in the Lambda's
    // start-up chunk.)
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: callTraceId(call.transactionId),
      spanId: callRootSpanId(call.transactionId),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    const span = this.tracer.startSpan(
      `sma ${call.type}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'callbridge.event_type': call.type, 'callbridge.sequence': call.sequence },
      },
      parent,
    );
    try {
      return await fn(new SmaInvocation(span, this.tracer, call.transactionId, this.ids));
    } catch (err) {
      // The type only: a message could quote a key (and so a call id).
      span.setAttribute('error.type', (err as Error)?.name ?? 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  }
}
