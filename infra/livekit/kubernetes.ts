// The LiveKit side's Kubernetes objects, from the same validated configuration as the stacks and
// the configuration files (render.ts): values for LiveKit's livekit-server Helm chart, Redis,
// livekit-sip, the agent workers (autoscaled), the Twilio gateway, the network policies, and the
// security group rules that admit SIP and RTP on the livekit-sip nodes from Chime (and the
// Twilio gateway's pods) only. Ports,
// ranges, capacity, table and secret names come from the configuration, defined once; secrets are
// only references (Secrets Store CSI objects or Kubernetes Secrets), never values.
// docs/deploy.md, docs/decisions/deploy-image.md.
import { stringify as stringifyYaml } from 'yaml';
import { chimeSignallingRanges } from '../../sip/livekit/definitions.js';
import type { DeployConfig } from '../config.js';
import { SERVICE_ACCOUNTS } from '../stacks/workloads.js';

/** The LiveKit releases the lab builds (scripts/setup/livekit-tools.sh pins the same tags). */
export const LIVEKIT_SERVER_TAG = 'v1.13.5';
export const LIVEKIT_SIP_TAG = 'v1.8.0';
/** Redis for livekit-server and livekit-sip: their state is live rooms and calls, not kept. */
export const REDIS_IMAGE = 'redis:7.4.2-bookworm';

export const PORTS = {
  livekitHttp: 7880,
  livekitRtcTcp: 7881,
  livekitRtcUdp: { start: 50_000, end: 60_000 },
  sip: 5060,
  sipTls: 5061,
  sipHealth: 8081,
  agentHealth: 8081,
  guard: 8090,
  twilio: 8089,
  /**
   * The Twilio gateway's SIP and RTP sockets: each call binds two free ports, which the kernel
   * takes from this range (the pod's net.ipv4.ip_local_port_range, Linux's default, set on the pod
   * so the network policy's range is the one in use).
   */
  twilioUdp: { start: 32_768, end: 60_999 },
} as const;

/**
 * Where Chime's Voice Connector sends SIP signalling and RTP from, for the configured region. The
 * Chime SDK Administrator Guide ("Network configuration and bandwidth requirements",
 * https://docs.aws.amazon.com/chime-sdk/latest/ag/network-config.html) lists one subnet per region
 * for both (signalling UDP/TCP 5060, TLS 5061; media UDP 5000-65000); the ranges file adds the
 * region's other CHIME_VOICECONNECTOR prefixes of AWS ip-ranges.json.
 */
export function chimeSources(c: DeployConfig): string[] {
  return chimeSignallingRanges(c.aws.region);
}

/** The in-cluster Redis, when the configured address is a Service of the namespace. */
export function inClusterRedis(c: DeployConfig): { name: string; port: number } | undefined {
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)$/.exec(c.livekit.redisAddress);
  if (!m || m[2] !== c.guard.namespace) return undefined;
  return { name: m[1]!, port: Number(m[3]) };
}

type Obj = Record<string, unknown>;

/**
 * YAML as Kubernetes and Helm read it: their parsers take YAML 1.1, where a bare `no` or `on` is a
 * boolean, so such strings are quoted.
 */
const stringify = (value: unknown) => stringifyYaml(value, { version: '1.1' });

const yamlDocs = (docs: Obj[]) => docs.map((d) => stringify(d)).join('---\n');

const meta = (c: DeployConfig, name: string, extra: Obj = {}) => ({
  name,
  namespace: c.guard.namespace,
  labels: { app: name, 'app.kubernetes.io/part-of': 'callbridge' },
  ...extra,
});

/** livekit-sip's headless Service: its name resolves to the ready livekit-sip nodes' addresses. */
export const LIVEKIT_SIP_SERVICE = 'livekit-sip';

/** A secret of the data stack as the CSI provider finds it: its ARN when configured, else its name. */
const secretRef = (c: DeployConfig, key: keyof DeployConfig['secrets'], name: string) =>
  c.secrets[key] ?? `${c.name}/${name}`;

/** Secrets Manager entries a pod reads, each into one key of the synced Kubernetes Secret. */
interface SecretSource {
  env: string;
  secret: keyof DeployConfig['secrets'];
  name: string;
  /** For a JSON secret: the field. */
  field?: string;
}

