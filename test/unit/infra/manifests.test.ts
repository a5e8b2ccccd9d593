// The Kubernetes side, generated from the deployment configuration (infra/livekit/kubernetes.ts):
// valid against Kubernetes' own schemas, tied to what each program reads, secrets only by
// reference, and SIP and RTP open to Chime (and the Twilio gateway) alone.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../agent/config.js';
import { loadGuardConfig } from '../../../guard/config.js';
import { LIVEKIT_SERVER_TAG, LIVEKIT_SIP_TAG } from '../../../infra/livekit/k8s-parts.js';
import { TWILIO_AUTH_SECRET, TWILIO_SECRET_KEYS } from '../../../infra/livekit/twilio-manifest.js';
import { clusterAddresses, renderLivekitFiles } from '../../../infra/livekit/render.js';
import { recordingsBucketName } from '../../../infra/stacks/data.js';
import { SERVICE_ACCOUNTS } from '../../../infra/stacks/workloads.js';
import { chimeSignallingRanges } from '../../../sip/livekit/definitions.js';
import { loadGatewayConfig } from '../../../twilio/config.js';
import type { Json } from '../../helpers/sma.js';
import { bundledUseCases, deploymentOf, exampleConfig } from './fixtures.js';
import { ROOT, runTool } from './tools.js';

/** The Kubernetes release the manifests are checked against (EKS standard support, 2026-12). */
const KUBERNETES_VERSION = '1.34.0';
/** Custom resources without a schema in Kubernetes' own: the Secrets Store CSI driver's. */
const CRD_KINDS = ['SecretProviderClass'];

const render = (raw = exampleConfig()) =>
  renderLivekitFiles(deploymentOf(raw).config, 'callbridge-calls');

const manifestNames = (files: Record<string, string>) =>
  Object.keys(files).filter(
    (f) => f.endsWith('.yaml') && parseAllDocuments(files[f]!).every((d) => d.get('kind')),
  );

const docsOf = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as Json);
const find = (docs: Json[], kind: string, name?: string) =>
  docs.find((d) => d['kind'] === kind && (!name || d['metadata']['name'] === name))!;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: unknown;
    fieldRef?: { fieldPath: string };
  };
}
/** The pod's address the downward API gives a container, in the stand-in environments. */
const POD_IP = '10.0.7.23';
const containerOf = (deployment: Json) => deployment['spec']['template']['spec']['containers'][0];

/** The environment a container gets, secrets filled with stand-ins of the generated kind. */
function envOf(deployment: Json, imageEnv: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...imageEnv };
  for (const e of containerOf(deployment)['env'] as EnvVar[]) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) {
      env[e.name] = e.name === 'LIVEKIT_API_KEY' ? 'callbridge' : 'x'.repeat(48);
    } else if (e.valueFrom?.fieldRef?.fieldPath === 'status.podIP') env[e.name] = POD_IP;
  }
  return env;
}

/** The ENV lines of a Dockerfile stage (the image's environment under the manifest's). */
function imageEnv(stageName: string): Record<string, string> {
  const text = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.endsWith(` AS ${stageName}`));
  const env: Record<string, string> = {};
  for (const l of lines.slice(start + 1)) {
    if (l.startsWith('FROM ')) break;
    if (l.startsWith('ENV ')) {
      for (const [, k, v] of l.matchAll(/([A-Z_]+)=(\S+)/g)) env[k!] = v!;
    }
  }
  return env;
}

