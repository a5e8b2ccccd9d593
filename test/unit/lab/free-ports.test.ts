// The local stack's ports: each is free when asked for and closed again, so the system may hand
// the same one out twice; the stack must never give two of its servers one port.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const handedOut: number[] = [];
vi.mock('../../../lab/stack/net.js', () => ({
  freePort: vi.fn(async () => handedOut.shift() ?? 0),
  udpFree: vi.fn(async () => true),
  httpOk: vi.fn(),
  redisPing: vi.fn(),
  sipOptionsOk: vi.fn(),
}));

const { freePorts } = await import('../../../lab/stack/local-stack.js');

describe('freePorts', () => {
  beforeEach(() => {
    handedOut.length = 0;
  });

  it('asks again when the system hands out a port already chosen', async () => {
    // redis, then the same port again, then livekit-server's; livekit-sip's, after both again.
    handedOut.push(40001, 40001, 40002, 40002, 40001, 40003, 40004);
    const ports = await freePorts();
    expect([ports.redis, ports.http, ports.sip]).toEqual([40001, 40002, 40003]);
    expect(ports.rtcUdp).toBe(40004);
    expect(ports.rtp.end - ports.rtp.start).toBe(99);
  });

  it('gives up with a clear error when it cannot find distinct ports', async () => {
    handedOut.push(...Array<number>(40).fill(40001));
    await expect(freePorts()).rejects.toThrow(/free loopback ports/);
  });
});
