// The LiveKit tokens the console mints, one per action: each for one room and one identity, with
// the least grants that action needs and a short lifetime (long enough to join; a connected
// participant's token is refreshed by the server for as long as it stays). The API secret signs
// them here and never leaves the server.
import { randomBytes } from 'node:crypto';
import { AccessToken, TrackSource, type VideoGrant } from 'livekit-server-sdk';
import { ConsoleAttribute, type ConsoleRole } from '../contracts/console.js';
import { CallAttribute } from '../contracts/headers.js';

/** What a token lets its holder do: each is one button of the console. */
export type TokenAction =
  /** A supervisor listening to a live call: hidden, hears everyone, sends nothing. */
  | 'listen'
  /** A supervisor speaking in a live call: seen by everyone, publishes a microphone only. */
  | 'barge'
  /** A developer talking to the agent in a dev room: a microphone only. */
  | 'talk';

export const ROLE_OF_ACTION: Record<TokenAction, ConsoleRole> = {
  listen: 'supervisor',
  barge: 'supervisor',
  talk: 'developer',
};

/** The grant of each action; nothing else is ever granted. */
export function grantFor(action: TokenAction, room: string): VideoGrant {
  const base: VideoGrant = {
    roomJoin: true,
    room,
    canSubscribe: true,
    canPublishData: false,
    canUpdateOwnMetadata: false,
  };
  if (action === 'listen') return { ...base, hidden: true, canPublish: false };
  return { ...base, canPublish: true, canPublishSources: [TrackSource.MICROPHONE] };
}

export interface MintRequest {
  action: TokenAction;
  room: string;
  /** The signed-in user's id: part of the identity, so the room shows who joined. */
  userId: string;
  userName: string;
  /** For `talk`: the dev room's use case, as a participant attribute the agent reads. */
  useCase?: string;
}

export interface Minted {
  token: string;
  identity: string;
  room: string;
  /** Epoch ms after which LiveKit refuses the token for a new join. */
  expiresAt: number;
}

/** A participant identity: the role, the user, and a random suffix (one tab, one identity). */
export function identityFor(action: TokenAction, userId: string): string {
  const who = userId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 48) || 'user';
  return `console-${ROLE_OF_ACTION[action]}-${who}-${randomBytes(3).toString('hex')}`;
}

export async function mintToken(
  keys: { apiKey: string; apiSecret: string },
  req: MintRequest,
  ttlSeconds: number,
  nowMs = Date.now(),
): Promise<Minted> {
  const identity = identityFor(req.action, req.userId);
  const attributes: Record<string, string> = {
    [ConsoleAttribute.role]: ROLE_OF_ACTION[req.action],
  };
  if (req.action === 'talk' && req.useCase) attributes[CallAttribute.useCase] = req.useCase;
  const at = new AccessToken(keys.apiKey, keys.apiSecret, {
    identity,
    name: req.userName.slice(0, 64),
    ttl: ttlSeconds,
    attributes,
  });
  at.addGrant(grantFor(req.action, req.room));
  return {
    token: await at.toJwt(),
    identity,
    room: req.room,
    expiresAt: nowMs + ttlSeconds * 1000,
  };
}
