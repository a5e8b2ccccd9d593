// RTP packets (RFC 3550) and the SDP offer/answer (RFC 4566 / 3264) of the SIP user
// agent (./sip-uac.ts) and its callers: G.711 audio only.
import { RTP_RATE, type G711 } from '../../agent/g711.js';

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

/** One packet: header and payload in one buffer, from Node's pool (no allocation of its own). */
export function buildRtpPacket(p: Omit<RtpPacket, 'payload'> & { payload: Uint8Array }): Buffer {
  const packet = Buffer.allocUnsafe(12 + p.payload.length);
  packet[0] = 0x80; // version 2, no padding, extension or CSRCs
  packet[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  packet.writeUInt16BE(p.sequence & 0xffff, 2);
  packet.writeUInt32BE(p.timestamp >>> 0, 4);
  packet.writeUInt32BE(p.ssrc >>> 0, 8);
  packet.set(p.payload, 12);
  return packet;
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

// RTP/AVP static payload types (RFC 3551).
const STATIC_PAYLOAD: Record<G711, number> = { PCMU: 0, PCMA: 8 };

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
