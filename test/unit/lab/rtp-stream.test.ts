// The lab phone's speech queue: what `say` queued goes out one 20 ms frame at a time, and each
// `say` resolves once its last sample has been taken (or when the call ends).
import { describe, expect, it } from 'vitest';
import { FRAME_SAMPLES, SpeechQueue } from '../../../lab/phone/rtp-stream.js';

const ramp = (n: number, from = 1) => Int16Array.from({ length: n }, (_, i) => from + i);

describe('SpeechQueue', () => {
  it('takes whole frames across chunks, pads the last with silence, then has none', () => {
    const q = new SpeechQueue();
    void q.push(ramp(100));
    void q.push(ramp(100, 101));
    const first = q.next()!;
    expect(first).toHaveLength(FRAME_SAMPLES);
    expect([...first]).toEqual([...ramp(FRAME_SAMPLES)]);
    const second = q.next()!;
    expect([...second.subarray(0, 40)]).toEqual([...ramp(40, 161)]);
    expect(second.subarray(40).every((s) => s === 0)).toBe(true);
    expect(q.next()).toBeUndefined();
  });

  it('resolves each say once its last sample is taken, in order', async () => {
    const q = new SpeechQueue();
    const done: string[] = [];
    void q.push(ramp(FRAME_SAMPLES)).then(() => done.push('a'));
    void q.push(ramp(FRAME_SAMPLES + 1)).then(() => done.push('b'));
    q.next();
    await Promise.resolve();
    expect(done).toEqual(['a']);
    q.next();
    await Promise.resolve();
    expect(done).toEqual(['a']);
    q.next();
    await Promise.resolve();
    expect(done).toEqual(['a', 'b']);
  });

  it('releases every waiter when the call ends, taken or not', async () => {
    const q = new SpeechQueue();
    const said = q.push(ramp(FRAME_SAMPLES * 10));
    q.release(true);
    await expect(said).resolves.toBeUndefined();
  });
});
