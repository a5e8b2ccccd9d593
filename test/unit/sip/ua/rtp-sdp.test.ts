// The lab phone's SDP offer, livekit-sip's answer as the phone reads it, and RTP packets.
import { describe, expect, it } from 'vitest';
import {
  buildRtpPacket,
  buildSdpOffer,
  parseRtpPacket,
  parseSdpAnswer,
  SdpError,
} from '../../../../sip/ua/rtp-sdp.js';
import { ANSWER_SDP, crlf } from '../../../helpers/sip.js';

describe('SDP', () => {
  it('offers PCMU, PCMA and telephone-event on the phone RTP port', () => {
    const sdp = buildSdpOffer({
      address: '127.0.0.1',
      port: 40002,
      sessionId: 42,
      codecs: ['PCMU', 'PCMA'],
      telephoneEvent: 101,
    });
    expect(sdp.split('\r\n')).toEqual([
      'v=0',
      'o=- 42 42 IN IP4 127.0.0.1',
      's=callbridge rtp phone',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 40002 RTP/AVP 0 8 101',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=ptime:20',
      'a=sendrecv',
      '',
    ]);
  });

  it("reads livekit-sip's answer: address, port, codec and DTMF type", () => {
    expect(parseSdpAnswer(ANSWER_SDP)).toEqual({
      address: '127.0.0.1',
      port: 20452,
      codec: 'PCMU',
      payloadType: 0,
      telephoneEvent: 101,
    });
  });

  it('prefers a media-level address and reads PCMA by its static type without rtpmap', () => {
    const sdp = crlf([
      'v=0',
      'c=IN IP4 192.0.2.1',
      'm=video 5000 RTP/AVP 96',
      'c=IN IP4 192.0.2.9',
      'm=audio 6000 RTP/AVP 8',
      'c=IN IP4 192.0.2.2',
    ]);
    expect(parseSdpAnswer(sdp)).toEqual({
      address: '192.0.2.2',
      port: 6000,
      codec: 'PCMA',
      payloadType: 8,
    });
  });

  it('refuses an answer without a usable audio stream', () => {
    const base = ['v=0', 'c=IN IP4 127.0.0.1'];
    expect(() => parseSdpAnswer(crlf(base))).toThrow(SdpError);
    expect(() => parseSdpAnswer(crlf([...base, 'm=audio 0 RTP/AVP 0']))).toThrow(/port 0/);
    expect(() =>
      parseSdpAnswer(crlf([...base, 'm=audio 7000 RTP/AVP 9', 'a=rtpmap:9 G722/8000'])),
    ).toThrow(/G.711/);
    expect(() => parseSdpAnswer(crlf(['v=0', 'm=audio 7000 RTP/AVP 0']))).toThrow(/address/);
  });
});

describe('RTP packets', () => {
  it('round-trips the fixed header and payload', () => {
    const packet = {
      payloadType: 0,
      marker: true,
      sequence: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
      payload: Buffer.from([1, 2, 3]),
    };
    const buf = buildRtpPacket(packet);
    expect(buf.length).toBe(15);
    expect(buf[0]).toBe(0x80);
    expect(parseRtpPacket(buf)).toEqual(packet);
  });

  it('takes a payload that is a view into a larger buffer, and copies only its bytes', () => {
    const frame = new Uint8Array([9, 9, 1, 2, 3, 9]).subarray(2, 5);
    const buf = buildRtpPacket({
      payloadType: 8,
      marker: false,
      sequence: 1,
      timestamp: 2,
      ssrc: 3,
      payload: frame,
    });
    expect([...buf.subarray(12)]).toEqual([1, 2, 3]);
    expect(parseRtpPacket(buf)).toMatchObject({ payloadType: 8, marker: false, sequence: 1 });
  });

  it('skips CSRCs, a header extension and padding; refuses what is not RTP version 2', () => {
    const head = Buffer.from([0xb1, 8, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]); // V2, P, X, CC=1
    const csrc = Buffer.alloc(4);
    const ext = Buffer.from([0xbe, 0xde, 0, 1, 9, 9, 9, 9]);
    const payload = Buffer.from([0xd5, 0xd5]);
    const padding = Buffer.from([0, 0, 3]);
    const parsed = parseRtpPacket(Buffer.concat([head, csrc, ext, payload, padding]))!;
    expect(parsed).toMatchObject({ payloadType: 8, sequence: 1, timestamp: 2, ssrc: 3 });
    expect([...parsed.payload]).toEqual([0xd5, 0xd5]);
    expect(parseRtpPacket(Buffer.alloc(12))).toBeUndefined();
    expect(parseRtpPacket(Buffer.from([0x80, 0]))).toBeUndefined();
  });
});
