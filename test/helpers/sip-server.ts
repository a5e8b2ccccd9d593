// A scripted SIP server on loopback UDP, standing in for livekit-sip in the suites of the SIP user
// agent's callers (the lab phone, the Twilio gateway's leg): it records what it is sent, answers as
// the test says, and takes RTP on a socket of its own.
import { createSocket, type RemoteInfo } from 'node:dgram';
import {
  type SipMessage,
  type SipRequest,
  formatSipMessage,
  parseSipMessage,
  sipHeader,
} from '../../sip/ua/sip-message.js';
import { ANSWER_SDP } from './sip.js';

/** A scripted SIP server on loopback UDP: records what the phone sends, answers as told. */
export async function fakeSipServer(onRequest: (req: SipRequest, reply: Reply) => void) {
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
  let rtpOpen = true;
  rtp.on('message', (buf) => rtpIn.push(buf));
  await Promise.all([sip, rtp].map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', r))));
  const answer = ANSWER_SDP.replace('20452', String(rtp.address().port));
  return {
    address: `127.0.0.1:${sip.address().port}`,
    got,
    rtpIn,
    answer,
    /** Sends RTP to the phone's `port` from the answered RTP socket (symmetric RTP). */
    sendRtp: (buf: Buffer, port: number) => rtp.send(buf, port, '127.0.0.1'),
    /** Sends a request to the phone as the far end. */
    request: (start: string, headers: [string, string][]) => send(formatSipMessage(start, headers)),
    requests: (method: string) =>
      got.filter((m): m is SipRequest => m.kind === 'request' && m.method === method),
    /** Closes the RTP socket: the phone's packets are then refused (ICMP port unreachable). */
    stopRtp: () =>
      new Promise<void>((r) => (rtpOpen ? ((rtpOpen = false), rtp.close(() => r())) : r())),
    close: () =>
      Promise.all([
        new Promise<void>((r) => sip.close(() => r())),
        new Promise<void>((r) => (rtpOpen ? ((rtpOpen = false), rtp.close(() => r())) : r())),
      ]),
  };
}
export type Reply = (status: number, extra?: [string, string][], body?: string) => void;
