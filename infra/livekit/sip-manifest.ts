// livekit-sip's Kubernetes objects (docs/deploy.md): its configuration, a Deployment on the nodes
// labelled for it (host network: SIP and RTP on the node's own addresses), the headless Service
// the Twilio gateway finds it by, and the security group rules that admit SIP and RTP from Chime
// (and the Twilio gateway's pods) only.
import type { DeployConfig } from '../config.js';
import { SERVICE_ACCOUNTS } from '../stacks/workloads.js';
import {
  LIVEKIT_API,
  LIVEKIT_SIP_SERVICE,
  LIVEKIT_SIP_TAG,
  PORTS,
  chimeSources,
  csiVolume,
  meta,
  podSecurity,
  restricted,
  secretEnv,
  secretProviderClass,
  type Obj,
} from './k8s-parts.js';

// ---- livekit-sip ---------------------------------------------------------------------------------

/** The label of the nodes whose public addresses are livekit.sipHosts. */
export const SIP_NODE_LABEL = 'callbridge.io/livekit-sip';

export function sipObjects(c: DeployConfig, sipConfigYaml: string): Obj[] {
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