describe('Kubernetes manifests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'callbridge-manifests-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`validate against Kubernetes ${KUBERNETES_VERSION}'s schemas, strictly (kubernetes-validate)`, () => {
    const files = render();
    const names = manifestNames(files);
    expect(names.sort()).toEqual(
      [
        'agent.yaml',
        'guard.yaml',
        'livekit-sip-deployment.yaml',
        'network-policies.yaml',
        'redis.yaml',
        'twilio.yaml',
      ].sort(),
    );
    for (const n of names) writeFileSync(join(dir, n), files[n]!);
    const { status, output } = runTool(
      'kubernetes-validate',
      ['--strict', '--quiet', '-k', KUBERNETES_VERSION, ...names],
      { cwd: dir },
    );
    const findings = output
      .split('\n')
      .filter((l) => l && !CRD_KINDS.some((k) => l.startsWith('WARN') && l.includes(`kind ${k} `)));
    expect(findings).toEqual([]);
    expect(status).toBe(0);
  });

  it("the validator's findings fail the check (a wrong type, an unknown field)", () => {
    const files = render();
    const bad = files['redis.yaml']!.replace('replicas: 1', 'replicas: one').replace(
      'containerPort:',
      'containerPorts:',
    );
    writeFileSync(join(dir, 'bad.yaml'), bad);
    const { status, output } = runTool(
      'kubernetes-validate',
      ['--strict', '-k', KUBERNETES_VERSION, 'bad.yaml'],
      { cwd: dir },
    );
    expect(status).not.toBe(0);
    expect(output).toMatch(/replicas: 'one' is not of type 'integer'/);
  });

  it('holds no secret value: every secret variable is a reference to a Kubernetes Secret', () => {
    const files = render();
    for (const n of manifestNames(files)) {
      for (const d of docsOf(files[n]!).filter((x) => x['kind'] === 'Deployment')) {
        for (const e of (containerOf(d)['env'] ?? []) as EnvVar[]) {
          if (/SECRET|TOKEN|API_KEY/.test(e.name)) {
            expect(e.value, `${n}: ${e.name}`).toBeUndefined();
            expect(e.valueFrom?.secretKeyRef, `${n}: ${e.name}`).toBeDefined();
          }
        }
      }
    }
  });
});

describe('agent workers', () => {
  const docs = () => docsOf(render()['agent.yaml']!);

  it('run with an environment the worker accepts, AGENT_MAX_CALLS the configured capacity', () => {
    const d = find(docs(), 'Deployment');
    const env = envOf(d, imageEnv('agent'));
    const config = loadAgentConfig(env, bundledUseCases);
    expect(config).toBeDefined();
    expect(env['AGENT_MAX_CALLS']).toBe('4');
    expect(env['CALLS_TABLE']).toBe('callbridge-calls');
    expect(env['GUARD_PRESENCE_URL']).toBe(
      clusterAddresses(deploymentOf(exampleConfig()).config).guardPresence,
    );
    expect(containerOf(d)['args']).toEqual(['dist/agent/main.mjs', 'start']);
    expect(d['spec']['template']['spec']['serviceAccountName']).toBe(SERVICE_ACCOUNTS.agent);
  });

  it('ask for half a core per call of capacity and scale on CPU between the configured bounds', () => {
    const raw = exampleConfig();
    (raw['livekit'] as Json)['agentMaxCalls'] = 6;
    const all = docsOf(render(raw)['agent.yaml']!);
    const container = containerOf(find(all, 'Deployment'));
    expect(container['resources']['requests']['cpu']).toBe('3000m');
    expect(envOf(find(all, 'Deployment'))['AGENT_MAX_CALLS']).toBe('6');
    const hpa = find(all, 'HorizontalPodAutoscaler');
    expect(hpa['spec']).toMatchObject({
      scaleTargetRef: { kind: 'Deployment', name: SERVICE_ACCOUNTS.agent },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [{ resource: { name: 'cpu', target: { averageUtilization: 60 } } }],
    });
  });

  it('probe the worker health endpoint the image checks', () => {
    const container = containerOf(find(docs(), 'Deployment'));
    expect(container['readinessProbe']['httpGet']).toEqual({ path: '/', port: 'health' });
    expect(container['ports']).toEqual([
      { name: 'health', containerPort: Number(imageEnv('agent')['AGENT_HTTP_PORT']) },
    ]);
  });

  it('are written only with an image', () => {
    const raw = exampleConfig();
    delete (raw['agent'] as Json)['image'];
    expect(render(raw)['agent.yaml']).toBeUndefined();
  });
});

