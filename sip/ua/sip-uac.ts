// A SIP user agent's signalling for one call (the Twilio gateway's leg to livekit-sip,
// twilio/sip-leg.ts; the lab's phone, lab/phone/rtp-phone.ts), as a user agent client over UDP
// (RFC 3261): the INVITE and its retransmissions, ACKs, CANCEL while ringing, BYE in the dialog,
// and answers to what the far end sends (OPTIONS, BYE, a re-INVITE). What the call carries is the
// caller's business: the answer's SDP goes to `events.answer`, and the end of the call to
// `events.ended`.
//
// Scope: UDP only, livekit-sip as the only next hop (requests in the dialog go to `sipAddress`
// whatever the Contact's host, as a Voice Connector sends everything to its origination target).
// Times are performance.now() milliseconds.
import { randomBytes, randomUUID } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import { deferred } from './deferred.js';
import {
  formatSipMessage,
  formatSipResponse,
  parseCSeq,
  parseNameAddr,
  parseSipMessage,
  sipHeader,
  type SipRequest,
  type SipResponse,
} from './sip-message.js';
import { SipTransactions, T1_MS } from './sip-transactions.js';

export class SipCallError extends Error {
  override name = 'SipCallError';
  constructor(
    message: string,
    /** The SIP status that ended the call attempt, if one did. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export type Phase = 'calling' | 'ringing' | 'answered' | 'ended';
export type Ended = 'local' | 'remote' | 'rejected' | 'error';

export interface UacOptions {
  /** host:port of the SIP server (livekit-sip). */
  sipAddress: string;
  /** The number dialled: Request-URI and To user. */
  to: string;
  /** Caller ID: From user. */
  from: string;
  /** Extra headers of the INVITE (the SMA's X- SipHeaders). */
  headers?: Record<string, string>;
  /** Ringing this long without an answer cancels the call (default 30 s). */
  answerTimeoutMs?: number;
  localAddress: string;
}

export interface UacEvents {
  /** The SDP of the 200 OK; throwing refuses it (the call then ends with BYE). */
  answer(sdp: string): void;
  /** The call is over (once), before the end's waiters hear of it. */
  ended(by: Ended): void;
}

// RFC 3261 §17.1.1.2: how long an INVITE waits for any response.
const TIMER_B_MS = 64 * T1_MS;
const BYE_WAIT_MS = 2000;
const USER_AGENT = 'callbridge-rtp-phone';
const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS';

const token = (bytes = 8) => randomBytes(bytes).toString('hex');

export class SipUac {
  invitedAt = 0;
  /** 200 OK received. */
  answeredAt: number | undefined;
  endedAt: number | undefined;
  endedBy: Ended | undefined;
  /** Provisional and final statuses received for the INVITE, in order (retransmissions once). */
  readonly statuses: number[] = [];
  readonly answered = deferred<number>();
  readonly ended = deferred<number>();
  phase: Phase = 'calling';

  private readonly sip: SipTransactions;
  private readonly local: string;
  /** The dialog's Call-ID. */
  readonly callId = `${randomUUID()}@callbridge`;
  private readonly fromTag = token(6);
  private readonly inviteBranch = `z9hG4bK${token()}`;
  private readonly requestUri: string;
  private readonly fromHeader: string;
  private readonly toHeader: string;
  private cseq = 1;
  private localSdp = '';
  private inviteVia = '';
  /** The dialog (§12.1.2): the far end's Contact, To with its tag, and the route set. */
  private dialog: { target: string; to: string; routes: string[] } | undefined;
  private ack: Buffer | undefined;
  private cancelled = false;

  constructor(
    private readonly opts: UacOptions,
    private readonly events: UacEvents,
  ) {
    const [host, port] = opts.sipAddress.split(':');
    this.sip = new SipTransactions(host!, Number(port ?? 5060));
    this.local = opts.localAddress;
    this.requestUri = `sip:${opts.to}@${opts.sipAddress}`;
    this.fromHeader = `<sip:${opts.from}@${this.local}>;tag=${this.fromTag}`;
    this.toHeader = `<${this.requestUri}>`;
  }

  /** The SIP server's IPv4 address the call's requests go to (once started). */
  get serverAddress(): string {
    return this.sip.remoteAddress;
  }

