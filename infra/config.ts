// The deployment's one input: account and region, the LiveKit SIP hosts the Voice Connector sends
// calls to, the Voice Connector's options, alarms, the call guard's cluster and the optional
// Connect instance. Read from a JSON file (CALLBRIDGE_DEPLOY_CONFIG, default
// infra/deploy.example.json), validated at once: a bad file is refused with every problem named,
// before anything is synthesized. The numbers callers dial are not repeated here: they are the use
// cases' `dialedNumbers` (contracts/use-cases.json, the file the SMA bundle carries), so the SIP
// rules and the handler always agree. docs/deploy.md.
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { e164 } from '../contracts/ids.js';
import { loadUseCases, type UseCaseCatalog } from '../contracts/use-cases.js';
import chimeRanges from '../sip/livekit/chime-voice-connector-ranges.json' with { type: 'json' };

export class DeployConfigError extends Error {
  override name = 'DeployConfigError';
}

/**
 * Regions where the SIP media application and Voice Connector exist as CloudFormation types and
 * Chime's Voice Connector signalling ranges are known (sip/livekit/chime-voice-connector-ranges.json):
 * the Chime SDK PSTN audio regions.
 */
export const SUPPORTED_REGIONS = Object.keys(chimeRanges.regions);

/**
 * Chime SDK PSTN audio regions whose CloudFormation has no AWS::Chime::SipMediaApplication or
 * AWS::Chime::VoiceConnector (cfn-lint's region schemas, checked by
 * test/integration/infra/cfn-lint.test.ts): the call-control stack cannot be deployed there.
 */
export const REGIONS_WITHOUT_CHIME_TYPES = ['us-west-2'];

const resourceName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,23}$/, 'must be 2-24 lower-case letters, digits or dashes');

const region = z.string().refine((r) => SUPPORTED_REGIONS.includes(r), {
  error: (issue) =>
    `${String(issue.input)} has no SIP media applications or Voice Connectors in ` +
    `CloudFormation (Chime SDK PSTN audio regions: ${SUPPORTED_REGIONS.join(', ')})`,
});

const secretArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/,
    'must be a Secrets Manager secret ARN',
  );

const hostName = z
  .string()
  .regex(
    /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/,
    'must be a host name or an IPv4 address',
  );

const cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/(2[7-9]|3[0-2])$/, 'must be an IPv4 CIDR of /27 or narrower');

/**
 * One origination route: Chime sends calls to the lowest `priority` first and shares them between
 * routes of one priority by `weight`.
 * https://docs.aws.amazon.com/chime-sdk/latest/APIReference/API_voice-chime_OriginationRoute.html
 */
const sipHost = z.strictObject({
  host: hostName,
  port: z.number().int().min(1).max(65_535).default(5060),
  protocol: z.enum(['UDP', 'TCP']).default('UDP'),
  priority: z.number().int().min(1).max(99).default(1),
  weight: z.number().int().min(1).max(99).default(1),
});

/** Calls from LiveKit into the Voice Connector: off unless set (the product places none). */
const termination = z.strictObject({
  cidrAllowedList: z.array(cidr).min(1).max(10),
  callingRegions: z.array(z.string().regex(/^[A-Z]{2}$/, 'must be a country code like US')).min(1),
  cpsLimit: z.number().int().min(1).max(100).default(1),
});

/** A container image reference pinned by tag or digest. */
const imageRef = z
  .string()
  .regex(
    /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$/,
    'must be an image reference with a tag or digest',
  );

/** The agent workers on the cluster (deploy/Dockerfile's `agent` target). */
const agentWorkers = z.strictObject({
  /** With it, `npm run infra:livekit` writes agent.yaml. */
  image: imageRef.optional(),
  /** Workers kept running, whatever the load; and the most the autoscaler starts. */
  minReplicas: z.number().int().min(1).max(100).default(2),
  maxReplicas: z.number().int().min(1).max(500).default(10),
  /**
   * Average CPU (of the request) the autoscaler keeps the workers at. A worker's request is its
   * calls' share (agentMaxCalls × about half a core, docs/decisions/agent-max-calls.md), so this is
   * about the share of the fleet's call slots in use before another worker starts.
   */
  targetCpuPercent: z.number().int().min(20).max(95).default(60),
});

/**
 * The Twilio gateway on the cluster (docs/twilio.md). It runs from guard.image (deploy/Dockerfile's
 * `services` target): twilio.yaml is written when that is set.
 */
const twilioGateway = z.strictObject({
  /** Where Twilio reaches the gateway (its webhook and stream), https://. */
  publicUrl: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }),
  accountSid: z.string().regex(/^AC[0-9a-f]{32}$/, 'must be a Twilio account SID (AC…)'),
  replicas: z.number().int().min(1).max(10).default(2),
});

