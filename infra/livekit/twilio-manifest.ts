// The Twilio gateway's Kubernetes objects (docs/twilio.md, docs/deploy.md): the webhook and Media
// Streams gateway, reaching livekit-sip over SIP and RTP through its headless Service.
import type { DeployConfig } from '../config.js';
import { SERVICE_ACCOUNTS } from '../stacks/workloads.js';
import {
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

export function twilioObjects(
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
