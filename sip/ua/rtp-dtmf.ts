// Keypad digits as a phone sends them in the media: RFC 4733 telephone-events in the RTP stream,
// in place of the audio while a key is down. Each digit: 100 ms of event packets every 20 ms (one
// timestamp, the duration growing, the marker on the first), the end packet sent three times
// (RFC 4733 §2.5.1.4), then 60 ms of audio (silence) before the next digit.
// https://www.rfc-editor.org/rfc/rfc4733
import { deferred } from './deferred.js';

/** The RFC 4733 event codes of the keypad. */
const EVENTS: Record<string, number> = {
  '*': 10,
  '#': 11,
  A: 12,
  B: 13,
  C: 14,
  D: 15,
};
const TONE_FRAMES = 5;
const GAP_FRAMES = 3;
const END_REPEATS = 3;
const VOLUME = 10; // -10 dBm0

export function dtmfEvent(digit: string): number | undefined {
  if (/^[0-9]$/.test(digit)) return Number(digit);
  return EVENTS[digit];
}

/** One telephone-event payload (RFC 4733 §2.3): event, end bit and volume, duration. */
export function telephoneEventPayload(event: number, end: boolean, duration: number): Buffer {
  const b = Buffer.alloc(4);
  b[0] = event;
  b[1] = (end ? 0x80 : 0) | VOLUME;
  b.writeUInt16BE(duration & 0xffff, 2);
  return b;
}

/** What one 20 ms slot carries while digits are queued. */
export interface DtmfSlot {
  payloads: Buffer[];
  marker: boolean;
  /** The slot the event started in: its timestamp is every packet's timestamp. */
  startSlot: number;
}

export class DtmfQueue {
  private readonly queue: { event: number; done: () => void }[] = [];
  private current:
    { event: number; frame: number; startSlot: number; done: () => void } | undefined;
  private gap = 0;

  constructor(private readonly samplesPerFrame: number) {}

  /** Queues the digits; resolves once the last one was sent. Unknown characters are refused. */
  push(digits: string): Promise<void> {
    const events = [...digits].map(dtmfEvent);
    if (events.some((e) => e === undefined)) {
      return Promise.reject(new Error(`not keypad digits: ${JSON.stringify(digits)}`));
    }
    const sent = deferred<void>();
    events.forEach((event, i) =>
      this.queue.push({
        event: event!,
        done: i === events.length - 1 ? () => sent.resolve() : () => {},
      }),
    );
    return sent.promise;
  }

  /** The event packets for this slot, or undefined: the slot carries audio. */
  next(slot: number): DtmfSlot | undefined {
    if (!this.current) {
      if (this.gap > 0) {
        this.gap -= 1;
        return undefined;
      }
      const head = this.queue.shift();
      if (!head) return undefined;
      this.current = { ...head, frame: 0, startSlot: slot };
    }
    const c = this.current;
    c.frame += 1;
    const end = c.frame === TONE_FRAMES;
    const payload = telephoneEventPayload(c.event, end, c.frame * this.samplesPerFrame);
    const out = {
      payloads: end ? Array.from({ length: END_REPEATS }, () => payload) : [payload],
      marker: c.frame === 1,
      startSlot: c.startSlot,
    };
    if (end) {
      c.done();
      this.current = undefined;
      this.gap = GAP_FRAMES;
    }
    return out;
  }
}

/** A received telephone-event payload (RFC 4733 §2.3), or undefined when it is too short. */
export function parseTelephoneEvent(
  payload: Uint8Array,
): { event: number; end: boolean; duration: number } | undefined {
  if (payload.length < 4) return undefined;
  return {
    event: payload[0]!,
    end: (payload[1]! & 0x80) !== 0,
    duration: (payload[2]! << 8) | payload[3]!,
  };
}
