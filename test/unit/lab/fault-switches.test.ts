// The switches the fault benchmark pulls: the TCP proxy in front of dynalite (slow, down, up), the
// Voice API stand-in's forced error bursts, and the SMA handler wrapper.
import { once } from 'node:events';
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHIME_INVOKE_TIMING, invokeLikeChime } from '../../../lab/chime/lambda-invoker.js';
import { startVoiceApiServer } from '../../../lab/chime/voice-api-server.js';
import { startSlowProxy } from '../../../lab/stack/slow-proxy.js';
import { SmaFaults } from '../../../scripts/bench/faults/sma-faults.js';

/** A TCP server that records what it receives. */
async function recorder() {
  const received: string[] = [];
  const server = createServer((s) => {
    s.on('error', () => {}); // the proxy resets its connections when it stops
    s.on('data', (d) => received.push(d.toString()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { received, url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

async function dial(endpoint: string): Promise<Socket> {
  const { port } = new URL(endpoint);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/** Lets real I/O run a few rounds (timers may be fake). */
async function ioRounds(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

afterEach(() => {
  vi.useRealTimers();
});

describe('startSlowProxy', () => {
  it('holds what a client sends for the delay when slowed', async () => {
    const upstream = await recorder();
    const proxy = await startSlowProxy(upstream.url);
    try {
      proxy.setDelay(5000);
      const client = await dial(proxy.endpoint);
      vi.useFakeTimers({ toFake: ['setTimeout'] });
      client.write('GET');
      await ioRounds();
      expect(upstream.received).toEqual([]);
      await vi.advanceTimersByTimeAsync(5000);
      vi.useRealTimers();
      await vi.waitFor(() => expect(upstream.received.join('')).toBe('GET'));
      client.destroy();
    } finally {
      await proxy.stop();
      upstream.close();
    }
  });

  it('refuses connections when down and passes them again when up', async () => {
    const upstream = await recorder();
    const proxy = await startSlowProxy(upstream.url);
    try {
      await proxy.down();
      await expect(dial(proxy.endpoint)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await proxy.up();
      const client = await dial(proxy.endpoint);
      client.write('PUT');
      await vi.waitFor(() => expect(upstream.received.join('')).toBe('PUT'));
      client.destroy();
    } finally {
      await proxy.stop();
      upstream.close();
    }
  });
});

describe('VoiceApiServer.failNext', () => {
  it('answers the next requests with the forced status, then as usual', async () => {
    const api = await startVoiceApiServer({ onUpdate: () => true }, { ratePerSecond: 1000 });
    const post = () =>
      fetch(`${api.endpoint}/sip-media-applications/sma/calls/tx`, {
        method: 'POST',
        body: JSON.stringify({ Arguments: { action: 'hangup' } }),
      });
    try {
      api.failNext(2, 500);
      const first = await post();
      expect(first.status).toBe(500);
      expect(first.headers.get('x-amzn-errortype')).toBe('ServiceFailureException');
      expect((await post()).status).toBe(500);
      expect((await post()).status).toBe(202);
    } finally {
      await api.stop();
    }
  });
});

describe('SmaFaults', () => {
  const event = (tx: string, sequence: number) => ({
    Sequence: sequence,
    CallDetails: { TransactionId: tx },
  });

  it('fails only the next event of the chosen calls, on every attempt up to the count', async () => {
    const real = vi.fn(async () => ({ Actions: [] }));
    const sma = new SmaFaults(real);
    sma.arm({ kind: 'fail', times: 2 }, ['a']);
    const timing = { ...CHIME_INVOKE_TIMING, retryAfterMs: 60_000, giveUpAfterMs: 120_000 };
    const faulted = await invokeLikeChime(sma.handler, event('a', 3), timing);
    expect(faulted).toMatchObject({ ok: false, reason: 'function-error', attempts: 2 });
    await expect(sma.handler(event('a', 4))).resolves.toEqual({ Actions: [] });
    await expect(sma.handler(event('b', 3))).resolves.toEqual({ Actions: [] });
    expect(sma.hits.get('a')).toMatchObject({ sequence: 3, attempts: 2 });
    expect(sma.hits.has('b')).toBe(false);
  });

  it('lets a retried attempt through when the fault fails once', async () => {
    const sma = new SmaFaults(async () => 'answer');
    sma.arm({ kind: 'fail', times: 1 }, ['a']);
    const result = await invokeLikeChime(sma.handler, event('a', 2), CHIME_INVOKE_TIMING);
    expect(result).toEqual({ ok: true, answer: 'answer', attempts: 2 });
  });

  it('answers late when slow, and reaches the handler untouched once disarmed', async () => {
    vi.useFakeTimers();
    const real = vi.fn(async () => 'answer');
    const sma = new SmaFaults(real);
    sma.arm({ kind: 'slow', ms: 6000 }, ['a']);
    const late = sma.handler(event('a', 5));
    await vi.advanceTimersByTimeAsync(5999);
    expect(real).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await expect(late).resolves.toBe('answer');
    sma.disarm();
    await expect(sma.handler(event('a', 5))).resolves.toBe('answer');
  });
});
