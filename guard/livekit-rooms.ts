// The guard's LiveKit adapter: the room service calls it makes, each within its deadline, and what
// their answers mean for the plan (plan.ts). A room that is already gone is deleted; a room whose
// node is gone is placed on a live one first.
import { RoomAgentDispatch, RoomServiceClient } from 'livekit-server-sdk';
import type { ParticipantKind, ParticipantView } from './plan.js';
import { isNotFound, withDeadline } from './errors.js';

/** The room service calls the guard makes; RoomServiceClient is one, tests inject a fake. */
export interface RoomService {
  listRooms(): Promise<readonly { name: string }[]>;
  listParticipants(room: string): Promise<
    readonly {
      kind: number;
      state?: number;
      attributes: Readonly<Record<string, string>>;
    }[]
  >;
  deleteRoom(room: string): Promise<void>;
  /** Places the room on a live node (an existing room keeps its stored state, `agents` aside). */
  createRoom(options: { name: string; agents: RoomAgentDispatch[] }): Promise<unknown>;
}

/**
 * The agent a re-created room is dispatched to: a name no worker registers. A room's dispatches are
 * replaced by a create's `agents` only when it names some (livekit-server 1.13.5,
 * `StandardRoomAllocator.CreateRoom`), and with the room's own the agent would be sent to a room
 * that is deleted a moment later (agent/stray-job.ts is the agent's own guard against that).
 */
export const NO_AGENT = 'callbridge-guard-no-agent';

/**
 * livekit-server's answer when the room's record has no live node to route to (its host lost, the
 * room left in Redis with the participants it had): routing's ErrNotFound, a 500 (1.13.5).
 */
export function isRoomNodeGone(err: unknown): boolean {
  const e = err as { message?: unknown; status?: unknown } | undefined;
  return e?.message === 'could not find object' && e.status === 500;
}

// ParticipantInfo.Kind and ParticipantInfo.State of the LiveKit protocol.
const KIND_SIP = 3;
const KIND_AGENT = 4;
const STATE_DISCONNECTED = 3;

function kindOf(kind: number): ParticipantKind {
  if (kind === KIND_SIP) return 'sip';
  return kind === KIND_AGENT ? 'agent' : 'other';
}

/** The server's room service, its requests bounded by `timeoutMs` and never sent to another host. */
export function roomServiceClient(
  httpUrl: string,
  apiKey: string,
  apiSecret: string,
  timeoutMs: number,
): RoomService {
  return new RoomServiceClient(httpUrl, apiKey, apiSecret, {
    requestTimeout: timeoutMs / 1000,
    failover: false,
  });
}

export class LiveKitRooms {
  constructor(
    private readonly service: RoomService,
    private readonly timeoutMs: number,
  ) {}

  async callRooms(prefix: string): Promise<string[]> {
    const rooms = await withDeadline(this.timeoutMs, () => this.service.listRooms());
    return rooms.map((r) => r.name).filter((n) => n.startsWith(prefix));
  }

  /** Who is in the room (participants on their way out are not). */
  async participants(room: string): Promise<ParticipantView[]> {
    const list = await withDeadline(this.timeoutMs, () => this.service.listParticipants(room));
    return list
      .filter((p) => p.state !== STATE_DISCONNECTED)
      .map((p) => ({ kind: kindOf(p.kind), attributes: { ...p.attributes } }));
  }

  /**
   * `gone`: another replica, the webhook path or LiveKit got there first; nothing is left to do.
   * A room whose node is gone cannot be deleted where it is (livekit-server routes a delete to the
   * room's node): when it still lists its caller, creating it places it on a live node, from its
   * stored record, and it is deleted there (docs/decisions/livekit-server-restarts.md).
   */
  async deleteRoom(room: string): Promise<'deleted' | 'gone'> {
    try {
      await withDeadline(this.timeoutMs, () => this.service.deleteRoom(room));
      return 'deleted';
    } catch (err) {
      if (isNotFound(err)) return 'gone';
      if (!isRoomNodeGone(err)) throw err;
      // Only a room that still lists its caller is one a lost host left: after Redis lost its
      // state, a live room lists nobody and its node mapping is gone too, and re-creating it would
      // place it on its own node and delete a call in progress.
      const listed = await this.participants(room).catch(() => []);
      if (!listed.some((p) => p.kind === 'sip')) throw err;
    }
    const agents = [new RoomAgentDispatch({ agentName: NO_AGENT })];
    await withDeadline(this.timeoutMs, () => this.service.createRoom({ name: room, agents }));
    try {
      await withDeadline(this.timeoutMs, () => this.service.deleteRoom(room));
    } catch (err) {
      if (isNotFound(err)) return 'gone';
      throw err;
    }
    return 'deleted';
  }
}
