// One Twilio media stream, from `connected` to `stop` (docs/twilio.md): the protocol's side of the
// gateway, apart from the call's leg to livekit-sip (./sip-leg.ts) so the tests can drive it with
// fixtures.
//
// - `start` is taken only with the call token the webhook signed for its CallSid and account (a
//   stream parameter): anyone can open a WebSocket. Then the call's leg opens (the SIP call to
//   livekit-sip, placed while the call rang) and a connection item is written.
// - `media`: its µ-law → the leg, as it is. Until the leg is up, up to a second is held.
// - the agent's audio: the leg's µ-law → `media`, paced at real time (at most LEAD_MS ahead of the
//   clock, so Twilio's buffer, which `clear` empties, stays short); a `mark` after each reply, which
//   Twilio echoes once it has played it; nothing between replies (Twilio plays silence). The agent
//   cutting its reply (the caller barged in) → `clear`.
// - `dtmf` → the digit on the leg (an RFC 4733 event, which livekit-sip publishes as SIP DTMF).
// - `stop`, or the socket closing, ends the call: the leg hangs up (BYE) and livekit-sip leaves
//   the room, which ends the agent's job.
// Whatever a message is, it is logged (its reason, never its content) and skipped when it does not
// fit; nothing one stream sends can end another.
import type { Logger } from 'pino';
import { SILENCE_RMS } from '../agent/audio.js';
import { decodeG711 } from '../agent/g711.js';
import { verifyCallToken } from '../contracts/call-token.js';
import type { StreamRecording } from './recording.js';
import { StreamParameter, twilioTokenClaims } from '../contracts/twilio-call.js';
import {
  clearMessage,
  FRAME_MS,
  markMessage,
  mediaMessage,
  mulawRms,
  parseStreamMessage,
  StreamOrder,
  type Inbound,
  type StartMessage,
} from './media-streams.js';

/** How far ahead of the clock the agent's audio is sent: Twilio's buffer, what `clear` drops. */
export const LEAD_MS = 60;
/** Silence after the agent's audio that ends a reply (and sends its mark). */
const REPLY_END_MS = 300;
/**
 * Quiet from the agent that ends a cut reply's tail: frames of the cut reply still on their way
 * from LiveKit (pauses between its words included) are dropped until then.
 */
const CUT_END_QUIET_MS = 200;
/** Caller audio held while the leg opens; older frames are dropped. */
const HOLD_MS = 1000;

/** The call as the `start` message and its verified parameters describe it. */
export interface StreamCall {
  streamSid: string;
  callSid: string;
  accountSid: string;
  useCase: string | undefined;
  dialed: string | undefined;
  traceparent: string | undefined;
  callToken: string;
  /** The admission lease the webhook took, `<expires ms>` (released when the stream ends). */
  leaseExpiresAtMs: number | undefined;
}

/** What the leg tells the session. */
export interface LegEvents {
  /** A frame of the agent's audio, 8 kHz µ-law. */
  agentAudio(mulaw: Uint8Array): void;
  /** The agent cut its reply: Twilio should drop what it holds. */
  clear(): void;
  /** The leg ended on LiveKit's side (livekit-sip hung up: the room was deleted). */
  lost(reason: string): void;
}

/** The caller's side in LiveKit. */
export interface CallerLeg {
  /** A frame of the caller's audio, 8 kHz µ-law. */
  hear(mulaw: Uint8Array): void;
  digit(digit: string): void;
  /** Hangs up: livekit-sip leaves the call's room. */
  close(): Promise<void>;
  /** The call's SIP Call-ID (livekit-sip's `sip.callIDFull`): what the item and logs name. */
  readonly sipCallId: string;
}

export type EndReason = 'stop' | 'socket_closed' | 'leg_lost' | 'refused' | 'leg_failed';