const LIVEKIT_API: SecretSource[] = [
  { env: 'LIVEKIT_API_KEY', secret: 'livekitApi', name: 'livekit-api', field: 'LIVEKIT_API_KEY' },
  {
    env: 'LIVEKIT_API_SECRET',
    secret: 'livekitApi',
    name: 'livekit-api',
    field: 'LIVEKIT_API_SECRET',
  },
];

/**
 * A SecretProviderClass (AWS provider, the pod's own Pod Identity role) syncing the sources into a
 * Kubernetes Secret named like the workload, and the pod's volume that makes it sync.
 */
function secretProviderClass(c: DeployConfig, name: string, sources: SecretSource[]): Obj {
  const bySecret = new Map<string, SecretSource[]>();
  for (const s of sources) {
    const ref = secretRef(c, s.secret, s.name);
    bySecret.set(ref, [...(bySecret.get(ref) ?? []), s]);
  }
  const alias = (s: SecretSource) => s.env.toLowerCase().replaceAll('_', '-');
  const objects = [...bySecret].map(([ref, list]) =>
    list[0]!.field
      ? {
          objectName: ref,
          objectType: 'secretsmanager',
          jmesPath: list.map((s) => ({ path: s.field, objectAlias: alias(s) })),
        }
      : { objectName: ref, objectType: 'secretsmanager', objectAlias: alias(list[0]!) },
  );
  return {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: meta(c, name),
    spec: {
      provider: 'aws',
      parameters: { usePodIdentity: 'true', objects: stringify(objects) },
      secretObjects: [
        {
          secretName: name,
          type: 'Opaque',
          data: sources.map((s) => ({ key: s.env, objectName: alias(s) })),
        },
      ],
    },
  };
}

const csiVolume = (name: string) => ({
  name: 'secrets',
  csi: {
    driver: 'secrets-store.csi.k8s.io',
    readOnly: true,
    volumeAttributes: { secretProviderClass: name },
  },
});

const plainEnv = (vars: Record<string, string>) =>
  Object.entries(vars).map(([name, value]) => ({ name, value }));

const secretEnv = (secretName: string, keys: string[]) =>
  keys.map((k) => ({ name: k, valueFrom: { secretKeyRef: { name: secretName, key: k } } }));

const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

const podSecurity = (uid: number) => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  seccompProfile: { type: 'RuntimeDefault' },
});

// ---- livekit-server (LiveKit's Helm chart) ------------------------------------------------------

/** The Kubernetes Secret holding livekit-server's keys file (`<key>: <secret>`). */
export const LIVEKIT_KEYS_SECRET = 'livekit-server-keys';

/**
 * Values for LiveKit's livekit-server chart (https://github.com/livekit/livekit-helm, values.yaml):
 * `livekit` is the server's configuration (the same as livekit-server.yaml), the keys file comes
 * from an existing Secret, and the Service is named and numbered as clusterAddresses() expects.
 */
export function livekitServerValues(c: DeployConfig, serverConfig: Obj): Obj {
  return {
    fullnameOverride: 'livekit-server',
    replicaCount: c.kubernetes.livekitServerReplicas,
    image: { repository: 'livekit/livekit-server', tag: LIVEKIT_SERVER_TAG },
    livekit: { ...serverConfig, key_file: 'keys.yaml' },
    storeKeysInSecret: { enabled: true, existingSecret: LIVEKIT_KEYS_SECRET },
    // In-cluster only (the guard, the workers, livekit-sip); a public wss:// endpoint for other
    // clients is the team's ingress.
    loadBalancer: { type: 'disable', servicePort: PORTS.livekitHttp },
    ingress: { enable: false },
    turnLoadbalancer: { enable: false },
    serviceAccount: { create: false, name: SERVICE_ACCOUNTS.livekit },
    // One server per node: it takes the node's RTC ports.
    podHostNetwork: true,
    // A rollout drains: on SIGTERM the server takes no new rooms and exits once its calls have
    // ended (docs/decisions/livekit-server-restarts.md). The chart's default is five hours; an
    // hour is the workers' and livekit-sip's bound (a call with the agent lasts 30 min unless a
    // use case's `maxCallSeconds` allows more: raise all three with it).
    terminationGracePeriodSeconds: 3600,
    resources: {
      requests: { cpu: '2', memory: '1Gi' },
      limits: { memory: '2Gi' },
    },
  };
}

