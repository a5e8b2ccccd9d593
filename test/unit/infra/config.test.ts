import { describe, expect, it } from 'vitest';
import { DeployConfigError, SUPPORTED_REGIONS } from '../../../infra/config.js';
import { bundledUseCases, deploymentOf, exampleConfig } from './fixtures.js';

function problemsOf(raw: unknown): string {
  try {
    deploymentOf(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(DeployConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('deployment configuration', () => {
  it('accepts the example and takes the SIP rules from the use cases', () => {
    const d = deploymentOf(exampleConfig());
    const numbers = bundledUseCases.useCases.flatMap((u) => u.dialedNumbers);
    expect(d.dialedNumbers.sort()).toEqual([...new Set(numbers)].sort());
    expect(d.config.livekit.sipHosts).toHaveLength(2);
    expect(d.config.voiceConnector.termination).toBeUndefined();
  });

  it('names every field problem at once', () => {
    const raw = exampleConfig();
    raw['aws'] = { account: '1234', region: 'eu-west-1' };
    const livekit = raw['livekit'] as Record<string, unknown>;
    livekit['sipHosts'] = Array.from({ length: 11 }, (_, i) => ({ host: `sip-${i}.example.com` }));
    livekit['url'] = 'http://livekit.example.com';
    raw['surprise'] = true;
    const message = problemsOf(raw);
    expect(message).toContain('aws.account: must be a 12-digit AWS account id');
    expect(message).toContain('aws.region: eu-west-1 has no SIP media applications');
    expect(message).toMatch(/livekit\.sipHosts: .*10/);
    expect(message).toContain('livekit.url: must be a wss:// or https:// URL');
    expect(message).toMatch(/\(file\): .*surprise/);
  });

  it('refuses a region without Chime SDK Voice resources in CloudFormation, naming the ones with them', () => {
    const raw = exampleConfig();
    raw['aws'] = { account: '123456789012', region: 'eu-west-1' };
    const message = problemsOf(raw);
    expect(message).toContain('aws.region: eu-west-1 has no SIP media applications');
    for (const r of SUPPORTED_REGIONS) expect(message).toContain(r);
  });

  it('names every cross-field problem at once', () => {
    const raw = exampleConfig();
    const livekit = raw['livekit'] as Record<string, unknown>;
    livekit['sipHosts'] = [{ host: 'sip.example.com' }, { host: 'sip.example.com', port: 5060 }];
    livekit['rtpPorts'] = { start: 20000, end: 20010 };
    const connect = raw['connect'] as Record<string, unknown>;
    connect['smaNumber'] = '+15550100999';
    connect['fallbackQueueArn'] =
      'arn:aws:connect:us-east-1:123456789012:instance/00000000-0000-4000-8000-000000000009/queue/00000000-0000-4000-8000-000000000002';
    const lines = problemsOf(raw).split('\n').slice(1);
    expect(lines).toEqual([
      '  livekit.sipHosts.1: sip.example.com:5060 is listed twice',
      '  livekit.rtpPorts: 20000-20010 must span at least 100 ports (two per call)',
      "  connect.smaNumber: must be one of the use cases' dialed numbers (contracts/use-cases.json)",
      '  connect.fallbackQueueArn: must be a queue of connect.instanceArn',
    ]);
  });

  it("refuses rolling numbers whose queue is not the Connect instance's", () => {
    const raw = exampleConfig();
    const other =
      'arn:aws:connect:us-east-1:123456789012:instance/00000000-0000-4000-8000-000000000009';
    raw['connect'] = {
      ...(raw['connect'] as Record<string, unknown>),
      instanceArn: other,
      fallbackQueueArn: `${other}/queue/00000000-0000-4000-8000-000000000002`,
    };
    const lines = problemsOf(raw).split('\n').slice(1);
    expect(lines).toEqual([
      "  use case city-311, queue general: lists rollingNumbers, so its connect.instanceId must be connect.instanceArn's instance (the queue-entry flow queues the caller there)",
    ]);
    delete raw['connect'];
    expect(() => deploymentOf(raw)).not.toThrow();
  });

  it('never repeats a phone number it refuses', () => {
    const raw = exampleConfig();
    (raw['connect'] as Record<string, unknown>)['smaNumber'] = '+15550100999';
    expect(problemsOf(raw)).not.toContain('5550100999');
  });

  it('takes an existing secret only as a full Secrets Manager ARN', () => {
    const raw = exampleConfig();
    raw['secrets'] = { callToken: 'my-secret' };
    expect(problemsOf(raw)).toContain('secrets.callToken: must be a Secrets Manager secret ARN');
  });
});
