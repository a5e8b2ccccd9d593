// One poller per worker: the status of every queue its calls may hand callers to, read from Connect
// and kept for a few seconds, so any number of calls asking costs Connect at most one
// GetCurrentMetricData per instance per `freshMs` (all the instance's queues in one request), and
// the worker never sends more than `maxRequestsPerSecond` (Connect's documented quota is about 5 per
// second for the whole account, shared by every worker). A queue is refreshed while a call has asked
// about it in the last `watchMs`, so a caller who asks for a person gets figures from memory. A slow,
// throttled or failing Connect only leaves the figures older; past `staleMs` there are none, and the
// caller is transferred as without the check.
// Each queue's hours are read after its figures, in the background (a waiting call never waits for
// them), every `hoursRefreshMs`: the effective hours of the dates around today (overrides applied:
// holidays, special days), and the weekly hours. "Open" is the effective hours' answer, else the
// weekly hours', else unknown; the last answer read is kept while a read fails.
import type { Logger } from 'pino';
import type { QueueSource, QueueFigures } from './connect-queues.js';
import { QueueSourceError } from './connect-queues.js';
import { addDays, openAt, type EffectiveHours, type HoursOfOperation } from './hours.js';
import type { ConnectQueueRef, QueueStatus } from './status.js';

export interface QueueStatusPollerOptions {
  source: QueueSource;
  logger?: Logger;
  /** Figures younger than this are served as they are (default 5 s). */
  freshMs?: number;
  /** Figures are served up to this old when Connect cannot be read (default 60 s). */
  staleMs?: number;
  /** Hours of operation are read again after this long (default 5 min). */
  hoursRefreshMs?: number;
  /** At most this many Connect requests per second from this worker (default 1). */
  maxRequestsPerSecond?: number;
  /** A queue stays refreshed this long after a call last asked about it (default 60 s). */
  watchMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Connect's limit on queues in one GetCurrentMetricData filter. */
const MAX_QUEUES_PER_REQUEST = 100;
/** After a throttled answer, no request for this long. */
const THROTTLE_BACKOFF_MS = 2000;
/** Hours that could not be read are tried again after this long (or `hoursRefreshMs`, if less). */
const HOURS_RETRY_MS = 30_000;
/**
 * The effective hours asked for: from two days before today (UTC) to seven after, so that in any
 * time zone (UTC-12 to UTC+14) they cover today and yesterday (whose hours may run past midnight)
 * for days after the read.
 */
const EFFECTIVE_DAYS_BEFORE = 2;
const EFFECTIVE_DAYS_AFTER = 7;

const keyOf = (r: ConnectQueueRef) => `${r.instanceId}/${r.queueId}`;

interface Entry {
  ref: ConnectQueueRef;
  figures?: QueueFigures & { readAt: number };
  /** Its hours of operation's id (DescribeQueue), once read. */
  hoursId?: string;
  hoursIdTriedAt?: number;
  watchedUntil: number;
}

/** Spaces requests `1000 / rate` ms apart, in the order they asked. */
class RequestPacer {
  private nextAt = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async turn(): Promise<void> {
    const at = Math.max(this.now(), this.nextAt);
    this.nextAt = at + this.intervalMs;
    if (at > this.now()) await this.sleep(at - this.now());
  }

  /** The turn just taken was not used. */
  giveBack(): void {
    this.nextAt -= this.intervalMs;
  }

  holdOff(ms: number): void {
    this.nextAt = Math.max(this.nextAt, this.now() + ms);
  }
}

/** A value read from Connect, kept while reads fail; `ok`: the last read succeeded. */
interface Cached<T> {
  value?: T;
  triedAt: number;
  ok: boolean;
}

export class QueueStatusPoller {
  /** Connect requests sent (for tests and the benchmark). */
  requests = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<void>>();
  /** Hours of operation by instance and id: queues often share them. */
  private readonly hours = new Map<string, Cached<HoursOfOperation>>();
  /** Effective hours (overrides applied) by instance and hours id. */
  private readonly effective = new Map<string, Cached<EffectiveHours>>();
  private readonly pacer: RequestPacer;
  private readonly now: () => number;
  private readonly o: Required<
    Pick<QueueStatusPollerOptions, 'freshMs' | 'staleMs' | 'hoursRefreshMs' | 'watchMs'>
  >;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: QueueStatusPollerOptions) {
    this.now = opts.now ?? Date.now;
    this.o = {
      freshMs: opts.freshMs ?? 5000,
      staleMs: opts.staleMs ?? 60_000,
      hoursRefreshMs: opts.hoursRefreshMs ?? 300_000,
      watchMs: opts.watchMs ?? 60_000,
    };
    const sleep = opts.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
    this.pacer = new RequestPacer(1000 / (opts.maxRequestsPerSecond ?? 1), this.now, sleep);
  }

  /** Keeps these queues refreshed from now on (a call starts that may ask about them). */
  watch(refs: ConnectQueueRef[]): void {
    const until = this.now() + this.o.watchMs;
    for (const ref of refs) {
      const entry = this.entries.get(keyOf(ref)) ?? { ref, watchedUntil: 0 };
      entry.watchedUntil = until;
      this.entries.set(keyOf(ref), entry);
    }
    this.timer ??= setInterval(() => void this.refreshWatched(), this.o.freshMs).unref();
    void this.refreshWatched();
  }

