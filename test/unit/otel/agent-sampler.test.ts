import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { CallSampler } from '../../../otel/agent-worker.js';
import { contextFromTraceparent } from '../../../otel/traceparent.js';

const CALL = contextFromTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
const UNSAMPLED = contextFromTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00');
const decide = (ctx: typeof ROOT_CONTEXT, name: string) =>
  new CallSampler().shouldSample(
    ctx,
    '0af7651916cd43dd8448eb211c80319c',
    name,
    SpanKind.INTERNAL,
    {},
    [],
  ).decision;

describe('CallSampler (agent job processes)', () => {
  it("drops the framework's job_entrypoint root: it would be a trace of its own beside the call's", () => {
    expect(decide(ROOT_CONTEXT, 'job_entrypoint')).toBe(SamplingDecision.NOT_RECORD);
  });

  it('samples spans in the call trace as the SMA marked it', () => {
    expect(decide(CALL, 'agent_session')).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(CALL, 'job_entrypoint')).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(UNSAMPLED, 'agent_session')).toBe(SamplingDecision.NOT_RECORD);
  });

  it('samples a dev room session, which has no call trace', () => {
    expect(trace.getSpanContext(ROOT_CONTEXT)).toBeUndefined();
    expect(decide(ROOT_CONTEXT, 'agent_session')).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });
});
