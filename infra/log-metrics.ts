// CloudWatch metrics the SMA handler's own log lines give, so the alarms need nothing but the
// function's log group: each pattern matches a fixed message and `reason` the handler writes
// (lambdas/sma/handler.ts, decide/update.ts, decide/refusal.ts). The OpenTelemetry metrics of the
// same events (voice.calls.refused, sma.handler.errors, …) go to the collector as before.
import type * as logs from 'aws-cdk-lib/aws-logs';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export interface LogMetric {
  /** The CloudWatch metric's name, in the deployment's namespace. */
  name: string;
  pattern: string;
  description: string;
}

export const SMA_LOG_METRICS = {
  forgedUpdates: {
    name: 'ForgedCallUpdates',
    pattern: '{ $.msg = "call update refused: not signed for this call" }',
    description: 'call updates whose call token was missing, expired or not for the call',
  },
  foreignInvocations: {
    name: 'ForeignInvocations',
    pattern: '{ $.msg = "event refused" && $.reason = "foreign_sma" }',
    description: 'invocations by another SIP media application or AWS account',
  },
  callsOverCapacity: {
    name: 'CallsOverCapacity',
    pattern: '{ $.msg = "call refused" && $.reason = "over_capacity" }',
    description: 'new calls kept from the agent: every slot of a cap was taken',
  },
  callsRefused: {
    name: 'CallsRefused',
    pattern: '{ $.msg = "call refused" }',
    description: 'new calls kept from the agent by access rules, caps or rates',
  },
  handlerExceptions: {
    name: 'HandlerExceptions',
    pattern: '{ $.reason = "handler_exception" }',
    description: 'invocations answered safely after an internal error',
  },
  journalFailures: {
    name: 'JournalFailures',
    pattern: '{ $.reason = "journal_write_failed" }',
    description: 'journal writes that failed or ran out of time',
  },
} as const satisfies Record<string, LogMetric>;

/** CloudWatch namespace of the deployment's log metrics. */
export const logMetricsNamespace = (name: string) => `${name}/sma`;

export function smaLogMetrics(scope: Construct, logGroup: logs.ILogGroup, name: string): void {
  for (const [id, m] of Object.entries(SMA_LOG_METRICS)) {
    new MetricFilter(scope, `Metric${id[0]?.toUpperCase()}${id.slice(1)}`, {
      logGroup,
      filterPattern: FilterPattern.literal(m.pattern),
      metricNamespace: logMetricsNamespace(name),
      metricName: m.name,
      metricValue: '1',
      defaultValue: 0,
    });
  }
}