describe('call guard and Twilio gateway (the services image)', () => {
  it('the guard accepts its environment', () => {
    const d = find(docsOf(render()['guard.yaml']!), 'Deployment');
    expect(loadGuardConfig(envOf(d, imageEnv('services')))).toBeDefined();
  });

  it('the gateway accepts its environment: the table, the bucket, its secrets from its Secrets', () => {
    const all = docsOf(render()['twilio.yaml']!);
    const d = find(all, 'Deployment');
    const env = envOf(d, imageEnv('services'));
    const config = loadGatewayConfig(env);
    const raw = deploymentOf(exampleConfig()).config;
    expect(config.port).toBe(8089);
    expect(config.host).toBe('0.0.0.0');
    expect(config.table).toMatchObject({
      name: 'callbridge-calls',
      ttlDays: raw.sma.callRecordTtlDays,
    });
    expect(config.recordingsBucket).toBe(recordingsBucketName(raw));
    expect(env['AWS_REGION']).toBe(raw.aws.region);
    expect(containerOf(d)['args']).toEqual(['dist/services/twilio.mjs']);
    const refs = (containerOf(d)['env'] as EnvVar[]).filter((e) => e.valueFrom?.secretKeyRef);
    expect(refs.map((e) => e.valueFrom!.secretKeyRef!.key)).toEqual(TWILIO_SECRET_KEYS);
    // The auth token from the operator's Secret; the rest synced from Secrets Manager.
    expect(refs.map((e) => e.valueFrom!.secretKeyRef!.name)).toEqual([
      TWILIO_AUTH_SECRET,
      ...TWILIO_SECRET_KEYS.slice(1).map(() => SERVICE_ACCOUNTS.twilio),
    ]);
  });

  it("the gateway calls livekit-sip's nodes through its headless Service, from the pod's address", () => {
    const d = find(docsOf(render()['twilio.yaml']!), 'Deployment');
    const vars = containerOf(d)['env'] as EnvVar[];
    const config = loadGatewayConfig(envOf(d, imageEnv('services')));
    expect(config.sip).toEqual({
      sipAddress: 'livekit-sip.callbridge.svc.cluster.local:5060',
      localAddress: POD_IP,
    });
    expect(vars.find((e) => e.name === 'TWILIO_SIP_LOCAL_ADDRESS')!.valueFrom).toEqual({
      fieldRef: { fieldPath: 'status.podIP' },
    });
    // The Service the name resolves through: headless over the livekit-sip pods (host network,
    // so their nodes' addresses), SIP over UDP.
    const sip = docsOf(render()['livekit-sip-deployment.yaml']!);
    const svc = find(sip, 'Service', 'livekit-sip')['spec'];
    expect(svc['clusterIP']).toBe('None');
    expect(svc['selector']).toEqual(find(sip, 'Deployment')['spec']['selector']['matchLabels']);
    expect(svc['ports']).toEqual([
      { name: 'sip-udp', port: 5060, targetPort: 'sip-udp', protocol: 'UDP' },
    ]);
    // Not a LiveKit participant: neither LiveKit's address nor its keys.
    expect(vars.map((e) => e.name).filter((n) => n.startsWith('LIVEKIT_'))).toEqual([]);
    const spc = find(docsOf(render()['twilio.yaml']!), 'SecretProviderClass');
    expect(spc['spec']['parameters']['objects']).not.toMatch(/livekit-api/);
  });

  it('the gateway runs as its service account, whose Pod Identity role the workloads stack makes', () => {
    const all = docsOf(render()['twilio.yaml']!);
    expect(find(all, 'ServiceAccount', SERVICE_ACCOUNTS.twilio)).toBeDefined();
    const spec = find(all, 'Deployment')['spec']['template']['spec'];
    expect(spec['serviceAccountName']).toBe(SERVICE_ACCOUNTS.twilio);
    const spc = find(all, 'SecretProviderClass');
    expect(spc['spec']['parameters']['usePodIdentity']).toBe('true');
    expect(spc['spec']['parameters']['objects']).toMatch(/callbridge\/caller-key/);
    expect(spec['volumes'][0]['csi']['volumeAttributes']).toEqual({
      secretProviderClass: SERVICE_ACCOUNTS.twilio,
    });
  });

  it('the gateway is written only with a Twilio section and the services image', () => {
    const raw = exampleConfig();
    delete (raw['guard'] as Json)['image'];
    expect(render(raw)['twilio.yaml']).toBeUndefined();
    const none = exampleConfig();
    delete none['twilio'];
    expect(render(none)['twilio.yaml']).toBeUndefined();
  });
});

