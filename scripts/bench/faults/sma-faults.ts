// The SMA handler as the fault benchmark's calls reach it: the lab's real handler, wrapped so that
// the next event of each chosen call answers late (past Chime's 5 s retry) or fails (a Lambda
// error: Chime retries once at once, and ends the call with 480 when the retry fails too). Every
// attempt Chime makes at that event gets the fault; later events reach the handler untouched.
import * as z from 'zod';

type Handler = (event: unknown) => Promise<unknown>;

export type SmaFault = { kind: 'slow'; ms: number } | { kind: 'fail'; times: number };

/** The part of a Chime event the wrapper reads. */
const EventKey = z.object({
  Sequence: z.number(),
  CallDetails: z.object({ TransactionId: z.string() }),
});

interface Hit {
  sequence: number;
  /** Attempts at the faulted event so far. */
  attempts: number;
  /** performance.now() of the first. */
  at: number;
}

export class SmaFaults {
  private fault: SmaFault | undefined;
  private calls = new Set<string>();
  /** The faulted event of each call, once it came. */
  readonly hits = new Map<string, Hit>();

  constructor(private readonly real: Handler) {}

  /** The handler the lab's calls invoke. */
  readonly handler: Handler = async (event) => {
    const fault = this.fault;
    const hit = fault && this.hitFor(event);
    if (!fault || !hit) return this.real(event);
    hit.attempts += 1;
    if (fault.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
    else if (hit.attempts <= fault.times)
      throw new Error('the SMA handler failed (fault injected by the fault benchmark)');
    return this.real(event);
  };

  /** The next event of each of these calls gets `fault`. */
  arm(fault: SmaFault, transactionIds: Iterable<string>): void {
    this.fault = fault;
    this.calls = new Set(transactionIds);
    this.hits.clear();
  }

  disarm(): void {
    this.fault = undefined;
    this.calls.clear();
  }

  private hitFor(event: unknown): Hit | undefined {
    if (!this.fault) return undefined;
    const key = EventKey.safeParse(event);
    if (!key.success) return undefined;
    const tx = key.data.CallDetails.TransactionId;
    if (!this.calls.has(tx)) return undefined;
    let hit = this.hits.get(tx);
    if (!hit) {
      hit = { sequence: key.data.Sequence, attempts: 0, at: performance.now() };
      this.hits.set(tx, hit);
    }
    return hit.sequence === key.data.Sequence ? hit : undefined;
  }
}
