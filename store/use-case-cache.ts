// The use cases a process serves calls with, kept in memory and refreshed from the calls table in
// the background: a read is a field access, never a request, so no call waits on DynamoDB. A
// change is live within one refresh interval (30 s by default) plus the read's time. While
// DynamoDB is slow or down the last good catalog serves; before any read has succeeded, the file
// bundled with the code (or USE_CASES_FILE) does. A catalog the table holds but that does not
// validate is refused as a whole, and the last good one serves.
import type { UseCaseCatalog } from '../contracts/use-cases.js';

/** Reads the stored catalog within `signal`; undefined when the table holds none. */
export type ReadCatalog = (signal: AbortSignal) => Promise<UseCaseCatalog | undefined>;

/** What a process reads its use cases from (the SMA handler and the agent take this). */
export interface UseCaseSource {
  current(): UseCaseCatalog;
}

/** A source that never changes: the bundled file, in tests and tools. */
export const fixedUseCases = (catalog: UseCaseCatalog): UseCaseSource => ({
  current: () => catalog,
});

export interface UseCaseCacheOptions {
  read: ReadCatalog;
  /** The bundled file (or USE_CASES_FILE): serves until the table answers, and if it holds none. */
  fallback: UseCaseCatalog;
  /** How old the catalog may be before a read refreshes it (ms). */
  refreshMs: number;
  /** The budget of one refresh (ms); past it the refresh is given up and the old catalog serves. */
  timeoutMs: number;
  /** After a failed refresh, how long before the next (ms). */
  retryMs?: number;
  now?: () => number;
  /** Told of each refresh that failed (the error's name only: never a body). */
  onError?: (code: string) => void;
  /** Told when a refresh brings a catalog unlike the one serving. */
  onChange?: (catalog: UseCaseCatalog, source: CatalogSource) => void;
}

export type CatalogSource = 'table' | 'fallback';

export interface CacheStatus {
  source: CatalogSource;
  /** When the catalog serving was read (epoch ms); 0 for the fallback never replaced. */
  readAtMs: number;
  /** The last refresh's failure, if the last one failed. */
  lastError: string | undefined;
  refreshes: number;
  failures: number;
}

export class UseCaseCache implements UseCaseSource {
  private catalog: UseCaseCatalog;
  private source: CatalogSource = 'fallback';
  private readAtMs = 0;
  private nextRefreshAtMs = 0;
  private inFlight: Promise<void> | undefined;
  private lastError: string | undefined;
  private refreshes = 0;
  private failures = 0;
  private stamp = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: UseCaseCacheOptions) {
    this.catalog = opts.fallback;
    this.now = opts.now ?? Date.now;
    this.stamp = stampOf(opts.fallback);
  }

  /** The catalog to serve now; starts a refresh in the background when it is due. */
  current(): UseCaseCatalog {
    if (this.now() >= this.nextRefreshAtMs && !this.inFlight) void this.refresh();
    return this.catalog;
  }

  status(): CacheStatus {
    return {
      source: this.source,
      readAtMs: this.readAtMs,
      lastError: this.lastError,
      refreshes: this.refreshes,
      failures: this.failures,
    };
  }

  /** One refresh within the budget (joins the one in flight); never rejects. */
  refresh(): Promise<void> {
    this.inFlight ??= this.readOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * Refreshes every interval even with no call to read it (the agent's job processes: a spare
   * waiting for a call has its greeting rendered before the call). The timer does not keep the
   * process alive.
   */
  startTimer(): void {
    this.timer ??= setInterval(() => void this.refresh(), this.opts.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async readOnce(): Promise<void> {
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    const expired = new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
    );
    expired.catch(() => undefined);
    try {
      // A request whose SDK is between retries, not listening to the signal, is given up all the same.
      const read = await Promise.race([this.opts.read(signal), expired]);
      this.refreshes++;
      this.lastError = undefined;
      this.nextRefreshAtMs = this.now() + this.opts.refreshMs;
      this.adopt(read ?? this.opts.fallback, read ? 'table' : 'fallback');
    } catch (err) {
      this.failures++;
      this.lastError = signal.aborted ? 'timeout' : err instanceof Error ? err.name : 'unknown';
      this.nextRefreshAtMs = this.now() + (this.opts.retryMs ?? 5000);
      this.opts.onError?.(this.lastError);
    }
  }

  private adopt(catalog: UseCaseCatalog, source: CatalogSource): void {
    this.readAtMs = this.now();
    const stamp = stampOf(catalog);
    const changed = stamp !== this.stamp || source !== this.source;
    this.catalog = catalog;
    this.source = source;
    this.stamp = stamp;
    if (changed) this.opts.onChange?.(catalog, source);
  }
}

/** A catalog's content as one string, to tell a changed catalog from the same one read again. */
function stampOf(catalog: UseCaseCatalog): string {
  return JSON.stringify(catalog.file);
}
