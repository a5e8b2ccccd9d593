// What the guard does, shared by its two paths (the webhook's timers and the sweep): ending a call
// room, sending a caller whose AI leg died without a BYE to a person, closing the record of a call
// Chime no longer has, and reporting a failed call out. Each is safe to repeat and to race with
// other replicas: deleting a room that is already gone is done, not failed; a second transfer
// update is refused by the SMA (a transfer is already in progress); a record closes once.
import type { Logger } from 'pino';
import type { GuardInstruments } from '../otel/instruments.js';
import type { CallRecords } from './call-records.js';
import { errorCode, type Operation } from './errors.js';
import type { LiveKitRooms } from './livekit-rooms.js';
import type { EndReason } from './plan.js';
import {
  PROBE_ARGUMENTS,
  failoverArguments,
  type SmaCallRef,
  type UpdateOutcome,
  type VoiceApi,
} from './voice-api.js';

export type GuardLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

/** Why ending a room matters, for the log: the first two send the caller to a person. */
const WHY: Record<EndReason, string> = {
  webhook: 'agent gone, ending the AI leg so the caller is sent to a person',
  worker_lost: "agent's worker lost, ending the AI leg so the caller is sent to a person",
  sweep_no_agent: 'agent gone, ending the AI leg so the caller is sent to a person',
  sweep_call_ended: 'call over, deleting the room it left',
};

/** What the guard may do to calls through Chime (and, with the calls table, to their records). */
export interface CallRecovery {
  voice: VoiceApi;
  /** With CALLS_TABLE: closes the records of calls Chime no longer has. */
  records?: CallRecords;
  /** The SMA application whose open records the sweep checks (SMA_APPLICATION_ID). */
  applicationId?: string;
}

export class GuardActions {
  /** Rooms whose AI leg this guard ended because their agent was gone (logs and tests). */
  readonly ended: string[] = [];
  /** Calls this guard sent to a person because their AI leg died without a BYE (logs, tests). */
  readonly failedOver: string[] = [];
  /** Calls whose records this guard closed because Chime no longer had them (logs, tests). */
  readonly closed: string[] = [];

  constructor(
    readonly rooms: LiveKitRooms,
    private readonly instruments: GuardInstruments,
    readonly logger: GuardLogger,
    readonly recovery?: CallRecovery,
    private readonly now: () => number = Date.now,
  ) {}

  /** The sweep can check open records with Chime and close those of calls that are gone. */
  get checksCalls(): boolean {
    return Boolean(this.recovery?.records && this.recovery.applicationId);
  }

  private async update(call: SmaCallRef, args: Record<string, string>) {
    try {
      return await this.recovery!.voice.update(call, args);
    } catch (err) {
      this.failed('update_call', err, { transactionId: call.transactionId });
      return undefined;
    }
  }

  /**
   * The caller's AI leg died without a BYE (its SIP participant's connection was lost): has the
   * SMA send them to a person, with the call's own token. True once Chime has it or the call is
   * gone.
   */
  async failOver(call: SmaCallRef & { token: string | undefined }): Promise<boolean> {
    const tx = call.transactionId;
    if (!this.recovery) return true;
    if (!call.token) {
      // Only the SMA's own token moves a caller; the guard never makes one.
      this.logger.warn({ reason: 'guard_failover_no_token', transactionId: tx }, 'no call token');
      return true;
    }
    const { token, ...ref } = call;
    const outcome = await this.update(ref, failoverArguments(token, this.now()));
    if (outcome === 'accepted') {
      if (!this.failedOver.includes(tx)) this.failedOver.push(tx);
      this.logger.warn(
        { reason: 'guard_call_failed_over', transactionId: tx },
        'AI leg lost without a BYE: the SMA is sending the caller to a person',
      );
    } else if (outcome === 'gone') {
      this.logger.info({ reason: 'guard_call_gone', transactionId: tx }, 'call already over');
    }
    return outcome !== undefined;
  }

  /**
   * An open record no room has named for a while: asks Chime whether the call still exists (an
   * update with no arguments, which changes nothing) and, if not, closes its record and gives back
   * its slots. True once decided (the call is there, or its record is dealt with).
   */
  async checkCall(transactionId: string): Promise<boolean> {
    const { applicationId, records } = this.recovery ?? {};
    if (!applicationId || !records) return true;
    const call = { applicationId, transactionId, region: undefined };
    const outcome: UpdateOutcome | undefined = await this.update(call, PROBE_ARGUMENTS);
    if (outcome !== 'gone') return outcome !== undefined;
    let closed;
    try {
      closed = await records.closeGone(transactionId, this.now());
    } catch (err) {
      this.failed('close_call', err, { transactionId });
      return false;
    }
    if (closed.outcome === 'closed') {
      if (!this.closed.includes(transactionId)) this.closed.push(transactionId);
      this.logger.warn(
        { reason: 'guard_call_closed', transactionId, leases: closed.leases },
        'Chime no longer has this call: its record is closed and its slots given back',
      );
    }
    return true;
  }

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
