// Loopback ports and the health probes of the local stack's servers: a free port, Redis `PING`,
// an HTTP `OK`, and a SIP `OPTIONS` answered `200` (what a Voice Connector's origination health
// check sends).
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createConnection, createServer } from 'node:net';

export function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'udp') {
    const s = createSocket('udp4');
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
  }
  const srv = createServer();
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function udpFree(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  return res.ok;
}

/** RESP `PING` → `+PONG`. */
export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** A SIP OPTIONS request over UDP; healthy when the answer is `SIP/2.0 200`. */
export function sipOptionsOk(port: number, host = '127.0.0.1'): Promise<boolean> {
  const sock = createSocket('udp4');
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    sock.once('error', () => done(false));
    sock.on('message', (msg) => done(msg.toString().startsWith('SIP/2.0 200')));
    sock.bind(0, '127.0.0.1', () => {
      const local = sock.address().port;
      const tag = randomBytes(6).toString('hex');
      const req = [
        `OPTIONS sip:${host}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${tag};rport`,
        `From: <sip:health@127.0.0.1>;tag=${tag}`,
        `To: <sip:${host}:${port}>`,
        `Call-ID: health-${tag}@127.0.0.1`,
        'CSeq: 1 OPTIONS',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      sock.send(req, port, host);
    });
  });
}