const connect = z.strictObject({
  instanceArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance\/[0-9a-f-]{36}$/,
      'must be an Amazon Connect instance ARN',
    ),
  /** The number of the SMA the entry flow forwards to: one of the use cases' dialed numbers. */
  smaNumber: e164,
  /** Said before the forward, e.g. that an automated assistant answers and the call is recorded. */
  notice: z.string().min(1).max(1000),
  /** Where a caller goes when the SMA cannot be reached (a queue ARN of the instance). */
  fallbackQueueArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance\/[0-9a-f-]{36}\/queue\/[0-9a-f-]{36}$/,
      'must be a queue ARN of the instance',
    ),
  /** Said when no queue takes the caller either, before hanging up. */
  apology: z
    .string()
    .min(1)
    .max(1000)
    .default("We're sorry, we can't take your call right now. Please call again later. Goodbye."),
  /** How long Chime may take to answer the forward before the fallback queue, seconds. */
  forwardTimeoutSeconds: z.number().int().min(5).max(600).default(30),
});

export const deployConfigSchema = z.strictObject({
  /** Prefix of every stack and resource name. */
  name: resourceName.default('callbridge'),
  aws: z.strictObject({
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
    region,
  }),
  livekit: z.strictObject({
    /** livekit-sip nodes the Voice Connector's origination routes point at (Chime takes 10 at most). */
    sipHosts: z.array(sipHost).min(1).max(10),
    /** The LiveKit server's URL for the call guard and agent workers (wss:// in production). */
    url: z.url({ protocol: /^(wss|https)$/, error: 'must be a wss:// or https:// URL' }),
    /** The shared Redis of livekit-server and livekit-sip, host:port. */
    redisAddress: z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port'),
    /** livekit-sip's RTP ports: two per call, open to Chime's media ranges only. */
    rtpPorts: z
      .strictObject({
        start: z.number().int().min(1024).max(65_535),
        end: z.number().int().min(1024).max(65_535),
      })
      .default({ start: 20_000, end: 30_000 }),
    /** The name of LiveKit's API key (its secret is in Secrets Manager, never here). */
    apiKey: z
      .string()
      .regex(/^[A-Za-z0-9_-]{3,64}$/, 'must be 3-64 letters, digits, _ or -')
      .default('callbridge'),
    /** The agent worker's capacity (measured: docs/decisions/agent-max-calls.md). */
    agentMaxCalls: z.number().int().min(1).max(200).default(4),
  }),
  voiceConnector: z
    .strictObject({
      /** TLS signalling and SRTP; needs a `tls:` block on livekit-sip and SRTP on its trunks. */
      encryption: z.boolean().default(false),
      termination: termination.optional(),
    })
    .default({ encryption: false }),
  sma: z
    .strictObject({
      /** The deployment's cap on calls with the agent (MAX_CONCURRENT_CALLS); unset: none. */
      maxConcurrentCalls: z.number().int().min(1).max(100_000).optional(),
      /**
       * The SIP media application's id once it exists (an output of the call-control stack): the
       * handler then refuses events of any other application (SMA_APPLICATION_ID).
       */
      applicationId: z.uuid('must be the SMA application id (a UUID)').optional(),
      /** Where the handler exports OTLP (OTEL_EXPORTER_OTLP_ENDPOINT); unset: no export. */
      otlpEndpoint: z.url({ protocol: /^https?$/ }).optional(),
      logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      /**
       * How long a call's items are kept (CALL_RECORD_TTL_DAYS of the SMA and the Twilio gateway)
       * and its recordings in S3 (the recordings bucket's lifecycle rule).
       */
      callRecordTtlDays: z.number().int().min(1).max(3650).default(30),
    })
    .default({ logLevel: 'info', callRecordTtlDays: 30 }),
  guard: z
    .strictObject({
      /** The EKS cluster that runs livekit-server, the agent workers and the guard. */
      eksClusterName: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, 'must be an EKS cluster name')
        .optional(),
      namespace: z
        .string()
        .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/)
        .default('callbridge'),
      /** The image that runs guard/main.ts; with it, `npm run infra:livekit` writes guard.yaml. */
      image: z
        .string()
        .regex(
          /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$/,
          'must be an image reference with a tag or digest',
        )
        .optional(),
      replicas: z.number().int().min(1).max(10).default(2),
    })
    .default({ namespace: 'callbridge', replicas: 2 }),
  /** Existing secrets to use instead of the ones the data stack generates. */
  secrets: z
    .strictObject({
      callToken: secretArn.optional(),
      callerKey: secretArn.optional(),
      guardPresence: secretArn.optional(),
      livekitApi: secretArn.optional(),
    })
    .default({}),
  alarms: z
    .strictObject({
      email: z.email().optional(),
      /** The SMA handler's p99 above this (ms) is near Chime's 5 s re-invocation. */
      durationP99Ms: z.number().int().min(100).max(4900).default(3000),
    })
    .default({ durationP99Ms: 3000 }),
  connect: connect.optional(),
  /** The agent workers' image and scaling (deploy/, docs/deploy.md). */
  agent: agentWorkers.default({ minReplicas: 2, maxReplicas: 10, targetCpuPercent: 60 }),
  /** The Twilio gateway, when calls also come through Twilio; unset, none runs. */
  twilio: twilioGateway.optional(),
  kubernetes: z
    .strictObject({
      /**
       * The addresses of the cluster's nodes (the VPC's CIDR): livekit-server and livekit-sip run
       * on the host network, so the network policies admit their traffic to Redis and the guard
       * from these addresses.
       */
      nodeCidr: z
        .string()
        .regex(/^(\d{1,3}\.){3}\d{1,3}\/([89]|[12]\d|3[0-2])$/, 'must be an IPv4 CIDR')
        .default('10.0.0.0/16'),
      /** livekit-server's replicas (one per node: it takes the node's ports). */
      livekitServerReplicas: z.number().int().min(1).max(50).default(2),
    })
    .default({ nodeCidr: '10.0.0.0/16', livekitServerReplicas: 2 }),
});