// ---- Redis ---------------------------------------------------------------------------------------

function redisObjects(c: DeployConfig, redis: { name: string; port: number }): Obj[] {
  const { name, port } = redis;
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(c, name),
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            automountServiceAccountToken: false,
            securityContext: podSecurity(999),
            containers: [
              {
                name: 'redis',
                image: REDIS_IMAGE,
                // Rooms and calls in progress only: nothing to keep across a restart.
                args: ['--port', String(port), '--save', '', '--appendonly', 'no'],
                ports: [{ name: 'redis', containerPort: port }],
                readinessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 5 },
                livenessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 10 },
                resources: {
                  requests: { cpu: '100m', memory: '128Mi' },
                  limits: { memory: '512Mi' },
                },
                securityContext: restricted,
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
            volumes: [{ name: 'data', emptyDir: {} }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(c, name),
      spec: { selector: { app: name }, ports: [{ name: 'redis', port, targetPort: 'redis' }] },
    },
  ];
}

// ---- livekit-sip ---------------------------------------------------------------------------------

/** The label of the nodes whose public addresses are livekit.sipHosts. */
export const SIP_NODE_LABEL = 'callbridge.io/livekit-sip';

function sipObjects(c: DeployConfig, sipConfigYaml: string): Obj[] {
  const name = 'livekit-sip';
  const account = SERVICE_ACCOUNTS.livekit;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(c, account) },
    secretProviderClass(c, account, LIVEKIT_API),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(c, name),
      data: { 'config.yaml': sipConfigYaml },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(c, name),
      spec: {
        // One per SIP host: the Voice Connector's origination routes name these nodes.
        replicas: c.livekit.sipHosts.length,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            serviceAccountName: account,
            // SIP and 10,000 RTP ports on the node's public address: host networking, one pod
            // per labelled node. Network policies do not apply to it: the node security group
            // (sip-security-group.json) admits Chime only.
            hostNetwork: true,
            dnsPolicy: 'ClusterFirstWithHostNet',
            nodeSelector: { [SIP_NODE_LABEL]: 'true' },
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  {
                    labelSelector: { matchLabels: { app: name } },
                    topologyKey: 'kubernetes.io/hostname',
                  },
                ],
              },
            },
            // Calls in progress end before the pod goes (livekit-sip drains on SIGTERM).
            terminationGracePeriodSeconds: 3600,
            securityContext: podSecurity(1000),
            containers: [
              {
                name: 'livekit-sip',
                image: `livekit/sip:${LIVEKIT_SIP_TAG}`,
                env: [
                  {
                    name: 'SIP_CONFIG_BODY',
                    valueFrom: { configMapKeyRef: { name, key: 'config.yaml' } },
                  },
                  ...secretEnv(account, ['LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET']),
                ],
                ports: [
                  { name: 'sip-udp', containerPort: PORTS.sip, protocol: 'UDP' },
                  { name: 'sip-tcp', containerPort: PORTS.sip, protocol: 'TCP' },
                  { name: 'health', containerPort: PORTS.sipHealth, protocol: 'TCP' },
                ],
                // 200 when it takes calls, 429 when full: not ready, but alive.
                readinessProbe: { httpGet: { path: '/', port: 'health' }, periodSeconds: 10 },
                livenessProbe: { tcpSocket: { port: 'health' }, periodSeconds: 10 },
                resources: { requests: { cpu: '1', memory: '512Mi' }, limits: { memory: '2Gi' } },
                securityContext: restricted,
                volumeMounts: [{ name: 'secrets', mountPath: '/mnt/secrets', readOnly: true }],
              },
            ],
            volumes: [csiVolume(account)],
          },
        },
      },
    },
    {
      // For the Twilio gateway (TWILIO_SIP_ADDRESS): headless, so its name resolves to the ready
      // pods' addresses, which on the host network are their nodes' own, where livekit-sip also
      // takes the call's RTP. The gateway resolves it once per call and keeps that node for the
      // call's signalling and media; a livekit-sip that is full (not ready) drops out of it.
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(c, LIVEKIT_SIP_SERVICE),
      spec: {
        clusterIP: 'None',
        selector: { app: name },
        ports: [{ name: 'sip-udp', port: PORTS.sip, targetPort: 'sip-udp', protocol: 'UDP' }],
      },
    },
  ];
}

