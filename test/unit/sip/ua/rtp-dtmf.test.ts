// The lab phone's keypad: RFC 4733 telephone-events as a phone sends them.
import { describe, expect, it } from 'vitest';
import { DtmfQueue, dtmfEvent, telephoneEventPayload } from '../../../../sip/ua/rtp-dtmf.js';

describe('RFC 4733 telephone-events', () => {
  it('codes the keypad as RFC 4733 does', () => {
    expect(['0', '9', '*', '#', 'A', 'D'].map(dtmfEvent)).toEqual([0, 9, 10, 11, 12, 15]);
    expect(dtmfEvent('x')).toBeUndefined();
  });

  it('writes event, end bit, volume and duration', () => {
    expect([...telephoneEventPayload(11, true, 800)]).toEqual([11, 0x80 | 10, 0x03, 0x20]);
  });

  it('sends a digit for 100 ms on one timestamp, repeats its end, then leaves a gap', async () => {
    const q = new DtmfQueue(160);
    const sent = q.push('05');
    const slots = Array.from({ length: 18 }, (_, i) => q.next(i));
    const first = slots.slice(0, 5);
    expect(first.map((s) => s!.payloads.length)).toEqual([1, 1, 1, 1, 3]);
    expect(first.map((s) => s!.marker)).toEqual([true, false, false, false, false]);
    expect(first.every((s) => s!.startSlot === 0)).toBe(true);
    expect(first.map((s) => s!.payloads[0]!.readUInt16BE(2))).toEqual([160, 320, 480, 640, 800]);
    expect(first[4]!.payloads[0]![1]! & 0x80).toBe(0x80);
    expect(slots.slice(5, 8)).toEqual([undefined, undefined, undefined]); // the gap: audio
    expect(slots[8]).toMatchObject({ marker: true, startSlot: 8 });
    expect(slots[8]!.payloads[0]![0]).toBe(5);
    expect(slots.slice(13)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    await expect(sent).resolves.toBeUndefined();
  });

  it('refuses what is not a key', async () => {
    await expect(new DtmfQueue(160).push('1x')).rejects.toThrow(/not keypad digits/);
  });
});