  /** Binds the socket and sends the INVITE offering `sdp`; resolves once it is sent. */
  async start(sdp: string): Promise<void> {
    const sipPort = await this.sip.bind(
      this.local,
      (buf, rinfo) => this.onMessage(buf, rinfo),
      () => this.close('error'),
    );
    this.localSdp = sdp;
    this.inviteVia = `SIP/2.0/UDP ${this.local}:${sipPort};branch=${this.inviteBranch};rport`;
    const invite = formatSipMessage(
      `INVITE ${this.requestUri} SIP/2.0`,
      [
        ...this.baseHeaders('INVITE', this.inviteVia, this.toHeader, this.cseq),
        ['Contact', `<sip:${this.opts.from}@${this.local}:${sipPort};transport=udp>`],
        ['Allow', ALLOW],
        ...Object.entries(this.opts.headers ?? {}),
        ['Content-Type', 'application/sdp'],
      ],
      sdp,
    );
    this.invitedAt = performance.now();
    await this.sip.send(invite);
    this.sip.retransmit(invite, () => this.phase !== 'calling', T1_MS, Infinity);
    this.sip.after(TIMER_B_MS, () => {
      if (this.phase === 'calling') this.fail(new SipCallError('no response to the INVITE', 408));
    });
    this.sip.after(this.opts.answerTimeoutMs ?? 30_000, () => {
      if (this.phase !== 'ringing') return;
      this.answered.reject(new SipCallError('the call was not answered in time'));
      void this.cancel();
    });
  }

  /** Ends the call from this side: CANCEL while ringing, BYE once answered. */
  async hangUp(): Promise<void> {
    // Already ending (a BYE or CANCEL under way, or done): wait for that instead.
    if (this.phase === 'ended' || this.cancelled) return void (await this.ended.promise);
    if (this.phase === 'answered') return this.bye();
    this.answered.reject(new SipCallError('the caller hung up before the answer'));
    // §9.1: no CANCEL before a provisional response; on loopback 100 Trying comes at once.
    if (this.phase === 'ringing') return this.cancel();
    this.close('local');
  }

  // --- in ---

  private onMessage(buf: Buffer, rinfo: RemoteInfo): void {
    const msg = parseSipMessage(buf);
    if (!msg) return;
    if (msg.kind === 'request') return void this.onRequest(msg, rinfo);
    if (sipHeader(msg, 'call-id') !== this.callId) return;
    const cseq = parseCSeq(sipHeader(msg, 'cseq'));
    if (cseq?.method === 'INVITE') return void this.onInviteResponse(msg);
    const branch = parseNameAddr(sipHeader(msg, 'via') ?? '').params.branch;
    if (cseq && msg.status >= 200) this.sip.settle(cseq.method, branch, msg.status);
  }

  private async onInviteResponse(res: SipResponse): Promise<void> {
    const receivedAt = performance.now();
    if (res.status < 200) {
      if (this.phase === 'calling') this.phase = 'ringing';
      if (this.statuses.at(-1) !== res.status) this.statuses.push(res.status);
      return;
    }
    if (res.status >= 300) return this.onRejected(res);
    if (this.ack) return void (await this.sip.send(this.ack)); // a retransmitted 200: ACK again
    this.statuses.push(res.status);
    const contact = parseNameAddr(sipHeader(res, 'contact') ?? `<${this.requestUri}>`);
    this.dialog = {
      target: contact.uri,
      to: sipHeader(res, 'to') ?? this.toHeader,
      routes: [...(res.headers.get('record-route') ?? [])].reverse(),
    };
    this.ack = this.request('ACK', this.dialog.target, this.newVia(), this.dialog.to);
    void this.sip.send(this.ack); // not awaited: the first RTP packet follows it at once
    if (this.phase === 'ended' || this.cancelled) return void (await this.bye());
    try {
      this.events.answer(res.body);
    } catch (e) {
      this.answered.reject(new SipCallError(`unusable answer: ${(e as Error).message}`));
      return void (await this.bye());
    }
    this.phase = 'answered';
    this.answeredAt = receivedAt;
    this.answered.resolve(receivedAt);
  }

  private async onRejected(res: SipResponse): Promise<void> {
    // The ACK of a failure belongs to the INVITE transaction: same branch, To with the tag.
    await this.sip.send(this.request('ACK', this.requestUri, this.inviteVia, sipHeader(res, 'to')));
    if (this.phase === 'ended') return;
    this.statuses.push(res.status);
    const auth = res.status === 401 || res.status === 407;
    const why = auth
      ? `${res.status}: the server wants digest authentication, which this phone does not do ` +
        "(allow the phone's address on the inbound trunk instead)"
      : `the call was rejected: ${res.status} ${res.reason}`;
    this.answered.reject(new SipCallError(why, res.status));
    this.close(this.cancelled ? 'local' : 'rejected');
  }

