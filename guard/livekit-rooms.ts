// The guard's LiveKit adapter: the room service calls it makes, each within its deadline, and what
// their answers mean for the plan (plan.ts). A room that is already gone is deleted.
import { RoomServiceClient } from 'livekit-server-sdk';
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

  /** `gone`: another replica, the webhook path or LiveKit got there first; nothing is left to do. */
  async deleteRoom(room: string): Promise<'deleted' | 'gone'> {
    try {
      await withDeadline(this.timeoutMs, () => this.service.deleteRoom(room));
      return 'deleted';
    } catch (err) {
      if (isNotFound(err)) return 'gone';
      throw err;
    }
  }
}
