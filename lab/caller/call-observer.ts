// A silent observer of a call's LiveKit room, for the lab's timeline: it finds the room whose SIP
// participant carries the call's `sma.transactionId` (the contract's header mapping), joins it
// hidden (nobody sees, hears or waits for it) and records the transcription the agent publishes on
// `lk.transcription`: what the agent said, and what its speech recognition heard from the caller.
import { Room, type TextStreamReader } from '@livekit/rtc-node';
import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import { type LiveKitAccess, httpUrl } from '../phone/sip-leg.js';
import { CallAttribute } from '../../contracts/headers.js';
import { TwilioAttribute } from '../../contracts/twilio-call.js';

export interface TranscriptLine {
  /** performance.now() when the line began: the agent starting to say it, or the final result. */
  at: number;
  /** The agent's words, or the caller's as the agent's recognition heard them. */
  speaker: 'agent' | 'caller';
  text: string;
}

const TOPIC_TRANSCRIPTION = 'lk.transcription';
const ATTRIBUTE_FINAL = 'lk.transcription_final';

export class CallObserver {
  readonly lines: TranscriptLine[] = [];
  /** The agent's replies as their words arrive (in step with its speech), complete or not. */
  private readonly saying: TranscriptLine[] = [];
  roomName: string | undefined;
  private room: Room | undefined;
  private sipIdentity: string | undefined;
  private closed = false;

  constructor(
    private readonly lk: LiveKitAccess,
    private readonly onLine?: (line: TranscriptLine) => void,
  ) {}

  /**
   * Finds the call's room (polling, up to `timeoutMs`) and, unless `join` is false, joins it;
   * false when not found. Without joining it only learns the room's name (load runs, where a
   * participant per call would add to what they measure).
   */
  async attach(
    transactionId: string,
    { timeoutMs = 10_000, join = true }: { timeoutMs?: number; join?: boolean } = {},
  ): Promise<boolean> {
    const rooms = new RoomServiceClient(httpUrl(this.lk.url), this.lk.apiKey, this.lk.apiSecret);
    const end = Date.now() + timeoutMs;
    while (Date.now() < end && !this.closed) {
      for (const r of await rooms.listRooms().catch(() => [])) {
        if (!r.name.startsWith('call_')) continue;
        const people = await rooms.listParticipants(r.name).catch(() => []);
        // Only the SIP participant carries the mapped X-Sma-Transaction-Id (or, for a call
        // through the Twilio gateway, its CallSid).
        const sip = people.find(
          (p) =>
            p.attributes[CallAttribute.transactionId] === transactionId ||
            p.attributes[TwilioAttribute.callSid] === transactionId,
        );
        if (sip) {
          this.roomName = r.name;
          this.sipIdentity = sip.identity;
          if (join) await this.join(r.name);
          return true;
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  private async join(roomName: string): Promise<void> {
    const token = new AccessToken(this.lk.apiKey, this.lk.apiSecret, {
      identity: `lab-observer-${Math.random().toString(36).slice(2, 8)}`,
    });
    token.addGrant({
      roomJoin: true,
      room: roomName,
      hidden: true,
      canPublish: false,
      canSubscribe: false,
    });
    const room = new Room();
    room.registerTextStreamHandler(TOPIC_TRANSCRIPTION, (reader, from) => {
      void this.read(reader, from.identity);
    });
    await room.connect(this.lk.url, await token.toJwt(), { autoSubscribe: false, dynacast: false });
    this.room = room;
    if (this.closed) await this.leave();
  }

  /** Whether the observer is in the call's room, hearing its transcription. */
  get joined(): boolean {
    return this.room !== undefined;
  }

  /** The words so far of the agent's first reply begun at or after `since`, if one has begun. */
  agentSaying(since: number): string | undefined {
    return this.saying.find((l) => l.at >= since)?.text.trim();
  }

  private async read(reader: TextStreamReader, sender: string): Promise<void> {
    const at = performance.now();
    const attributes = reader.info.attributes ?? {};
    const speaker = sender === this.sipIdentity ? 'caller' : 'agent';
    const partial: TranscriptLine = { at, speaker, text: '' };
    if (speaker === 'agent') this.saying.push(partial);
    try {
      for await (const chunk of reader) partial.text += chunk;
    } catch {
      // a stream cut off: what arrived is what was said
    }
    const text = partial.text.trim();
    // The agent's own words arrive as one stream per reply; the caller's as interim and final
    // results, of which only the final one is what the agent went on.
    if (!text || (speaker === 'caller' && attributes[ATTRIBUTE_FINAL] !== 'true')) return;
    const line: TranscriptLine = { at, speaker, text };
    this.lines.push(line);
    this.onLine?.(line);
  }

  async leave(): Promise<void> {
    this.closed = true;
    await this.room?.disconnect().catch(() => {});
    this.room = undefined;
  }
}
