// What the guard does to LiveKit, shared by its two paths (the webhook's timers and the sweep):
// ending a call room, and reporting a failed call out. Both are safe to repeat and to race with
// other replicas: deleting a room that is already gone is done, not failed.
import type { Logger } from 'pino';
import type { GuardInstruments } from '../otel/instruments.js';
import { errorCode, type Operation } from './errors.js';
import type { LiveKitRooms } from './livekit-rooms.js';
import type { EndReason } from './plan.js';

export type GuardLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

/** Why ending a room matters, for the log: the first two send the caller to a person. */
const WHY: Record<EndReason, string> = {
  webhook: 'agent gone, ending the AI leg so the caller is sent to a person',
  sweep_no_agent: 'agent gone, ending the AI leg so the caller is sent to a person',
  sweep_call_ended: 'call over, deleting the room it left',
};

export class GuardActions {
  /** Rooms whose AI leg this guard ended because their agent was gone (logs and tests). */
  readonly ended: string[] = [];

  constructor(
    readonly rooms: LiveKitRooms,
    private readonly instruments: GuardInstruments,
    readonly logger: GuardLogger,
  ) {}

  /** Logs and counts a failed call out; returns its code. */
  failed(operation: Operation, err: unknown, fields: Record<string, unknown> = {}): string {
    const code = errorCode(err);
    this.instruments.apiErrors.add(1, { operation, code });
    this.logger.error(
      { reason: 'guard_api_error', operation, code, ...fields, detail: String(err).slice(0, 300) },
      'call guard request failed',
    );
    return code;
  }

  /** Deletes the room; true once it is gone (by this call or another's). */
  async endRoom(room: string, reason: EndReason): Promise<boolean> {
    let outcome: 'deleted' | 'gone';
    try {
      outcome = await this.rooms.deleteRoom(room);
    } catch (err) {
      this.failed('delete_room', err, { room, endReason: reason });
      return false;
    }
    if (outcome === 'gone') {
      // Another path or replica (or LiveKit) got there first, and counted it.
      this.logger.info({ reason: 'guard_room_gone', room, endReason: reason }, 'room already gone');
      return true;
    }
    if (reason !== 'sweep_call_ended' && !this.ended.includes(room)) this.ended.push(room);
    this.instruments.roomsEnded.add(1, { reason });
    this.logger.warn({ reason: 'guard_room_ended', room, endReason: reason }, WHY[reason]);
    return true;
  }
}
