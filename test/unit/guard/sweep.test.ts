import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { GuardActions } from '../../../guard/actions.js';
import { LiveKitRooms, NO_AGENT } from '../../../guard/livekit-rooms.js';
import { Sweeper } from '../../../guard/sweep.js';
import { Instrument } from '../../../otel/instruments.js';
import {
  FakeCalls,
  FakeRecords,
  FakeRooms,
  FakeVoice,
  agent,
  notFound,
  recordingInstruments,
  serverError,
  sip,
  total,
} from './fakes.js';

const ROOM = 'call_+12025550131_abc';
const TX = '0b9e4c1a-1111-4c2d-8e3f-000000000001';

function setUp(
  opts: { calls?: FakeCalls; timeoutMs?: number; voice?: FakeVoice; records?: FakeRecords } = {},
) {
  const rooms = new FakeRooms();
  const { instruments, recorded } = recordingInstruments();
  const clock = { now: 1_000_000 };
  const recovery = opts.voice
    ? { voice: opts.voice, records: opts.records, applicationId: 'sma-app' }
    : undefined;
  const actions = new GuardActions(
    new LiveKitRooms(rooms, opts.timeoutMs ?? 1000),
    instruments,
    pino({ level: 'silent' }),
    recovery,
    () => clock.now,
  );
  const sweeper = new Sweeper(actions, opts.calls, instruments, {
    roomPrefix: 'call_',
    graceMs: 3000,
    intervalMs: 10_000,
    now: () => clock.now,
  });
  /** Sweeps `n` times, the clock moved on by an interval between them. */
  const sweep = async (n = 1) => {
    const results: boolean[] = [];
    for (let i = 0; i < n; i++) {
      if (i > 0) clock.now += 10_000;
      results.push(await sweeper.sweep());
    }
    return results;
  };
  return { rooms, recorded, clock, actions, sweeper, sweep };
}

describe('Sweeper', () => {
  it('ends the AI leg of a room left without its agent when the webhook never came', async () => {
    const t = setUp();
    t.rooms.rooms.set(ROOM, [sip(TX)]);
    t.rooms.rooms.set('call_healthy', [sip('tx-2'), agent()]);
    expect(await t.sweep(2)).toEqual([true, true]);
    expect(t.rooms.deleted).toEqual([ROOM]);
    expect(t.actions.ended).toEqual([ROOM]);
    expect(total(t.recorded, Instrument.guardRoomsEnded, { reason: 'sweep_no_agent' })).toBe(1);
    expect(t.recorded.filter((r) => r.name === Instrument.guardSweepDuration)).toHaveLength(2);
  });

  it('takes a room already gone as done when another replica deleted it first', async () => {
    const t = setUp();
    t.rooms.rooms.set(ROOM, [sip(TX)]);
    t.rooms.fail.deleteRoom = notFound;
    expect(await t.sweep(2)).toEqual([true, true]);
    expect(total(t.recorded, Instrument.guardApiErrors)).toBe(0);
    expect(total(t.recorded, Instrument.guardRoomsEnded)).toBe(0);
  });

  it('deletes a room whose node is gone (its host lost) by placing it on a live node first', async () => {
    const t = setUp();
    t.rooms.rooms.set(ROOM, [sip(TX)]);
    t.rooms.homeless.add(ROOM);
    expect(await t.sweep(2)).toEqual([true, true]);
    // Re-created with an agent no worker serves: no job is sent to a room about to go.
    expect(t.rooms.created).toEqual([{ name: ROOM, agents: [NO_AGENT] }]);
    expect(t.rooms.deleted).toEqual([ROOM]);
    expect(total(t.recorded, Instrument.guardApiErrors)).toBe(0);
    // A room that lists no caller is not re-created (after Redis lost its state a live call's room
    // looks so): its delete is counted as failed, as any other.
    t.rooms.rooms.set('call_empty', []);
    t.rooms.homeless.add('call_empty');
    expect(await t.sweep(2)).toEqual([true, false]);
    expect(t.rooms.created).toHaveLength(1);
    expect(t.rooms.rooms.has('call_empty')).toBe(true);
    t.rooms.rooms.delete('call_empty');
    // A room that only looks alike (another 500) is not re-created: counted, tried next sweep.
    t.rooms.rooms.set('call_other', [sip('tx-9')]);
    t.rooms.fail.deleteRoom = () => serverError('unknown');
    expect(await t.sweep(2)).toEqual([true, false]);
    expect(t.rooms.created).toHaveLength(1);
  });

  it('counts and reports a failed delete, and tries again on the next sweep', async () => {
    const t = setUp();
    t.rooms.rooms.set(ROOM, [sip(TX)]);
    t.rooms.fail.deleteRoom = () => serverError('unavailable');
    expect(await t.sweep(2)).toEqual([true, false]);
    expect(
      total(t.recorded, Instrument.guardApiErrors, {
        operation: 'delete_room',
        code: 'unavailable',
      }),
    ).toBe(1);
    t.rooms.fail = {};
    expect(await t.sweep(1)).toEqual([true]);
    expect(t.rooms.deleted).toEqual([ROOM]);
  });

  it('fails the sweep and acts on nothing when LiveKit does not answer in time', async () => {
    const t = setUp({ timeoutMs: 20 });
    t.rooms.rooms.set(ROOM, [sip(TX)]);
    t.rooms.hang.add('listRooms');
    expect(await t.sweep(2)).toEqual([false, false]);
    expect(t.rooms.deleted).toEqual([]);
    expect(
      total(t.recorded, Instrument.guardApiErrors, { operation: 'list_rooms', code: 'timeout' }),
    ).toBe(2);
    expect(t.sweeper.health().healthy).toBe(false);
  });

  it('leaves a room whose participants it could not read, and acts on the others', async () => {
    const t = setUp({ timeoutMs: 20 });
    t.rooms.rooms.set(ROOM, [sip(TX)]);
    t.rooms.hang.add('listParticipants');
    await t.sweep(2);
    expect(t.rooms.deleted).toEqual([]);
    expect(total(t.recorded, Instrument.guardApiErrors, { operation: 'list_participants' })).toBe(
      2,
    );
  });

  it('deletes the room of an ended call, reading only calls the open-calls index lacks', async () => {
    const calls = new FakeCalls();
    calls.open = [{ transactionId: 'tx-open', phase: 'ai_connected' }];
    calls.phasesOf = { [TX]: 'ended', 'tx-open': 'ai_connected' };
    const t = setUp({ calls });
    t.rooms.rooms.set(ROOM, [sip(TX), agent()]);
    t.rooms.rooms.set('call_open', [sip('tx-open'), agent()]);
    expect(await t.sweep(1)).toEqual([true]);
    expect(calls.asked).toEqual([[TX]]);
    expect(t.rooms.deleted).toEqual([ROOM]);
    expect(t.actions.ended).toEqual([]);
    expect(total(t.recorded, Instrument.guardRoomsEnded, { reason: 'sweep_call_ended' })).toBe(1);
  });

  it('counts an open call with the agent and no room once, and acts on nothing', async () => {
    const calls = new FakeCalls();
    calls.open = [{ transactionId: TX, phase: 'ai_connected' }];
    const t = setUp({ calls });
    expect(await t.sweep(4)).toEqual([true, true, true, true]);
    expect(total(t.recorded, Instrument.guardOrphanedCalls)).toBe(1);
    expect(calls.asked).toEqual([]);
  });

  it('still ends rooms without an agent when DynamoDB fails, and reports the sweep failed', async () => {
    const calls = new FakeCalls();
    calls.fail.openCalls = () =>
      Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    const t = setUp({ calls });
    t.rooms.rooms.set(ROOM, [sip(TX)]);
    expect(await t.sweep(2)).toEqual([false, false]);
    expect(t.rooms.deleted).toEqual([ROOM]);
    expect(
      total(t.recorded, Instrument.guardApiErrors, {
        operation: 'query_open_calls',
        code: 'throttling_exception',
      }),
    ).toBe(2);
  });

  it('is healthy while its last success is within three intervals', async () => {
    const t = setUp();
    expect(t.sweeper.health()).toMatchObject({ healthy: false, sweeps: 0 });
    await t.sweep(1);
    t.clock.now += 30_000;
    expect(t.sweeper.health()).toMatchObject({ healthy: true, lastSuccessAgeMs: 30_000 });
    t.clock.now += 1;
    expect(t.sweeper.health().healthy).toBe(false);
  });
});

