// npm run infra:smoke -- --to NUMBER [--use-case ID] [--from NUMBER] [--timeout-s 180]
// Places a call from the deployed SMA to a test number and follows its journal until it ends
// (smoke-call.ts). Reads the deployment configuration (CALLBRIDGE_DEPLOY_CONFIG) for the region,
// the table and the SMA (`sma.applicationId`); credentials as the AWS SDK finds them. Answer the
// test phone, talk to the agent, hang up. Exit status: 0 the call ended, 1 it failed or did not
// end in time, 2 a usage or configuration error. Phone numbers are not printed.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import bundledUseCases from '../../contracts/use-cases.json' with { type: 'json' };
import { isE164 } from '../../contracts/ids.js';
import { DeployConfigError, loadDeploymentFile } from '../config.js';
import { placeSmokeCall, type SmokeCallResult } from './smoke-call.js';

const USAGE =
  'usage: npm run infra:smoke -- --to NUMBER [--use-case ID] [--from NUMBER] [--timeout-s 180]';

function fail(message: string, status = 2): never {
  console.error(`infra:smoke: ${message}`);
  process.exit(status);
}

const seconds = (ms: number | undefined) =>
  ms === undefined ? '–' : `${(ms / 1000).toFixed(3)} s`;

function report(r: SmokeCallResult): string {
  return [
    `call ${r.transactionId}: ${r.outcome}`,
    `  answered        ${seconds(r.answeredAfterRequestMs)} after the request (two clocks)`,
    `  agent connected ${seconds(r.agentAfterAnswerMs)} after the answer`,
    `  ended           ${seconds(r.endedAfterAnswerMs)} after the answer`,
    '  time to the first audio: voice.call.time_to_first_audio in the agent metrics',
  ].join('\n');
}

const { values } = parseArgs({
  options: {
    to: { type: 'string' },
    from: { type: 'string' },
    'use-case': { type: 'string' },
    'timeout-s': { type: 'string', default: '180' },
  },
});
const configPath =
  process.env['CALLBRIDGE_DEPLOY_CONFIG'] ?? join(import.meta.dirname, '..', 'deploy.example.json');
let deployment;
try {
  deployment = loadDeploymentFile(configPath, bundledUseCases);
} catch (err) {
  if (err instanceof DeployConfigError) fail(`${configPath}: ${err.message}`);
  throw err;
}
const { config, useCases } = deployment;
if (!isE164(values.to)) fail(`--to must be an E.164 number\n${USAGE}`);
const useCase = useCases.all.find(
  (u) => u.id === (values['use-case'] ?? useCases.defaultUseCase.id),
);
if (!useCase)
  fail(`no use case ${values['use-case']} (${useCases.all.map((u) => u.id).join(', ')})`);
const from = values.from ?? useCase.dialedNumbers[0];
if (!isE164(from)) fail('--from must be an E.164 number of the SMA');
const smaId = config.sma.applicationId;
if (!smaId) fail('sma.applicationId is not set in the configuration (docs/deploy.md, step 4)');
const timeoutS = Number(values['timeout-s']);
if (!Number.isInteger(timeoutS) || timeoutS < 10 || timeoutS > 3600) {
  fail('--timeout-s must be a whole number of seconds, 10-3600');
}

const voice = new ChimeSDKVoiceClient({ region: config.aws.region });
const dynamo = new DynamoDBClient({ region: config.aws.region });
try {
  const result = await placeSmokeCall(
    { sipMediaApplicationId: smaId, from, to: values.to, useCase: useCase.id },
    {
      voice,
      dynamo,
      table: `${config.name}-calls`,
      timeoutMs: timeoutS * 1000,
      pollMs: 1000,
      now: Date.now,
      sleep: (ms) => sleep(ms),
      onEvent: (e) =>
        process.stdout.write(
          `  #${e.sequence} ${e.eventType}${e.detail ? ` (${e.detail})` : ''} -> ${e.actions.join(',') || '-'} ${e.phase}\n`,
        ),
    },
  );
  process.stdout.write(`${report(result)}\n`);
  process.exitCode = result.outcome === 'timeout' || result.outcome === 'failed' ? 1 : 0;
} catch (err) {
  fail(`${(err as Error).name}: ${(err as Error).message}`, 1);
} finally {
  voice.destroy();
  dynamo.destroy();
}
