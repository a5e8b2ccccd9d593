// The relay from the agent's job processes to the worker's main process (otel/metrics-relay.ts):
// measurements reach the real instruments, a job process that dies mid-call does not leave its
// call counted as active, and nothing malformed is recorded.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { MeterProvider, type MetricData } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { Instrument, createAgentInstruments } from '../../../otel/instruments.js';
import {
  RelayClient,
  capturingMeter,
  relayMeter,
  removeStaleRelays,
  startMetricsRelay,
  type MetricsRelay,
} from '../../../otel/metrics-relay.js';
import { ROOT } from '../../helpers/sma.js';
import { memoryMetrics } from '../../helpers/otel.js';

const ATTRS = { component: 'agent', use_case: 'city-311' };
let relay: MetricsRelay | undefined;
let warnings: object[] = [];

async function arrange() {
  const metrics = memoryMetrics();
  const provider = new MeterProvider({ readers: [metrics.reader] });
  const { meter, sinks } = capturingMeter(provider.getMeter('callbridge.agent'));
  createAgentInstruments(meter);
  warnings = [];
  relay = await startMetricsRelay(sinks, { warn: (o) => warnings.push(o) });
  return { metrics, relay };
}

afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

/** Collects until `done` holds (the relay is asynchronous), or gives the last collection. */
async function until(
  collect: () => Promise<MetricData[]>,
  done: (m: Map<string, MetricData>) => boolean,
): Promise<Map<string, MetricData>> {
  let byName = new Map<string, MetricData>();
  for (let i = 0; i < 200; i++) {
    byName = new Map((await collect()).map((m) => [m.descriptor.name, m]));
    if (done(byName)) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return byName;
}

const active = (m: Map<string, MetricData>) =>
  m.get(Instrument.activeCalls)?.dataPoints[0]?.value as number | undefined;

describe('metrics relay', () => {
  it("records a job process's measurements in the main process's instruments", async () => {
    const { metrics, relay } = await arrange();
    const client = new RelayClient(relay.path);
    const job = createAgentInstruments(relayMeter(client));
    job.activeCalls.add(1, ATTRS);
    job.timeToFirstAudio.record(0.4, ATTRS);
    job.turnResponseLatency.record(0.7, ATTRS);
    job.turnResponseLatency.record(0.9, ATTRS);
    const m = await until(metrics.collect, (m) => m.has(Instrument.turnResponseLatency));
    expect(active(m)).toBe(1);
    const turn = m.get(Instrument.turnResponseLatency)!.dataPoints[0]!;
    expect(turn.attributes).toEqual(ATTRS);
    expect(turn.value).toMatchObject({ count: 2, sum: 1.6 });
    expect(m.get(Instrument.timeToFirstAudio)!.descriptor.unit).toBe('s');
    job.activeCalls.add(-1, ATTRS);
    await client.close();
    expect(active(await until(metrics.collect, (m) => active(m) === 0))).toBe(0);
  });

  it('takes back the active call of a job process that dies mid-call', async () => {
    const { metrics, relay } = await arrange();
    const script = [
      `import { RelayClient, relayMeter } from ${JSON.stringify(join(ROOT, 'otel', 'metrics-relay.ts'))};`,
      `import { createAgentInstruments } from ${JSON.stringify(join(ROOT, 'otel', 'instruments.ts'))};`,
      `const i = createAgentInstruments(relayMeter(new RelayClient(${JSON.stringify(relay.path)})));`,
      `i.activeCalls.add(1, ${JSON.stringify(ATTRS)});`,
      `setTimeout(() => process.kill(process.pid, 'SIGKILL'), 300);`,
    ].join('\n');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: ROOT,
        stdio: 'ignore',
      },
    );
    // Seen as active while the job lives...
    expect(active(await until(metrics.collect, (m) => active(m) === 1))).toBe(1);
    const [, signal] = await once(child, 'exit');
    expect(signal).toBe('SIGKILL');
    // ...and no longer once its connection is gone.
    expect(active(await until(metrics.collect, (m) => active(m) === 0))).toBe(0);
  });

  it('records nothing malformed, unknown or of the wrong kind, and says how much it refused', async () => {
    const { metrics, relay } = await arrange();
    const socket = createConnection(relay.path);
    await once(socket, 'connect');
    const lines = [
      'not json',
      JSON.stringify({ n: Instrument.timeToFirstAudio, k: 'counter', v: 1, a: ATTRS }),
      JSON.stringify({ n: 'voice.call.secret', k: 'histogram', v: 1, a: ATTRS }),
      JSON.stringify({ n: Instrument.timeToFirstAudio, k: 'histogram', v: 'x', a: ATTRS }),
      JSON.stringify({ n: Instrument.timeToFirstAudio, k: 'histogram', v: 0.3, a: ATTRS }),
    ];
    socket.end(`${lines.join('\n')}\n`);
    await once(socket, 'close');
    const m = await until(metrics.collect, () => warnings.length > 0);
    expect(m.get(Instrument.timeToFirstAudio)!.dataPoints[0]!.value).toMatchObject({
      count: 1,
      sum: 0.3,
    });
    expect([...m.keys()]).toEqual([Instrument.timeToFirstAudio]);
    expect(warnings).toEqual([{ reason: 'relay_measurement_refused', refused: 4 }]);
  });

  it('drops measurements quietly when there is no relay to send them to', async () => {
    const client = new RelayClient(join(ROOT, 'no-such-relay.sock'));
    createAgentInstruments(relayMeter(client)).activeCalls.add(1, ATTRS);
    await expect(client.close()).resolves.toBeUndefined();
  });

  it('removes the directories killed workers left, and no other', async () => {
    const { relay } = await arrange();
    const parent = mkdtempSync(join(tmpdir(), 'relay-parent-'));
    const stale = mkdtempSync(join(parent, 'callbridge-metrics-'));
    writeFileSync(join(stale, 'relay.sock'), ''); // nothing listens there
    const young = mkdtempSync(join(parent, 'callbridge-metrics-'));
    const other = mkdtempSync(join(parent, 'something-else-'));
    const old = (Date.now() - 120_000) / 1000;
    for (const d of [stale, other]) utimesSync(d, old, old);
    // A live relay: its directory is old, but a worker listens on it.
    const live = join(parent, 'callbridge-metrics-live');
    utimesSync(dirname(relay.path), old, old);
    symlinkSync(dirname(relay.path), live);
    expect(await removeStaleRelays(parent)).toEqual([stale]);
    expect([existsSync(stale), existsSync(young), existsSync(other), existsSync(live)]).toEqual([
      false,
      true,
      true,
      true,
    ]);
  });
});