/**
 * The livekit-sip nodes' security group rules, as `aws ec2 authorize-security-group-ingress
 * --ip-permissions` takes them: SIP (and TLS with encryption) and the RTP range from Chime, and
 * with Twilio, SIP over UDP and the RTP range from the cluster's addresses, where the gateway's
 * pods are (its trunk admits only the gateway's own CIDR).
 */
export function sipSecurityGroupRules(c: DeployConfig): Obj[] {
  const chime = (what: string) =>
    chimeSources(c).map((cidr) => ({ CidrIp: cidr, Description: `Chime Voice Connector ${what}` }));
  const gateway = (what: string) =>
    c.twilio ? [{ CidrIp: c.kubernetes.nodeCidr, Description: `Twilio gateway pods ${what}` }] : [];
  const rule = (protocol: 'udp' | 'tcp', from: number, to: number, what: string) => ({
    IpProtocol: protocol,
    FromPort: from,
    ToPort: to,
    IpRanges: [...chime(what), ...(protocol === 'udp' ? gateway(what) : [])],
  });
  const { start, end } = c.livekit.rtpPorts;
  return [
    ...(c.voiceConnector.encryption
      ? [
          rule('tcp', PORTS.sipTls, PORTS.sipTls, 'SIP over TLS'),
          ...(c.twilio
            ? [
                {
                  IpProtocol: 'udp',
                  FromPort: PORTS.sip,
                  ToPort: PORTS.sip,
                  IpRanges: gateway('SIP'),
                },
              ]
            : []),
        ]
      : [rule('udp', PORTS.sip, PORTS.sip, 'SIP'), rule('tcp', PORTS.sip, PORTS.sip, 'SIP')]),
    rule('udp', start, end, 'RTP'),
  ];
}

// ---- agent workers -------------------------------------------------------------------------------

/** Half a core per conversing call (docs/decisions/agent-max-calls.md), in millicores. */
export const CPU_PER_CALL_MILLI = 500;
/** Memory of a loaded job process with the local speech models (agent/config.ts). */
const MEMORY_PER_PROCESS_MI = 256;
/** Job processes kept loaded for the next calls (the lab's two cores give two). */
export const AGENT_IDLE_PROCESSES = 2;

export function agentResources(c: DeployConfig) {
  const calls = c.livekit.agentMaxCalls;
  const memory = (calls + AGENT_IDLE_PROCESSES) * MEMORY_PER_PROCESS_MI + 512;
  return {
    requests: { cpu: `${calls * CPU_PER_CALL_MILLI}m`, memory: `${memory}Mi` },
    limits: { memory: `${memory * 2}Mi` },
  };
}

function agentObjects(c: DeployConfig, image: string, env: Record<string, string>): Obj[] {
  const name = SERVICE_ACCOUNTS.agent;
  const secrets: SecretSource[] = [
    ...LIVEKIT_API,
    { env: 'CALL_TOKEN_SECRET', secret: 'callToken', name: 'call-token' },
    { env: 'GUARD_PRESENCE_SECRET', secret: 'guardPresence', name: 'guard-presence' },
  ];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(c, name) },
    secretProviderClass(c, name, secrets),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(c, name),
      spec: {
        replicas: c.agent.minReplicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            serviceAccountName: name,
            // A worker stops taking calls on SIGTERM and lets those in progress end.
            terminationGracePeriodSeconds: 3600,
            securityContext: podSecurity(1000),
            containers: [
              {
                name: 'agent',
                image,
                args: ['dist/agent/main.mjs', 'start'],
                env: [
                  ...plainEnv(env),
                  ...secretEnv(
                    name,
                    secrets.map((s) => s.env),
                  ),
                ],
                ports: [{ name: 'health', containerPort: PORTS.agentHealth }],
                // 200 once registered with LiveKit, 503 while not: not ready; alive while it
                // answers at all.
                readinessProbe: { httpGet: { path: '/', port: 'health' }, periodSeconds: 10 },
                livenessProbe: {
                  tcpSocket: { port: 'health' },
                  initialDelaySeconds: 30,
                  periodSeconds: 10,
                  failureThreshold: 6,
                },
                resources: agentResources(c),
                securityContext: restricted,
                volumeMounts: [
                  { name: 'secrets', mountPath: '/mnt/secrets', readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [csiVolume(name), { name: 'tmp', emptyDir: {} }],
          },
        },
      },
    },
    {
      // On CPU: a worker's CPU follows its calls (half a core each), and its request is its
      // capacity's share, so the average utilization is about the share of call slots in use.
      // LiveKit itself never gives a worker more than AGENT_MAX_CALLS.
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta(c, name),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: c.agent.minReplicas,
        maxReplicas: c.agent.maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: {
              name: 'cpu',
              target: { type: 'Utilization', averageUtilization: c.agent.targetCpuPercent },
            },
          },
        ],
        behavior: {
          scaleUp: { policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] },
          // Slowly down: a worker asked to go keeps its calls until they end.
          scaleDown: {
            stabilizationWindowSeconds: 600,
            policies: [{ type: 'Pods', value: 1, periodSeconds: 300 }],
          },
        },
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(c, name),
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: name } } },
    },
  ];
}

