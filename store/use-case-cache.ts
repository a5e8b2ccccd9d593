// The use cases a process serves calls with, kept in memory and refreshed from the calls table in
// the background: a read is a field access, never a request, so no call waits on DynamoDB. A
// change is live within one refresh interval (30 s by default) plus the read's time. While
// DynamoDB is slow or down the last good catalog serves; before any read has succeeded, the file
// bundled with the code (or USE_CASES_FILE) does. A catalog the table holds but that does not
// validate is refused as a whole, and the last good one serves.
//
// A call keeps the use case it started with: the SMA records the version it bridged the call with
// (TransactionAttributes) and later events of the call ask for that version (`atVersion`), which
// this cache holds for the last versions it served, or reads from the table within a small budget;
// past it the current version serves, so a read never delays a call.
import { UseCaseCatalog, type UseCase } from '../contracts/use-cases.js';
import { raceBudget, timeBudget } from './time-budget.js';

/** Reads the stored catalog within `signal`; undefined when the table holds none. */
export type ReadCatalog = (signal: AbortSignal) => Promise<UseCaseCatalog | undefined>;

/** Reads one version of a use case within `signal`; undefined when the table holds none such. */
export type ReadVersion = (
  id: string,
  version: number,
  signal: AbortSignal,
) => Promise<UseCase | undefined>;

/** What a process reads its use cases from (the SMA handler and the agent take this). */
export interface UseCaseSource {
  current(): UseCaseCatalog;
  /** The stored version of use case `id` in the current catalog; undefined when not from the table. */
  versionOf?(id: string): number | undefined;
  /** Use case `id` as it was at `version`; undefined when it cannot be had within the budget. */
  atVersion?(id: string, version: number): Promise<UseCase | undefined>;
}

const VERSIONS = new WeakMap<UseCaseCatalog, ReadonlyMap<string, number>>();

/** Marks `catalog` as read from the table with these versions (store/use-case-store.ts). */
export function versionedCatalog(
  catalog: UseCaseCatalog,
  versions: ReadonlyMap<string, number>,
): UseCaseCatalog {
  VERSIONS.set(catalog, versions);
  return catalog;
}

/** The stored versions of a catalog read from the table; undefined for the bundled file. */
export function catalogVersions(catalog: UseCaseCatalog): ReadonlyMap<string, number> | undefined {
  return VERSIONS.get(catalog);
}

/** `catalog` with use case `uc` in place of the one of the same id. */
export function withUseCase(catalog: UseCaseCatalog, uc: UseCase): UseCaseCatalog {
  return new UseCaseCatalog({
    ...catalog.file,
    useCases: catalog.file.useCases.map((u) => (u.id === uc.id ? uc : u)),
  });
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
  /** Reads a version no longer (or not yet) held in memory; without it, only held ones serve. */
  readVersion?: ReadVersion;
  /** The budget of one version read (ms); 150 by default. */
  versionTimeoutMs?: number;
  /** How many use-case versions are held in memory; 64 by default. */
  keepVersions?: number;
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
  /** Recent versions, `id#version`, oldest first. */
  private readonly held = new Map<string, UseCase>();

  constructor(private readonly opts: UseCaseCacheOptions) {
    this.catalog = opts.fallback;
    this.now = opts.now ?? Date.now;
    this.stamp = stampOf(opts.fallback);
  }

  versionOf(id: string): number | undefined {
    return catalogVersions(this.catalog)?.get(id);
  }

  /**
   * Use case `id` at `version`: from memory, or read within `versionTimeoutMs`. Undefined when the
   * read fails or is slow (the caller serves the current version); never rejects.
   */
  async atVersion(id: string, version: number): Promise<UseCase | undefined> {
    if (this.versionOf(id) === version) return this.catalog.byIdOrUndefined(id);
    const held = this.held.get(`${id}#${version}`);
    if (held || !this.opts.readVersion) return held;
    const budget = timeBudget(this.opts.versionTimeoutMs ?? 150);
    const { signal } = budget;
    try {
      const uc = await raceBudget(this.opts.readVersion(id, version, signal), budget);
      if (uc) this.hold(id, version, uc);
      return uc;
    } catch (err) {
      this.opts.onError?.(signal.aborted ? 'timeout' : err instanceof Error ? err.name : 'unknown');
      return undefined;
    }
  }

  private hold(id: string, version: number, uc: UseCase): void {
    const key = `${id}#${version}`;
    this.held.delete(key);
    this.held.set(key, uc);
    const keep = this.opts.keepVersions ?? 64;
    for (const old of this.held.keys()) {
      if (this.held.size <= keep) break;
      this.held.delete(old);
    }
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
    const budget = timeBudget(this.opts.timeoutMs);
    const { signal } = budget;
    try {
      const read = await raceBudget(this.opts.read(signal), budget);
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
    const versions = catalogVersions(catalog);
    for (const uc of catalog.all) {
      const v = versions?.get(uc.id);
      if (v !== undefined) this.hold(uc.id, v, uc);
    }
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
