// The call guard's Kubernetes objects (docs/decisions/deploy-as-code.md: it runs beside
// livekit-server): its service account (the workloads stack's Pod Identity role), the secrets it
// reads, synced from Secrets Manager by the AWS Secrets Store CSI provider with the pod's own
// identity, a Deployment of `guard.replicas` with probes on /healthz, and the Service
// livekit-server's webhooks and the workers' presence connections reach. docs/guard.md.
import { stringify } from 'yaml';
import type { DeployConfig } from '../config.js';
import { SERVICE_ACCOUNTS } from '../stacks/workloads.js';

const GUARD_PORT = 8090;

/** A secret as the CSI provider finds it: its ARN when configured, else the data stack's name. */
const secretRef = (c: DeployConfig, key: 'guardPresence' | 'livekitApi', name: string) =>
  c.secrets[key] ?? `${c.name}/${name}`;

export function guardManifest(c: DeployConfig, image: string, env: Record<string, string>): string {
  const name = SERVICE_ACCOUNTS.guard;
  const metadata = { name, namespace: c.guard.namespace, labels: { app: name } };
  const objects = [
    {
      objectName: secretRef(c, 'guardPresence', 'guard-presence'),
      objectType: 'secretsmanager',
      objectAlias: 'guard-presence',
    },
    {
      objectName: secretRef(c, 'livekitApi', 'livekit-api'),
      objectType: 'secretsmanager',
      jmesPath: [
        { path: 'LIVEKIT_API_KEY', objectAlias: 'livekit-api-key' },
        { path: 'LIVEKIT_API_SECRET', objectAlias: 'livekit-api-secret' },
      ],
    },
  ];
  const secretEnv = {
    GUARD_PRESENCE_SECRET: 'guard-presence',
    LIVEKIT_API_KEY: 'livekit-api-key',
    LIVEKIT_API_SECRET: 'livekit-api-secret',
  };
  const docs = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata },
    {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata,
      spec: {
        provider: 'aws',
        parameters: { usePodIdentity: 'true', objects: stringify(objects) },
        secretObjects: [
          {
            secretName: name,
            type: 'Opaque',
            data: Object.entries(secretEnv).map(([key, objectName]) => ({ key, objectName })),
          },
        ],
      },
    },
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
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'guard',
                image,
                ports: [{ name: 'http', containerPort: GUARD_PORT }],
                env: [
                  ...Object.entries(env).map(([k, value]) => ({ name: k, value })),
                  ...Object.keys(secretEnv).map((k) => ({
                    name: k,
                    valueFrom: { secretKeyRef: { name, key: k } },
                  })),
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
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [{ name: 'secrets', mountPath: '/mnt/secrets', readOnly: true }],
              },
            ],
            // The CSI volume must be mounted for the provider to sync the Kubernetes Secret.
            volumes: [
              {
                name: 'secrets',
                csi: {
                  driver: 'secrets-store.csi.k8s.io',
                  readOnly: true,
                  volumeAttributes: { secretProviderClass: name },
                },
              },
            ],
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
        ports: [{ name: 'http', port: GUARD_PORT, targetPort: 'http' }],
      },
    },
  ];
  return docs.map((d) => stringify(d)).join('---\n');
}
