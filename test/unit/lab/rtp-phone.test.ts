// The lab phone's call against a scripted SIP server on loopback: INVITE retransmission, ACKs,
// RTP, OPTIONS, BYE, rejections and CANCEL. Its wire formats are tested in sip-message.test.ts,
// rtp-sdp.test.ts and g711.test.ts; the call against the real stack in test/e2e/rtp-phone.test.ts.
import { describe, expect, it } from 'vitest';
import { RtpPhone, SipCallError } from '../../../lab/phone/rtp-phone.js';
import { parseRtpPacket } from '../../../sip/ua/rtp-sdp.js';
import {
  type SipResponse,
  parseCSeq,
  parseNameAddr,
  sipHeader,
} from '../../../sip/ua/sip-message.js';
import { fakeSipServer as fakeServer } from '../../helpers/sip-server.js';
import { until } from '../../helpers/wait.js';

/** A local exchange answers in milliseconds: poll often, give up after 3 s (or `ms`). */
const soon = (what: string, ok: () => boolean, ms = 3000) => until(what, ok, ms, 10);

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
      await phone.waitAnswered(5000);
      // Timer A fired: the first INVITE went unanswered, and its retransmission was answered.
      expect(srv.requests('INVITE')).toHaveLength(2);
      const [invite] = srv.requests('INVITE');
      expect(sipHeader(invite!, 'x-sma-transaction-id')).toBe('tx-1');
      expect(sipHeader(invite!, 'max-forwards')).toBe('70');
      expect(parseNameAddr(sipHeader(invite!, 'from')!).params.tag).toBeTruthy();
      expect(invite!.body).toMatch(/^m=audio \d+ RTP\/AVP 0 8 101\r$/m);
      expect(sipHeader(srv.requests('INVITE')[1]!, 'via')).toBe(sipHeader(invite!, 'via'));
      await soon('two ACKs', () => srv.requests('ACK').length === 2);
      const acks = srv.requests('ACK');
      expect(acks[0]!.uri).toBe(`sip:${srv.address}`);
      expect(sipHeader(acks[1]!, 'via')).toBe(sipHeader(acks[0]!, 'via'));
      expect(phone.statuses).toEqual([100, 200]);

      await soon('RTP', () => srv.rtpIn.length > 0, 200);
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
      await soon('two responses', () => responses().length === 2);
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
        await soon('the ACK', () => srv.requests('ACK').length === 1);
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
    await soon('ringing', () => phone.statuses.includes(180));
    await phone.hangUp();
    expect(srv.requests('CANCEL')).toHaveLength(1);
    await soon('the ACK of the 487', () => srv.requests('ACK').length === 1);
    expect(phone.endedBy).toBe('local');
    await expect(phone.waitAnswered(100)).rejects.toThrow(/hung up before the answer/);
    await srv.close();
  });
});
