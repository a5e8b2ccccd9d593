// The Twilio gateway's leg to livekit-sip against a scripted SIP server on loopback: the INVITE
// carries the call's context as the Twilio trunk maps it and nothing of the caller; µ-law goes both
// ways byte for byte (none before Twilio's first frame); a keypad digit is an RFC 4733 event in
// place of audio; the agent's clear event is the stream's `clear` and never audio; BYE both ways.
import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CLEAR_DTMF } from '../../../contracts/twilio-call.js';
import { buildRtpPacket, parseRtpPacket } from '../../../sip/ua/rtp-sdp.js';
import { telephoneEventPayload } from '../../../sip/ua/rtp-dtmf.js';
import { sipHeader } from '../../../sip/ua/sip-message.js';
import { placeSipCall, type LegCall, type SipLeg } from '../../../twilio/sip-leg.js';
import type { LegEvents } from '../../../twilio/stream-session.js';
import { fakeSipServer } from '../../helpers/sip-server.js';
import { until } from '../../helpers/wait.js';

const call: LegCall = {
  callSid: 'CA0123456789abcdef0123456789abcdef',
  accountSid: 'AC0123456789abcdef0123456789abcdef',
  callToken: 'v1.token',
  useCase: 'city-311',
  traceparent: '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01',
  trunkNumber: '+12025550131',
};
const soon = (what: string, ok: () => boolean) => until(what, ok, 3000, 10);
const log = pino({ level: 'silent' });

/** A server that answers every INVITE at once; BYE gets 200. */
async function answering() {
  const srv = await fakeSipServer((req, reply) => {
    if (req.method === 'INVITE') {
      reply(100);
      reply(200, [['Contact', `<sip:${srv.address}>`]], srv.answer);
    }
    if (req.method === 'BYE') reply(200);
  });
  return srv;
}

/** What the leg tells the session. */
function recorder() {
  const got = { audio: [] as Buffer[], clears: 0, lost: [] as string[] };
  const events: LegEvents = {
    agentAudio: (mulaw) => void got.audio.push(Buffer.from(mulaw)),
    clear: () => void got.clears++,
    lost: (reason) => void got.lost.push(reason),
  };
  return { got, events };
}

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  // The legs hang up before the server they call goes.
  for (const o of open.splice(0).reverse()) await o.close();
});

async function answeredLeg(logger = log) {
  const srv = await answering();
  open.push(srv);
  const leg = await placeSipCall(
    { sipAddress: srv.address, localAddress: '127.0.0.1' },
    call,
    logger,
    2000,
  );
  open.push(leg);
  await soon('the ACK', () => srv.requests('ACK').length === 1);
  // livekit-sip's RTP comes from the port it answered with, to the address the offer named.
  const offer = srv.requests('INVITE')[0]!.body;
  const port = Number(/m=audio (\d+)/.exec(offer)![1]);
  const rtp = (payloadType: number, timestamp: number, payload: Buffer, sequence: number) =>
    buildRtpPacket({ payloadType, marker: false, sequence, timestamp, ssrc: 7, payload });
  const toLeg = (payloadType: number, timestamp: number, payload: Buffer, sequence = 1) =>
    srv.sendRtp(rtp(payloadType, timestamp, payload, sequence), port);
  return { srv, leg: leg as SipLeg, toLeg, rtp, port };
}

