// The agent worker's set-up through NodeSDK (otel/agent-sdk.ts): what NodeSDK registers globally
// is the project's to bound. The framework's own meter records into the global provider and must
// not reach the endpoint; NodeSDK's detectors describe the process beside the project's resource;
// a shut-down set-up leaves nothing registered, so the next one in the process records.
import { metrics } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentWorkerTelemetry } from '../../../otel/agent-worker.js';
import { agentWorkerServingPrometheus } from '../../helpers/otel.js';

let worker: AgentWorkerTelemetry | undefined;

afterEach(async () => {
  await worker?.shutdown();
  worker = undefined;
});

async function scrapedWorker(): Promise<{ scrape: () => Promise<string> }> {
  worker = await agentWorkerServingPrometheus();
  const url = worker.telemetry.prometheusUrl!;
  return { scrape: async () => (await fetch(url)).text() };
}

describe('the agent set-up through NodeSDK', () => {
  it("exports the project's metrics but not the framework's own meter", async () => {
    const { scrape } = await scrapedWorker();
    metrics
      .getMeter('livekit-agents')
      .createHistogram('lk.agents.event_loop.blocked_duration', { unit: 's' })
      .record(0.2, { severity: 'warn', cause: 'code' });
    worker!.telemetry.meter('callbridge.agent').createCounter('voice.probe').add(1);
    const body = await scrape();
    expect(body).toMatch(/^voice_probe_total\{.*\} 1$/m);
    expect(body).not.toContain('lk_agents');
  });

  it("describes the process with NodeSDK's detectors, keeping the project's service", async () => {
    const { scrape } = await scrapedWorker();
    const info = (await scrape()).split('\n').find((l) => l.startsWith('target_info{'));
    expect(info).toContain('service_name="callbridge-agent"');
    expect(info).toContain('telemetry_sdk_language="nodejs"');
    expect(info).toContain(`process_pid="${process.pid}"`);
  });

  it('records through a set-up started after another one was shut down', async () => {
    await scrapedWorker();
    await worker!.shutdown();
    const { scrape } = await scrapedWorker();
    worker!.telemetry.meter('callbridge.agent').createCounter('voice.probe').add(2);
    expect(await scrape()).toMatch(/^voice_probe_total\{.*\} 2$/m);
  });
});
