// The legs the webhook joins while a call rings: taken once by the call's stream, closed when no
// stream comes; and the names a Twilio caller gets in LiveKit (never the caller's number).
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callRoomName, dtmfCode, type LiveKitLeg } from '../../../twilio/livekit-leg.js';
import { PARK_MS, ParkedLegs } from '../../../twilio/parked-legs.js';

const fakeLeg = () => {
  const leg = { closed: 0, close: async () => void leg.closed++ };
  return leg;
};

afterEach(() => vi.useRealTimers());

describe('parked legs', () => {
  it('gives a call its leg once', async () => {
    const legs = new ParkedLegs(pino({ level: 'silent' }));
    const leg = fakeLeg();
    legs.park('CA1', Promise.resolve(leg as unknown as LiveKitLeg));
    expect(legs.take('CA2')).toBeUndefined();
    expect(await legs.take('CA1')).toBe(leg);
    expect(legs.take('CA1')).toBeUndefined();
    expect(leg.closed).toBe(0);
  });

  it('closes a leg no stream takes in time', async () => {
    vi.useFakeTimers();
    const legs = new ParkedLegs(pino({ level: 'silent' }));
    const leg = fakeLeg();
    legs.park('CA1', Promise.resolve(leg as unknown as LiveKitLeg));
    await vi.advanceTimersByTimeAsync(PARK_MS + 1);
    expect(leg.closed).toBe(1);
    expect(legs.take('CA1')).toBeUndefined();
  });

  it('closes what is still parked when the gateway stops, and survives a failed join', async () => {
    const legs = new ParkedLegs(pino({ level: 'silent' }));
    const leg = fakeLeg();
    legs.park('CA1', Promise.resolve(leg as unknown as LiveKitLeg));
    legs.park('CA2', Promise.reject(new Error('livekit down')));
    await legs.close();
    expect(leg.closed).toBe(1);
    expect(legs.size).toBe(0);
  });
});

describe("a Twilio caller's names in LiveKit", () => {
  it('names the room after the number called, never anything else', () => {
    expect(callRoomName('+12025550131')).toMatch(/^call_\+12025550131_[A-Za-z0-9_-]{8}$/);
    expect(callRoomName('client:alice')).toMatch(/^call_twilio_[A-Za-z0-9_-]{8}$/);
    expect(callRoomName(undefined)).toMatch(/^call_twilio_/);
  });

  it('maps keypad digits to their DTMF event codes', () => {
    expect(['0', '5', '9', '*', '#', 'A', 'D'].map(dtmfCode)).toEqual([0, 5, 9, 10, 11, 12, 15]);
  });
});