export interface StreamEnd {
  call: StreamCall | undefined;
  sipCallId: string | undefined;
  reason: EndReason;
  /** Frames taken from the caller and sent to Twilio; messages skipped; `clear`s sent. */
  framesIn: number;
  framesOut: number;
  skipped: number;
  clears: number;
  /** The gateway's own time per frame each way (ms): median, p95, max. */
  inMs: Spread;
  outMs: Spread;
}

export interface Spread {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

export interface StreamSessionDeps {
  /** CALL_TOKEN_SECRET: the webhook's signature of the call. */
  secret: string;
  openLeg(call: StreamCall, events: LegEvents): Promise<CallerLeg>;
  /** The connection item (./connections.ts): written at start, updated at the end. */
  connections?: {
    opened(call: StreamCall, sipCallId: string, atMs: number): Promise<void>;
    closed(call: StreamCall, end: StreamEnd, atMs: number): Promise<void>;
  };
  /** Frees the admission lease; never rejects. */
  releaseLease?(call: StreamCall): Promise<void>;
  /** The leg was lost while the caller is there: send the caller to people. */
  failOver?(call: StreamCall): Promise<void>;
  /**
   * The call's recording (./recording.ts), starting at `startMs` on the session's clock; undefined
   * when its use case does not record.
   */
  recording?(call: StreamCall, startMs: number): StreamRecording | undefined;
  logger: Logger;
  now?: () => number;
}

export interface Socket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

export class StreamSession {
  readonly order = new StreamOrder();
  call: StreamCall | undefined;
  private leg: CallerLeg | undefined;
  private held: Uint8Array[] = [];
  private ended: Promise<StreamEnd> | undefined;
  private readonly now: () => number;
  private readonly log: Logger;
  // outbound pacing and marks
  private playhead = 0;
  /** The agent's audio waiting for its time, and the marks between (sent in order). */
  private queue: ({ mulaw: Uint8Array; at: number } | { mark: string })[] = [];
  private timer: NodeJS.Timeout | undefined;
  private speaking = false;
  private silentMs = 0;
  /** After a clear: the cut reply's last frames, still on their way, are dropped. */
  private dropCut = false;
  private cutQuietMs = 0;
  private marks = 0;
  readonly pendingMarks = new Map<string, number>();
  // figures
  private framesIn = 0;
  private framesOut = 0;
  private skipped = 0;
  private clears = 0;
  private readonly inMs: number[] = [];
  private readonly outMs: number[] = [];
  private recording: StreamRecording | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly deps: StreamSessionDeps,
  ) {
    this.now = deps.now ?? (() => performance.now());
    this.log = deps.logger;
  }

  /** One text message from Twilio. */
  handle(text: string): void {
    const receivedAt = this.now();
    const parsed = parseStreamMessage(text);
    if (!parsed.ok) return this.skip(parsed.reason);
    const m = parsed.message;
    const order = this.order.check(m);
    if (order) return this.skip(order, m.event);
    switch (m.event) {
      case 'connected':
        return;
      case 'start':
        return void this.start(m);
      case 'media':
        return this.media(m, receivedAt);
      case 'mark':
        return this.markPlayed(m.mark.name);
      case 'dtmf':
        if (this.leg) this.leg.digit(m.dtmf.digit);
        return;
      case 'stop':
        return void this.end('stop');
    }
  }

  /** The socket closed (Twilio hung up, or the connection dropped). */
  closed(): Promise<StreamEnd> {
    return this.end('socket_closed');
  }

  private skip(reason: string, event?: string): void {
    this.skipped++;
    this.log.warn({ reason, event, streamSid: this.call?.streamSid }, 'stream message skipped');
  }

