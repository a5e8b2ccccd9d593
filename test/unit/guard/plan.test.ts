import { describe, expect, it } from 'vitest';
import {
  callsToLookUp,
  emptyMemory,
  planSweep,
  type Memory,
  type ParticipantView,
  type RoomView,
  type Snapshot,
} from '../../../guard/plan.js';

const o = { roomPrefix: 'call_', graceMs: 3000 };
const ROOM = 'call_+12025550131_abc';
const TX = '0b9e4c1a-1111-4c2d-8e3f-000000000001';

const caller = (status?: string, tx: string | null = TX): ParticipantView => ({
  kind: 'sip',
  attributes: {
    ...(tx ? { 'sma.transactionId': tx } : {}),
    ...(status ? { 'sip.callStatus': status } : {}),
  },
});
const agent: ParticipantView = { kind: 'agent', attributes: {} };
const developer: ParticipantView = { kind: 'other', attributes: {} };

function snap(rooms: RoomView[], more: Partial<Snapshot> = {}): Snapshot {
  return { nowMs: 100_000, rooms, unread: [], openCalls: [], phases: {}, ...more };
}

/** Plans the same world at `times` (ms), carrying memory from one sweep to the next. */
function sweeps(times: number[], world: (nowMs: number) => Snapshot, memory = emptyMemory) {
  let m: Memory = memory;
  return times.map((nowMs) => {
    const plan = planSweep({ ...world(nowMs), nowMs }, m, o);
    m = plan.memory;
    return plan;
  });
}

describe('planSweep', () => {
  it('does nothing to a healthy call when its caller and agent are both there', () => {
    const [a, b] = sweeps([0, 10_000], () =>
      snap([{ name: ROOM, participants: [caller('active'), agent] }], {
        openCalls: [{ transactionId: TX, phase: 'ai_connected' }],
      }),
    );
    expect([a!.actions, b!.actions]).toEqual([[], []]);
    expect(b!.memory).toEqual(emptyMemory);
  });

  it('leaves a dev room alone when it has no agent or no SIP participant', () => {
    const rooms = [
      { name: 'dev-room-1', participants: [developer] },
      { name: 'dev-room-2', participants: [caller('active')] },
      { name: 'dev-room-3', participants: [] },
    ];
    const plans = sweeps([0, 10_000, 60_000], () => snap(rooms));
    expect(plans.flatMap((p) => p.actions)).toEqual([]);
  });

  it('waits out the grace period when the agent has just gone, then ends the AI leg', () => {
    const world = () => snap([{ name: ROOM, participants: [caller('active')] }]);
    const [first, inside, after] = sweeps([0, 2999, 3000], world);
    expect(first!.actions).toEqual([]);
    expect(first!.memory.since).toEqual({ [`no_agent:${ROOM}`]: 0 });
    expect(inside!.actions).toEqual([]);
    expect(after!.actions).toEqual([{ type: 'delete_room', room: ROOM, reason: 'sweep_no_agent' }]);
  });

  it('starts the grace over when an agent came back in between', () => {
    const present = new Set([2000]);
    const world = (now: number) =>
      snap([{ name: ROOM, participants: present.has(now) ? [caller(), agent] : [caller()] }]);
    const plans = sweeps([0, 2000, 4000, 6999, 7000], world);
    expect(plans.map((p) => p.actions.length)).toEqual([0, 0, 0, 0, 1]);
  });

  it('treats a SIP participant without sip.callStatus as answered when the server sets none', () => {
    const [, after] = sweeps([0, 5000], () => snap([{ name: ROOM, participants: [caller()] }]));
    expect(after!.actions).toHaveLength(1);
  });

  it.each(['ringing', 'dialing', 'hangup'])(
    'leaves a caller whose call is %s to Chime when it has no agent',
    (status) => {
      const plans = sweeps([0, 60_000], () =>
        snap([{ name: ROOM, participants: [caller(status)] }]),
      );
      expect(plans.flatMap((p) => p.actions)).toEqual([]);
    },
  );

  it('deletes the room at once when the call it carries has ended', () => {
    const [plan] = sweeps([0], () =>
      snap([{ name: ROOM, participants: [caller('active'), agent] }], {
        phases: { [TX]: 'ended' },
      }),
    );
    expect(plan!.actions).toEqual([
      { type: 'delete_room', room: ROOM, reason: 'sweep_call_ended' },
    ]);
  });

  it('counts an ended call as ended, not as a missing agent, when both hold', () => {
    const plans = sweeps([0, 5000], () =>
      snap([{ name: ROOM, participants: [caller('active')] }], { phases: { [TX]: 'ended' } }),
    );
    expect(plans.map((p) => p.actions)).toEqual([
      [{ type: 'delete_room', room: ROOM, reason: 'sweep_call_ended' }],
      [{ type: 'delete_room', room: ROOM, reason: 'sweep_call_ended' }],
    ]);
  });

  it.each(['bridging_ai', 'ai_connected', 'transfer_pending', 'ending'])(
    'leaves the room when the call is still %s',
    (phase) => {
      const plans = sweeps([0, 5000], () =>
        snap([{ name: ROOM, participants: [caller('active'), agent] }], {
          phases: { [TX]: phase },
        }),
      );
      expect(plans.flatMap((p) => p.actions)).toEqual([]);
    },
  );

  it('deletes a room its caller left once the grace has passed, agent or not', () => {
    const rooms = [
      { name: 'call_a', participants: [agent] },
      { name: 'call_b', participants: [] },
    ];
    const [first, after] = sweeps([0, 3000], () => snap(rooms));
    expect(first!.actions).toEqual([]);
    expect(after!.actions).toEqual([
      { type: 'delete_room', room: 'call_a', reason: 'sweep_call_ended' },
      { type: 'delete_room', room: 'call_b', reason: 'sweep_call_ended' },
    ]);
  });

  it('forgets a room when it is gone', () => {
    const rooms = new Map([[0, [{ name: ROOM, participants: [caller()] }]]]);
    const plans = sweeps([0, 1000], (now) => snap(rooms.get(now) ?? []));
    expect(plans[1]!.memory).toEqual(emptyMemory);
  });

  it('leaves unread rooms as they were and keeps what it knew of them', () => {
    const memory: Memory = {
      since: { [`no_agent:${ROOM}`]: 0, 'no_agent:call_gone': 0 },
      reported: [],
    };
    const plan = planSweep(snap([], { nowMs: 60_000, unread: [ROOM] }), memory, o);
    expect(plan.actions).toEqual([]);
    expect(plan.memory.since).toEqual({ [`no_agent:${ROOM}`]: 0 });
  });
});

