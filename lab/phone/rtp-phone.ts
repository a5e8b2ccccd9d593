// The phone network's side of a call, played the way Amazon Chime's Voice Connector plays it: a
// SIP user agent client over UDP that sends an INVITE straight to livekit-sip, starts RTP the
// moment the 200 OK arrives, and hears the agent's RTP directly. The lab's other caller
// (./sip-leg.ts) goes through a second livekit-sip call leg and two WebRTC hops, which adds
// 60 ms of mixer buffering before its first packet (livekit-sip marks an inbound call active only
// at the first RTP packet) and the WebRTC path back; this one measures what production measures.
//
// Hand-written on purpose: of the pure-Node SIP packages on npm, `sip` (0.0.x) has had no
// maintained release for years, `sip.js` and `jssip` speak SIP over WebSocket for browsers, and
// `drachtio-srf` needs its own SIP server process. A UAC that places one call, needs no digest
// auth and only G.711 is a few hundred lines of RFC 3261 / 3550 / 4566 and G.711 (this file,
// ./sip-message.ts, ./rtp-sdp.ts and ./g711.ts), all exercised by tests, which is less than
// wrapping any of those.
//
// Scope: one call per instance, UDP only, the lab's SIP server as the only next hop (requests in
// the dialog go to `sipAddress` whatever the Contact's host, as a Voice Connector sends everything
// to its origination target). Times are performance.now() milliseconds.
import { randomBytes, randomUUID } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { SILENCE_RMS, pcmRms, resamplePcm } from '../../agent/audio.js';
import { RTP_RATE, decodeG711, encodeG711, type G711 } from './g711.js';
import {
  buildRtpPacket,
  buildSdpOffer,
  parseRtpPacket,
  parseSdpAnswer,
  type SdpAnswer,
} from './rtp-sdp.js';
import { withTimeout } from './sip-leg.js';
import {
  formatSipMessage,
  parseCSeq,
  parseNameAddr,
  parseSipMessage,
  sipHeader,
  type SipRequest,
  type SipResponse,
} from './sip-message.js';

// 20 ms packets of 8 kHz G.711.
const FRAME_MS = 20;
const FRAME_SAMPLES = (RTP_RATE * FRAME_MS) / 1000;

export interface RtpCallOptions {
  /** host:port of the SIP server (livekit-sip), e.g. the lab's `stack.sipAddress`. */
  sipAddress: string;
  /** The number dialled: Request-URI and To user (the use case's LiveKit number). */
  to: string;
  /** Caller ID: From user. */
  from: string;
  /** Extra headers of the INVITE (the SMA's X- SipHeaders). */
  headers?: Record<string, string>;
  /** Codecs offered, in order of preference (default PCMU, PCMA; the server picks). */
  codecs?: G711[];
  /** RMS from which a received frame counts as audio (default: the agent's speech onset). */
  audioThreshold?: number;
  /** Ringing this long without an answer cancels the call (default 30 s). */
  answerTimeoutMs?: number;
  /** Loopback by default: the local inbound trunk admits 127.0.0.1 only. */
  localAddress?: string;
}

export interface HeardFrame {
  /** performance.now() at arrival. */
  at: number;
  rms: number;
  /** Duration of the packet's audio. */
  ms: number;
}

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

type Phase = 'calling' | 'ringing' | 'answered' | 'ended';
type Ended = 'local' | 'remote' | 'rejected' | 'error';

// RFC 3261 §17.1.1.2 and §17.1.2.2 timers.
const T1_MS = 500;
const T2_MS = 4000;
const TIMER_B_MS = 64 * T1_MS;
const BYE_WAIT_MS = 2000;
const USER_AGENT = 'callbridge-rtp-phone';
const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS';
const TELEPHONE_EVENT_PT = 101;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: Error): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  // Nobody may be waiting when a call fails; the waiters still see the rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

const token = (bytes = 8) => randomBytes(bytes).toString('hex');

/** One call from the phone network's side: SIP over UDP to livekit-sip, G.711 RTP both ways. */
export class RtpPhone {
  invitedAt = 0;
  /** 200 OK received. */
  answeredAt: number | undefined;
  /** First received frame at or above the audio threshold. */
  firstAudioAt: number | undefined;
  endedAt: number | undefined;
  endedBy: Ended | undefined;
  /** Provisional and final statuses received for the INVITE, in order (retransmissions once). */
  readonly statuses: number[] = [];
  /** The negotiated codec and the far end's RTP address, once answered. */
  media: SdpAnswer | undefined;
  /** Every RTP frame received: time, loudness, duration. */
  readonly heard: HeardFrame[] = [];

