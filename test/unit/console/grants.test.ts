// The console's LiveKit tokens: one room, one identity, the least grants of their action, a short
// lifetime, and the role the agent reads.
import { TokenVerifier } from 'livekit-server-sdk';
import { describe, expect, it } from 'vitest';
import { ConsoleAttribute, isConsoleSupervisor } from '../../../contracts/console.js';
import { CallAttribute } from '../../../contracts/headers.js';
import { grantFor, mintToken } from '../../../console/grants.js';

const keys = { apiKey: 'APIconsoletest', apiSecret: 'a-secret-of-at-least-thirty-two-characters' };
const verify = (token: string) => new TokenVerifier(keys.apiKey, keys.apiSecret).verify(token);
const room = 'call_+15550100311_abcd';

describe('mintToken', () => {
  it('listen: hidden, subscribes, publishes nothing, in that room only', async () => {
    const m = await mintToken(keys, { action: 'listen', room, userId: 'u1', userName: 'Ann' }, 120);
    const claims = await verify(m.token);
    expect(claims.video).toEqual({
      roomJoin: true,
      room,
      hidden: true,
      canPublish: false,
      canSubscribe: true,
      canPublishData: false,
      canUpdateOwnMetadata: false,
    });
    expect(claims.sub).toBe(m.identity);
    expect(m.identity).toMatch(/^console-supervisor-u1-[0-9a-f]{6}$/);
    expect(claims.attributes).toEqual({ [ConsoleAttribute.role]: 'supervisor' });
    expect(isConsoleSupervisor(claims.attributes!)).toBe(true);
    expect(claims.exp! - claims.nbf!).toBe(120);
  });

  it('barge: visible, a microphone and nothing else, still a supervisor', async () => {
    const m = await mintToken(keys, { action: 'barge', room, userId: 'u1', userName: 'Ann' }, 60);
    const { video, attributes } = await verify(m.token);
    expect(video?.hidden).toBeUndefined();
    expect(video?.canPublish).toBe(true);
    expect(video?.canPublishSources).toEqual(['microphone']);
    expect(video?.canPublishData).toBe(false);
    expect(video?.roomAdmin).toBeUndefined();
    expect(isConsoleSupervisor(attributes!)).toBe(true);
  });

  it('talk: a developer with the use case the agent greets as', async () => {
    const m = await mintToken(
      keys,
      {
        action: 'talk',
        room: 'dev-1234',
        userId: 'dev@example.org',
        userName: 'Dev',
        useCase: 'city-311',
      },
      60,
    );
    const { video, attributes } = await verify(m.token);
    expect(video?.room).toBe('dev-1234');
    expect(video?.canPublishSources).toEqual(['microphone']);
    expect(attributes).toEqual({
      [ConsoleAttribute.role]: 'developer',
      [CallAttribute.useCase]: 'city-311',
    });
    expect(isConsoleSupervisor(attributes!)).toBe(false);
    // An identity is made of safe characters only, whatever the provider's subject holds.
    expect(m.identity).toMatch(/^console-developer-dev_example.org-[0-9a-f]{6}$/);
  });

  it('never grants room administration, recording or agent rights', () => {
    for (const action of ['listen', 'barge', 'talk'] as const) {
      const g = grantFor(action, room);
      for (const k of [
        'roomAdmin',
        'roomCreate',
        'roomList',
        'roomRecord',
        'agent',
        'ingressAdmin',
      ]) {
        expect(g).not.toHaveProperty(k);
      }
    }
  });

  it('is refused by a verifier holding another secret', async () => {
    const m = await mintToken(keys, { action: 'listen', room, userId: 'u', userName: 'u' }, 60);
    await expect(
      new TokenVerifier(keys.apiKey, 'another-secret-of-thirty-two-characters!!').verify(m.token),
    ).rejects.toThrow();
  });
});
