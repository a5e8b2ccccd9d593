// The observability stack: an SNS topic and the CloudWatch alarms that page on it. Each alarm
// watches something the SMA's function reports itself (its Lambda metrics, and the log metrics of
// infra/log-metrics.ts), so they work before any OpenTelemetry collector is set up; the latency
// and agent alerts stay in Prometheus (otel/prometheus/callbridge-alerts.yml).
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { DeployConfig } from '../config.js';
import { SMA_LOG_METRICS, logMetricsNamespace, type LogMetric } from '../log-metrics.js';

export interface ObservabilityStackProps extends StackProps {
  config: DeployConfig;
  smaFunction: lambda.IFunction;
}

export class ObservabilityStack extends Stack {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config, smaFunction: fn } = props;
    this.topic = new sns.Topic(this, 'Alarms', {
      topicName: `${config.name}-alarms`,
      enforceSSL: true,
    });
    if (config.alarms.email) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarms.email));
    }
    const minute = Duration.minutes(1);
    this.alarm('SmaErrors', fn.metricErrors({ period: minute, statistic: 'Sum' }), {
      threshold: 0,
      description: 'The SMA function failed invocations (Chime retries, then fails the call).',
    });
    this.alarm('SmaThrottles', fn.metricThrottles({ period: minute, statistic: 'Sum' }), {
      threshold: 0,
      description: 'The SMA function was throttled: raise its concurrency or the account limit.',
    });
    this.alarm('SmaDurationNearRetry', fn.metricDuration({ period: minute, statistic: 'p99' }), {
      threshold: config.alarms.durationP99Ms,
      evaluationPeriods: 3,
      description:
        `The SMA function's p99 time is over ${config.alarms.durationP99Ms} ms: near Chime's ` +
        '5 s, after which Chime invokes again.',
    });
    const log = (m: LogMetric, period = minute) =>
      new cloudwatch.Metric({
        namespace: logMetricsNamespace(config.name),
        metricName: m.name,
        period,
        statistic: 'Sum',
      });
    this.alarm('ForgedCalls', log(SMA_LOG_METRICS.forgedUpdates), {
      threshold: 0,
      description:
        'Call updates not signed for their call: CALL_TOKEN_SECRET differs between the SMA and ' +
        'the agent, or someone is forging updates (CallbridgeForgedCalls).',
    });
    this.alarm('ForeignInvocations', log(SMA_LOG_METRICS.foreignInvocations), {
      threshold: 0,
      description: 'The SMA function was invoked by another SIP media application or account.',
    });
    this.alarm('CallsOverCapacity', log(SMA_LOG_METRICS.callsOverCapacity, Duration.minutes(5)), {
      threshold: 0,
      evaluationPeriods: 3,
      description:
        'Calls arrived while every slot was taken for 15 minutes: active calls are over the ' +
        'capacity (MAX_CONCURRENT_CALLS, a use case cap); add agent workers and raise the cap ' +
        '(CallbridgeOverCapacity).',
    });
    this.alarm('HandlerExceptions', log(SMA_LOG_METRICS.handlerExceptions), {
      threshold: 0,
      description: 'The SMA handler answered safely after an internal error (a bug).',
    });
    this.alarm('JournalFailures', log(SMA_LOG_METRICS.journalFailures, Duration.minutes(5)), {
      threshold: 5,
      description: 'Journal writes to DynamoDB fail or run out of time.',
    });
  }

  private alarm(
    id: string,
    metric: cloudwatch.IMetric,
    opts: { threshold: number; description: string; evaluationPeriods?: number },
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${this.stackName}-${id}`,
      alarmDescription: opts.description,
      metric,
      threshold: opts.threshold,
      evaluationPeriods: opts.evaluationPeriods ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
