// The SIP user agent's transport and transaction timers (RFC 3261 §17.1): a UDP socket to the one
// next hop, retransmission at T1, 2·T1, … and the non-INVITE transactions (BYE, CANCEL) waiting
// for their final status. Closing it stops every timer and settles every transaction.
import { createSocket, type RemoteInfo } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { parseNameAddr } from './sip-message.js';
import { bindUdp, closeUdp } from './udp.js';

// RFC 3261 §17.1.1.2 and §17.1.2.2 timers.
export const T1_MS = 500;
export const T2_MS = 4000;

export class SipTransactions {
  private readonly socket = createSocket('udp4');
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Non-INVITE requests under way, keyed by CSeq method and Via branch. */
  private readonly pending = new Map<string, (status?: number) => void>();
  private closed = false;

  constructor(
    private host: string,
    private readonly port: number,
  ) {}

  /**
   * Resolves the next hop's name once (a name with several addresses, such as a headless Service
   * of several livekit-sip nodes, gives the whole call one of them) and binds to a free port on
   * `address`; resolves with the port.
   */
  async bind(
    address: string,
    onMessage: (buf: Buffer, rinfo: RemoteInfo) => void,
    onError: () => void,
  ): Promise<number> {
    if (!isIPv4(this.host)) this.host = (await lookup(this.host, { family: 4 })).address;
    const port = await bindUdp(this.socket, address);
    this.socket.on('message', onMessage);
    this.socket.on('error', onError);
    return port;
  }

  /** The next hop's IPv4 address (once bound). */
  get remoteAddress(): string {
    return this.host;
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  /** Sends to the next hop, or to `to` (a response goes where its request came from). */
  send(msg: Buffer, to?: RemoteInfo): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) =>
      this.socket.send(msg, to?.port ?? this.port, to?.address ?? this.host, () => resolve()),
    );
  }

  /** Resends `msg` at `intervalMs`, doubling up to `capMs`, until `stop()` says so (§17.1.1.2). */
  retransmit(msg: Buffer, stop: () => boolean, intervalMs = T1_MS, capMs = Infinity): void {
    this.after(intervalMs, () => {
      if (stop() || this.closed) return;
      void this.send(msg);
      this.retransmit(msg, stop, Math.min(intervalMs * 2, capMs), capMs);
    });
  }

  /** Runs `fn` after `ms` unless closed first. */
  after(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /**
   * Sends a non-INVITE request, retransmitting, and resolves with its final status, or undefined
   * after `waitMs` or on close.
   */
  async transact(method: string, msg: Buffer, via: string, waitMs: number) {
    if (this.closed) return undefined;
    const key = `${method} ${parseNameAddr(via).params.branch}`;
    let done = false;
    const status = await new Promise<number | undefined>((resolve) => {
      this.pending.set(key, resolve);
      this.after(waitMs, () => resolve(undefined));
      void this.send(msg);
      this.retransmit(msg, () => done, T1_MS, T2_MS);
    });
    done = true;
    this.pending.delete(key);
    return status;
  }

  /** A final response to a request `transact` sent. */
  settle(method: string, branch: string | undefined, status: number): void {
    this.pending.get(`${method} ${branch}`)?.(status);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const done of this.pending.values()) done();
    closeUdp(this.socket);
  }
}