describe('planSweep: open calls without a room', () => {
  const orphan = { transactionId: TX, phase: 'ai_connected' };

  it('reports a call with the agent and no room once, after the grace period', () => {
    const plans = sweeps([0, 2000, 3000, 13_000], () => snap([], { openCalls: [orphan] }));
    expect(plans.map((p) => p.actions)).toEqual([
      [],
      [],
      [{ type: 'report_orphan', transactionId: TX, phase: 'ai_connected' }],
      [],
    ]);
    expect(plans[3]!.memory.reported).toEqual([TX]);
  });

  it('forgets a reported call once the SMA closes it', () => {
    const plans = sweeps([0, 3000, 4000], (now) =>
      snap([], { openCalls: now < 4000 ? [orphan] : [] }),
    );
    expect(plans[2]!.memory).toEqual(emptyMemory);
  });

  it.each([
    'dialing',
    'bridging_ai',
    'transfer_pending',
    'bridging_human',
    'human_connected',
    'ending',
  ])('does not report a call that is %s (no room expected)', (phase) => {
    const plans = sweeps([0, 60_000], () =>
      snap([], { openCalls: [{ transactionId: TX, phase }] }),
    );
    expect(plans.flatMap((p) => p.actions)).toEqual([]);
  });

  it('does not report a call when a room names it', () => {
    const plans = sweeps([0, 60_000], () =>
      snap([{ name: ROOM, participants: [caller('active'), agent] }], { openCalls: [orphan] }),
    );
    expect(plans.flatMap((p) => p.actions)).toEqual([]);
  });

  it('reports nothing and keeps its notes when a room could not be read', () => {
    const memory: Memory = { since: { [`orphan:${TX}`]: 0 }, reported: ['other'] };
    const plan = planSweep(
      snap([], { nowMs: 60_000, unread: [ROOM], openCalls: [orphan] }),
      memory,
      o,
    );
    expect(plan).toEqual({ actions: [], memory });
  });

  it('reports nothing and keeps its notes when the open calls could not be read', () => {
    const memory: Memory = { since: { [`orphan:${TX}`]: 0 }, reported: ['other'] };
    const plan = planSweep(snap([], { nowMs: 60_000, openCalls: undefined }), memory, o);
    expect(plan).toEqual({ actions: [], memory });
  });
});

