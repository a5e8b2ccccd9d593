// Provisions LiveKit SIP from the definitions in sip/livekit/definitions.ts.
//
//   npm run provision -- [--dry-run] [--profile local|production] [--region us-east-1 ...]
//                        [--allow CIDR ...] [--sip-address HOST:PORT]
//
// The server is LIVEKIT_URL with LIVEKIT_API_KEY / LIVEKIT_API_SECRET. Without them the local
// profile talks to the local stack of `npm start` (livekit.yaml's port and keys). Production needs
// them, and the Voice Connector regions (--region, default AWS_REGION). Idempotent: a second run
// prints only "unchanged" lines. Exit status: 0 done, 1 a failure (nothing half-explained), 2 usage.
import { parseArgs } from 'node:util';
import { SipClient } from 'livekit-server-sdk';
import { loadUseCases } from '../contracts/use-cases.js';
import bundledUseCases from '../contracts/use-cases.json' with { type: 'json' };
import { type Profile, sipDefinitions } from '../sip/livekit/definitions.js';
import { describeChange, provision } from '../sip/livekit/provision.js';
import { defaultPorts, localStackCredentials } from '../lab/stack/local-stack.js';

function usage(msg: string): never {
  process.stderr.write(`provision: ${msg}\n`);
  process.stderr.write(
    'usage: npm run provision -- [--dry-run] [--profile local|production] [--region R ...] [--allow CIDR ...] [--sip-address HOST:PORT]\n',
  );
  process.exit(2);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        'dry-run': { type: 'boolean', default: false },
        profile: { type: 'string', default: 'local' },
        region: { type: 'string', multiple: true },
        allow: { type: 'string', multiple: true },
        'sip-address': { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (e) {
    usage((e as Error).message);
  }
  const profile = args.profile as Profile;
  if (profile !== 'local' && profile !== 'production') usage(`unknown profile "${profile}"`);

  const env = process.env;
  let url = env.LIVEKIT_URL;
  let apiKey = env.LIVEKIT_API_KEY;
  let apiSecret = env.LIVEKIT_API_SECRET;
  if (!url || !apiKey || !apiSecret) {
    if (profile === 'production') {
      usage('production needs LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
    }
    ({ url, apiKey, apiSecret } = localStackCredentials());
  }
  const regions = args.region ?? (env.AWS_REGION ? [env.AWS_REGION] : []);
  const defs = sipDefinitions({
    profile,
    useCases: loadUseCases(env.USE_CASES_FILE, bundledUseCases),
    agentName: env.AGENT_NAME ?? 'callbridge-agent',
    regions,
    extraAllowedAddresses: args.allow ?? [],
    localSipAddress: args['sip-address'] ?? `127.0.0.1:${defaultPorts().sip}`,
  });
  const client = new SipClient(url.replace(/^ws/, 'http'), apiKey, apiSecret);
  const result = await provision(client, defs, { dryRun: args['dry-run'] });
  for (const c of result.changes) process.stdout.write(`${describeChange(c)}\n`);
  const n = (a: string) => result.changes.filter((c) => c.action === a).length;
  const summary = `${n('create')} to create, ${n('update')} to update, ${n('delete')} to delete, ${n('unchanged')} unchanged`;
  process.stdout.write(
    result.applied
      ? `provisioned ${url}: ${summary.replaceAll(' to ', ' ')}\n`
      : `dry run against ${url}: ${summary}; nothing was changed\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`provision: ${(e as Error).message}\n`);
  process.exit(1);
});
