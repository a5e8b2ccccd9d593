// The legs the webhook places while a call rings: taken once by the call's stream, closed when no
// stream comes; and the number a Twilio caller's INVITE calls (never the caller's number).
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadUseCases } from '../../../contracts/use-cases.js';
import bundledUseCases from '../../../contracts/use-cases.json' with { type: 'json' };
import { trunkNumberFor, type SipLeg } from '../../../twilio/sip-leg.js';
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
    legs.park('CA1', Promise.resolve(leg as unknown as SipLeg));
    expect(legs.take('CA2')).toBeUndefined();
    expect(await legs.take('CA1')).toBe(leg);
    expect(legs.take('CA1')).toBeUndefined();
    expect(leg.closed).toBe(0);
  });

  it('closes a leg no stream takes in time', async () => {
    vi.useFakeTimers();
    const legs = new ParkedLegs(pino({ level: 'silent' }));
    const leg = fakeLeg();
    legs.park('CA1', Promise.resolve(leg as unknown as SipLeg));
    await vi.advanceTimersByTimeAsync(PARK_MS + 1);
    expect(leg.closed).toBe(1);
    expect(legs.take('CA1')).toBeUndefined();
  });

  it('closes what is still parked when the gateway stops, and survives a failed join', async () => {
    const legs = new ParkedLegs(pino({ level: 'silent' }));
    const leg = fakeLeg();
    legs.park('CA1', Promise.resolve(leg as unknown as SipLeg));
    legs.park('CA2', Promise.reject(new Error('livekit down')));
    await legs.close();
    expect(leg.closed).toBe(1);
    expect(legs.size).toBe(0);
  });
});

describe("the number a Twilio caller's INVITE calls", () => {
  const catalog = loadUseCases(undefined, bundledUseCases);
  const uc = catalog.defaultUseCase;

  it("is the number Twilio called when it is one of the use case's, else its first", () => {
    const last = uc.dialedNumbers.at(-1)!;
    expect(trunkNumberFor(uc, last)).toBe(last);
    expect(trunkNumberFor(uc, '+19995550100')).toBe(uc.dialedNumbers[0]);
    expect(trunkNumberFor(uc, undefined)).toBe(uc.dialedNumbers[0]);
    expect(trunkNumberFor(uc, 'client:alice')).toBe(uc.dialedNumbers[0]);
  });
});