describe('planSweep over every room it can see', () => {
  type Caller = 'none' | 'ringing' | 'answered';
  type Phase = 'open' | 'ended' | 'unknown';
  const callers: Caller[] = ['none', 'ringing', 'answered'];
  const phases: Phase[] = ['open', 'ended', 'unknown'];
  const cases = callers.flatMap((c) =>
    [true, false].flatMap((withAgent) =>
      phases.flatMap((phase) =>
        [false, true].flatMap((pastGrace) =>
          [true, false].map((callRoom) => ({ c, withAgent, phase, pastGrace, callRoom })),
        ),
      ),
    ),
  );

  /** What the failure rules say, written independently of the planner. */
  function expected(k: (typeof cases)[number]): string | undefined {
    if (!k.callRoom) return undefined;
    if (k.c === 'none') return k.pastGrace ? 'sweep_call_ended' : undefined;
    if (k.phase === 'ended') return 'sweep_call_ended';
    if (k.withAgent || k.c === 'ringing') return undefined;
    return k.pastGrace ? 'sweep_no_agent' : undefined;
  }

  it.each(cases)(
    'decides $c caller, agent $withAgent, call $phase, past grace $pastGrace, call room $callRoom',
    (k) => {
      const name = k.callRoom ? ROOM : 'dev_room';
      const participants = [
        ...(k.c === 'none' ? [] : [caller(k.c === 'ringing' ? 'ringing' : 'active')]),
        ...(k.withAgent ? [agent] : []),
      ];
      const world = () =>
        snap([{ name, participants }], {
          openCalls: k.phase === 'open' ? [{ transactionId: TX, phase: 'ai_connected' }] : [],
          phases: k.phase === 'ended' ? { [TX]: 'ended' } : {},
        });
      const plans = sweeps(k.pastGrace ? [0, 3000] : [0, 2999], world);
      const last = plans[1]!.actions.filter((a) => a.type === 'delete_room');
      expect(last.map((a) => a.reason)).toEqual(expected(k) ? [expected(k)] : []);
    },
  );
});

describe('callsToLookUp', () => {
  it('asks only for calls that call rooms name and the open calls do not hold', () => {
    const rooms: RoomView[] = [
      { name: 'call_1', participants: [caller('active', 'tx-b'), agent] },
      { name: 'call_2', participants: [caller('active', 'tx-a')] },
      { name: 'call_3', participants: [caller('active', 'tx-open')] },
      { name: 'call_4', participants: [caller('active', null), agent] },
      { name: 'call_5', participants: [caller('active', 'tx-a')] },
      { name: 'dev_1', participants: [caller('active', 'tx-dev')] },
    ];
    expect(callsToLookUp(rooms, [{ transactionId: 'tx-open', phase: 'ai_connected' }], o)).toEqual([
      'tx-a',
      'tx-b',
    ]);
  });
});