  private phase: Phase = 'calling';
  private readonly sip = createSocket('udp4');
  private readonly rtp = createSocket('udp4');
  private readonly host: string;
  private readonly port: number;
  private readonly local: string;
  private readonly threshold: number;
  private readonly callId = `${randomUUID()}@callbridge`;
  private readonly fromTag = token(6);
  private readonly inviteBranch = `z9hG4bK${token()}`;
  private readonly requestUri: string;
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private cseq = 1;
  private localSdp = '';
  private inviteVia = '';
  private fromHeader = '';
  private toHeader = '';
  /** The dialog (§12.1.2): the far end's Contact, To with its tag, and the route set. */
  private dialog: { target: string; to: string; routes: string[] } | undefined;
  private ack: Buffer | undefined;
  private cancelled = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private rtpTimer: NodeJS.Timeout | undefined;
  /** Non-INVITE requests we sent (BYE, CANCEL), keyed by CSeq method and branch. */
  private readonly pending = new Map<string, (status?: number) => void>();
  private readonly answered = deferred<number>();
  private readonly firstAudio = deferred<number>();
  private readonly ended = deferred<number>();
  // What say() queued: 8 kHz samples, sent one 20 ms frame at a time in place of silence.
  private readonly speech: Int16Array[] = [];
  private speechOffset = 0;
  private queuedSamples = 0;
  private sentSamples = 0;
  private sayWaiters: { until: number; resolve(): void }[] = [];

  private constructor(private readonly opts: RtpCallOptions) {
    const [host, port] = opts.sipAddress.split(':');
    this.host = host!;
    this.port = Number(port ?? 5060);
    this.local = opts.localAddress ?? '127.0.0.1';
    this.threshold = opts.audioThreshold ?? SILENCE_RMS;
    this.requestUri = `sip:${opts.to}@${opts.sipAddress}`;
  }

  /** Binds its sockets and sends the INVITE; resolves once it is sent. */
  static async call(opts: RtpCallOptions): Promise<RtpPhone> {
    const phone = new RtpPhone(opts);
    try {
      await phone.start();
    } catch (e) {
      phone.finish('error');
      throw e;
    }
    return phone;
  }

