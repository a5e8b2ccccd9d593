import { describe, expect, it } from 'vitest';
import {
  agentTurnsIn,
  earTurns,
  linesOf,
  pairTurns,
  type Frame,
  agentCallCpuIn,
  agentFirstAudioIn,
  firstAudioWays,
} from '../../../lab/caller/ear-turns.js';

const LOUD = 900;
const QUIET = 3;
const THRESHOLD = 64;

/** 20 ms frames from `from`, `n` of them, all at `rms`. */
function frames(from: number, n: number, rms: number): Frame[] {
  return Array.from({ length: n }, (_, i) => ({ at: from + i * 20, rms, ms: 20 }));
}

describe('linesOf', () => {
  it('keeps the pauses inside a line and splits lines sent apart', () => {
    const said = [...frames(0, 10, LOUD), ...frames(200, 5, QUIET), ...frames(300, 5, LOUD)];
    const later = frames(3_000, 4, LOUD);
    expect(linesOf([...said, ...later]).map((l) => l.length)).toEqual([20, 4]);
  });
});

describe('earTurns', () => {
  it('times the reply from the last audible frame sent to the first audible frame heard', () => {
    // The line is loud until 180 ms, then trails off in quiet frames (Flite's tail).
    const said = [...frames(0, 10, LOUD), ...frames(200, 10, QUIET)];
    const heard = [...frames(0, 40, QUIET), ...frames(800, 30, LOUD)];
    expect(earTurns(said, heard, { threshold: THRESHOLD })).toEqual([
      { lineEndAt: 180, replyAt: 800, ms: 620 },
    ]);
  });

  it('skips the agent still speaking as the line ends and finds the reply after a pause', () => {
    const said = frames(0, 10, LOUD);
    const heard = [...frames(100, 6, LOUD), ...frames(220, 20, QUIET), ...frames(900, 5, LOUD)];
    expect(earTurns(said, heard, { threshold: THRESHOLD })[0]).toMatchObject({ replyAt: 900 });
  });

  it('has no reply for a line answered only after the caller spoke again', () => {
    const said = [...frames(0, 10, LOUD), ...frames(2_000, 10, LOUD)];
    const heard = frames(2_700, 10, LOUD);
    expect(earTurns(said, heard, { threshold: THRESHOLD })).toEqual([
      { lineEndAt: 180, replyAt: undefined, ms: null },
      { lineEndAt: 2_180, replyAt: 2_700, ms: 520 },
    ]);
  });

  it('ignores a line with nothing audible in it', () => {
    expect(earTurns(frames(0, 10, QUIET), frames(500, 5, LOUD), { threshold: THRESHOLD })).toEqual(
      [],
    );
  });
});

describe('agentTurnsIn', () => {
  const tx = '00000000-0000-4000-8000-000000000001';
  const line = (o: object) => JSON.stringify({ level: 30, ...o });

  it("reads one call's turn lines from a worker log and skips everything else", () => {
    const log = [
      line({ time: 1_000, transactionId: tx, ttfaMs: 9, msg: 'first audio' }),
      line({ time: 5_000, transactionId: tx, turnMs: 540, msg: 'turn' }),
      line({ time: 6_000, transactionId: 'other', turnMs: 300, msg: 'turn' }),
      '{"msg":"turn", not json ' + tx,
      line({ time: 9_000, transactionId: tx, turnMs: 610, msg: 'turn' }),
      line({
        time: 12_003,
        transactionId: tx,
        turnMs: 500,
        speechEndedAt: 11_500,
        sentAt: 12_000,
        msg: 'turn',
      }),
    ].join('\n');
    expect(agentTurnsIn(log, tx)).toEqual([
      { at: 5_000, ms: 540 },
      { at: 9_000, ms: 610 },
      // The moment the frame went out, not the log line's, when the line carries it.
      { at: 12_000, ms: 500, speechEndedAt: 11_500 },
    ]);
  });
});

