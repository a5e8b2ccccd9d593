// The console's live-calls list: call rooms joined with the SMA's state item, the agent's figures,
// and nothing for a room whose caller has gone or whose call has ended.
import { describe, expect, it } from 'vitest';
import { listLiveCalls, type CallRecord, type RoomsApi } from '../../../console/calls.js';
import { CallAttribute } from '../../../contracts/headers.js';
import { AgentFigureAttribute } from '../../../contracts/console.js';

type Person = { kind: number; state: number; attributes: Record<string, string> };
const SIP = 3;
const AGENT = 4;
const ACTIVE = 2;
const DISCONNECTED = 3;

function rooms(people: Record<string, Person[]>): RoomsApi {
  return {
    listRooms: () =>
      Promise.resolve(
        Object.keys(people).map((name, i) => ({ name, creationTime: BigInt(1_000 + i) })),
      ),
    listParticipants: (room: string) => Promise.resolve(people[room] ?? []),
  } as unknown as RoomsApi;
}

const caller = (tx: string): Person => ({
  kind: SIP,
  state: ACTIVE,
  attributes: { [CallAttribute.transactionId]: tx, [CallAttribute.useCase]: 'from-sip' },
});
const agent: Person = {
  kind: AGENT,
  state: ACTIVE,
  attributes: { [AgentFigureAttribute.ttfaMs]: '180', [AgentFigureAttribute.turns]: '2' },
};

describe('listLiveCalls', () => {
  it('shows each live call with its record, its language after a switch and the agent figures', async () => {
    const records: Record<string, CallRecord> = {
      tx1: { UseCase: 'city-311', Phase: 'ai_connected', AnsweredAt: 5_000, Language: 'es-US' },
      tx2: { UseCase: 'city-311', Phase: 'ai_connected', AnsweredAt: 4_000 },
      tx3: { UseCase: 'city-311', Phase: 'ended', EndedAt: 6_000 },
      tx4: {
        UseCase: 'city-311',
        Phase: 'ai_connected',
        AnsweredAt: 3_000,
        Language: 'not a tag!',
      },
    };
    const calls = await listLiveCalls(
      rooms({
        call_a: [caller('tx1'), agent],
        call_b: [caller('tx2')],
        call_c: [caller('tx3'), agent],
        call_d: [{ ...caller('tx5'), state: DISCONNECTED }, agent],
        call_e: [caller('tx4')],
        dev_room: [caller('tx6')],
      }),
      { read: (tx) => Promise.resolve(records[tx]) },
    );
    expect(calls.map((c) => [c.room, c.language, c.phase, c.agentPresent])).toEqual([
      ['call_e', undefined, 'ai_connected', false],
      ['call_b', undefined, 'ai_connected', false],
      ['call_a', 'es-US', 'ai_connected', true],
    ]);
    expect(calls[2]).toMatchObject({
      useCase: 'city-311',
      ttfaMs: 180,
      turns: 2,
      startedAt: 5_000,
    });
  });

  it('lists a call whose record cannot be read, from what its room says', async () => {
    const calls = await listLiveCalls(rooms({ call_a: [caller('tx1')] }), {
      read: () => Promise.reject(new Error('DynamoDB down')),
    });
    expect(calls).toEqual([
      expect.objectContaining({
        room: 'call_a',
        useCase: 'from-sip',
        phase: undefined,
        language: undefined,
      }),
    ]);
  });
});
