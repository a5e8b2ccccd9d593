// The guard's fast path, fed by livekit-server's webhooks:
// - the agent leaves a call room: a timer of the grace period starts (LiveKit may hand the job to
//   another worker); if the caller's SIP participant is still there without an agent when it
//   fires, the room is deleted and the SMA sends the caller to a person. An agent whose connection
//   was lost (its process or machine died) is not coming back: the room is looked at at once.
// - the caller's SIP participant is dropped for a lost connection (livekit-sip died): nobody will
//   send the AI leg a BYE, so Chime would keep the caller on a dead line. The guard has the SMA
//   send them to a person (actions.ts failOver) with the call's own token from the participant.
// Timers live in this replica only: if it goes away, or the webhook never arrives, the sweep
// (sweep.ts) finds the room.
import type { WebhookEvent } from 'livekit-server-sdk';
import type { GuardActions } from './actions.js';
import { isNotFound } from './errors.js';
import { callOfParticipant } from './voice-api.js';

// ParticipantInfo.Kind of the LiveKit protocol, as webhooks carry it.
const KIND_SIP = 3;
const KIND_AGENT = 4;

/**
 * DisconnectReason values of a participant whose connection was lost rather than closed: it did
 * not leave, nobody removed it (livekit-server's own split: rtc/types IsIntentionalDisconnect).
 * STATE_MISMATCH, JOIN_FAILURE, SIGNAL_CLOSE, CONNECTION_TIMEOUT, MEDIA_FAILURE.
 */
export const LOST_CONNECTION = new Set([6, 7, 9, 14, 15]);

export class AgentLeftWatch {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly actions: GuardActions,
    private readonly opts: { roomPrefix: string; graceMs: number },
  ) {}

  /** Handles one verified webhook event. */
  handle(event: WebhookEvent): void {
    const room = event.room?.name;
    const p = event.participant;
    const kind = p?.kind as number | undefined;
    if (!room?.startsWith(this.opts.roomPrefix) || !p) return;
    const lost = LOST_CONNECTION.has(p.disconnectReason as number);
    if (kind === KIND_SIP && event.event === 'participant_left' && lost) {
      const call = callOfParticipant(p.attributes);
      if (call) void this.actions.failOver(call);
      return;
    }
    if (kind !== KIND_AGENT) return;
    if (event.event === 'participant_left') {
      clearTimeout(this.timers.get(room));
      this.timers.set(
        room,
        setTimeout(() => void this.check(room), lost ? 0 : this.opts.graceMs),
      );
    } else if (event.event === 'participant_joined') {
      clearTimeout(this.timers.get(room));
      this.timers.delete(room);
    }
  }

  private async check(room: string): Promise<void> {
    this.timers.delete(room);
    let participants;
    try {
      participants = await this.actions.rooms.participants(room);
    } catch (err) {
      // Gone already: nobody is left on the line. Otherwise the sweep tries again.
      if (!isNotFound(err)) this.actions.failed('list_participants', err, { room });
      return;
    }
    const caller = participants.some((p) => p.kind === 'sip');
    const agent = participants.some((p) => p.kind === 'agent');
    if (caller && !agent) await this.actions.endRoom(room, 'webhook');
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
