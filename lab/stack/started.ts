// A lab start brings up a dozen servers, some in parallel. When one of them fails to start, the ones
// already up must stop too: left running, they hold ports and CPU until the machine restarts, and
// the next `npm start` or test competes with them.

type Stoppable = { stop(): Promise<unknown> };

/** What a start has brought up so far, to stop, newest first, when a later step fails. */
export class StartedSoFar {
  private readonly stops: (() => Promise<unknown>)[] = [];

  /** Keeps `thing`'s stop for a failure; gives `thing` back. */
  add<T extends Stoppable>(thing: T): T {
    this.stops.push(() => thing.stop());
    return thing;
  }

  /** Stops everything added, newest first; a stop that fails does not keep the others running. */
  async stopAll(): Promise<void> {
    for (let stop = this.stops.pop(); stop; stop = this.stops.pop()) {
      await stop().catch(() => undefined);
    }
  }

  /** Starts a server with `start` and keeps its stop; if it fails, stops what started before it. */
  async start<T extends Stoppable>(start: () => Promise<T>): Promise<T> {
    return this.add(await this.step(start));
  }

  /** Runs `start`; if it throws, stops everything added so far and throws its error. */
  async step<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (error) {
      await this.stopAll();
      throw error;
    }
  }
}

/**
 * Starts servers side by side. If any fails, the others are stopped once they are up, and the
 * first failure is thrown; otherwise all of them, in order.
 */
export async function startTogether<T extends readonly Stoppable[]>(starts: {
  readonly [K in keyof T]: Promise<T[K]>;
}): Promise<T> {
  const settled = await Promise.allSettled(starts as readonly Promise<Stoppable>[]);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (!failed) return settled.map((s) => (s as PromiseFulfilledResult<Stoppable>).value) as never;
  for (const s of settled) {
    if (s.status === 'fulfilled') await s.value.stop().catch(() => undefined);
  }
  throw failed.reason;
}