// ---- Twilio gateway ------------------------------------------------------------------------------

export const TWILIO_NAME = SERVICE_ACCOUNTS.twilio;
/** The Kubernetes Secret the operator makes with the Twilio auth token (docs/deploy.md). */
export const TWILIO_AUTH_SECRET = `${TWILIO_NAME}-auth`;
/** Its secrets from Secrets Manager, synced with the pod's own role (the workloads stack's). */
const TWILIO_SECRETS: SecretSource[] = [
  { env: 'CALL_TOKEN_SECRET', secret: 'callToken', name: 'call-token' },
  { env: 'CALLER_KEY_SECRET', secret: 'callerKey', name: 'caller-key' },
];
/** Every secret variable of the gateway, in its environment's order. */
export const TWILIO_SECRET_KEYS = ['TWILIO_AUTH_TOKEN', ...TWILIO_SECRETS.map((s) => s.env)];

function twilioObjects(
  c: DeployConfig,
  t: NonNullable<DeployConfig['twilio']>,
  image: string,
  sipAddress: string,
  env: Record<string, string>,
): Obj[] {
  const name = TWILIO_NAME;
  return [
    // The workloads stack's TwilioRole through EKS Pod Identity: the calls table's items and
    // recordings in S3 (infra/stacks/workloads.ts), and the secrets the CSI provider syncs.
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(c, name) },
    secretProviderClass(c, name, TWILIO_SECRETS),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(c, name),
      spec: {
        replicas: t.replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            serviceAccountName: name,
            terminationGracePeriodSeconds: 3600,
            securityContext: {
              ...podSecurity(1000),
              sysctls: [
                {
                  name: 'net.ipv4.ip_local_port_range',
                  value: `${PORTS.twilioUdp.start} ${PORTS.twilioUdp.end}`,
                },
              ],
            },
            containers: [
              {
                name: 'twilio',
                image,
                args: ['dist/services/twilio.mjs'],
                env: [
                  ...plainEnv({
                    TWILIO_ACCOUNT_SID: t.accountSid,
                    TWILIO_PUBLIC_URL: t.publicUrl,
                    TWILIO_GATEWAY_HOST: '0.0.0.0',
                    TWILIO_GATEWAY_PORT: String(PORTS.twilio),
                    TWILIO_SIP_ADDRESS: sipAddress,
                    ...env,
                  }),
                  // The address livekit-sip sees, sends RTP to and its Twilio trunk admits.
                  {
                    name: 'TWILIO_SIP_LOCAL_ADDRESS',
                    valueFrom: { fieldRef: { fieldPath: 'status.podIP' } },
                  },
                  ...secretEnv(TWILIO_AUTH_SECRET, ['TWILIO_AUTH_TOKEN']),
                  ...secretEnv(
                    name,
                    TWILIO_SECRETS.map((s) => s.env),
                  ),
                ],
                ports: [{ name: 'http', containerPort: PORTS.twilio }],
                readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 10 },
                livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 10 },
                resources: {
                  requests: { cpu: '250m', memory: '256Mi' },
                  limits: { memory: '512Mi' },
                },
                securityContext: restricted,
                volumeMounts: [{ name: 'secrets', mountPath: '/mnt/secrets', readOnly: true }],
              },
            ],
            volumes: [csiVolume(name)],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(c, name),
      spec: {
        selector: { app: name },
        ports: [{ name: 'http', port: PORTS.twilio, targetPort: 'http' }],
      },
    },
  ];
}

