// The call guard's Kubernetes objects (docs/decisions/deploy-as-code.md: it runs beside
// livekit-server): its service account (the workloads stack's Pod Identity role), the secrets it
// reads, synced from Secrets Manager by the AWS Secrets Store CSI provider with the pod's own
// identity, a Deployment of `guard.replicas` with probes on /healthz, and the Service
// livekit-server's webhooks and the workers' presence connections reach. docs/guard.md.
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
  yamlDocs,
  type SecretSource,
} from './k8s-parts.js';

const GUARD_SECRETS: SecretSource[] = [
  { env: 'GUARD_PRESENCE_SECRET', secret: 'guardPresence', name: 'guard-presence' },
  ...LIVEKIT_API,
];

export function guardManifest(c: DeployConfig, image: string, env: Record<string, string>): string {
  const name = SERVICE_ACCOUNTS.guard;
  const metadata = meta(c, name);
  return yamlDocs([
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    secretProviderClass(c, name, GUARD_SECRETS),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata,
      spec: {
        replicas: c.guard.replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            serviceAccountName: name,
            securityContext: podSecurity(1000),
            containers: [
              {
                name: 'guard',
                image,
                ports: [{ name: 'http', containerPort: PORTS.guard }],
                env: [
                  ...plainEnv(env),
                  ...secretEnv(
                    name,
                    GUARD_SECRETS.map((s) => s.env),
                  ),
                ],
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
                livenessProbe: {
                  httpGet: { path: '/healthz', port: 'http' },
                  periodSeconds: 10,
                  failureThreshold: 6,
                },
                resources: {
                  requests: { cpu: '100m', memory: '128Mi' },
                  limits: { memory: '256Mi' },
                },
                securityContext: restricted,
                volumeMounts: [{ name: 'secrets', mountPath: '/mnt/secrets', readOnly: true }],
              },
            ],
            // The CSI volume must be mounted for the provider to sync the Kubernetes Secret.
            volumes: [csiVolume(name)],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: {
        selector: { app: name },
        ports: [{ name: 'http', port: PORTS.guard, targetPort: 'http' }],
      },
    },
  ]);
}
