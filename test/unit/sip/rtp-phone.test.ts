// The lab phone's wire formats: SIP messages as livekit-sip (and Chime) write them, the SDP offer
// and answer, RTP packets and G.711. The call itself runs against the real stack in
// test/e2e/rtp-phone.test.ts.
import { createSocket, type RemoteInfo } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import {
  RtpPhone,
  SipCallError,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  alawDecode,
  alawEncode,
  buildRtpPacket,
  buildSdpOffer,
  decodeG711,
  encodeG711,
  formatSipMessage,
  mulawDecode,
  mulawEncode,
  parseCSeq,
  parseNameAddr,
  parseRtpPacket,
  parseSdpAnswer,
  parseSipMessage,
  SdpError,
  sipHeader,
} from '../../../sip/lab/rtp-phone.js';

const crlf = (lines: string[]) => lines.join('\r\n');

const ANSWER_SDP = crlf([
  'v=0',
  'o=LiveKit 1700000000 1700000001 IN IP4 127.0.0.1',
  's=LiveKit',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 20452 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  '',
]);

describe('parseSipMessage', () => {
  it('reads a 200 OK with several Vias, compact forms, a folded line and an SDP body', () => {
    const text =
      crlf([
        'SIP/2.0 200 OK',
        'v: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKaaa;rport=40000, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKbbb',
        'Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKccc',
        'f: <sip:+15550100999@127.0.0.1>;tag=from1',
        't: "LiveKit, SIP" <sip:+12025550132@127.0.0.1:5060>;tag=to1',
        'i: 1234@callbridge',
        'CSeq: 1 INVITE',
        'm: <sip:127.0.0.1:5060;transport=udp>',
        'Record-Route: <sip:proxy1;lr>,',
        ' <sip:proxy2;lr>',
        'c: application/sdp',
        'X-Custom:  padded value  ',
        `l: ${Buffer.byteLength(ANSWER_SDP)}`,
        '',
        '',
      ]) + ANSWER_SDP;

    const msg = parseSipMessage(text)!;

    expect(msg.kind).toBe('response');
    expect(msg.kind === 'response' && [msg.status, msg.reason]).toEqual([200, 'OK']);
    expect(msg.headers.get('via')).toEqual([
      'SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKaaa;rport=40000',
      'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKbbb',
      'SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKccc',
    ]);
    // The comma inside the quoted display name does not split a To header (nor is To a list).
    expect(sipHeader(msg, 'To')).toBe('"LiveKit, SIP" <sip:+12025550132@127.0.0.1:5060>;tag=to1');
    expect(sipHeader(msg, 'call-id')).toBe('1234@callbridge');
    expect(sipHeader(msg, 'i')).toBe('1234@callbridge');
    expect(sipHeader(msg, 'contact')).toBe('<sip:127.0.0.1:5060;transport=udp>');
    expect(msg.headers.get('record-route')).toEqual(['<sip:proxy1;lr>', '<sip:proxy2;lr>']);
    expect(sipHeader(msg, 'x-custom')).toBe('padded value');
    expect(sipHeader(msg, 'content-type')).toBe('application/sdp');
    expect(msg.body).toBe(ANSWER_SDP);
  });

  it('reads a request and cuts the body at Content-Length', () => {
    const msg = parseSipMessage(
      crlf([
        'BYE sip:+15550100999@127.0.0.1:40000;transport=udp SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKbye',
        'CSeq: 7 BYE',
        'Content-Length: 2',
        '',
        'okTRAILING',
      ]),
    )!;
    expect(msg).toMatchObject({
      kind: 'request',
      method: 'BYE',
      uri: 'sip:+15550100999@127.0.0.1:40000;transport=udp',
      body: 'ok',
    });
    expect(parseCSeq(sipHeader(msg, 'cseq'))).toEqual({ seq: 7, method: 'BYE' });
  });

  it('returns undefined for what is not SIP (keep-alives, junk)', () => {
    expect(parseSipMessage('\r\n\r\n')).toBeUndefined();
    expect(parseSipMessage('hello')).toBeUndefined();
    expect(parseSipMessage('HTTP/1.1 200 OK\r\n\r\n')).toBeUndefined();
  });

  it('round-trips what formatSipMessage writes, counting Content-Length in bytes', () => {
    const body = 'é\r\n';
    const buf = formatSipMessage('OPTIONS sip:127.0.0.1 SIP/2.0', [['CSeq', '1 OPTIONS']], body);
    const msg = parseSipMessage(buf)!;
    expect(sipHeader(msg, 'content-length')).toBe('4');
    expect(msg.body).toBe(body);
  });
});

