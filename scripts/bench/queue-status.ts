// Benchmark of the queue check before a transfer: prints figures, asserts nothing.
//   npm run bench:queue [-- --calls 10 --seconds 20]
// The worker's poller against the lab's Connect stand-in (the real AWS SDK client over HTTP), served
// over its Unix socket as in a worker; `--calls` calls each ask for the queue's status at random
// moments, as callers asking for a person would. Reported: the time a call waits for the status
// (the transfer tool's added delay), and Connect requests per second, in all and by operation
// (Connect's quota for GetCurrentMetricData is about 5 per second per account; the hours reads,
// GetEffectiveHoursOfOperations included, about 2 per second).
import { pino } from 'pino';
import { ConnectQueueSource } from '../../agent/queue-status/connect-queues.js';
import { QueueStatusPoller } from '../../agent/queue-status/poller.js';
import { queueStatusClient, serveQueueStatus } from '../../agent/queue-status/relay.js';
import { startConnectApiServer } from '../../lab/connect/connect-api-server.js';
import { summary } from '../../lab/stats.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npm run bench:queue --', {
  calls: { type: 'string', default: '10' },
  seconds: { type: 'string', default: '20' },
});
const calls = Number(values.calls);
const seconds = Number(values.seconds);
const INSTANCE = 'aaaaaaaa-0311-4000-8000-000000000001';
const QUEUES = ['bbbbbbbb-0311-4000-8000-000000000140', 'bbbbbbbb-0311-4000-8000-000000000150'];

Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});
const connect = await startConnectApiServer({ instanceId: INSTANCE, queueIds: QUEUES });
connect.setQueue(QUEUES[0]!, { agentsAvailable: 0, contactsInQueue: 4, oldestContactAgeS: 230 });
process.env.AWS_ENDPOINT_URL_CONNECT = connect.endpoint;
const poller = new QueueStatusPoller({
  source: new ConnectQueueSource({ client: ConnectQueueSource.clientFor('us-east-1') }),
  logger: pino({ level: 'error' }), // the stand-in stops under the last refresh
});
const env: Record<string, string | undefined> = {};
const served = await serveQueueStatus(poller, env);

const waits: number[] = [];
let unanswered = 0;
const end = performance.now() + seconds * 1000;
const oneCall = async (i: number) => {
  const client = queueStatusClient(env)!; // a job process's own connection
  const ref = { instanceId: INSTANCE, queueId: QUEUES[i % QUEUES.length]! };
  client.watch([ref]); // the call starts
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 1800));
    const t0 = performance.now();
    const status = await client.status(ref, 300);
    waits.push(performance.now() - t0);
    if (!status) unanswered += 1;
  }
};
const started = performance.now();
await Promise.all(Array.from({ length: calls }, (_, i) => oneCall(i)));
const ranS = (performance.now() - started) / 1000;

const perSecond = new Map<number, number>();
for (const r of connect.requests) {
  const s = Math.floor((r.at - started) / 1000);
  perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
}
const throttled = connect.requests.filter((r) => r.status === 429).length;
console.log(`${calls} calls asking for 1 of 2 queues' status every 0.2-2 s for ${seconds} s`);
console.log(`  status wait: ${summary(waits, 1)} (${unanswered} without a status)`);
console.log(
  `  Connect requests: ${connect.requests.length} in ${ranS.toFixed(1)} s ` +
    `(${(connect.requests.length / ranS).toFixed(2)}/s, at most ${Math.max(0, ...perSecond.values())} ` +
    `in any second, ${throttled} throttled)`,
);
const byOperation = new Map<string, number>();
for (const r of connect.requests)
  byOperation.set(r.operation, (byOperation.get(r.operation) ?? 0) + 1);
console.log(`  by operation: ${[...byOperation].map(([op, n]) => `${op} ${n}`).join(', ')}`);
poller.stop();
await served.close();
await connect.stop();