describe("the Twilio gateway's SIP leg", () => {
  it("invites livekit-sip with the Twilio header contract, never the caller's number", async () => {
    const { srv } = await answeredLeg();
    const invite = srv.requests('INVITE')[0]!;
    expect(invite.uri).toBe(`sip:${call.trunkNumber}@${srv.address}`);
    expect(sipHeader(invite, 'x-call-provider')).toBe('twilio');
    expect(sipHeader(invite, 'x-twilio-call-sid')).toBe(call.callSid);
    expect(sipHeader(invite, 'x-twilio-account-sid')).toBe(call.accountSid);
    expect(sipHeader(invite, 'x-call-token')).toBe(call.callToken);
    expect(sipHeader(invite, 'x-use-case')).toBe('city-311');
    expect(sipHeader(invite, 'x-traceparent')).toBe(call.traceparent);
    expect(sipHeader(invite, 'from')).toMatch(/^<sip:twilio@127\.0\.0\.1>/);
    // Twilio's µ-law only (no transcoding), and keypad events.
    expect(invite.body).toMatch(/^m=audio \d+ RTP\/AVP 0 101\r$/m);
  });

  it("sends Twilio's µ-law as RTP payloads as they come, none before the first", async () => {
    const { srv, leg } = await answeredLeg();
    leg.attach(recorder().events);
    await new Promise((r) => setTimeout(r, 100));
    // livekit-sip marks the call active at the first packet: nothing is sent before the stream.
    expect(srv.rtpIn).toHaveLength(0);
    const frames = [Buffer.alloc(160, 0x11), Buffer.alloc(160, 0x22)];
    for (const f of frames) leg.hear(f);
    await soon('two packets', () => srv.rtpIn.length === 2);
    const [a, b] = srv.rtpIn.map((p) => parseRtpPacket(p)!);
    expect(a).toMatchObject({ payloadType: 0, marker: true, payload: frames[0] });
    expect(b).toMatchObject({ payloadType: 0, marker: false, payload: frames[1] });
    expect((b!.sequence - a!.sequence) & 0xffff).toBe(1);
    expect((b!.timestamp - a!.timestamp) >>> 0).toBe(160);
  });

  it('logs refused packets once, not every 20 ms, while livekit-sip is gone', async () => {
    const lines: { msg: string; since?: number }[] = [];
    const logger = pino(
      { level: 'warn' },
      { write: (l: string) => void lines.push(JSON.parse(l)) },
    );
    const { srv, leg } = await answeredLeg(logger);
    leg.attach(recorder().events);
    await srv.stopRtp();
    for (let i = 0; i < 15; i++) {
      leg.hear(Buffer.alloc(160, 0x7f));
      await new Promise((r) => setTimeout(r, 20));
    }
    const errors = lines.filter((l) => l.msg === 'rtp socket error');
    // Loopback reports the refusals (ECONNREFUSED on the connected socket): several came, one said.
    expect(errors).toHaveLength(1);
    expect(leg.usable).toBe(true);
  });

  it("holds the agent's audio until the stream takes the leg, then gives it byte for byte", async () => {
    const { leg, toLeg } = await answeredLeg();
    const { got, events } = recorder();
    toLeg(0, 1000, Buffer.alloc(160, 0x33), 1);
    toLeg(0, 1160, Buffer.alloc(160, 0x44), 2);
    await new Promise((r) => setTimeout(r, 50));
    leg.attach(events);
    expect(got.audio).toEqual([Buffer.alloc(160, 0x33), Buffer.alloc(160, 0x44)]);
    toLeg(0, 1320, Buffer.alloc(160, 0x55), 3);
    await soon('the third frame', () => got.audio.length === 3);
    expect(got.audio[2]).toEqual(Buffer.alloc(160, 0x55));
  });

  it("takes RTP only from livekit-sip's answered address and port", async () => {
    const { leg, toLeg, rtp, port } = await answeredLeg();
    const { got, events } = recorder();
    leg.attach(events);
    // Another sender on the same host, aiming at the call's RTP port.
    const other = createSocket('udp4');
    await new Promise<void>((r) => other.bind(0, '127.0.0.1', r));
    open.push({ close: () => new Promise<void>((r) => other.close(() => r())) });
    other.send(rtp(0, 1000, Buffer.alloc(160, 0x99), 1), port, '127.0.0.1');
    other.send(
      rtp(101, 2000, telephoneEventPayload(CLEAR_DTMF.event, false, 800), 2),
      port,
      '127.0.0.1',
    );
    toLeg(0, 1160, Buffer.alloc(160, 0x33), 3);
    await soon("livekit-sip's frame", () => got.audio.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(got.audio).toEqual([Buffer.alloc(160, 0x33)]);
    expect(got.clears).toBe(0);
  });

  it("takes the agent's clear event as one clear, plays no event, and ignores other keys", async () => {
    const { leg, toLeg } = await answeredLeg();
    const { got, events } = recorder();
    leg.attach(events);
    // livekit-sip's event: packets of one timestamp, the end repeated (RFC 4733).
    const ev = (event: number, end: boolean) => telephoneEventPayload(event, end, 800);
    toLeg(101, 5000, ev(CLEAR_DTMF.event, false), 1);
    toLeg(101, 5000, ev(CLEAR_DTMF.event, true), 2);
    toLeg(101, 5000, ev(CLEAR_DTMF.event, true), 3);
    toLeg(101, 9000, ev(5, false), 4);
    toLeg(0, 9160, Buffer.alloc(160, 0x66), 5);
    await soon('the audio after the events', () => got.audio.length === 1);
    expect(got.clears).toBe(1);
    expect(got.audio).toEqual([Buffer.alloc(160, 0x66)]);
    // A later cut reply is a new event: another clear.
    toLeg(101, 12000, ev(CLEAR_DTMF.event, false), 6);
    await soon('the second clear', () => got.clears === 2);
  });

  it('sends a keypad digit as telephone-events in place of the next frames', async () => {
    const { srv, leg } = await answeredLeg();
    leg.attach(recorder().events);
    leg.digit('5');
    for (let i = 0; i < 6; i++) leg.hear(Buffer.alloc(160, 0x77));
    // 5 frames of the event (the last one's end packet three times), then audio again
    await soon('the event and the audio after it', () => srv.rtpIn.length === 8);
    const packets = srv.rtpIn.map((p) => parseRtpPacket(p)!);
    const events = packets.filter((p) => p.payloadType === 101);
    expect(events).toHaveLength(7);
    expect(new Set(events.map((p) => p.timestamp)).size).toBe(1);
    expect(events.map((p) => p.payload[0])).toEqual(Array(7).fill(5));
    expect(events[0]!.marker).toBe(true);
    expect(events.slice(-3).every((p) => (p.payload[1]! & 0x80) !== 0)).toBe(true);
    expect(packets.at(-1)).toMatchObject({ payloadType: 0, payload: Buffer.alloc(160, 0x77) });
  });

  it("hangs up with BYE, and takes livekit-sip's BYE as the leg lost", async () => {
    const first = await answeredLeg();
    await first.leg.close();
    expect(first.srv.requests('BYE')).toHaveLength(1);
    expect(first.leg.usable).toBe(false);

    const { srv, leg } = await answeredLeg();
    const { got, events } = recorder();
    leg.attach(events);
    const invite = srv.requests('INVITE')[0]!;
    const contact = /<([^>]+)>/.exec(sipHeader(invite, 'contact')!)![1]!;
    srv.request(`BYE ${contact} SIP/2.0`, [
      ['Via', `SIP/2.0/UDP ${srv.address};branch=z9hG4bKbye1`],
      ['From', `${sipHeader(invite, 'to')!};tag=srv`],
      ['To', sipHeader(invite, 'from')!],
      ['Call-ID', sipHeader(invite, 'call-id')!],
      ['CSeq', '1 BYE'],
    ]);
    await soon('the leg lost', () => got.lost.length === 1);
    expect(got.lost).toEqual(['sip_remote']);
    expect(leg.usable).toBe(false);
  });
});