  /**
   * The queue's status: from memory when there are figures not older than `staleMs` (a refresh of
   * figures past `freshMs` is under way meanwhile); else after the first read, waiting at most
   * `waitMs`, or undefined.
   */
  async status(ref: ConnectQueueRef, waitMs = 0): Promise<QueueStatus | undefined> {
    this.watch([ref]);
    const entry = this.entries.get(keyOf(ref))!;
    const known = this.statusOf(entry);
    if (known) return known;
    if (waitMs > 0) {
      const refreshed = this.inflight.get(ref.instanceId) ?? this.refreshInstance(ref.instanceId);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([refreshed, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
      clearTimeout(timer);
    }
    return this.statusOf(entry);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private statusOf(entry: Entry): QueueStatus | undefined {
    const f = entry.figures;
    if (!f || this.now() - f.readAt > this.o.staleMs) return undefined;
    const key = entry.hoursId && `${entry.ref.instanceId}/${entry.hoursId}`;
    const open = key
      ? openAt(this.now(), this.effective.get(key)?.value, this.hours.get(key)?.value)
      : undefined;
    return { ...f, open };
  }

  private isFresh(entry: Entry): boolean {
    return entry.figures !== undefined && this.now() - entry.figures.readAt < this.o.freshMs;
  }

  /** Refreshes, one request per instance, every watched queue whose figures are not fresh. */
  private async refreshWatched(): Promise<void> {
    const now = this.now();
    const instances = new Set<string>();
    for (const [key, e] of this.entries) {
      if (e.watchedUntil < now) this.entries.delete(key);
      else if (!this.isFresh(e)) instances.add(e.ref.instanceId);
    }
    await Promise.all(
      [...instances].map((id) => this.inflight.get(id) ?? this.refreshInstance(id)),
    );
  }

  private refreshInstance(instanceId: string): Promise<void> {
    const run = this.readInstance(instanceId).finally(() => this.inflight.delete(instanceId));
    this.inflight.set(instanceId, run);
    return run;
  }

  /**
   * Reads the instance's watched queues that are not fresh, up to 100 a request, until none is
   * left (or Connect fails); the queues are picked when each request's turn comes, so every call
   * that asked meanwhile is in it. Their hours are then read in the background.
   */
  private async readInstance(instanceId: string): Promise<void> {
    const read: Entry[] = [];
    for (;;) {
      let batch: Entry[] = [];
      const figures = await this.ask(() => {
        batch = [...this.entries.values()]
          .filter((e) => e.ref.instanceId === instanceId && !this.isFresh(e))
          .slice(0, MAX_QUEUES_PER_REQUEST);
        if (batch.length === 0) return undefined;
        return this.opts.source.figures(
          instanceId,
          batch.map((e) => e.ref.queueId),
        );
      });
      if (!figures) break;
      const readAt = this.now();
      for (const e of batch) {
        const f = figures.get(e.ref.queueId);
        if (f) e.figures = { ...f, readAt };
      }
      read.push(...batch);
      // Calls that asked while this request was out may have added queues: read them too.
    }
    void this.readAllHours(read);
  }

  private async readAllHours(entries: Entry[]): Promise<void> {
    for (const e of entries) await this.readHours(e);
  }

  /** Due for a read: never tried, or tried `hoursRefreshMs` ago (failed: `HOURS_RETRY_MS`). */
  private due(c: Cached<unknown> | undefined): boolean {
    if (!c) return true;
    const after = c.ok ? this.o.hoursRefreshMs : Math.min(HOURS_RETRY_MS, this.o.hoursRefreshMs);
    return this.now() - c.triedAt >= after;
  }

  /** The queue's hours of operation, read again after `hoursRefreshMs` (tried or not). */
  private async readHours(e: Entry): Promise<void> {
    const { instanceId, queueId } = e.ref;
    if (e.hoursId === undefined) {
      const tried = e.hoursIdTriedAt;
      if (tried !== undefined && this.now() - tried < this.o.hoursRefreshMs) return;
      e.hoursIdTriedAt = this.now();
      e.hoursId = await this.ask(() => this.opts.source.hoursIdOf(instanceId, queueId));
      if (e.hoursId === undefined) return;
    }
    const hoursId = e.hoursId;
    const key = `${instanceId}/${hoursId}`;
    // The effective hours first: they are what decides while they cover today.
    await this.refreshCached(this.effective, key, () => {
      const today = new Date(this.now()).toISOString().slice(0, 10);
      return this.opts.source.effectiveHours(
        instanceId,
        hoursId,
        addDays(today, -EFFECTIVE_DAYS_BEFORE),
        addDays(today, EFFECTIVE_DAYS_AFTER),
      );
    });
    await this.refreshCached(this.hours, key, () => this.opts.source.hours(instanceId, hoursId));
  }

  /** Reads one cached value again when due; a failed read keeps the last value. */
  private async refreshCached<T>(
    cache: Map<string, Cached<T>>,
    key: string,
    read: () => Promise<T>,
  ): Promise<void> {
    const known = cache.get(key);
    if (!this.due(known)) return;
    // Marked before the request, so a concurrent refresh does not ask again.
    cache.set(key, { value: known?.value, triedAt: this.now(), ok: true });
    const value = await this.ask(read);
    cache.set(key, {
      value: value ?? known?.value,
      triedAt: this.now(),
      ok: value !== undefined,
    });
  }

  /** One Connect request in its turn; undefined when it failed (logged, and the figures age). */
  private async ask<T>(request: () => Promise<T> | undefined): Promise<T | undefined> {
    await this.pacer.turn();
    try {
      const sent = request();
      if (sent === undefined) {
        this.pacer.giveBack();
        return undefined;
      }
      this.requests += 1;
      return await sent;
    } catch (err) {
      const throttled = err instanceof QueueSourceError && err.throttled;
      if (throttled) this.pacer.holdOff(THROTTLE_BACKOFF_MS);
      this.opts.logger?.warn(
        { err, reason: throttled ? 'connect_throttled' : 'connect_failed' },
        'queue status not read',
      );
      return undefined;
    }
  }
}
