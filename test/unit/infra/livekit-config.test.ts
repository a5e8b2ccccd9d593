// The LiveKit side's files, generated from the same configuration as the stacks.
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { envSchema as guardEnvSchema } from '../../../guard/config.js';
import type { Json } from '../../helpers/sma.js';
import { renderLivekitFiles } from '../../../infra/livekit/render.js';
import { SERVICE_ACCOUNTS } from '../../../infra/stacks/workloads.js';
import { chimeSignallingRanges } from '../../../sip/livekit/definitions.js';
import { deploymentOf, exampleConfig } from './fixtures.js';

const files = () => renderLivekitFiles(deploymentOf(exampleConfig()).config, 'callbridge-calls');

describe('LiveKit configuration files', () => {
  it('points livekit-server at the shared Redis and its webhooks at the guard, signed with the key', () => {
    const server = parse(files()['livekit-server.yaml']!) as Record<string, unknown>;
    expect(server['redis']).toEqual({ address: 'redis.callbridge.svc.cluster.local:6379' });
    expect(server['webhook']).toEqual({
      api_key: 'callbridge',
      urls: ['http://callbridge-guard.callbridge.svc.cluster.local:8090/livekit/webhook'],
    });
    expect(server['agents']).toEqual({ target_load: 1 });
    expect(server['keys']).toBeUndefined();
  });

  it('gives livekit-sip the configured RTP range, its public address and a health port', () => {
    const sip = parse(files()['livekit-sip.yaml']!) as Record<string, unknown>;
    expect(sip).toMatchObject({
      sip_port: 5060,
      rtp_port: '20000-30000',
      use_external_ip: true,
      health_port: 8081,
    });
    expect(sip['api_secret']).toBeUndefined();
  });

  it("admits SIP only from the Voice Connector region's Chime ranges", () => {
    const sources = JSON.parse(files()['sip-sources.json']!) as { signalling: string[] };
    expect(sources.signalling).toEqual(chimeSignallingRanges('us-east-1'));
  });

  it('sets the agent capacity and the guard presence URL, and no secret', () => {
    const agent = files()['agent.env']!;
    expect(agent).toContain('AGENT_MAX_CALLS=4\n');
    expect(agent).toContain(
      'GUARD_PRESENCE_URL=ws://callbridge-guard.callbridge.svc.cluster.local:8090/workers/presence\n',
    );
    expect(agent).not.toMatch(/^(CALL_TOKEN_SECRET|LIVEKIT_API_SECRET|GUARD_PRESENCE_SECRET)=/m);
    expect(files()['guard.env']).toContain('CALLS_TABLE=callbridge-calls\n');
  });
});

describe('call guard manifest', () => {
  const docs = () => parseAllDocuments(files()['guard.yaml']!).map((d) => d.toJS() as Json);

  it('runs the guard under the service account its Pod Identity role is for, with health probes', () => {
    const byKind = Object.fromEntries(docs().map((d) => [d['kind'], d]));
    expect(Object.keys(byKind).sort()).toEqual(
      ['Deployment', 'SecretProviderClass', 'Service', 'ServiceAccount'].sort(),
    );
    expect(byKind['ServiceAccount']!['metadata']['name']).toBe(SERVICE_ACCOUNTS.guard);
    const pod = byKind['Deployment']!['spec']['template']['spec'];
    expect(pod['serviceAccountName']).toBe(SERVICE_ACCOUNTS.guard);
    expect(pod['securityContext']['runAsNonRoot']).toBe(true);
    const container = pod['containers'][0];
    expect(container['readinessProbe']['httpGet']['path']).toBe('/healthz');
    expect(byKind['Service']!['spec']['ports'][0]['port']).toBe(8090);
  });

  it('sets every variable the guard requires, only ones it reads, and secrets only by reference', () => {
    const deployment = docs().find((d) => d['kind'] === 'Deployment')!;
    const env = deployment['spec']['template']['spec']['containers'][0]['env'] as {
      name: string;
      value?: string;
      valueFrom?: { secretKeyRef: { name: string } };
    }[];
    const names = env.map((e) => e.name);
    const known = new Set([...Object.keys(guardEnvSchema.shape), 'AWS_REGION']);
    expect(names.filter((n) => !known.has(n))).toEqual([]);
    const required = Object.entries(guardEnvSchema.shape)
      .filter(([, s]) => !s.safeParse(undefined).success)
      .map(([k]) => k);
    expect(required.filter((k) => !names.includes(k))).toEqual([]);
    for (const secret of ['LIVEKIT_API_SECRET', 'GUARD_PRESENCE_SECRET']) {
      const e = env.find((x) => x.name === secret)!;
      expect(e.value).toBeUndefined();
      expect(e.valueFrom?.secretKeyRef.name).toBe(SERVICE_ACCOUNTS.guard);
    }
  });

  it('is written only when the configuration names the image', () => {
    const raw = exampleConfig();
    delete (raw['guard'] as Record<string, unknown>)['image'];
    expect(renderLivekitFiles(deploymentOf(raw).config, 'x')['guard.yaml']).toBeUndefined();
  });
});
