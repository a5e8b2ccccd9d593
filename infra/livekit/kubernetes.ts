// The LiveKit side's Kubernetes objects, from the same validated configuration as the stacks and
// the configuration files (render.ts): values for LiveKit's livekit-server Helm chart, Redis,
// livekit-sip, the agent workers (autoscaled), the Twilio gateway, the network policies, and the
// security group rules that admit SIP and RTP on the livekit-sip nodes from Chime (and the
// Twilio gateway's pods) only. Ports,
// ranges, capacity, table and secret names come from the configuration, defined once; secrets are
// only references (Secrets Store CSI objects or Kubernetes Secrets), never values.
// docs/deploy.md, docs/decisions/deploy-image.md.
import type { DeployConfig } from '../config.js';
import { SERVICE_ACCOUNTS } from '../stacks/workloads.js';
import { agentObjects } from './agent-manifest.js';
import {
  LIVEKIT_SERVER_TAG,
  PORTS,
  REDIS_IMAGE,
  inClusterRedis,
  meta,
  podSecurity,
  restricted,
  stringify,
  yamlDocs,
  type Obj,
} from './k8s-parts.js';
import { sipObjects, sipSecurityGroupRules } from './sip-manifest.js';
import { TWILIO_NAME, twilioObjects } from './twilio-manifest.js';

/** The LiveKit releases the lab builds (scripts/setup/livekit-tools.sh pins the same tags). */
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