describe('Sweeper: open calls checked with Chime', () => {
  function world(phase = 'ai_connected') {
    const calls = new FakeCalls();
    calls.open = [{ transactionId: TX, phase }];
    const voice = new FakeVoice();
    const records = new FakeRecords();
    return { calls, voice, records, ...setUp({ calls, voice, records }) };
  }

  it('closes the record of a call Chime no longer has, asking with an empty update', async () => {
    const t = world('ending');
    expect(await t.sweep(2)).toEqual([true, true]);
    expect(t.voice.sent).toEqual([
      { call: { applicationId: 'sma-app', transactionId: TX, region: undefined }, args: {} },
    ]);
    expect(t.records.closing).toEqual([TX]);
    expect(t.actions.closed).toEqual([TX]);
  });

  it('leaves the record of a call Chime still has, and changes nothing', async () => {
    const t = world();
    t.voice.live.add(TX);
    expect(await t.sweep(3)).toEqual([true, true, true]);
    expect(t.voice.sent).toHaveLength(1);
    expect(t.records.closing).toEqual([]);
    expect(total(t.recorded, Instrument.guardOrphanedCalls)).toBe(1);
  });

  it('fails the sweep and counts it when Chime or the table does not answer', async () => {
    const t = world();
    t.voice.fail = () => Object.assign(new Error('down'), { name: 'ServiceUnavailableException' });
    expect(await t.sweep(2)).toEqual([true, false]);
    t.voice.fail = undefined;
    t.records.fail = () => Object.assign(new Error('down'), { name: 'InternalServerError' });
    t.clock.now += 60_000;
    expect(await t.sweep(1)).toEqual([false]);
    expect(total(t.recorded, Instrument.guardApiErrors, { operation: 'update_call' })).toBe(1);
    expect(total(t.recorded, Instrument.guardApiErrors, { operation: 'close_call' })).toBe(1);
  });

  it('checks nothing without the records it could close', async () => {
    const calls = new FakeCalls();
    calls.open = [{ transactionId: TX, phase: 'ending' }];
    const voice = new FakeVoice();
    const t = setUp({ calls, voice });
    expect(await t.sweep(3)).toEqual([true, true, true]);
    expect(voice.sent).toEqual([]);
  });
});
