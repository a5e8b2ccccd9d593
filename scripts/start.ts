// `npm start`: runs scripted calls through the real SMA handler against a local DynamoDB (dynalite)
// and prints each call's event/action timeline. The legs are simulated the way Chime reports them
// (no audio yet: the LiveKit lab builds on this).
//
//   npm start [-- --scenario transfer|agent-hangup|agent-down|queue-down|all]
import { parseArgs } from 'node:util';
import { LOCAL_SMA_ENV } from '../lambdas/sma/config.js';
import { SimulatedChimeCall, type TimelineStep } from '../sip/chime/simulated-call.js';
import {
  LOCAL_AWS_ENV,
  callItems,
  startLocalDynamo,
  type LocalDynamo,
} from './lib/local-dynamodb.js';

interface Scenario {
  title: string;
  agentAnswers: boolean;
  queueAnswers: boolean;
  /** What happens once the caller is talking to the agent. */
  script: (call: SimulatedChimeCall) => Promise<void>;
  expect: { disposition: string; bridges: string[] };
}

const CALLER = '+12065550100';
const DIALED = '+12025550131';

const SCENARIOS: Record<string, Scenario> = {
  transfer: {
    title: 'the caller asks the agent for a person and is transferred',
    agentAnswers: true,
    queueAnswers: true,
    script: async (call) => {
      await call.requestTransfer('general', Date.now());
      await call.remoteHangup('LEG-A');
    },
    expect: { disposition: 'transferred', bridges: ['agent', 'queue'] },
  },
  'agent-hangup': {
    title: 'the agent answers the question and ends the call',
    agentAnswers: true,
    queueAnswers: true,
    script: (call) =>
      call.update({ action: 'hangup', reason: 'caller_done', requestedAt: String(Date.now()) }),
    expect: { disposition: 'ai_completed', bridges: ['agent'] },
  },
  'agent-down': {
    title: 'the agent does not answer: the caller goes to a person',
    agentAnswers: false,
    queueAnswers: true,
    script: (call) => call.remoteHangup('LEG-A'),
    expect: { disposition: 'transferred', bridges: ['agent', 'queue'] },
  },
  'queue-down': {
    title: 'no one in the queue answers: fallback number, then an apology',
    agentAnswers: true,
    queueAnswers: false,
    script: (call) => call.requestTransfer('general', Date.now()),
    expect: { disposition: 'failed', bridges: ['agent', 'queue', 'queue-fallback'] },
  },
};

function describeActions(step: TimelineStep): string {
  if (step.actions.length === 0) return '-';
  return step.actions
    .map((a) => {
      const p = a.Parameters ?? {};
      if (a.Type === 'CallAndBridge') {
        const ep = (p['Endpoints'] as { BridgeEndpointType: string; Uri: string }[])[0]!;
        return `CallAndBridge ${ep.BridgeEndpointType} ${ep.Uri}`;
      }
      if (a.Type === 'Hangup') return `Hangup ${String(p['CallId'])}`;
      if (a.Type === 'Speak') return `Speak "${String(p['Text']).slice(0, 40)}…"`;
      return a.Type;
    })
    .join(', ');
}

function describeEvent(step: TimelineStep): string {
  const d = step.actionData as
    { Type?: string; Parameters?: Record<string, unknown>; ErrorType?: string } | undefined;
  if (step.type === 'CALL_UPDATE_REQUESTED')
    return `${step.type} ${JSON.stringify(d?.Parameters?.['Arguments'])}`;
  if (step.type === 'HANGUP') return `${step.type} ${String(d?.Parameters?.['ParticipantTag'])}`;
  if (d?.Type) return `${step.type} ${d.Type}${d.ErrorType ? ` (${d.ErrorType})` : ''}`;
  return step.type;
}

async function runScenario(
  name: string,
  db: LocalDynamo,
  handler: (e: unknown) => Promise<unknown>,
): Promise<boolean> {
  const sc = SCENARIOS[name]!;
  const tx = crypto.randomUUID();
  const started = Date.now();
  console.log(`\n▶ ${name}: ${sc.title}`);
  console.log(`  call ${tx}  caller ${CALLER} → ${DIALED}`);
  const call = new SimulatedChimeCall({
    handler,
    call: { transactionId: tx, smaId: 'local-sma', region: 'us-east-1', accountId: '000000000000' },
    caller: CALLER,
    dialed: DIALED,
    agentAnswers: sc.agentAnswers,
    numberAnswers: () => sc.queueAnswers,
    onStep: (s) => {
      const at = `+${String(s.atMs - started).padStart(4)} ms`;
      console.log(
        `  ${at}  #${String(s.sequence).padEnd(2)} ${describeEvent(s).padEnd(52)} → ${describeActions(s)}`,
      );
    },
  });
  await call.startInbound();
  await sc.script(call);

  const items = await callItems(db.client, LOCAL_SMA_ENV.CALLS_TABLE, tx);
  const state = items.find((i) => i['sk'] === 'state') ?? {};
  const events = items.filter((i) => String(i['sk']).startsWith('event#'));
  const bridged = call.timeline
    .flatMap((s) => s.actions)
    .filter((a) => a.Type === 'CallAndBridge')
    .map((a) => {
      const ep = (a.Parameters!['Endpoints'] as { BridgeEndpointType: string; Uri: string }[])[0]!;
      if (ep.BridgeEndpointType === 'AWS') return 'agent';
      return ep.Uri === '+12025550141' ? 'queue-fallback' : 'queue';
    });
  const checks: [string, boolean][] = [
    [
      `bridged ${sc.expect.bridges.join(' → ')}`,
      JSON.stringify(bridged) === JSON.stringify(sc.expect.bridges),
    ],
    ['both legs ended', call.ended],
    [`disposition ${sc.expect.disposition}`, state['Disposition'] === sc.expect.disposition],
    [`journal holds all ${call.timeline.length} events`, events.length === call.timeline.length],
  ];
  console.log(
    `  state: Phase=${String(state['Phase'])} Disposition=${String(state['Disposition'])} ` +
      `TransferOutcome=${String(state['TransferOutcome'] ?? '-')} LastSequence=${String(state['LastSequence'])}`,
  );
  for (const [what, ok] of checks) console.log(`  ${ok ? '✓' : '✗'} ${what}`);
  return checks.every(([, ok]) => ok);
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { scenario: { type: 'string', default: 'all' } } });
  const names = values.scenario === 'all' ? Object.keys(SCENARIOS) : [values.scenario!];
  for (const n of names) {
    if (!SCENARIOS[n]) {
      console.error(
        `unknown scenario "${n}"; choose one of: ${Object.keys(SCENARIOS).join(', ')}, all`,
      );
      return 2;
    }
  }
  const db = await startLocalDynamo({ table: LOCAL_SMA_ENV.CALLS_TABLE });
  Object.assign(process.env, LOCAL_AWS_ENV, LOCAL_SMA_ENV, {
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  console.log(
    'callbridge local run: real SMA handler, DynamoDB API on dynalite, simulated Chime legs',
  );
  const { handler } = await import('../lambdas/sma/index.js');
  let ok = true;
  for (const n of names) ok = (await runScenario(n, db, handler)) && ok;
  await db.stop();
  console.log(ok ? '\nall scenario expectations held' : '\nSOME EXPECTATIONS FAILED');
  return ok ? 0 : 1;
}

process.exitCode = await main();