export type DeployConfig = z.infer<typeof deployConfigSchema>;

/** The validated input and what follows from it. */
export interface Deployment {
  config: DeployConfig;
  useCases: UseCaseCatalog;
  /** Every dialed number of every use case: one SIP rule each. */
  dialedNumbers: string[];
}

function pathOf(path: PropertyKey[]): string {
  return path.length === 0 ? '(file)' : path.map(String).join('.');
}

/** Problems that no single field shows: every one, in order. */
function crossProblems(
  c: DeployConfig,
  dialedNumbers: string[],
  useCases: UseCaseCatalog,
): string[] {
  const problems: string[] = [];
  if (REGIONS_WITHOUT_CHIME_TYPES.includes(c.aws.region)) {
    problems.push(
      `aws.region: ${c.aws.region} has Chime SDK PSTN audio, but its CloudFormation has no ` +
        'AWS::Chime::SipMediaApplication or AWS::Chime::VoiceConnector; deploy to another of ' +
        SUPPORTED_REGIONS.filter((r) => !REGIONS_WITHOUT_CHIME_TYPES.includes(r)).join(', '),
    );
  }
  const seen = new Set<string>();
  c.livekit.sipHosts.forEach((h, i) => {
    const key = `${h.host}:${h.port}`;
    if (seen.has(key)) problems.push(`livekit.sipHosts.${i}: ${key} is listed twice`);
    seen.add(key);
  });
  const { start, end } = c.livekit.rtpPorts;
  if (end - start < 100) {
    problems.push(`livekit.rtpPorts: ${start}-${end} must span at least 100 ports (two per call)`);
  }
  if (c.agent.minReplicas > c.agent.maxReplicas) {
    problems.push(
      `agent.minReplicas: ${c.agent.minReplicas} is more than agent.maxReplicas (${c.agent.maxReplicas})`,
    );
  }
  if (c.connect) {
    if (!dialedNumbers.includes(c.connect.smaNumber)) {
      problems.push(
        "connect.smaNumber: must be one of the use cases' dialed numbers (contracts/use-cases.json)",
      );
    }
    if (!c.connect.fallbackQueueArn.startsWith(`${c.connect.instanceArn}/queue/`)) {
      problems.push('connect.fallbackQueueArn: must be a queue of connect.instanceArn');
    }
    // A queue's rolling numbers reach it through its queue-entry flow (infra/stacks/connect.ts):
    // the flow needs the queue, in this instance.
    const instanceId = c.connect.instanceArn.split('/').pop();
    for (const uc of useCases.all) {
      for (const [key, q] of Object.entries(uc.queues)) {
        if (!q.rollingNumbers?.length) continue;
        if (q.connect?.instanceId !== instanceId) {
          problems.push(
            `use case ${uc.id}, queue ${key}: lists rollingNumbers, so its connect.instanceId ` +
              "must be connect.instanceArn's instance (the queue-entry flow queues the caller there)",
          );
        }
      }
    }
  }
  return problems;
}

/**
 * Validates a parsed configuration file against the use cases; throws DeployConfigError listing
 * every problem (never a value: the file may hold numbers).
 */
export function loadDeployment(raw: unknown, bundledUseCases: unknown): Deployment {
  const res = deployConfigSchema.safeParse(raw);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${pathOf(i.path)}: ${i.message}`);
    throw new DeployConfigError(`deployment configuration is invalid:\n${lines.join('\n')}`);
  }
  let useCases: UseCaseCatalog;
  try {
    useCases = loadUseCases(undefined, bundledUseCases);
  } catch (cause) {
    throw new DeployConfigError(`use cases: ${(cause as Error).message}`, { cause });
  }
  const dialedNumbers = [...new Set(useCases.all.flatMap((u) => u.dialedNumbers))];
  const problems = crossProblems(res.data, dialedNumbers, useCases);
  if (problems.length > 0) {
    throw new DeployConfigError(
      `deployment configuration is invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
  return { config: res.data, useCases, dialedNumbers };
}

/** Reads and validates a configuration file. */
export function loadDeploymentFile(path: string, bundledUseCases: unknown): Deployment {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new DeployConfigError(`${path}: ${(cause as Error).message}`, { cause });
  }
  return loadDeployment(raw, bundledUseCases);
}
