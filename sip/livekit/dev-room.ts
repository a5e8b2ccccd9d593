// Dev rooms: try the agent without a phone. A room is created, the agent is dispatched into it by
// name (as the SIP dispatch rule does for calls), and a join token is minted for the developer,
// with the use case as a participant attribute so the agent greets as it would on that number.
import { randomBytes } from 'node:crypto';
import { AccessToken, AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import { CallAttribute } from '../../contracts/headers.js';

export interface DevRoomAccess {
  url: string;
  apiKey: string;
  apiSecret: string;
}

export interface DevRoomOptions {
  agentName: string;
  useCase: string;
  room?: string;
  identity?: string;
  /** Token lifetime (default 1 h). */
  ttlSeconds?: number;
}

export interface DevRoom {
  room: string;
  identity: string;
  token: string;
  dispatchId: string;
}

export async function createDevRoom(access: DevRoomAccess, opts: DevRoomOptions): Promise<DevRoom> {
  const http = access.url.replace(/^ws/, 'http');
  const room = opts.room ?? `dev-${randomBytes(4).toString('hex')}`;
  const identity = opts.identity ?? 'developer';
  const rooms = new RoomServiceClient(http, access.apiKey, access.apiSecret);
  // Closed a few minutes after everyone leaves; waits up to 10 minutes for the developer to join.
  await rooms.createRoom({ name: room, emptyTimeout: 600, departureTimeout: 120 });
  const dispatch = await new AgentDispatchClient(
    http,
    access.apiKey,
    access.apiSecret,
  ).createDispatch(room, opts.agentName, {
    metadata: JSON.stringify({ source: 'dev-room', useCase: opts.useCase }),
  });
  const at = new AccessToken(access.apiKey, access.apiSecret, {
    identity,
    name: identity,
    ttl: opts.ttlSeconds ?? 3600,
    attributes: { [CallAttribute.useCase]: opts.useCase },
  });
  at.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true, canPublishData: true });
  return { room, identity, token: await at.toJwt(), dispatchId: dispatch.id };
}