  private async start(m: StartMessage): Promise<void> {
    const s = m.start;
    const params = s.customParameters;
    const token = params[StreamParameter.callToken] ?? '';
    const claims = twilioTokenClaims(s.callSid, s.accountSid);
    const check = verifyCallToken(token, claims, this.deps.secret, Date.now());
    const lease = Number(params[StreamParameter.lease]);
    this.call = {
      streamSid: m.streamSid,
      callSid: s.callSid,
      accountSid: s.accountSid,
      useCase: params[StreamParameter.useCase],
      dialed: params[StreamParameter.dialed],
      traceparent: params[StreamParameter.traceparent],
      callToken: token,
      leaseExpiresAtMs: Number.isSafeInteger(lease) && lease > 0 ? lease : undefined,
    };
    if (!check.ok) {
      // Not a stream the webhook connected: the token itself is never logged.
      this.log.warn({ reason: `call_token_${check.reason}`, callSid: s.callSid }, 'stream refused');
      this.call = undefined; // nothing of it is released or recorded
      this.socket.close(1008, 'call token');
      await this.end('refused');
      return;
    }
    const opening = this.now();
    this.recording = this.deps.recording?.(this.call, opening);
    try {
      this.leg = await this.deps.openLeg(this.call, {
        agentAudio: (pcm) => this.agentAudio(pcm),
        clear: () => this.clear(),
        lost: (reason) => void this.legLost(reason),
      });
    } catch (err) {
      this.log.error({ err: (err as Error).message, callSid: s.callSid }, 'call leg failed');
      await this.end('leg_failed', true);
      return;
    }
    if (this.ended) return void this.leg.close().catch(() => {});
    for (const mulaw of this.held) this.leg.hear(mulaw);
    this.held = [];
    this.log.info(
      {
        callSid: s.callSid,
        sipCallId: this.leg.sipCallId,
        useCase: this.call.useCase,
        legMs: Math.round(this.now() - opening),
      },
      'stream started',
    );
    await this.deps.connections?.opened(this.call, this.leg.sipCallId, Date.now()).catch(() => {});
  }

  private media(m: Extract<Inbound, { event: 'media' }>, receivedAt: number): void {
    // A bidirectional stream carries the caller only; nothing is taken once the call has ended.
    if (m.media.track !== 'inbound' || this.ended) return;
    this.framesIn++;
    if (this.recording) this.recording.caller(decodeG711(m.audio, 'PCMU'), receivedAt);
    if (this.leg) {
      this.leg.hear(m.audio);
      this.inMs.push(this.now() - receivedAt);
    } else if (!this.ended) {
      this.held.push(m.audio);
      const keep = HOLD_MS / FRAME_MS;
      if (this.held.length > keep) this.held.splice(0, this.held.length - keep);
    }
  }

  // --- the agent's audio to Twilio ---

  private agentAudio(mulaw: Uint8Array): void {
    if (!this.call || this.ended) return;
    const at = this.now();
    const audible = mulawRms(mulaw) >= SILENCE_RMS;
    const ms = (mulaw.length * 1000) / 8000;
    if (this.dropCut) {
      // The cut reply's tail can hold a pause between words: only a longer quiet ends it.
      this.cutQuietMs = audible ? 0 : this.cutQuietMs + ms;
      if (this.cutQuietMs < CUT_END_QUIET_MS) return;
      this.dropCut = false;
    }
    // Audio arrives from livekit-sip at real time, but a burst (the first frames of a track, a network
    // hiccup) leaves a backlog that real-time pacing alone never drains: silence is dropped while
    // audio waits, so the backlog goes in the agent's next pause. Silence between replies (after a
    // reply's mark) is not sent at all: Twilio plays silence when it has nothing, and a message
    // less is CPU less (docs/decisions/twilio-gateway-sip.md).
    const backlog = this.queue.some((item) => 'mulaw' in item);
    if (audible || (this.speaking && !backlog)) this.queue.push({ mulaw, at });
    this.pump();
    if (audible) {
      this.speaking = true;
      this.silentMs = 0;
    } else if (this.speaking && (this.silentMs += ms) >= REPLY_END_MS) {
      // The end of a reply: Twilio echoes the mark once it has played everything before it.
      this.speaking = false;
      const name = `reply-${++this.marks}`;
      this.pendingMarks.set(name, this.now());
      this.queue.push({ mark: name });
      this.pump();
    }
  }

