import { describe, expect, it } from 'vitest';
import { StartedSoFar, startTogether } from '../../../lab/stack/started.js';

/** A server that records its stop in `log`; its stop fails when asked to. */
const server = (name: string, log: string[], failStop = false) => ({
  name,
  stop: async () => {
    log.push(name);
    if (failStop) throw new Error(`${name} would not stop`);
  },
});

describe('startTogether', () => {
  it('gives every server, in order, when all start', async () => {
    const log: string[] = [];
    const [a, b] = await startTogether([
      Promise.resolve(server('dynalite', log)),
      Promise.resolve(server('s3', log)),
    ]);
    expect([a.name, b.name]).toEqual(['dynalite', 's3']);
    expect(log).toEqual([]);
  });

  it('stops the servers that started when another fails, and throws its error', async () => {
    const log: string[] = [];
    const late = new Promise<ReturnType<typeof server>>((r) =>
      setTimeout(() => r(server('dynalite', log)), 20),
    );
    await expect(
      startTogether([late, Promise.reject(new Error('CreateBucket refused'))]),
    ).rejects.toThrow('CreateBucket refused');
    expect(log).toEqual(['dynalite']); // waited for, then stopped
  });
});

describe('StartedSoFar', () => {
  it('stops what started, newest first, when a later step fails', async () => {
    const log: string[] = [];
    const started = new StartedSoFar();
    started.add(server('s3', log));
    await started.start(async () => server('voice-api', log, true)); // its stop fails
    await started.start(async () => server('sms', log));
    await expect(started.step(() => Promise.reject(new Error('port in use')))).rejects.toThrow(
      'port in use',
    );
    expect(log).toEqual(['sms', 'voice-api', 's3']);
    await started.stopAll(); // nothing left to stop twice
    expect(log).toHaveLength(3);
  });

  it('does not keep a server whose start failed', async () => {
    const log: string[] = [];
    const started = new StartedSoFar();
    started.add(server('dynalite', log));
    await expect(started.start(() => Promise.reject(new Error('no moto')))).rejects.toThrow();
    expect(log).toEqual(['dynalite']);
  });
});
