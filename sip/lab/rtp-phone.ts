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
// auth and only G.711 is a few hundred lines of RFC 3261 / 3550 / 4566 and G.711, all exercised
// by tests, which is less than wrapping any of those.
//
// Scope: one call per instance, UDP only, the lab's SIP server as the only next hop (requests in
// the dialog go to `sipAddress` whatever the Contact's host, as a Voice Connector sends everything
// to its origination target). Times are performance.now() milliseconds.
import { randomBytes, randomUUID } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { AudioFrame } from '@livekit/rtc-node';
import { SILENCE_RMS, frameRms, resamplePcm } from '../../agent/audio.js';
import { withTimeout } from './sip-leg.js';

// ---------------------------------------------------------------------------------------------
// G.711 (ITU-T G.711): µ-law and A-law, 8 kHz, one byte per sample.

export type G711 = 'PCMU' | 'PCMA';
export const RTP_RATE = 8000;
const FRAME_MS = 20;
const FRAME_SAMPLES = (RTP_RATE * FRAME_MS) / 1000;
const STATIC_PAYLOAD: Record<G711, number> = { PCMU: 0, PCMA: 8 };

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

export function mulawEncode(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const m = Math.min(Math.abs(sample), MULAW_CLIP) + MULAW_BIAS;
  // The segment is the position of the highest set bit above bit 7.
  let exponent = 7;
  while (exponent > 0 && (m & (0x80 << exponent)) === 0) exponent--;
  const mantissa = (m >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function mulawDecode(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

export function alawEncode(sample: number): number {
  // A-law works on 13 bits; even bits are inverted on the wire (the 0x55 mask).
  let v = sample >> 3;
  let mask = 0xd5;
  if (v < 0) {
    mask = 0x55;
    v = -v - 1;
  }
  let segment = 0;
  while (segment < 8 && v >= 0x20 << segment) segment++;
  if (segment >= 8) return 0x7f ^ mask;
  const mantissa = segment < 2 ? (v >> 1) & 0x0f : (v >> segment) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

export function alawDecode(byte: number): number {
  const a = byte ^ 0x55;
  const segment = (a & 0x70) >> 4;
  let t = ((a & 0x0f) << 4) + 8;
  if (segment >= 1) t = (t + 0x100) << (segment - 1);
  return a & 0x80 ? t : -t;
}

const DECODE: Record<G711, Int16Array> = {
  PCMU: Int16Array.from({ length: 256 }, (_, b) => mulawDecode(b)),
  PCMA: Int16Array.from({ length: 256 }, (_, b) => alawDecode(b)),
};

export function encodeG711(pcm: Int16Array, codec: G711): Buffer {
  const encode = codec === 'PCMU' ? mulawEncode : alawEncode;
  const out = Buffer.allocUnsafe(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = encode(pcm[i]!);
  return out;
}

export function decodeG711(payload: Uint8Array, codec: G711): Int16Array {
  const table = DECODE[codec];
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = table[payload[i]!]!;
  return out;
}

// ---------------------------------------------------------------------------------------------
// RTP (RFC 3550): fixed 12-byte header, no CSRCs or extensions sent; both skipped when received.

export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

export function buildRtpPacket(p: RtpPacket): Buffer {
  const head = Buffer.alloc(12);
  head[0] = 0x80; // version 2
  head[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  head.writeUInt16BE(p.sequence & 0xffff, 2);
  head.writeUInt32BE(p.timestamp >>> 0, 4);
  head.writeUInt32BE(p.ssrc >>> 0, 8);
  return Buffer.concat([head, p.payload]);
}

export function parseRtpPacket(buf: Buffer): RtpPacket | undefined {
  if (buf.length < 12 || buf[0]! >> 6 !== 2) return undefined;
  let start = 12 + (buf[0]! & 0x0f) * 4;
  if (buf[0]! & 0x10) {
    if (buf.length < start + 4) return undefined;
    start += 4 + buf.readUInt16BE(start + 2) * 4;
  }
  const padding = buf[0]! & 0x20 ? buf[buf.length - 1]! : 0;
  if (start > buf.length - padding) return undefined;
  return {
    payloadType: buf[1]! & 0x7f,
    marker: (buf[1]! & 0x80) !== 0,
    sequence: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(start, buf.length - padding),
  };
}

// ---------------------------------------------------------------------------------------------
// SDP (RFC 4566 / 3264): an audio-only offer, and the parts of the answer a phone needs.

export interface SdpOffer {
  address: string;
  port: number;
  sessionId: number;
  /** In order of preference. */
  codecs: G711[];
  /** RFC 4733 DTMF payload type offered, or none. */
  telephoneEvent?: number;
}

export function buildSdpOffer(o: SdpOffer): string {
  const pts = [...o.codecs.map((c) => STATIC_PAYLOAD[c])];
  const lines = [
    'v=0',
    `o=- ${o.sessionId} ${o.sessionId} IN IP4 ${o.address}`,
    's=callbridge rtp phone',
    `c=IN IP4 ${o.address}`,
    't=0 0',
  ];
  const attrs = o.codecs.map((c) => `a=rtpmap:${STATIC_PAYLOAD[c]} ${c}/${RTP_RATE}`);
  if (o.telephoneEvent !== undefined) {
    pts.push(o.telephoneEvent);
    attrs.push(`a=rtpmap:${o.telephoneEvent} telephone-event/${RTP_RATE}`);
    attrs.push(`a=fmtp:${o.telephoneEvent} 0-16`);
  }
  lines.push(`m=audio ${o.port} RTP/AVP ${pts.join(' ')}`, ...attrs, 'a=ptime:20', 'a=sendrecv');
  return lines.join('\r\n') + '\r\n';
}

export interface SdpAnswer {
  address: string;
  port: number;
  codec: G711;
  payloadType: number;
  telephoneEvent?: number;
}

export class SdpError extends Error {
  override name = 'SdpError';
}

/** The first audio stream of an answer; its codec is the first G.711 format the answer lists. */
export function parseSdpAnswer(sdp: string): SdpAnswer {
  let sessionAddress: string | undefined;
  let media: { port: number; formats: number[]; address?: string } | undefined;
  const rtpmap = new Map<number, string>();
  // Which block the line belongs to: session level, the (first) audio stream, or another stream.
  let section: 'session' | 'audio' | 'other' = 'session';
  for (const line of sdp.split(/\r?\n/)) {
    const c = /^c=IN IP[46] ([^\s/]+)/.exec(line);
    if (c && section === 'session') sessionAddress = c[1];
    if (c && section === 'audio') media!.address = c[1];
    const m = /^m=(\w+) (\d+)(?:\/\d+)? [\w/]+((?: \d+)*)/.exec(line);
    if (m) {
      section = m[1] === 'audio' && !media ? 'audio' : 'other';
      if (section === 'audio') {
        media = {
          port: Number(m[2]),
          formats: m[3]!.trim().split(/\s+/).filter(Boolean).map(Number),
        };
      }
    }
    const a = /^a=rtpmap:(\d+) ([\w.-]+)\/(\d+)/.exec(line);
    if (a && section === 'audio') rtpmap.set(Number(a[1]), `${a[2]!.toUpperCase()}/${a[3]}`);
  }
  if (!media) throw new SdpError('the answer has no audio stream');
  if (media.port === 0) throw new SdpError('the answer rejected the audio stream (port 0)');
  const address = media.address ?? sessionAddress;
  if (!address) throw new SdpError('the answer has no connection address');
  const nameOf = (pt: number) =>
    rtpmap.get(pt) ?? (pt === 0 ? 'PCMU/8000' : pt === 8 ? 'PCMA/8000' : undefined);
  const payloadType = media.formats.find((pt) => /^PCM[UA]\/8000$/.test(nameOf(pt) ?? ''));
  if (payloadType === undefined) throw new SdpError('the answer chose no G.711 codec');
  const telephoneEvent = media.formats.find((pt) => nameOf(pt) === 'TELEPHONE-EVENT/8000');
  return {
    address,
    port: media.port,
    codec: nameOf(payloadType)!.slice(0, 4) as G711,
    payloadType,
    ...(telephoneEvent !== undefined ? { telephoneEvent } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// SIP messages (RFC 3261 §7): parsed into lower-case full header names, values in order.

interface SipBase {
  /** Lower-case full names (compact forms expanded); list headers split at their commas. */
  headers: Map<string, string[]>;
  body: string;
}
export interface SipRequest extends SipBase {
  kind: 'request';
  method: string;
  uri: string;
}
export interface SipResponse extends SipBase {
  kind: 'response';
  status: number;
  reason: string;
}
export type SipMessage = SipRequest | SipResponse;

// RFC 3261 §7.3.3 and the IANA registry's compact forms.
const COMPACT: Record<string, string> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};
/** Headers whose comma-separated values are separate entries (§7.3.1). */
const LIST_HEADERS = new Set(['via', 'contact', 'route', 'record-route']);

/** Splits at commas outside quotes and angle brackets. */
function splitList(value: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let angle = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && ch === '<') angle = true;
    else if (!quoted && ch === '>') angle = false;
    else if (!quoted && !angle && ch === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((v) => v !== '');
}

/** A SIP message from one UDP datagram, or undefined if it is not one (keep-alives, junk). */
export function parseSipMessage(data: Buffer | string): SipMessage | undefined {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let end = buf.indexOf('\r\n\r\n');
  let sep = 4;
  if (end < 0) {
    end = buf.indexOf('\n\n');
    sep = 2;
  }
  if (end < 0) return undefined;
  // Folded lines (a line starting with white space continues the previous one, §7.3.1).
  const lines = buf
    .subarray(0, end)
    .toString('utf8')
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/);
  const start = lines.shift() ?? '';
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const raw = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT[raw] ?? raw;
    const value = line.slice(colon + 1).trim();
    const values = LIST_HEADERS.has(name) ? splitList(value) : [value];
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  const declared = Number(headers.get('content-length')?.[0]);
  const rest = buf.subarray(end + sep);
  const body = (Number.isInteger(declared) ? rest.subarray(0, declared) : rest).toString('utf8');
  const response = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start);
  if (response) {
    const [, status, reason] = response;
    return { kind: 'response', status: Number(status), reason: reason ?? '', headers, body };
  }
  const request = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(start);
  if (request) return { kind: 'request', method: request[1]!, uri: request[2]!, headers, body };
  return undefined;
}

/** The first value of a header, by full or compact name. */
export function sipHeader(msg: SipMessage, name: string): string | undefined {
  const n = name.toLowerCase();
  return msg.headers.get(COMPACT[n] ?? n)?.[0];
}

/** A name-addr or addr-spec (`"Bob" <sip:bob@host>;tag=1`): its URI and header parameters. */
export function parseNameAddr(value: string): { uri: string; params: Record<string, string> } {
  const lt = value.indexOf('<');
  const gt = value.indexOf('>', lt);
  const uri = lt >= 0 && gt > lt ? value.slice(lt + 1, gt) : value.split(';')[0]!.trim();
  const tail =
    lt >= 0 && gt > lt ? value.slice(gt + 1) : value.slice(value.indexOf(';') + 1 || value.length);
  const params: Record<string, string> = {};
  for (const p of tail.split(';')) {
    const [k, v] = p.split('=');
    if (k?.trim()) params[k.trim().toLowerCase()] = v?.trim() ?? '';
  }
  return { uri, params };
}

export function parseCSeq(value: string | undefined): { seq: number; method: string } | undefined {
  const m = /^(\d+)\s+([A-Z]+)$/.exec(value?.trim() ?? '');
  return m ? { seq: Number(m[1]), method: m[2]! } : undefined;
}

/** Start line, headers and body with a correct Content-Length (bytes, not characters). */
export function formatSipMessage(start: string, headers: [string, string][], body = ''): Buffer {
  const lines = [start, ...headers.map(([k, v]) => `${k}: ${v}`)];
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

// ---------------------------------------------------------------------------------------------
// The phone.

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
    const rms = frameRms(new AudioFrame(pcm, RTP_RATE, 1, pcm.length));
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
