// The agent workers' Kubernetes objects (docs/deploy.md): a Deployment sized from the measured CPU
// per call, its autoscaler, and the secrets it reads.
import type { DeployConfig } from '../config.js';
import { SERVICE_ACCOUNTS } from '../stacks/workloads.js';
import {
  LIVEKIT_API,
  PORTS,
  csiVolume,
  meta,
  plainEnv,
  podSecurity,
  restricted,
  secretEnv,
  secretProviderClass,
  type Obj,
  type SecretSource,
} from './k8s-parts.js';

// ---- agent workers -------------------------------------------------------------------------------

/** Half a core per conversing call (docs/decisions/agent-max-calls.md), in millicores. */
export const CPU_PER_CALL_MILLI = 500;
/**
 * Memory of a job process with the local speech models loaded (tiny-en), through a call: its PSS
 * peaked at 317–503 MB over the e2e suite's calls (`/proc/<pid>/smaps_rollup`, docs/deploy.md).
 * MOONSHINE_MODEL=base-en adds about 180 MB.
 */
const MEMORY_PER_PROCESS_MI = 512;
/** Job processes kept loaded for the next calls (the lab's two cores give two). */
export const AGENT_IDLE_PROCESSES = 2;

export function agentResources(c: DeployConfig) {
  const calls = c.livekit.agentMaxCalls;
  // The worker's own process and its turn detector's inference process: about 430 MB together.
  const memory = (calls + AGENT_IDLE_PROCESSES) * MEMORY_PER_PROCESS_MI + 512;
  return {
    requests: { cpu: `${calls * CPU_PER_CALL_MILLI}m`, memory: `${memory}Mi` },
    limits: { memory: `${memory * 2}Mi` },
  };
}

export function agentObjects(c: DeployConfig, image: string, env: Record<string, string>): Obj[] {
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
