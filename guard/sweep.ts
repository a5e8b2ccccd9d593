// The sweep: every interval (jittered, so replicas spread out), the guard reads the call rooms and
// the open calls, plans (plan.ts) and acts. Its outcome feeds the health endpoint: a sweep
// succeeds when the guard could see everything it reads and every action it took was done.
import type { GuardInstruments } from '../otel/instruments.js';
import type { GuardActions } from './actions.js';
import { isNotFound } from './errors.js';
import type { CallStore } from './open-calls.js';
import {
  callsToLookUp,
  emptyMemory,
  planSweep,
  type Action,
  type Memory,
  type PlanOptions,
  type RoomView,
  type Snapshot,
} from './plan.js';

/** Requests to livekit-server at once (reads, deletions): a bounded load on it. */
const PARALLEL_CALLS = 8;

export interface SweepOptions extends PlanOptions {
  intervalMs: number;
  /** Tests: the clock and the jitter's randomness. */
  now?: () => number;
  random?: () => number;
}

/** Runs `fn` over `items`, at most `limit` at once. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class Sweeper {
  private memory: Memory = emptyMemory;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  /** When the last successful sweep finished (epoch ms). */
  lastSuccessMs: number | undefined;
  /** Sweeps done, successful or not (tests, logs). */
  count = 0;

  constructor(
    private readonly actions: GuardActions,
    private readonly calls: CallStore | undefined,
    private readonly instruments: GuardInstruments,
    private readonly opts: SweepOptions,
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** One sweep; true when it succeeded. */
  async sweep(): Promise<boolean> {
    const started = performance.now();
    const read = await this.snapshot();
    let ok = read.ok;
    if (read.snapshot) {
      const plan = planSweep(read.snapshot, this.memory, {
        ...this.opts,
        checkCalls: this.actions.checksCalls,
      });
      this.memory = plan.memory;
      const done: boolean[] = [];
      await eachLimited(
        plan.actions,
        PARALLEL_CALLS,
        async (a) => void done.push(await this.act(a)),
      );
      ok &&= done.every(Boolean);
    }
    this.count++;
    if (ok) this.lastSuccessMs = this.now();
    const outcome = ok ? 'ok' : 'failed';
    this.instruments.sweepDuration.record((performance.now() - started) / 1000, { outcome });
    return ok;
  }

  private async act(action: Action): Promise<boolean> {
    if (action.type === 'delete_room') return this.actions.endRoom(action.room, action.reason);
    if (action.type === 'check_call') return this.actions.checkCall(action.transactionId);
    this.instruments.orphanedCalls.add(1);
    this.actions.logger.warn(
      { reason: 'guard_orphaned_call', transactionId: action.transactionId, phase: action.phase },
      'the SMA has this call with the agent but no call room names it',
    );
    return true;
  }

  private async snapshot(): Promise<{ snapshot?: Snapshot; ok: boolean }> {
    const nowMs = this.now();
    let names: string[];
    try {
      names = await this.actions.rooms.callRooms(this.opts.roomPrefix);
    } catch (err) {
      this.actions.failed('list_rooms', err);
      return { ok: false };
    }
    const rooms: RoomView[] = [];
    const unread: string[] = [];
    await eachLimited(names, PARALLEL_CALLS, async (name) => {
      try {
        rooms.push({ name, participants: await this.actions.rooms.participants(name) });
      } catch (err) {
        // A room deleted since it was listed is simply not there any more.
        if (isNotFound(err)) return;
        this.actions.failed('list_participants', err, { room: name });
        unread.push(name);
      }
    });
    const calls = await this.readCalls(rooms, nowMs);
    const snapshot: Snapshot = { nowMs, rooms, unread, ...calls.read };
    return { snapshot, ok: calls.ok };
  }

  private async readCalls(rooms: RoomView[], nowMs: number) {
    if (!this.calls) return { ok: true, read: { openCalls: undefined, phases: {} } };
    let openCalls;
    try {
      openCalls = await this.calls.openCalls(nowMs);
    } catch (err) {
      this.actions.failed('query_open_calls', err);
      return { ok: false, read: { openCalls: undefined, phases: {} } };
    }
    const lookUp = callsToLookUp(rooms, openCalls, this.opts);
    if (lookUp.length === 0) return { ok: true, read: { openCalls, phases: {} } };
    try {
      return { ok: true, read: { openCalls, phases: await this.calls.phases(lookUp) } };
    } catch (err) {
      this.actions.failed('get_calls', err);
      return { ok: false, read: { openCalls, phases: {} } };
    }
  }

  /** Sweeps now, then every interval ±20 %, until stopped. */
  start(): void {
    const tick = () => {
      this.running = this.sweep()
        .catch((err: unknown) => {
          this.actions.logger.error({ reason: 'guard_sweep_error', err }, 'sweep failed');
        })
        .finally(() => {
          if (this.stopped) return;
          const jitter = 0.8 + 0.4 * (this.opts.random ?? Math.random)();
          this.timer = setTimeout(tick, Math.round(this.opts.intervalMs * jitter));
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Healthy: the last successful sweep finished within three intervals. */
  health(): { healthy: boolean; lastSuccessAgeMs: number | undefined; sweeps: number } {
    const age = this.lastSuccessMs === undefined ? undefined : this.now() - this.lastSuccessMs;
    const healthy = age !== undefined && age <= 3 * this.opts.intervalMs;
    return { healthy, lastSuccessAgeMs: age, sweeps: this.count };
  }
}