  /** Sends what is due: frames while the playhead is less than LEAD_MS ahead of the clock. */
  private pump(): void {
    if (!this.call) return;
    const now = this.now();
    if (this.playhead < now) this.playhead = now;
    while (this.queue.length > 0 && this.playhead - now < LEAD_MS) {
      const frame = this.queue.shift()!;
      if ('mark' in frame) {
        this.socket.send(markMessage(this.call.streamSid, frame.mark));
        continue;
      }
      this.socket.send(mediaMessage(this.call.streamSid, frame.mulaw));
      // Where the caller hears it: at the playhead, Twilio playing frames back to back.
      this.recording?.agent(decodeG711(frame.mulaw, 'PCMU'), this.playhead);
      this.outMs.push(this.now() - frame.at);
      this.framesOut++;
      this.playhead += (frame.mulaw.length * 1000) / 8000;
    }
    clearTimeout(this.timer);
    this.timer =
      this.queue.length > 0
        ? setTimeout(() => this.pump(), Math.max(1, this.playhead - LEAD_MS - now))
        : undefined;
  }

  private clear(): void {
    if (!this.call || this.ended) return;
    for (const item of this.queue) if ('mark' in item) this.pendingMarks.delete(item.mark);
    this.queue = [];
    clearTimeout(this.timer);
    this.playhead = this.now();
    this.speaking = false;
    this.dropCut = true;
    this.cutQuietMs = 0;
    this.clears++;
    this.socket.send(clearMessage(this.call.streamSid));
    this.log.info(
      { callSid: this.call.callSid, pendingMarks: this.pendingMarks.size },
      'clear sent',
    );
  }

  private markPlayed(name: string): void {
    if (!this.pendingMarks.delete(name)) this.skip('unknown_mark', 'mark');
  }

  // --- the end ---

  private async legLost(reason: string): Promise<void> {
    if (this.ended || !this.call) return;
    this.log.warn(
      { callSid: this.call.callSid, reason },
      'call leg lost: the caller goes to people',
    );
    await this.end('leg_lost', true);
  }

  /**
   * Ends the stream, once. `toPeople`: the agent's leg failed with the caller on the line; the call
   * is moved to people first (which ends the stream on Twilio's side too).
   */
  private end(reason: EndReason, toPeople = false): Promise<StreamEnd> {
    this.ended ??= this.finish(reason, toPeople);
    return this.ended;
  }

  private async finish(reason: EndReason, toPeople: boolean): Promise<StreamEnd> {
    if (toPeople && this.call) await this.deps.failOver?.(this.call).catch(() => {});
    clearTimeout(this.timer);
    this.queue = [];
    this.held = [];
    const leg = this.leg;
    await leg?.close().catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message }, 'call not hung up');
    });
    const end: StreamEnd = {
      call: this.call,
      sipCallId: leg?.sipCallId,
      reason,
      framesIn: this.framesIn,
      framesOut: this.framesOut,
      skipped: this.skipped,
      clears: this.clears,
      inMs: spread(this.inMs),
      outMs: spread(this.outMs),
    };
    if (this.call) {
      await Promise.all([
        this.deps.connections?.closed(this.call, end, Date.now()).catch(() => {}),
        this.deps.releaseLease?.(this.call),
      ]);
      const { call: _call, ...figures } = end;
      this.log.info({ callSid: this.call.callSid, ...figures }, 'stream ended');
    }
    if (reason !== 'socket_closed' && reason !== 'refused') this.socket.close(1000);
    // Written after the call, off the caller's path (never rejects).
    void this.recording?.finish(this.now());
    return end;
  }
}

export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) return { n: 0, p50: 0, p95: 0, max: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
  return { n: s.length, p50: at(0.5), p95: at(0.95), max: round(s.at(-1)!) };
}

const round = (ms: number) => Math.round(ms * 100) / 100;
