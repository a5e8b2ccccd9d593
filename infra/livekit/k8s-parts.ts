// The pieces every Kubernetes object of the LiveKit side is made of (./kubernetes.ts and the
// workloads' manifests beside it): the LiveKit releases, ports, metadata, secrets synced from
// Secrets Manager by the Secrets Store CSI driver, environment and the restricted pod security.
// Secrets are only references, never values.
import { stringify as stringifyYaml } from 'yaml';
import { chimeSignallingRanges } from '../../sip/livekit/definitions.js';
import type { DeployConfig } from '../config.js';

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

export type Obj = Record<string, unknown>;

/**
 * YAML as Kubernetes and Helm read it: their parsers take YAML 1.1, where a bare `no` or `on` is a
 * boolean, so such strings are quoted.
 */
export const stringify = (value: unknown) => stringifyYaml(value, { version: '1.1' });

export const yamlDocs = (docs: Obj[]) => docs.map((d) => stringify(d)).join('---\n');

export const meta = (c: DeployConfig, name: string, extra: Obj = {}) => ({
  name,
  namespace: c.guard.namespace,
  labels: { app: name, 'app.kubernetes.io/part-of': 'callbridge' },
  ...extra,
});

/** livekit-sip's headless Service: its name resolves to the ready livekit-sip nodes' addresses. */
export const LIVEKIT_SIP_SERVICE = 'livekit-sip';

/** A secret of the data stack as the CSI provider finds it: its ARN when configured, else its name. */
export const secretRef = (c: DeployConfig, key: keyof DeployConfig['secrets'], name: string) =>
  c.secrets[key] ?? `${c.name}/${name}`;

/** Secrets Manager entries a pod reads, each into one key of the synced Kubernetes Secret. */
export interface SecretSource {
  env: string;
  secret: keyof DeployConfig['secrets'];
  name: string;
  /** For a JSON secret: the field. */
  field?: string;
}

export const LIVEKIT_API: SecretSource[] = [
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
export function secretProviderClass(c: DeployConfig, name: string, sources: SecretSource[]): Obj {
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

export const csiVolume = (name: string) => ({
  name: 'secrets',
  csi: {
    driver: 'secrets-store.csi.k8s.io',
    readOnly: true,
    volumeAttributes: { secretProviderClass: name },
  },
});

export const plainEnv = (vars: Record<string, string>) =>
  Object.entries(vars).map(([name, value]) => ({ name, value }));

export const secretEnv = (secretName: string, keys: string[]) =>
  keys.map((k) => ({ name: k, valueFrom: { secretKeyRef: { name: secretName, key: k } } }));

export const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

export const podSecurity = (uid: number) => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  seccompProfile: { type: 'RuntimeDefault' },
});
