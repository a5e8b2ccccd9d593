// The local LiveKit stack, kept running for development: Redis, livekit-server and livekit-sip on
// the committed ports (livekit.yaml, sip/livekit/livekit-sip.yaml), SIP provisioned with the lab
// definitions, the call guard (livekit-server's webhooks) and the agent worker. Ctrl-C stops
// everything.
//
//   npm run stack              then, in another terminal:  npm run dev-room
//   npm run stack -- --no-agent   (run the worker yourself: npm run agent -- dev)
import { join } from 'node:path';
import { SipClient } from 'livekit-server-sdk';
import { DEFAULT_AGENT_NAME } from '../contracts/ids.js';
import { describeChange, provision } from '../sip/livekit/provision.js';
import { loadUseCases } from '../contracts/use-cases.js';
import bundledUseCases from '../contracts/use-cases.json' with { type: 'json' };
import { type AgentWorker, startAgentWorker } from '../lab/stack/agent-worker.js';
import { labSipDefinitions } from '../lab/stack/lab-sip.js';
import { defaultPorts, localStackCredentials, startLocalStack } from '../lab/stack/local-stack.js';
import { pino } from 'pino';
import { startCallGuardServer } from '../guard/server.js';
import { accessProblems } from '../sip/livekit/server-target.js';
import { parseCli } from './lib/cli.js';

const values = parseCli('npm run stack --', { 'no-agent': { type: 'boolean', default: false } });
const say = (line: string) => process.stdout.write(`${line}\n`);

const ports = defaultPorts();
const creds = localStackCredentials();
const guard = await startCallGuardServer({
  httpUrl: `http://127.0.0.1:${ports.http}`,
  apiKey: creds.apiKey,
  apiSecret: creds.apiSecret,
  logger: pino({ name: 'guard' }),
});
const stack = await startLocalStack({
  ports,
  webhookUrls: [guard.url],
  log: (l) => say(`  ${l}`),
}).catch(async (e: unknown) => {
  await guard.stop();
  throw e;
});
let worker: AgentWorker | undefined;
const stop = async () => {
  say('stopping…');
  await worker?.stop();
  await stack.stop();
  await guard.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

try {
  const agentName = process.env.AGENT_NAME ?? DEFAULT_AGENT_NAME;
  const defs = labSipDefinitions({
    useCases: loadUseCases(process.env.USE_CASES_FILE, bundledUseCases),
    agentName,
    sipAddress: stack.sipAddress,
  });
  const server = { url: stack.httpUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret };
  // The lab's definitions and keys are for this machine only, wherever the stack was told to bind.
  const refused = accessProblems(server, creds, 'local');
  if (refused.length > 0) throw new Error(`refused to provision: ${refused.join('; ')}`);
  const result = await provision(new SipClient(server.url, server.apiKey, server.apiSecret), defs);
  for (const c of result.changes) say(`  ${describeChange(c)}`);
  if (!values['no-agent']) {
    const logFile = join(stack.logDir, 'agent.log');
    worker = await startAgentWorker({
      logFile,
      env: { ...stack.env, AGENT_NAME: agentName, AGENT_MAX_CALLS: '8' },
    });
    say(`  agent worker ${agentName} registered (log: ${logFile})`);
  }
  say(`LiveKit: ${stack.url}  (API keys in livekit.yaml)`);
  say(
    `SIP:     ${stack.sipAddress}  (inbound trunks: ${defs.inboundTrunks.map((t) => t.numbers.join(',')).join(' ')})`,
  );
  say('Try the agent: npm run dev-room    Stop: Ctrl-C');
  await Promise.race([stack.failed, worker?.failed ?? new Promise(() => {})]);
} catch (e) {
  process.stderr.write(`stack: ${(e as Error).message}\n`);
  await worker?.stop();
  await stack.stop();
  await guard.stop();
  process.exit(1);
}