describe('LiveKit on the cluster', () => {
  it("gives livekit-server's chart only its documented values, the server's configuration and a keys Secret", () => {
    const files = render();
    const values = parse(files['livekit-server-values.yaml']!) as Json;
    // livekit-server/values.yaml of https://github.com/livekit/livekit-helm
    const chartKeys = [
      'replicaCount',
      'image',
      'imagePullSecrets',
      'terminationGracePeriodSeconds',
      'livekit',
      'storeKeysInSecret',
      'nameOverride',
      'fullnameOverride',
      'ingress',
      'loadBalancer',
      'turnLoadbalancer',
      'autoscaling',
      'nodeSelector',
      'resources',
      'serviceAccount',
      'podHostNetwork',
      'podAnnotations',
      'podSecurityContext',
      'securityContext',
      'tolerations',
      'affinity',
      'deploymentStrategy',
      'deploymentAnnotations',
      'gcp',
      'serviceMonitor',
    ];
    expect(Object.keys(values).filter((k) => !chartKeys.includes(k))).toEqual([]);
    const server = parse(files['livekit-server.yaml']!) as Json;
    expect(values['livekit']).toEqual({ ...server, key_file: 'keys.yaml' });
    expect(values['storeKeysInSecret']).toEqual({
      enabled: true,
      existingSecret: 'livekit-server-keys',
    });
    expect(values['image']['tag']).toBe(LIVEKIT_SERVER_TAG);
    // A drain waits for the calls on the node, as long as the workers' and livekit-sip's do.
    expect(values['terminationGracePeriodSeconds']).toBe(3600);
    // The Service the guard's and the workers' LIVEKIT_URL name.
    const url = new URL(clusterAddresses(deploymentOf(exampleConfig()).config).livekitWs);
    expect(`${values['fullnameOverride']}:${values['loadBalancer']['servicePort']}`).toBe(
      `${url.hostname.split('.')[0]}:${url.port}`,
    );
  });

  it('runs one livekit-sip per SIP host, with the generated configuration and the lab-pinned release', () => {
    const files = render();
    const all = docsOf(files['livekit-sip-deployment.yaml']!);
    const d = find(all, 'Deployment');
    expect(d['spec']['replicas']).toBe(2);
    expect(d['spec']['template']['spec']['hostNetwork']).toBe(true);
    expect(containerOf(d)['image']).toBe(`livekit/sip:${LIVEKIT_SIP_TAG}`);
    expect(find(all, 'ConfigMap')['data']['config.yaml']).toBe(files['livekit-sip.yaml']);
    const pins = readFileSync(join(ROOT, 'scripts', 'setup', 'livekit-tools.sh'), 'utf8');
    expect(pins).toContain(`LIVEKIT_SIP_VERSION="${LIVEKIT_SIP_TAG}"`);
    expect(pins).toContain(`LIVEKIT_SERVER_VERSION="${LIVEKIT_SERVER_TAG}"`);
  });

  it('runs Redis at the configured address, and none when Redis is elsewhere', () => {
    const redis = docsOf(render()['redis.yaml']!);
    expect(find(redis, 'Service', 'redis')['spec']['ports'][0]['port']).toBe(6379);
    const raw = exampleConfig();
    (raw['livekit'] as Json)['redisAddress'] = 'cache.abc123.use1.cache.amazonaws.com:6379';
    expect(render(raw)['redis.yaml']).toBeUndefined();
  });

  it("admits SIP and the RTP range on the livekit-sip nodes from Chime and the Twilio gateway's pods only", () => {
    const rules = JSON.parse(render()['sip-security-group.json']!) as {
      IpProtocol: string;
      FromPort: number;
      ToPort: number;
      IpRanges: { CidrIp: string }[];
    }[];
    expect(rules.map((r) => [r.IpProtocol, r.FromPort, r.ToPort])).toEqual([
      ['udp', 5060, 5060],
      ['tcp', 5060, 5060],
      ['udp', 20_000, 30_000],
    ]);
    // Chime everywhere; the Twilio gateway's pods (the cluster's addresses) for SIP over UDP and
    // RTP, what its calls use.
    const chime = chimeSignallingRanges('us-east-1');
    expect(rules.map((r) => r.IpRanges.map((x) => x.CidrIp))).toEqual([
      [...chime, '10.0.0.0/16'],
      chime,
      [...chime, '10.0.0.0/16'],
    ]);
    const noTwilio = exampleConfig();
    delete noTwilio['twilio'];
    for (const r of JSON.parse(render(noTwilio)['sip-security-group.json']!) as typeof rules) {
      expect(r.IpRanges.map((x) => x.CidrIp)).toEqual(chime);
    }
    const raw = exampleConfig();
    raw['voiceConnector'] = { encryption: true };
    (raw['livekit'] as Json)['rtpPorts'] = { start: 40_000, end: 41_000 };
    const tls = JSON.parse(render(raw)['sip-security-group.json']!) as typeof rules;
    expect(tls.map((r) => [r.IpProtocol, r.FromPort, r.ToPort])).toEqual([
      ['tcp', 5061, 5061],
      ['udp', 5060, 5060],
      ['udp', 40_000, 41_000],
    ]);
    expect(tls[1]!.IpRanges.map((x) => x.CidrIp)).toEqual(['10.0.0.0/16']);
  });

  it('denies ingress by default and admits each port only from where it is used', () => {
    const policies = docsOf(render()['network-policies.yaml']!);
    expect(find(policies, 'NetworkPolicy', 'default-deny-ingress')['spec']).toEqual({
      podSelector: {},
      policyTypes: ['Ingress'],
    });
    const guard = find(policies, 'NetworkPolicy', 'guard-ingress')['spec'];
    expect(guard['ingress'][0]['ports']).toEqual([{ protocol: 'TCP', port: 8090 }]);
    expect(guard['ingress'][0]['from']).toEqual([
      { podSelector: { matchLabels: { app: SERVICE_ACCOUNTS.agent } } },
      { ipBlock: { cidr: '10.0.0.0/16' } },
    ]);
    const redis = find(policies, 'NetworkPolicy', 'redis-from-livekit')['spec'];
    expect(redis['ingress'][0]).toEqual({
      from: [{ ipBlock: { cidr: '10.0.0.0/16' } }],
      ports: [{ protocol: 'TCP', port: 6379 }],
    });
  });

  it("admits livekit-sip's SIP and RTP to the Twilio gateway on the ports its sockets bind", () => {
    const policies = docsOf(render()['network-policies.yaml']!);
    const sip = find(policies, 'NetworkPolicy', 'twilio-from-livekit-sip')['spec'];
    expect(sip['podSelector']).toEqual({ matchLabels: { app: SERVICE_ACCOUNTS.twilio } });
    // livekit-sip is on the host network: it comes from its node.
    expect(sip['ingress']).toEqual([
      {
        from: [{ ipBlock: { cidr: '10.0.0.0/16' } }],
        ports: [{ protocol: 'UDP', port: 32_768, endPort: 60_999 }],
      },
    ]);
    // The range is the pod's own for the ports its sockets bind (each call binds port 0).
    const pod = find(docsOf(render()['twilio.yaml']!), 'Deployment')['spec']['template']['spec'];
    expect(pod['securityContext']['sysctls']).toEqual([
      { name: 'net.ipv4.ip_local_port_range', value: '32768 60999' },
    ]);
    const none = exampleConfig();
    delete none['twilio'];
    const without = docsOf(render(none)['network-policies.yaml']!);
    expect(without.filter((p) => String(p['metadata']['name']).startsWith('twilio'))).toEqual([]);
  });
});
