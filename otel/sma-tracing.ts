// The SMA handler's spans. One trace per call, its id derived from the TransactionId
// (traceparent.ts), so every invocation of the call joins it without storing anything:
//   call                      the call's root span, answer to hang-up; its span id is the one the
//                             handler sends the agent in X-Traceparent. Emitted when the call ends
//                             (its ids are fixed in advance, so it can be written last).
//   ├─ sma <EVENT_TYPE>       one per invocation
//   │  └─ sma.transfer        a transfer step (requested, bridging, completed, refused), linked to
//   │                         the agent's decision span (the `traceparent` argument)
//   └─ agent_session, ...     the agent's spans (the agents framework, parented to X-Traceparent)
// Attributes are low-cardinality codes only: never phone numbers, call ids or room names.
import { randomBytes } from 'node:crypto';
import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import {
  callRootSpanId,
  callTraceId,
  callTraceparent,
  contextFromTraceparent,
  parseTraceparent,
} from './traceparent.js';

export const SMA_TRACER = 'callbridge.sma';

/**
 * Ids for the spans of one tracer provider: random, except for a span started inside
 * {@link CallIdGenerator.withIds}, which gets the ids given (the call's root span). Span starts are
 * synchronous, so nothing else can take them. Implements the SDK's IdGenerator.
 */
export class CallIdGenerator {
  private next: { traceId?: string; spanId?: string } = {};

  withIds<T>(ids: { traceId: string; spanId: string }, fn: () => T): T {
    this.next = { ...ids };
    try {
      return fn();
    } finally {
      this.next = {};
    }
  }

  generateTraceId(): string {
    const id = this.next.traceId;
    this.next.traceId = undefined;
    return id ?? random(16);
  }

  generateSpanId(): string {
    const id = this.next.spanId;
    this.next.spanId = undefined;
    return id ?? random(8);
  }
}

function random(bytes: number): string {
  for (;;) {
    const id = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(id)) return id;
  }
}

export type TransferStep = 'requested' | 'refused' | 'bridging' | 'completed';

/** What the handler decided, as span attributes see it. */
export interface InvocationFacts {
  useCase: string | undefined;
  phase: string | undefined;
  actionTypes: string[];
  journal: string;
  transfer?: {
    step: TransferStep;
    queue?: string;
    reason?: string;
    outcome?: string;
    target?: string;
    /** The agent's `traceparent` argument: its transfer decision span. */
    agentTraceparent?: string;
  };
  /** The call ended with this invocation: its root span is written now. */
  ended?: { startMs: number; endMs: number; disposition: string };
}

const defined = (a: Record<string, string | number | string[] | undefined>): Attributes =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Attributes;

export class SmaInvocation {
  constructor(
    private readonly span: Span,
    private readonly tracer: Tracer,
    private readonly transactionId: string,
    private readonly ids: CallIdGenerator | undefined,
  ) {}

  /** `facts` is called only when the span records: untraced invocations pay nothing for it. */
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

  /** The handler answered with its safe fallback (`reason`: a fixed code). */
  failed(reason: string): void {
    this.span.setAttribute('error.type', reason);
    this.span.setStatus({ code: SpanStatusCode.ERROR });
  }

  private transferSpan(t: NonNullable<InvocationFacts['transfer']>): void {
    const agent = parseTraceparent(t.agentTraceparent);
    const links: Link[] = agent
      ? [
          {
            context: { ...agent, traceFlags: agent.sampled ? 1 : 0, isRemote: true },
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

const UNTRACED = new SmaInvocation(
  trace.wrapSpanContext(INVALID_SPAN_CONTEXT),
  trace.getTracer(SMA_TRACER),
  '',
  undefined,
);

export class SmaTracing {
  /** No spans at all (nothing exports them): the handler's cost stays as it was. */
  static readonly disabled = new SmaTracing(undefined);

  /**
   * @param tracer the tracer of the SMA's tracer provider; undefined: no spans
   * @param ids the tracer provider's id generator, needed to write the call's root span
   */
  constructor(
    private readonly tracer: Tracer | undefined,
    private readonly ids?: CallIdGenerator,
  ) {}

  /** Runs one invocation inside its span, a child of the call's root span. */
  async invocation<T>(
    call: { transactionId: string; type: string; sequence: number },
    fn: (inv: SmaInvocation) => Promise<T>,
  ): Promise<T> {
    if (!this.tracer) return fn(UNTRACED);
    const parent = contextFromTraceparent(callTraceparent(call.transactionId));
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