describe('parseNameAddr', () => {
  it('separates the URI from header parameters in both forms', () => {
    expect(parseNameAddr('"A" <sip:a@h;transport=udp>;tag=xyz;other')).toEqual({
      uri: 'sip:a@h;transport=udp',
      params: { tag: 'xyz', other: '' },
    });
    expect(parseNameAddr('sip:a@h;tag=1').params.tag).toBe('1');
    expect(parseNameAddr('SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bKx;rport').params).toEqual({
      branch: 'z9hG4bKx',
      rport: '',
    });
  });
});

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

describe('G.711', () => {
  it('encodes silence as the codecs define it (µ-law 0xFF, A-law 0xD5)', () => {
    expect([...encodeG711(new Int16Array(3), 'PCMU')]).toEqual([0xff, 0xff, 0xff]);
    expect([...encodeG711(new Int16Array(3), 'PCMA')]).toEqual([0xd5, 0xd5, 0xd5]);
  });

  it('decodes every code and re-encodes it to the same code (µ-law has two zeros)', () => {
    for (let b = 0; b < 256; b++) {
      const back = mulawEncode(mulawDecode(b));
      expect(back === b || (b === 0x7f && back === 0xff)).toBe(true);
      expect(alawEncode(alawDecode(b))).toBe(b);
    }
  });

  it('keeps PCM within the quantisation step across the range, clipping at full scale', () => {
    const pcm = Int16Array.from({ length: 2001 }, (_, i) => Math.round(-32768 + i * 32.767));
    for (const codec of ['PCMU', 'PCMA'] as const) {
      const back = decodeG711(encodeG711(pcm, codec), codec);
      pcm.forEach((v, i) => {
        // Logarithmic steps: about 1/16 of the magnitude at worst, plus the smallest step.
        expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(Math.abs(v) / 16 + 16);
      });
    }
    expect(mulawDecode(mulawEncode(32767))).toBe(32124);
    expect(mulawDecode(mulawEncode(-32768))).toBe(-32124);
    expect(alawDecode(alawEncode(32767))).toBe(32256);
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

/** A scripted SIP server on loopback UDP: records what the phone sends, answers as told. */
async function fakeServer(onRequest: (req: SipRequest, reply: Reply) => void) {
  const sip = createSocket('udp4');
  const rtp = createSocket('udp4');
  const got: SipMessage[] = [];
  const rtpIn: Buffer[] = [];
  let phone: RemoteInfo | undefined;
  const send = (buf: Buffer) => sip.send(buf, phone!.port, phone!.address);
  sip.on('message', (buf, rinfo) => {
    phone = rinfo;
    const msg = parseSipMessage(buf)!;
    got.push(msg);
    if (msg.kind === 'request')
      onRequest(msg, (status, extra = [], body = '') => {
        const to = sipHeader(msg, 'to')!;
        send(
          formatSipMessage(
            `SIP/2.0 ${status} X`,
            [
              ...msg.headers.get('via')!.map((v): [string, string] => ['Via', v]),
              ['From', sipHeader(msg, 'from')!],
              ['To', to.includes('tag=') ? to : `${to};tag=srv`],
              ['Call-ID', sipHeader(msg, 'call-id')!],
              ['CSeq', sipHeader(msg, 'cseq')!],
              ...extra,
            ],
            body,
          ),
        );
      });
  });
  rtp.on('message', (buf) => rtpIn.push(buf));
  await Promise.all([sip, rtp].map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', r))));
  const answer = ANSWER_SDP.replace('20452', String(rtp.address().port));
  return {
    address: `127.0.0.1:${sip.address().port}`,
    got,
    rtpIn,
    answer,
    /** Sends a request to the phone as the far end. */
    request: (start: string, headers: [string, string][]) => send(formatSipMessage(start, headers)),
    requests: (method: string) =>
      got.filter((m): m is SipRequest => m.kind === 'request' && m.method === method),
    close: () => Promise.all([sip, rtp].map((s) => new Promise<void>((r) => s.close(() => r())))),
  };
}
type Reply = (status: number, extra?: [string, string][], body?: string) => void;

const until = async (what: string, ok: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('RtpPhone against a scripted SIP server', () => {
  it('retransmits the INVITE until a provisional response, then ACKs every 200 and sends RTP at once', async () => {
    let invites = 0;
    const srv = await fakeServer((req, reply) => {
      if (req.method === 'INVITE' && ++invites === 2) {
        reply(100);
        setTimeout(() => {
          const ok: [string, string][] = [['Contact', `<sip:${srv.address}>`]];
          reply(200, ok, srv.answer);
          setTimeout(() => reply(200, ok, srv.answer), 30); // as if our ACK were lost
        }, 50);
      }
      if (req.method === 'BYE') reply(200);
    });
    const phone = await RtpPhone.call({
      sipAddress: srv.address,
      to: '+12025550132',
      from: '+15550100999',
      headers: { 'X-Sma-Transaction-Id': 'tx-1' },
    });
    try {
      const answeredAt = await phone.waitAnswered(5000);
      // Timer A: the first INVITE went unanswered, the retransmission 500 ms later got 100.
      expect(answeredAt - phone.invitedAt).toBeGreaterThanOrEqual(500);
      const [invite] = srv.requests('INVITE');
      expect(sipHeader(invite!, 'x-sma-transaction-id')).toBe('tx-1');
      expect(sipHeader(invite!, 'max-forwards')).toBe('70');
      expect(parseNameAddr(sipHeader(invite!, 'from')!).params.tag).toBeTruthy();
      expect(invite!.body).toMatch(/^m=audio \d+ RTP\/AVP 0 8 101\r$/m);
      expect(sipHeader(srv.requests('INVITE')[1]!, 'via')).toBe(sipHeader(invite!, 'via'));
      await until('two ACKs', () => srv.requests('ACK').length === 2);
      const acks = srv.requests('ACK');
      expect(acks[0]!.uri).toBe(`sip:${srv.address}`);
      expect(sipHeader(acks[1]!, 'via')).toBe(sipHeader(acks[0]!, 'via'));
      expect(phone.statuses).toEqual([100, 200]);

      await until('RTP', () => srv.rtpIn.length > 0, 200);
      const first = parseRtpPacket(srv.rtpIn[0]!)!;
      expect(first).toMatchObject({ payloadType: 0, marker: true });
      expect(first.payload.length).toBe(160);
      expect([...new Set(first.payload)]).toEqual([0xff]); // µ-law silence

      const tone = Int16Array.from({ length: 1600 }, (_, i) => 8000 * Math.sin(i / 3));
      const before = srv.rtpIn.length;
      await phone.say(tone, 16000); // 100 ms at 16 kHz: five frames at 8 kHz
      const loud = srv.rtpIn
        .slice(before)
        .filter((b) => parseRtpPacket(b)!.payload.some((x) => x !== 0xff));
      expect(loud.length).toBeGreaterThanOrEqual(4);
    } finally {
      await phone.hangUp();
      await srv.close();
    }
    const [bye] = srv.requests('BYE');
    expect(parseCSeq(sipHeader(bye!, 'cseq'))).toEqual({ seq: 2, method: 'BYE' });
    expect(parseNameAddr(sipHeader(bye!, 'to')!).params.tag).toBe('srv');
    expect(phone.endedBy).toBe('local');
  });

  it('answers OPTIONS, and a BYE from the far end with 200, ending the call', async () => {
    const srv = await fakeServer((req, reply) => {
      if (req.method === 'INVITE') reply(200, [['Contact', `<sip:${srv.address}>`]], srv.answer);
    });
    const phone = await RtpPhone.call({ sipAddress: srv.address, to: '+1', from: '+2' });
    try {
      await phone.waitAnswered(2000);
      const invite = srv.requests('INVITE')[0]!;
      const dialog: [string, string][] = [
        ['From', '<sip:+1@srv>;tag=srv'],
        ['To', sipHeader(invite, 'from')!],
        ['Call-ID', sipHeader(invite, 'call-id')!],
      ];
      srv.request('OPTIONS sip:phone SIP/2.0', [
        ['Via', 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKopt'],
        ['From', '<sip:srv>;tag=o'],
        ['To', '<sip:phone>'],
        ['Call-ID', 'options-1'],
        ['CSeq', '1 OPTIONS'],
      ]);
      srv.request('BYE sip:phone SIP/2.0', [
        ['Via', 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKbye'],
        ...dialog,
        ['CSeq', '5 BYE'],
      ]);
      await phone.waitEnded(2000);
      const responses = () => srv.got.filter((m): m is SipResponse => m.kind === 'response');
      await until('two responses', () => responses().length === 2);
      expect(responses().map((r) => [r.status, sipHeader(r, 'cseq')])).toEqual([
        [200, '1 OPTIONS'],
        [200, '5 BYE'],
      ]);
      expect(sipHeader(responses()[0]!, 'allow')).toContain('INVITE');
      expect(phone.endedBy).toBe('remote');
    } finally {
      await phone.hangUp();
      await srv.close();
    }
  });

  it('ACKs a rejection and fails with its status; says clearly that it does no digest auth', async () => {
    for (const [status, message] of [
      [486, /rejected: 486/],
      [407, /digest authentication/],
    ] as const) {
      const srv = await fakeServer((req, reply) => {
        if (req.method === 'INVITE') reply(status);
      });
      const phone = await RtpPhone.call({ sipAddress: srv.address, to: '+1', from: '+2' });
      try {
        const failed = await phone.waitAnswered(2000).catch((e: unknown) => e);
        expect(failed).toBeInstanceOf(SipCallError);
        expect(failed).toMatchObject({ status, message: expect.stringMatching(message) });
        await until('the ACK', () => srv.requests('ACK').length === 1);
        const [ack] = srv.requests('ACK');
        // The ACK of a failure is part of the INVITE transaction: the same branch.
        expect(sipHeader(ack!, 'via')).toBe(sipHeader(srv.requests('INVITE')[0]!, 'via'));
        expect(phone.endedBy).toBe('rejected');
      } finally {
        await phone.hangUp();
        await srv.close();
      }
    }
  });

  it('CANCELs a ringing call on hangUp and ACKs the 487', async () => {
    const srv = await fakeServer((req, reply) => {
      if (req.method === 'INVITE') reply(180);
      if (req.method === 'CANCEL') {
        reply(200);
        const invite = srv.requests('INVITE')[0]!;
        srv.request('SIP/2.0 487 Request Terminated', [
          ...invite.headers.get('via')!.map((v): [string, string] => ['Via', v]),
          ['From', sipHeader(invite, 'from')!],
          ['To', `${sipHeader(invite, 'to')!};tag=srv`],
          ['Call-ID', sipHeader(invite, 'call-id')!],
          ['CSeq', '1 INVITE'],
        ]);
      }
    });
    const phone = await RtpPhone.call({ sipAddress: srv.address, to: '+1', from: '+2' });
    await until('ringing', () => phone.statuses.includes(180));
    await phone.hangUp();
    expect(srv.requests('CANCEL')).toHaveLength(1);
    await until('the ACK of the 487', () => srv.requests('ACK').length === 1);
    expect(phone.endedBy).toBe('local');
    await expect(phone.waitAnswered(100)).rejects.toThrow(/hung up before the answer/);
    await srv.close();
  });
});
