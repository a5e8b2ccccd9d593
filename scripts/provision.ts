// Provisions LiveKit SIP from the definitions in sip/livekit/definitions.ts: prints the plan (what
// to create, update, delete or keep, and why), then applies it. `--dry-run` only prints it.
//
//   npm run provision -- [--dry-run] [--profile local|production] [--region us-east-1 ...]
//                        [--allow CIDR ...] [--sip-address HOST:PORT] [--twilio-gateway CIDR ...]
//
// The server is LIVEKIT_URL with LIVEKIT_API_KEY / LIVEKIT_API_SECRET (all three or none), and then
// --profile must be named. Without them the local profile talks to the local stack of `npm start`
// (livekit.yaml's port and keys), and adds the lab's outbound trunk to livekit-sip at --sip-address
// (lab/stack/lab-sip.ts). Production needs them, and the Voice Connector regions (--region, default
// AWS_REGION). `--twilio-gateway CIDR` defines the Twilio gateway's trunk for that address (the
// local profile's default: the lab's, 127.0.0.1/32; production: none). The local profile and the
// development keys are refused for a server off this machine (sip/livekit/server-target.ts), before
// anything is sent. Idempotent: a second run prints only "unchanged" lines. Exit status: 0 done, 1
// a failure (nothing half-explained), 2 usage or a refused server.
import { parseArgs } from 'node:util';
import { SipClient } from 'livekit-server-sdk';
import { DEFAULT_AGENT_NAME } from '../contracts/ids.js';
import { loadUseCases } from '../contracts/use-cases.js';
import bundledUseCases from '../contracts/use-cases.json' with { type: 'json' };
import {
  type Profile,
  type SipDefinitions,
  assertValidDefinitions,
  sipDefinitions,
} from '../sip/livekit/definitions.js';
import {
  type ProvisionPlan,
  applyPlan,
  describePlan,
  planProvision,
  readExisting,
} from '../sip/livekit/provision.js';
import { type ServerAccess, provisionTarget } from '../sip/livekit/server-target.js';
import { LAB_TWILIO_GATEWAY, withLabOutboundTrunk } from '../lab/stack/lab-sip.js';
import { defaultPorts, localStackCredentials } from '../lab/stack/local-stack.js';

const USAGE =
  'usage: npm run provision -- [--dry-run] [--profile local|production] [--region R ...] [--allow CIDR ...] [--sip-address HOST:PORT] [--twilio-gateway CIDR ...]';

function usage(msg: string): never {
  process.stderr.write(`provision: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function options() {
  try {
    return parseArgs({
      options: {
        'dry-run': { type: 'boolean', default: false },
        profile: { type: 'string' },
        region: { type: 'string', multiple: true },
        allow: { type: 'string', multiple: true },
        'sip-address': { type: 'string' },
        'twilio-gateway': { type: 'string', multiple: true },
      },
      strict: true,
    }).values;
  } catch (e) {
    usage((e as Error).message);
  }
}
type Options = ReturnType<typeof options>;

/** The profile and server to provision, or the usage error that refuses them. */
function target(args: Options): { profile: Profile; server: ServerAccess } {
  const named = args.profile;
  if (named !== undefined && named !== 'local' && named !== 'production') {
    usage(`unknown profile "${named}"`);
  }
  const t = provisionTarget({ profile: named, env: process.env, local: localStackCredentials() });
  if (!t.ok) usage(`refused, nothing was sent:\n  - ${t.problems.join('\n  - ')}`);
  return t;
}

function definitions(profile: Profile, args: Options): SipDefinitions {
  const env = process.env;
  const defs = sipDefinitions({
    profile,
    useCases: loadUseCases(env.USE_CASES_FILE, bundledUseCases),
    agentName: env.AGENT_NAME ?? DEFAULT_AGENT_NAME,
    regions: args.region ?? (env.AWS_REGION ? [env.AWS_REGION] : []),
    extraAllowedAddresses: args.allow ?? [],
    // The Twilio gateway's trunk: the lab's gateway on loopback, production's where it runs.
    twilioGatewayAddresses:
      args['twilio-gateway'] ?? (profile === 'local' ? [LAB_TWILIO_GATEWAY] : []),
  });
  if (profile !== 'local') return defs;
  return withLabOutboundTrunk(defs, args['sip-address'] ?? `127.0.0.1:${defaultPorts().sip}`);
}

function summary(plan: ProvisionPlan): string {
  const n = (a: string) => plan.changes.filter((c) => c.action === a).length;
  return `${n('create')} to create, ${n('update')} to update, ${n('delete')} to delete, ${n('unchanged')} unchanged`;
}

async function main(): Promise<void> {
  const args = options();
  const { profile, server } = target(args);
  const { url, apiKey, apiSecret } = server;
  const defs = definitions(profile, args);
  // Bad definitions stop the run before anything is sent.
  assertValidDefinitions(defs);
  const client = new SipClient(url.replace(/^ws/, 'http'), apiKey, apiSecret);
  const plan = planProvision(defs, await readExisting(client));
  for (const line of describePlan(plan)) process.stdout.write(`${line}\n`);
  if (args['dry-run']) {
    process.stdout.write(`dry run against ${url}: ${summary(plan)}; nothing was changed\n`);
    return;
  }
  await applyPlan(client, plan);
  process.stdout.write(`provisioned ${url}: ${summary(plan).replaceAll(' to ', ' ')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`provision: ${(e as Error).message}\n`);
  process.exit(1);
});
