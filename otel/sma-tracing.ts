// What the SMA handler knows of its spans: an interface, and "no tracing". The implementation
// (sma-spans.ts, with the OpenTelemetry trace API) is loaded only when spans are exported, so a
// Lambda that exports no traces does not load it at cold start.
import { randomBytes } from 'node:crypto';
import type { TransferReason } from '../contracts/reasons.js';

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

/** The transfer step an invocation took, as its decision reports it (lambdas/sma/decide). */
export interface TransferFacts {
  step: TransferStep;
  queue?: string | undefined;
  reason?: TransferReason | undefined;
  outcome?: string | undefined;
  target?: string | undefined;
  /** The agent's `traceparent` argument: its transfer decision span. */
  agentTraceparent?: string | undefined;
}

/** What the handler decided, as span attributes see it. */
export interface InvocationFacts {
  useCase: string | undefined;
  phase: string | undefined;
  actionTypes: string[];
  journal: string;
  transfer?: TransferFacts;
  /** The call ended with this invocation: its root span is written now. */
  ended?: { startMs: number; endMs: number; disposition: string };
}

/** One invocation's span, as the handler sees it. */
export interface InvocationSpan {
  /** `facts` is called only when the span records: untraced invocations pay nothing for it. */
  decided(facts: () => InvocationFacts): void;
  /** The handler answered with its safe fallback (`reason`: a fixed code). */
  failed(reason: string): void;
}

export interface CallTracing {
  /** Runs one invocation inside its span. */
  invocation<T>(
    call: { transactionId: string; type: string; sequence: number },
    fn: (span: InvocationSpan) => Promise<T>,
  ): Promise<T>;
}

const untraced: InvocationSpan = { decided: () => {}, failed: () => {} };

/** No spans at all (nothing exports them): the handler's cost stays as it was. */
export const noTracing: CallTracing = { invocation: (_call, fn) => fn(untraced) };