  private async start(): Promise<void> {
    const bind = (s: Socket) =>
      new Promise<number>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, this.local, () => {
          s.off('error', reject);
          resolve(s.address().port);
        });
      });
    const [sipPort, rtpPort] = await Promise.all([bind(this.sip), bind(this.rtp)]);
    this.sip.on('message', (buf, rinfo) => this.onSip(buf, rinfo));
    this.rtp.on('message', (buf) => this.onRtp(buf));
    for (const s of [this.sip, this.rtp]) s.on('error', () => this.finish('error'));

    this.localSdp = buildSdpOffer({
      address: this.local,
      port: rtpPort,
      sessionId: randomBytes(4).readUInt32BE(0) >>> 1,
      codecs: this.opts.codecs ?? ['PCMU', 'PCMA'],
      telephoneEvent: TELEPHONE_EVENT_PT,
    });
    this.inviteVia = `SIP/2.0/UDP ${this.local}:${sipPort};branch=${this.inviteBranch};rport`;
    this.fromHeader = `<sip:${this.opts.from}@${this.local}>;tag=${this.fromTag}`;
    this.toHeader = `<${this.requestUri}>`;
    const invite = formatSipMessage(
      `INVITE ${this.requestUri} SIP/2.0`,
      [
        ['Via', this.inviteVia],
        ['Max-Forwards', '70'],
        ['From', this.fromHeader],
        ['To', this.toHeader],
        ['Call-ID', this.callId],
        ['CSeq', `${this.cseq} INVITE`],
        ['Contact', `<sip:${this.opts.from}@${this.local}:${sipPort};transport=udp>`],
        ['Allow', ALLOW],
        ['User-Agent', USER_AGENT],
        ...Object.entries(this.opts.headers ?? {}),
        ['Content-Type', 'application/sdp'],
      ],
      this.localSdp,
    );
    this.invitedAt = performance.now();
    await this.send(invite);
    this.retransmit(invite, () => this.phase !== 'calling', T1_MS, Infinity);
    this.after(TIMER_B_MS, () => {
      if (this.phase === 'calling') this.fail(new SipCallError('no response to the INVITE', 408));
    });
    this.after(this.opts.answerTimeoutMs ?? 30_000, () => {
      if (this.phase !== 'ringing') return;
      this.answered.reject(new SipCallError('the call was not answered in time'));
      void this.cancel();
    });
  }

  // --- SIP in ---

  private onSip(buf: Buffer, rinfo: RemoteInfo): void {
    const msg = parseSipMessage(buf);
    if (!msg) return;
    if (msg.kind === 'request') return void this.onRequest(msg, rinfo);
    if (sipHeader(msg, 'call-id') !== this.callId) return;
    const cseq = parseCSeq(sipHeader(msg, 'cseq'));
    if (cseq?.method === 'INVITE') return void this.onInviteResponse(msg);
    const branch = parseNameAddr(sipHeader(msg, 'via') ?? '').params.branch;
    if (cseq && msg.status >= 200) this.pending.get(`${cseq.method} ${branch}`)?.(msg.status);
  }

  private async onInviteResponse(res: SipResponse): Promise<void> {
    const receivedAt = performance.now();
    if (res.status < 200) {
      if (this.phase === 'calling') this.phase = 'ringing';
      if (this.statuses.at(-1) !== res.status) this.statuses.push(res.status);
      return;
    }
    if (res.status >= 300) {
      // The ACK of a failure belongs to the INVITE transaction: same branch, To with the tag.
      await this.send(this.request('ACK', this.requestUri, this.inviteVia, sipHeader(res, 'to')));
      if (this.phase === 'ended') return;
      this.statuses.push(res.status);
      const auth = res.status === 401 || res.status === 407;
      const why = auth
        ? `${res.status}: the server wants digest authentication, which this phone does not do ` +
          "(allow the phone's address on the inbound trunk instead)"
        : `the call was rejected: ${res.status} ${res.reason}`;
      this.answered.reject(new SipCallError(why, res.status));
      this.finish(this.cancelled ? 'local' : 'rejected');
      return;
    }
    if (this.ack) return void (await this.send(this.ack)); // a retransmitted 200: ACK again
    this.statuses.push(res.status);
    const contact = parseNameAddr(sipHeader(res, 'contact') ?? `<${this.requestUri}>`);
    this.dialog = {
      target: contact.uri,
      to: sipHeader(res, 'to') ?? this.toHeader,
      routes: [...(res.headers.get('record-route') ?? [])].reverse(),
    };
    this.ack = this.request('ACK', this.dialog.target, this.newVia(), this.dialog.to);
    void this.send(this.ack); // not awaited: the first RTP packet follows it at once
    if (this.phase === 'ended' || this.cancelled) return void (await this.bye());
    try {
      this.media = parseSdpAnswer(res.body);
    } catch (e) {
      this.answered.reject(new SipCallError(`unusable answer: ${(e as Error).message}`));
      return void (await this.bye());
    }
    this.phase = 'answered';
    this.answeredAt = receivedAt;
    // Like a phone on the public network: audio flows from the moment the call is answered.
    this.startRtp();
    this.answered.resolve(this.answeredAt);
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
      return this.finish('remote');
    }
    if (req.method === 'INVITE' && ours && this.phase === 'answered') {
      // A re-INVITE (session refresh): the media stays as it is.
      return this.respond(
        req,
        rinfo,
        200,
        'OK',
        [['Content-Type', 'application/sdp']],
        this.localSdp,
      );
    }
    return this.respond(req, rinfo, 405, 'Method Not Allowed', [['Allow', ALLOW]]);
  }

  // --- SIP out ---

  private newVia(): string {
    const { port } = this.sip.address();
    return `SIP/2.0/UDP ${this.local}:${port};branch=z9hG4bK${token()};rport`;
  }

  private request(
    method: string,
    uri: string,
    via: string,
    to = this.toHeader,
    cseq = this.cseq,
  ): Buffer {
    const routes = method === 'ACK' && via === this.inviteVia ? [] : (this.dialog?.routes ?? []);
    return formatSipMessage(`${method} ${uri} SIP/2.0`, [
      ['Via', via],
      ['Max-Forwards', '70'],
      ...routes.map((r): [string, string] => ['Route', r]),
      ['From', this.fromHeader],
      ['To', to],
      ['Call-ID', this.callId],
      ['CSeq', `${cseq} ${method}`],
      ['User-Agent', USER_AGENT],
    ]);
  }

  private respond(
    req: SipRequest,
    rinfo: RemoteInfo,
    status: number,
    reason: string,
    extra: [string, string][] = [],
    body = '',
  ): Promise<void> {
    let to = sipHeader(req, 'to') ?? '';
    if (!parseNameAddr(to).params.tag) to += `;tag=${this.fromTag}`;
    const headers: [string, string][] = [
      ...(req.headers.get('via') ?? []).map((v): [string, string] => ['Via', v]),
      ['From', sipHeader(req, 'from') ?? ''],
      ['To', to],
      ['Call-ID', sipHeader(req, 'call-id') ?? ''],
      ['CSeq', sipHeader(req, 'cseq') ?? ''],
      ['User-Agent', USER_AGENT],
      ...extra,
    ];
    return this.send(formatSipMessage(`SIP/2.0 ${status} ${reason}`, headers, body), rinfo);
  }

  /**
   * Sends a non-INVITE request, retransmitting, and resolves with its final status, or undefined
   * after `waitMs` or when the call ends.
   */
  private async transact(
    method: string,
    msg: Buffer,
    via: string,
    waitMs: number,
  ): Promise<number | undefined> {
    if (this.endedAt !== undefined) return undefined;
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

  private async bye(): Promise<void> {
    if (!this.dialog || this.endedAt !== undefined) return this.finish('local');
    this.phase = 'ended';
    this.stopRtp();
    const via = this.newVia();
    const msg = this.request('BYE', this.dialog.target, via, this.dialog.to, ++this.cseq);
    await this.transact('BYE', msg, via, BYE_WAIT_MS);
    this.finish('local');
  }

  /** CANCEL (§9.1) an INVITE that has had a provisional response; its 487 is ACKed above. */
  private async cancel(): Promise<void> {
    this.cancelled = true;
    const msg = this.request('CANCEL', this.requestUri, this.inviteVia, this.toHeader, 1);
    const status = await this.transact('CANCEL', msg, this.inviteVia, BYE_WAIT_MS);
    // Once the CANCEL is accepted, the INVITE ends with 487 (or a 200 that crossed the CANCEL,
    // then BYE), which normally ends the call before this. A server that dropped the INVITE
    // without a final response (livekit-sip, for a number no trunk serves) answers the CANCEL
    // with 481 or not at all, and sends nothing more.
    if (status !== undefined && status < 300) {
      await Promise.race([
        this.ended.promise,
        new Promise<void>((r) => this.after(BYE_WAIT_MS, () => r())),
      ]);
    }
    this.finish('local');
  }

  /** Ends the call from this side: CANCEL while ringing, BYE once answered; closes everything. */
  async hangUp(): Promise<void> {
    // Already ending (a BYE or CANCEL under way, or done): wait for that instead.
    if (this.phase === 'ended' || this.cancelled) return void (await this.ended.promise);
    if (this.phase === 'answered') return this.bye();
    this.answered.reject(new SipCallError('the caller hung up before the answer'));
    // §9.1: no CANCEL before a provisional response; on loopback 100 Trying comes at once.
    if (this.phase === 'ringing') return this.cancel();
    this.finish('local');
  }

  // --- RTP ---

  private startRtp(): void {
    const media = this.media!;
    const silence = encodeG711(new Int16Array(FRAME_SAMPLES), media.codec);
    const start = performance.now();
    let slot = 0;
    const sequence0 = randomBytes(2).readUInt16BE(0);
    let sent = 0;
    const timestamp0 = randomBytes(4).readUInt32BE(0);
    const tick = () => {
      const due = Math.floor((performance.now() - start) / FRAME_MS) + 1;
      // After a stall, skip ahead rather than burst: a phone's clock does not wait for us.
      if (due - slot > 5) slot = due - 1;
      for (; slot < due; slot++) {
        const pcm = this.nextSpeech();
        const packet = buildRtpPacket({
          payloadType: media.payloadType,
          // The marker opens the talkspurt (RFC 3551 §4.1): the first packet of the call.
          marker: sent === 0,
          sequence: sequence0 + sent++,
          timestamp: timestamp0 + slot * FRAME_SAMPLES,
          ssrc: this.ssrc,
          payload: pcm ? encodeG711(pcm, media.codec) : silence,
        });
        this.rtp.send(packet, media.port, media.address);
      }
      this.rtpTimer = setTimeout(tick, Math.max(0, start + slot * FRAME_MS - performance.now()));
    };
    tick();
  }

  private stopRtp(): void {
    clearTimeout(this.rtpTimer);
    this.rtpTimer = undefined;
  }

  /** The next 20 ms of queued speech, or undefined for silence. */
  private nextSpeech(): Int16Array | undefined {
    if (this.speech.length === 0) return undefined;
    const frame = new Int16Array(FRAME_SAMPLES);
    let filled = 0;
    while (filled < FRAME_SAMPLES && this.speech.length > 0) {
      const head = this.speech[0]!;
      const take = Math.min(FRAME_SAMPLES - filled, head.length - this.speechOffset);
      frame.set(head.subarray(this.speechOffset, this.speechOffset + take), filled);
      filled += take;
      this.speechOffset += take;
      if (this.speechOffset >= head.length) {
        this.speech.shift();
        this.speechOffset = 0;
      }
    }
    this.sentSamples += filled;
    this.releaseSayWaiters();
    return frame;
  }

  private releaseSayWaiters(all = false): void {
    const done = this.sayWaiters.filter((w) => all || w.until <= this.sentSamples);
    this.sayWaiters = this.sayWaiters.filter((w) => !done.includes(w));
    for (const w of done) w.resolve();
  }

  /** Says mono PCM into the call in real time, in place of silence; resolves once it was sent. */
  say(samples: Int16Array, sampleRate: number): Promise<void> {
    if (this.phase === 'ended' || samples.length === 0) return Promise.resolve();
    const pcm = resamplePcm(samples, sampleRate, RTP_RATE);
    this.speech.push(pcm);
    this.queuedSamples += pcm.length;
    const until = this.queuedSamples;
    return new Promise((resolve) => this.sayWaiters.push({ until, resolve }));
  }

  private onRtp(buf: Buffer): void {
    const at = performance.now();
    const media = this.media;
    const packet = parseRtpPacket(buf);
    // Before the answer there is no codec yet; DTMF and comfort noise are not audio here.
    if (!media || !packet || packet.payloadType !== media.payloadType) return;
    const pcm = decodeG711(packet.payload, media.codec);
    const rms = pcmRms(pcm);
    this.heard.push({ at, rms, ms: (pcm.length * 1000) / RTP_RATE });
    if (rms >= this.threshold && this.firstAudioAt === undefined) {
      this.firstAudioAt = at;
      this.firstAudio.resolve(at);
    }
  }

  // --- waiting and reading ---

  /** Resolves with the answer time; rejects when the call fails or after `timeoutMs`. */
  waitAnswered(timeoutMs = 10_000): Promise<number> {
    return withTimeout(this.answered.promise, timeoutMs, 'the call was not answered');
  }

  waitFirstAudio(timeoutMs = 10_000): Promise<number> {
    return withTimeout(this.firstAudio.promise, timeoutMs, 'no audio reached the phone');
  }

  waitEnded(timeoutMs = 10_000): Promise<number> {
    return withTimeout(this.ended.promise, timeoutMs, 'the call did not end');
  }

  /** Milliseconds of audio (not silence) received since `since` (performance.now()). */
  audibleMsSince(since: number): number {
    let ms = 0;
    for (const h of this.heard) if (h.at >= since && h.rms >= this.threshold) ms += h.ms;
    return ms;
  }

  // --- plumbing ---

  private send(msg: Buffer, to?: RemoteInfo): Promise<void> {
    if (this.endedAt !== undefined) return Promise.resolve(); // sockets closed
    return new Promise((resolve) =>
      this.sip.send(msg, to?.port ?? this.port, to?.address ?? this.host, () => resolve()),
    );
  }

  /** Resends `msg` at T1, 2·T1, … (capped at `capMs`) until `stop()` says so (§17.1.1.2). */
  private retransmit(msg: Buffer, stop: () => boolean, intervalMs: number, capMs: number): void {
    this.after(intervalMs, () => {
      if (stop() || this.endedAt !== undefined) return;
      void this.send(msg);
      this.retransmit(msg, stop, Math.min(intervalMs * 2, capMs), capMs);
    });
  }

  private after(ms: number, fn: () => void): void {
    if (this.endedAt !== undefined) return; // finish() cleared the timers; set no new ones
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private fail(e: SipCallError): void {
    this.answered.reject(e);
    this.finish('error');
  }

  /** Terminal: stops media and timers, closes both sockets, settles every waiter. */
  private finish(by: Ended): void {
    if (this.endedAt !== undefined) return;
    this.phase = 'ended';
    this.endedAt = performance.now();
    this.endedBy = by;
    this.stopRtp();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const done of this.pending.values()) done();
    this.releaseSayWaiters(true);
    this.answered.reject(new SipCallError('the call ended before it was answered'));
    this.firstAudio.reject(new SipCallError('the call ended before any audio'));
    for (const s of [this.sip, this.rtp]) {
      try {
        s.close();
      } catch {
        // not bound yet, or already closed
      }
    }
    this.ended.resolve(this.endedAt);
  }
}