  private async onRequest(req: SipRequest, rinfo: RemoteInfo): Promise<void> {
    if (req.method === 'ACK') return;
    const ours = sipHeader(req, 'call-id') === this.callId;
    if (req.method === 'OPTIONS') {
      return this.respond(req, rinfo, 200, 'OK', [
        ['Allow', ALLOW],
        ['Accept', 'application/sdp'],
      ]);
    }
    if (req.method === 'BYE') {
      if (!ours) return this.respond(req, rinfo, 481, 'Call/Transaction Does Not Exist');
      await this.respond(req, rinfo, 200, 'OK');
      // No wait for a retransmitted BYE (timer J): on loopback the 200 is not lost.
      return this.close('remote');
    }
    if (req.method === 'INVITE' && ours && this.phase === 'answered') {
      // A re-INVITE (session refresh): the media stays as it is.
      const sdp: [string, string][] = [['Content-Type', 'application/sdp']];
      return this.respond(req, rinfo, 200, 'OK', sdp, this.localSdp);
    }
    return this.respond(req, rinfo, 405, 'Method Not Allowed', [['Allow', ALLOW]]);
  }

  // --- out ---

  private newVia(): string {
    return `SIP/2.0/UDP ${this.local}:${this.sip.localPort};branch=z9hG4bK${token()};rport`;
  }

  private baseHeaders(
    method: string,
    via: string,
    to: string,
    cseq: number,
    routes: string[] = [],
  ): [string, string][] {
    return [
      ['Via', via],
      ['Max-Forwards', '70'],
      ...routes.map((r): [string, string] => ['Route', r]),
      ['From', this.fromHeader],
      ['To', to],
      ['Call-ID', this.callId],
      ['CSeq', `${cseq} ${method}`],
      ['User-Agent', USER_AGENT],
    ];
  }

  private request(method: string, uri: string, via: string, to = this.toHeader, cseq = this.cseq) {
    const routes = method === 'ACK' && via === this.inviteVia ? [] : (this.dialog?.routes ?? []);
    const headers = this.baseHeaders(method, via, to, cseq, routes);
    return formatSipMessage(`${method} ${uri} SIP/2.0`, headers);
  }

  private respond(
    req: SipRequest,
    rinfo: RemoteInfo,
    status: number,
    reason: string,
    extra: [string, string][] = [],
    body = '',
  ): Promise<void> {
    const headers: [string, string][] = [['User-Agent', USER_AGENT], ...extra];
    const msg = formatSipResponse(req, status, reason, { toTag: this.fromTag, headers, body });
    return this.sip.send(msg, rinfo);
  }

  private async bye(): Promise<void> {
    if (!this.dialog || this.endedAt !== undefined) return this.close('local');
    this.phase = 'ended';
    const via = this.newVia();
    const msg = this.request('BYE', this.dialog.target, via, this.dialog.to, ++this.cseq);
    await this.sip.transact('BYE', msg, via, BYE_WAIT_MS);
    this.close('local');
  }

  /** CANCEL (§9.1) an INVITE that has had a provisional response; its 487 is ACKed above. */
  private async cancel(): Promise<void> {
    this.cancelled = true;
    const msg = this.request('CANCEL', this.requestUri, this.inviteVia, this.toHeader, 1);
    const status = await this.sip.transact('CANCEL', msg, this.inviteVia, BYE_WAIT_MS);
    // Once the CANCEL is accepted, the INVITE ends with 487 (or a 200 that crossed the CANCEL,
    // then BYE), which normally ends the call before this. A server that dropped the INVITE
    // without a final response (livekit-sip, for a number no trunk serves) answers the CANCEL
    // with 481 or not at all, and sends nothing more.
    if (status !== undefined && status < 300) {
      await Promise.race([
        this.ended.promise,
        new Promise<void>((r) => this.sip.after(BYE_WAIT_MS, () => r())),
      ]);
    }
    this.close('local');
  }

  private fail(e: SipCallError): void {
    this.answered.reject(e);
    this.close('error');
  }

  /** Terminal: stops the timers, closes the socket, settles every waiter. */
  close(by: Ended): void {
    if (this.endedAt !== undefined) return;
    this.phase = 'ended';
    this.endedAt = performance.now();
    this.endedBy = by;
    this.sip.close();
    this.answered.reject(new SipCallError('the call ended before it was answered'));
    this.events.ended(by);
    this.ended.resolve(this.endedAt);
  }
}