describe('pairTurns', () => {
  it("pairs each reply at the ear with the agent's turn sent between the line's end and the ear", () => {
    const ear = [
      { lineEndAt: 100, replyAt: 800, ms: 700 },
      { lineEndAt: 2_000, replyAt: undefined, ms: null },
      { lineEndAt: 4_000, replyAt: 4_650, ms: 650 },
    ];
    // timeOrigin 10 000: the replies reach the ear at 10 800 and 14 650 (epoch ms).
    const agent = [
      { at: 14_560, ms: 520 },
      { at: 10_690, ms: 560 },
      { at: 12_500, ms: 400 }, // a reply the ear never heard as one
    ];
    expect(pairTurns(ear, agent, 10_000)).toEqual([
      { earMs: 700, agentMs: 560, inMs: null, outMs: null },
      { earMs: null, agentMs: null, inMs: null, outMs: null },
      { earMs: 650, agentMs: 520, inMs: null, outMs: null },
    ]);
  });

  it('splits what lies outside the agent into the way in and the way out', () => {
    // The line ends at 10 100 (epoch), the agent places the end of speech at 10 230 and sends the
    // reply's first frame at 10 750; it is audible at the ear at 10 900.
    const ear = [{ lineEndAt: 100, replyAt: 900, ms: 800 }];
    const agent = [{ at: 10_750, ms: 520, speechEndedAt: 10_230 }];
    expect(pairTurns(ear, agent, 10_000)).toEqual([
      { earMs: 800, agentMs: 520, inMs: 130, outMs: 150 },
    ]);
  });
});

describe('the greeting at the ear, part by part', () => {
  const tx = '00000000-0000-4000-8000-000000000002';
  const line = (o: object) => JSON.stringify({ level: 30, ...o });

  it("reads the call's first-audio moments, and nothing from a line without them", () => {
    const log = [
      line({ time: 900, transactionId: tx, ttfaMs: 9, msg: 'first audio' }), // an older agent
      line({ time: 1_000, transactionId: 'other', answeredAt: 1, sentAt: 2, msg: 'first audio' }),
      line({
        time: 1_020,
        transactionId: tx,
        ttfaMs: 12,
        answeredAt: 1_005,
        sentAt: 1_017,
        msg: 'first audio',
      }),
    ].join('\n');
    expect(agentFirstAudioIn(log, tx)).toEqual({ answeredAt: 1_005, sentAt: 1_017 });
    expect(agentFirstAudioIn(log, 'missing')).toBeUndefined();
  });

  it("splits the phone's TTFA into the answer's way, the agent's part and the way out", () => {
    // timeOrigin 10 000: answered at the phone at 10 400, the agent learns it at 10 445, sends the
    // greeting at 10 458, and the phone hears it at 10 560.
    const phone = { answeredAt: 400, firstAudioAt: 560 };
    const agent = { answeredAt: 10_445, sentAt: 10_458 };
    const ways = firstAudioWays(phone, agent, 10_000);
    expect(ways).toEqual({ answerMs: 45, agentMs: 13, outMs: 102 });
    expect(ways!.answerMs + ways!.agentMs + ways!.outMs).toBe(
      phone.firstAudioAt - phone.answeredAt,
    );
    expect(firstAudioWays(phone, undefined, 10_000)).toBeUndefined();
    expect(
      firstAudioWays({ answeredAt: 400, firstAudioAt: undefined }, agent, 10_000),
    ).toBeUndefined();
  });
});

describe("a call's CPU in its job process", () => {
  const tx = '00000000-0000-4000-8000-000000000003';
  const line = (o: object) => JSON.stringify({ level: 30, ...o });

  it("reads the call's `call ended` line, and nothing from another call's or an older agent's", () => {
    const log = [
      line({ transactionId: tx, cpuMs: 4_100, msg: 'call ended' }), // no job time: an older agent
      line({ transactionId: 'other', cpuMs: 1, ms: 2, msg: 'call ended' }),
      line({ transactionId: tx, cpuMs: 6_702, ms: 31_250, msg: 'call ended', pii: {} }),
    ].join('\n');
    expect(agentCallCpuIn(log, tx)).toEqual({ cpuMs: 6_702, ms: 31_250 });
    expect(agentCallCpuIn(log, 'missing')).toBeUndefined();
  });
});
