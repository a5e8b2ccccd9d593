// The resource every signal of a process carries: which service, which version, where it runs.
// OTEL_RESOURCE_ATTRIBUTES (read by the SDK's env detector) can add to or override these.
import { randomUUID } from 'node:crypto';
import type { Attributes } from '@opentelemetry/api';
import pkg from '../package.json' with { type: 'json' };
import type { TelemetryConfig } from './config.js';

/** Resource attributes of this process (plain values; the SDK builds its Resource from them). */
export function resourceAttributes(
  config: TelemetryConfig,
  env: Record<string, string | undefined> = process.env,
): Attributes {
  const attrs: Attributes = {
    'service.name': config.serviceName,
    'service.namespace': 'callbridge',
    'service.version': pkg.version,
    'service.instance.id': randomUUID(),
    'deployment.environment.name': config.environment,
    // The attribute's name before semantic conventions 1.27; many backends still key on it.
    'deployment.environment': config.environment,
  };
  // Lambda's own variables (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
  const fn = env['AWS_LAMBDA_FUNCTION_NAME'];
  if (fn) {
    attrs['cloud.provider'] = 'aws';
    attrs['cloud.platform'] = 'aws_lambda';
    attrs['faas.name'] = fn;
    if (env['AWS_LAMBDA_FUNCTION_VERSION'])
      attrs['faas.version'] = env['AWS_LAMBDA_FUNCTION_VERSION'];
    if (env['AWS_LAMBDA_LOG_STREAM_NAME'])
      attrs['faas.instance'] = env['AWS_LAMBDA_LOG_STREAM_NAME'];
  }
  if (env['AWS_REGION']) attrs['cloud.region'] = env['AWS_REGION'];
  return attrs;
}