// ---- network policies ----------------------------------------------------------------------------

function networkPolicies(
  c: DeployConfig,
  redis: { name: string; port: number } | undefined,
): Obj[] {
  const nodes = { ipBlock: { cidr: c.kubernetes.nodeCidr } };
  const policy = (name: string, app: string, port: number, from: Obj[]) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(c, name),
    spec: {
      podSelector: { matchLabels: { app } },
      policyTypes: ['Ingress'],
      ingress: [{ from, ports: [{ protocol: 'TCP', port }] }],
    },
  });
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(c, 'default-deny-ingress'),
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    },
    // livekit-server and livekit-sip use the host network: their traffic comes from the nodes.
    ...(redis ? [policy(`${redis.name}-from-livekit`, redis.name, redis.port, [nodes])] : []),
    policy('guard-ingress', SERVICE_ACCOUNTS.guard, PORTS.guard, [
      { podSelector: { matchLabels: { app: SERVICE_ACCOUNTS.agent } } },
      nodes,
    ]),
    policy('agent-health', SERVICE_ACCOUNTS.agent, PORTS.agentHealth, [nodes]),
    // Twilio publishes no source ranges; every request is checked against Twilio's signature.
    ...(c.twilio
      ? [
          policy('twilio-ingress', TWILIO_NAME, PORTS.twilio, [{ ipBlock: { cidr: '0.0.0.0/0' } }]),
          // livekit-sip (host network: from its node) to the gateway's calls: its SIP responses
          // and requests, and its RTP, to the ports the gateway's sockets bound.
          {
            apiVersion: 'networking.k8s.io/v1',
            kind: 'NetworkPolicy',
            metadata: meta(c, 'twilio-from-livekit-sip'),
            spec: {
              podSelector: { matchLabels: { app: TWILIO_NAME } },
              policyTypes: ['Ingress'],
              ingress: [
                {
                  from: [nodes],
                  ports: [
                    { protocol: 'UDP', port: PORTS.twilioUdp.start, endPort: PORTS.twilioUdp.end },
                  ],
                },
              ],
            },
          },
        ]
      : []),
  ];
}

// ---- all of it -----------------------------------------------------------------------------------

export interface KubernetesInputs {
  serverConfig: Obj;
  sipConfigYaml: string;
  /** livekit-sip's address for the Twilio gateway, host:port. */
  livekitSip: string;
  agentEnv: Record<string, string>;
  /** The Twilio gateway's plain variables beyond its own listening and Twilio settings. */
  twilioEnv: Record<string, string>;
}

/** The files: Helm values and manifests, by name; image-bound ones only with their image. */
export function renderKubernetes(c: DeployConfig, i: KubernetesInputs): Record<string, string> {
  const header = (what: string) =>
    `# ${what}: generated by \`npm run infra:livekit\` from the deployment configuration.\n` +
    '# Do not edit; change the configuration and generate again.\n';
  const redis = inClusterRedis(c);
  const files: Record<string, string> = {
    'livekit-server-values.yaml':
      header("values for LiveKit's livekit-server Helm chart") +
      `# Keys: the Secret ${LIVEKIT_KEYS_SECRET} (key keys.yaml, "<key>: <secret>"), docs/deploy.md.\n` +
      stringify(livekitServerValues(c, i.serverConfig)),
    'livekit-sip-deployment.yaml':
      header('livekit-sip objects') + yamlDocs(sipObjects(c, i.sipConfigYaml)),
    'network-policies.yaml': header('network policies') + yamlDocs(networkPolicies(c, redis)),
    'sip-security-group.json': `${JSON.stringify(sipSecurityGroupRules(c), null, 2)}\n`,
  };
  if (redis) files['redis.yaml'] = header('Redis') + yamlDocs(redisObjects(c, redis));
  if (c.agent.image) {
    files['agent.yaml'] =
      header('agent worker objects') + yamlDocs(agentObjects(c, c.agent.image, i.agentEnv));
  }
  if (c.twilio && c.guard.image) {
    files['twilio.yaml'] =
      header('Twilio gateway objects') +
      yamlDocs(twilioObjects(c, c.twilio, c.guard.image, i.livekitSip, i.twilioEnv));
  }
  return files;
}
