// The worker's main process ending a call's AI leg when the job process serving it goes: the pure
// decision, and JobFailover with a fake LiveKit room API.
import { ServerError } from 'livekit-server-sdk';
import { describe, expect, it, vi } from 'vitest';
import {
  callRoomMatcher,
  decideFailover,
  JobFailover,
  type FailoverReason,
  type JobFailoverDeps,
  type WatchedJob,
} from '../../../agent/job-failover.js';

const CALL_ROOM = 'call_+12065550199_a1b2c3';
const isCallRoom = callRoomMatcher('call');

function job(over: Partial<WatchedJob> = {}): WatchedJob {
  return { room: CALL_ROOM, pid: 4242, over: false, handled: false, ...over };
}

function quietLogger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

function failover(
  deleteRoom: JobFailoverDeps['deleteRoom'],
  opts: Pick<JobFailoverDeps, 'budgetMs' | 'now'> = {},
) {
  const counted: FailoverReason[] = [];
  const logger = quietLogger();
  const fo = new JobFailover({
    deleteRoom,
    isCallRoom,
    count: (r) => counted.push(r),
    logger,
    sleep: () => Promise.resolve(),
    ...opts,
  });
  return { fo, counted, logger };
}

describe('decideFailover', () => {
  it('ends the call when a call room job goes before its call is over', () => {
    expect(decideFailover(job(), isCallRoom)).toEqual({ act: 'end_call', room: CALL_ROOM });
  });

  it('does nothing when the job said its call was over', () => {
    expect(decideFailover(job({ over: true }), isCallRoom)).toEqual({
      act: 'none',
      why: 'call_over',
    });
  });

  it('only logs when the room is a dev room', () => {
    expect(decideFailover(job({ room: 'dev-1a2b3c4d' }), isCallRoom)).toMatchObject({
      act: 'log_only',
    });
    // The prefix is the dispatch rule's, followed by its separator: "callback" is no call room.
    expect(decideFailover(job({ room: 'callback-test' }), isCallRoom).act).toBe('log_only');
  });

  it('does nothing when the job never reported its room, or was already handled', () => {
    expect(decideFailover(job({ room: undefined }), isCallRoom).act).toBe('none');
    expect(decideFailover(job({ handled: true }), isCallRoom).act).toBe('none');
  });
});

describe('JobFailover', () => {
  it('deletes the room once and counts once when a job process exits mid-call', async () => {
    const deleteRoom = vi.fn<JobFailoverDeps['deleteRoom']>(() => Promise.resolve());
    const { fo, counted, logger } = failover(deleteRoom);
    const j = job();
    await fo.jobGone(j, 'exited');
    // Its connection closing after an unresponsive verdict, or any repeat, changes nothing.
    await fo.jobGone(j, 'exited');
    expect(deleteRoom).toHaveBeenCalledTimes(1);
    expect(deleteRoom.mock.calls[0]![0]).toBe(CALL_ROOM);
    expect(counted).toEqual(['exited']);
    const [fields] = logger.error.mock.calls[0]!;
    expect(fields).toMatchObject({ room: CALL_ROOM, pid: 4242, reason: 'exited', exit: 'killed' });
  });

  it('logs the exit code the job reported when it could', async () => {
    const { fo, logger } = failover(() => Promise.resolve());
    await fo.jobGone(job({ exitCode: 1 }), 'exited');
    expect(logger.error.mock.calls[0]![0]).toMatchObject({ exit: 'code 1' });
  });

  it('does nothing when the job ends normally after its call', async () => {
    const deleteRoom = vi.fn(() => Promise.resolve());
    const { fo, counted } = failover(deleteRoom);
    await fo.jobGone(job({ over: true }), 'exited');
    expect(deleteRoom).not.toHaveBeenCalled();
    expect(counted).toEqual([]);
  });

  it('leaves a dev room alone and only logs when its job process exits', async () => {
    const deleteRoom = vi.fn(() => Promise.resolve());
    const { fo, counted, logger } = failover(deleteRoom);
    await fo.jobGone(job({ room: 'dev-1a2b3c4d' }), 'exited');
    expect(deleteRoom).not.toHaveBeenCalled();
    expect(counted).toEqual([]);
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('retries once and logs, never throws, when the room API fails', async () => {
    const deleteRoom = vi.fn(() => Promise.reject(new Error('connect ECONNREFUSED')));
    const { fo, counted, logger } = failover(deleteRoom);
    await expect(fo.jobGone(job(), 'unresponsive', 10_500)).resolves.toBeUndefined();
    expect(deleteRoom).toHaveBeenCalledTimes(2);
    expect(counted).toEqual(['unresponsive']);
    const last = logger.error.mock.calls.at(-1)![0] as { errors: string[] };
    expect(last.errors).toEqual(['connect ECONNREFUSED', 'connect ECONNREFUSED']);
  });

  it('ends the call on the retry when the first attempt fails', async () => {
    const deleteRoom = vi
      .fn<JobFailoverDeps['deleteRoom']>()
      .mockRejectedValueOnce(new ServerError('internal', 'unavailable', 503))
      .mockResolvedValueOnce(undefined);
    const { fo, logger } = failover(deleteRoom);
    await fo.jobGone(job(), 'exited');
    expect(deleteRoom).toHaveBeenCalledTimes(2);
    expect(logger.info.mock.calls.at(-1)![0]).toMatchObject({ room: CALL_ROOM, attempt: 2 });
  });

  it('takes a room already gone as ended, without a retry', async () => {
    const deleteRoom = vi.fn(() => Promise.reject(new ServerError('not_found', 'no room', 404)));
    const { fo, logger } = failover(deleteRoom);
    await fo.jobGone(job(), 'exited');
    expect(deleteRoom).toHaveBeenCalledTimes(1);
    expect(logger.error).toHaveBeenCalledTimes(1); // the failover's own line, no failure line
  });

  it('gives up within its budget when the room API never answers, both attempts made', async () => {
    const deleteRoom = vi.fn<JobFailoverDeps['deleteRoom']>(() => new Promise<void>(() => {}));
    // A clock that stands still: the budget left for the retry does not depend on this machine.
    const { fo, logger } = failover(deleteRoom, { budgetMs: 40, now: () => 0 });
    await fo.jobGone(job(), 'exited');
    expect(deleteRoom).toHaveBeenCalledTimes(2);
    // The first attempt is given half the budget, so an unanswered request leaves a retry.
    expect(deleteRoom.mock.calls.map((c) => c[1])).toEqual([20, 40]);
    expect(logger.error.mock.calls.at(-1)![0]).toMatchObject({ room: CALL_ROOM, budgetMs: 40 });
  });
});
