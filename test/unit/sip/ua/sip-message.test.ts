// The lab phone's SIP messages as livekit-sip (and Chime) write them: parsing, header look-up,
// name-addr values, formatting, and responses copied from their requests.
import { describe, expect, it } from 'vitest';
import {
  formatSipMessage,
  formatSipResponse,
  parseCSeq,
  parseNameAddr,
  parseSipMessage,
  sipHeader,
  type SipRequest,
} from '../../../../sip/ua/sip-message.js';
import { ANSWER_SDP, crlf } from '../../../helpers/sip.js';

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

describe('formatSipResponse', () => {
  const request = (to: string): SipRequest => {
    const msg = parseSipMessage(
      formatSipMessage('BYE sip:phone SIP/2.0', [
        ['Via', 'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa'],
        ['Via', 'SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb'],
        ['From', '<sip:srv>;tag=far'],
        ['To', to],
        ['Call-ID', 'c-1'],
        ['CSeq', '5 BYE'],
      ]),
    );
    if (msg?.kind !== 'request') throw new Error('the test request did not parse');
    return msg;
  };

  it("copies the request's Vias in order, From, Call-ID and CSeq, then the extra headers and body", () => {
    const res = parseSipMessage(
      formatSipResponse(request('<sip:phone>;tag=mine'), 200, 'OK', {
        toTag: 'other',
        headers: [['Allow', 'INVITE']],
        body: 'x',
      }),
    )!;
    expect(res).toMatchObject({ kind: 'response', status: 200, reason: 'OK', body: 'x' });
    expect(res.headers.get('via')).toEqual([
      'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa',
      'SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb',
    ]);
    expect(['from', 'to', 'call-id', 'cseq', 'allow'].map((h) => sipHeader(res, h))).toEqual([
      '<sip:srv>;tag=far',
      '<sip:phone>;tag=mine',
      'c-1',
      '5 BYE',
      'INVITE',
    ]);
  });

  it('adds its tag to a To that has none', () => {
    const res = parseSipMessage(
      formatSipResponse(request('<sip:phone>'), 481, 'Gone', { toTag: 'mine' }),
    )!;
    expect(sipHeader(res, 'to')).toBe('<sip:phone>;tag=mine');
  });
});
