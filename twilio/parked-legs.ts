// Callers' SIP calls the webhook placed to livekit-sip before answering (./sip-leg.ts), kept by
// CallSid until the call's stream starts and takes its leg. A leg no stream takes within PARK_MS
// (Twilio never connected the stream: the caller hung up while it rang) is hung up.
import type { Logger } from 'pino';
import type { SipLeg } from './sip-leg.js';

export const PARK_MS = 30_000;

export class ParkedLegs {
  private readonly legs = new Map<string, { leg: Promise<SipLeg>; timer: NodeJS.Timeout }>();

  constructor(private readonly logger: Logger) {}

  park(callSid: string, leg: Promise<SipLeg>): void {
    leg.catch(() => {}); // its failure is the taker's (or nobody's)
    const timer = setTimeout(() => {
      if (this.legs.get(callSid)?.leg !== leg) return;
      this.legs.delete(callSid);
      this.logger.info({ callSid, reason: 'no_stream' }, 'call leg closed: no stream came');
      void leg.then((l) => l.close()).catch(() => {});
    }, PARK_MS);
    timer.unref();
    this.legs.set(callSid, { leg, timer });
  }

  /** The call's parked leg, once; undefined when none was parked (or it was given up). */
  take(callSid: string): Promise<SipLeg> | undefined {
    const parked = this.legs.get(callSid);
    if (!parked) return undefined;
    clearTimeout(parked.timer);
    this.legs.delete(callSid);
    return parked.leg;
  }

  get size(): number {
    return this.legs.size;
  }

  /** Closes every leg still parked (the gateway stops). */
  async close(): Promise<void> {
    const all = [...this.legs.values()];
    this.legs.clear();
    for (const p of all) clearTimeout(p.timer);
    await Promise.all(all.map((p) => p.leg.then((l) => l.close()).catch(() => {})));
  }
}
