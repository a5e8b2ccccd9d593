// Nobody is left on a silent line when a job process dies. The framework runs each call in a job
// process of its own; if that process dies mid-call (a crash, an OOM kill, SIGKILL), livekit-server
// notices the agent's participant gone only after its 15 s ping timeout, and the caller hears
// nothing meanwhile. The worker's main process learns of the death at once (agent/job-watch.ts:
// the job's connection to it closes, or its heartbeat stops), and here ends the call's AI leg by
// deleting the room through LiveKit's server API: livekit-sip hangs up LEG-B, and the SMA's failure
// rule (docs/architecture.md, "the AI leg fails") says the use case's `connecting` notice and
// bridges the caller to the default queue.
//
// Deleting the room rather than removing the SIP participant: one request, with the room name
// the job reported (removing the participant needs its identity, a second request to list the
// room first), the same leave signal to livekit-sip either way, and it also ends a call whose SIP
// participant has not joined yet (livekit-sip then refuses the INVITE, and the SMA's rule for an
// AI leg that fails to answer applies).
import { RoomServiceClient, ServerError } from 'livekit-server-sdk';
import type { Logger } from 'pino';

/** Why a job was given up on: its process went away, or stopped answering. */
export const FailoverReason = ['exited', 'unresponsive'] as const;
export type FailoverReason = (typeof FailoverReason)[number];

/** One job, as the main process knows it from what the job process reported. */
export interface WatchedJob {
  /** The job's room, from its first report; undefined before it. */
  room?: string;
  pid?: number;
  /** The job said its call is over (its agent has left or is leaving the room). */
  over: boolean;
  /** The exit code the job process reported as it exited, when it could (not for SIGKILL). */
  exitCode?: number;
  /** Already acted on: a job is failed over at most once. */
  handled: boolean;
}

export type FailoverDecision =
  | { act: 'end_call'; room: string }
  | { act: 'log_only'; room: string; why: 'dev_room' }
  | { act: 'none'; why: 'handled' | 'call_over' | 'no_job' };

/** What to do when a watched job goes. Pure. */
export function decideFailover(
  job: WatchedJob,
  isCallRoom: (room: string) => boolean,
): FailoverDecision {
  if (job.handled) return { act: 'none', why: 'handled' };
  if (job.over) return { act: 'none', why: 'call_over' };
  if (job.room === undefined) return { act: 'none', why: 'no_job' };
  if (!isCallRoom(job.room)) return { act: 'log_only', room: job.room, why: 'dev_room' };
  return { act: 'end_call', room: job.room };
}

/** Rooms the dispatch rule creates for phone calls (`<prefix>_…`); anything else is a dev room. */
export function callRoomMatcher(prefix: string): (room: string) => boolean {
  return (room) => room.startsWith(`${prefix}_`);
}

/** How long ending one AI leg may take, both attempts included. */
export const FAILOVER_BUDGET_MS = 3000;
const RETRY_PAUSE_MS = 100;

export interface JobFailoverDeps {
  /** Deletes the room within `timeoutMs`; rejects on failure (404: the room is already gone). */
  deleteRoom(room: string, timeoutMs: number): Promise<void>;
  isCallRoom(room: string): boolean;
  /** Counts one failover (voice.agent.job_failovers). */
  count(reason: FailoverReason): void;
  logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  budgetMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The main process's side: decides, then ends the AI leg within a bound. Never throws. */
export class JobFailover {
  private readonly budgetMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: JobFailoverDeps) {
    this.budgetMs = deps.budgetMs ?? FAILOVER_BUDGET_MS;
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** The job's process went away (`exited`) or stopped answering (`unresponsive`). */
  async jobGone(job: WatchedJob, reason: FailoverReason, silentMs?: number): Promise<void> {
    const decision = decideFailover(job, this.deps.isCallRoom);
    const fields = { room: job.room, pid: job.pid, reason, exit: exitOf(job, reason), silentMs };
    if (decision.act === 'none') {
      this.deps.logger.debug({ ...fields, why: decision.why }, 'job process gone; nothing to do');
      return;
    }
    job.handled = true;
    if (decision.act === 'log_only') {
      this.deps.logger.warn(fields, 'job process gone in a dev room; no call to hand over');
      return;
    }
    this.deps.count(reason);
    this.deps.logger.error(fields, "job process gone mid-call; ending the call's AI leg");
    await this.endAiLeg(decision.room);
  }

  /** Deletes the room, retried once within the budget; logs the outcome. */
  private async endAiLeg(room: string): Promise<void> {
    const start = this.now();
    const errors: string[] = [];
    for (let attempt = 1; attempt <= 2; attempt++) {
      const left = this.budgetMs - (this.now() - start);
      if (left <= 0) break;
      // The first attempt gets half the budget, so an unanswered request still leaves a retry.
      const attemptMs = attempt === 1 ? Math.ceil(left / 2) : left;
      try {
        await within(this.deps.deleteRoom(room, attemptMs), attemptMs);
        this.deps.logger.info({ room, attempt, ms: this.now() - start }, 'AI leg ended');
        return;
      } catch (e) {
        if (e instanceof ServerError && e.status === 404) {
          this.deps.logger.info({ room, attempt }, 'AI leg already ended (room gone)');
          return;
        }
        errors.push(e instanceof Error ? e.message : String(e));
        if (attempt === 1) await this.sleep(RETRY_PAUSE_MS);
      }
    }
    this.deps.logger.error(
      { room, errors, budgetMs: this.budgetMs },
      "could not end the AI leg; the call guard's path remains",
    );
  }
}

/** How the job process ended, as far as the main process can tell. */
function exitOf(job: WatchedJob, reason: FailoverReason): string {
  if (reason === 'unresponsive') return 'still running, unresponsive';
  if (job.exitCode !== undefined) return `code ${job.exitCode}`;
  // No last word: killed by a signal (SIGKILL, the kernel's OOM killer) or a native crash.
  return 'killed';
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Deletes rooms through LiveKit's server API (the worker's LIVEKIT_URL, key and secret). */
export function liveKitRoomDeleter(
  url: string,
  apiKey: string,
  apiSecret: string,
): JobFailoverDeps['deleteRoom'] {
  // The client's timeout is per client: the budget's first half, as JobFailover's first attempt.
  const rooms = new RoomServiceClient(url, apiKey, apiSecret, {
    requestTimeout: FAILOVER_BUDGET_MS / 2 / 1000,
  });
  return (room) => rooms.deleteRoom(room);
}