describe('planSweep: open calls checked with Chime', () => {
  const co = { ...o, checkCalls: true, recheckMs: 60_000 };
  const open = (phase: string) => ({ transactionId: TX, phase });
  /** Plans with `checkCalls`, carrying memory. */
  function checks(times: number[], world: (nowMs: number) => Snapshot, memory = emptyMemory) {
    let m: Memory = memory;
    return times.map((nowMs) => {
      const plan = planSweep({ ...world(nowMs), nowMs }, m, co);
      m = plan.memory;
      return plan;
    });
  }
  const checkOf = (phase: string) => ({ type: 'check_call', transactionId: TX, phase });

  it.each(['dialing', 'bridging_ai', 'transfer_pending', 'ending'])(
    'checks a call left %s with no room once the grace period has passed',
    (phase) => {
      const plans = checks([0, 2000, 3000], () => snap([], { openCalls: [open(phase)] }));
      expect(plans.map((p) => p.actions)).toEqual([[], [], [checkOf(phase)]]);
    },
  );

  it('checks a call with the agent and no room, and reports it as before', () => {
    const plans = checks([0, 3000], () => snap([], { openCalls: [open('ai_connected')] }));
    expect(plans[1]!.actions).toEqual([
      checkOf('ai_connected'),
      { type: 'report_orphan', transactionId: TX, phase: 'ai_connected' },
    ]);
  });

  it('checks a call still open again only after the recheck interval', () => {
    const times = [0, 3000, 13_000, 62_999, 63_000];
    const plans = checks(times, () => snap([], { openCalls: [open('ending')] }));
    expect(plans.map((p) => p.actions.length)).toEqual([0, 1, 0, 0, 1]);
    expect(plans[3]!.memory.checked).toEqual({ [TX]: 3000 });
  });

  it('checks at once a call whose room named it longer ago than the grace period', () => {
    // The room went while DynamoDB could not be read; the record shows up open afterwards.
    const world = (now: number) =>
      now === 0
        ? snap([{ name: ROOM, participants: [caller('active'), agent] }], { openCalls: undefined })
        : snap([], { openCalls: now < 20_000 ? undefined : [open('ai_connected')] });
    const plans = checks([0, 10_000, 20_000], world);
    expect(plans[1]!.memory.seen).toEqual({ [TX]: 0 });
    expect(plans[2]!.actions[0]).toEqual(checkOf('ai_connected'));
  });

  it('waits out the grace period when the room named the call only just before', () => {
    const world = (now: number) =>
      now === 0
        ? snap([{ name: ROOM, participants: [caller('active'), agent] }], {
            openCalls: [open('ai_connected')],
          })
        : snap([], { openCalls: [open('ai_connected')] });
    const plans = checks([0, 1000, 3000], world);
    expect(plans.map((p) => p.actions.length)).toEqual([0, 0, 2]);
  });

  it.each(['bridging_human', 'human_connected'])(
    'never checks a call that is %s (with people, no room)',
    (phase) => {
      const plans = checks([0, 60_000, 200_000], () => snap([], { openCalls: [open(phase)] }));
      expect(plans.flatMap((p) => p.actions)).toEqual([]);
    },
  );

  it('does not check a call a room names', () => {
    const plans = checks([0, 60_000], () =>
      snap([{ name: ROOM, participants: [caller('active'), agent] }], {
        openCalls: [open('ai_connected')],
      }),
    );
    expect(plans.flatMap((p) => p.actions)).toEqual([]);
  });

  it('forgets where it saw a call once the call is no longer open', () => {
    const world = (now: number) =>
      now === 0
        ? snap([{ name: ROOM, participants: [caller('active'), agent] }])
        : snap([], { openCalls: [] });
    const plans = checks([0, 10_000], world);
    expect(plans[0]!.memory.seen).toEqual({ [TX]: 0 });
    expect(plans[1]!.memory).toEqual(emptyMemory);
  });

  it('keeps what it saw and checked while the open calls cannot be read', () => {
    const memory: Memory = { since: {}, reported: [], seen: { [TX]: 0 }, checked: { [TX]: 0 } };
    const plan = planSweep(snap([], { nowMs: 10_000, openCalls: undefined }), memory, co);
    expect(plan.actions).toEqual([]);
    expect(plan.memory).toEqual(memory);
  });

  it('forgets a call seen an hour ago while the open calls cannot be read', () => {
    const memory: Memory = { since: {}, reported: [], seen: { [TX]: 0 } };
    const plan = planSweep(snap([], { nowMs: 3_600_000, openCalls: undefined }), memory, co);
    expect(plan.memory.seen).toBeUndefined();
  });
});
