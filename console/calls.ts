// The calls in progress, as a supervisor sees them: each call room LiveKit has (the dispatch rule's
// `call_` rooms) with the SIP participant that makes it a call, joined with the SMA's state item of
// that call (use case, phase, language after a switch, when it was answered), and the figures the call's agent publishes on
// its participant (time to first audio, turn latency). Nothing personal leaves the server: no
// caller or dialed number, no token; the room name carries only the use case's LiveKit number.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { RoomServiceClient } from 'livekit-server-sdk';
import { agentFiguresOf, isConsoleSupervisor } from '../contracts/console.js';
import { CALL_STATE_LANGUAGE, callLanguageOf } from '../contracts/call-state.js';
import { CallAttribute } from '../contracts/headers.js';
import { STATE_SORT_KEY, callKey } from '../lambdas/sma/journal.js';
import { ROOM_PREFIX } from '../sip/livekit/definitions.js';

// ParticipantInfo.Kind and .State of the LiveKit protocol.
const KIND_SIP = 3;
const KIND_AGENT = 4;
const STATE_DISCONNECTED = 3;

export const CALL_ROOM_PREFIX = `${ROOM_PREFIX}_`;

export interface LiveCall {
  room: string;
  /** The SMA's TransactionId (the SIP participant's `sma.transactionId`), when it carries one. */
  transactionId: string | undefined;
  useCase: string | undefined;
  /** The language the call is in after a switch (contracts/call-state.ts); undefined: the use case's own. */
  language: string | undefined;
  /** The SMA's phase of the call (`ai_connected`, `transfer_pending`, …), when its record is read. */
  phase: string | undefined;
  direction: string | undefined;
  /** Epoch ms the call started: the SMA's answer, else the room's creation. */
  startedAt: number;
  /** livekit-sip's `sip.callStatus` (`active` once answered). */
  sipStatus: string | undefined;
  agentPresent: boolean;
  /** The agent's figures so far: time to first audio, and turn latency (last, median, count). */
  ttfaMs: number | undefined;
  turns: number | undefined;
  lastTurnMs: number | undefined;
  medianTurnMs: number | undefined;
  /** Console supervisors in the room that others can see (listeners are hidden). */
  supervisorsSpeaking: number;
}

/** The state item's fields the list shows. */
export interface CallRecord {
  UseCase?: string;
  Phase?: string;
  Language?: string;
  Direction?: string;
  AnsweredAt?: number;
  EndedAt?: number;
}

export type RoomsApi = Pick<RoomServiceClient, 'listRooms' | 'listParticipants'>;

export interface CallRecordReader {
  read(transactionId: string): Promise<CallRecord | undefined>;
}

/** The SMA's state item of a call, read from its table (eventually consistent: a list view). */
export function dynamoCallRecords(client: DynamoDBClient, table: string): CallRecordReader {
  const doc = DynamoDBDocumentClient.from(client);
  return {
    async read(transactionId) {
      const out = await doc.send(
        new GetCommand({
          TableName: table,
          Key: { pk: callKey(transactionId), sk: STATE_SORT_KEY },
          ProjectionExpression: 'UseCase, Phase, #language, Direction, AnsweredAt, EndedAt',
          ExpressionAttributeNames: { '#language': CALL_STATE_LANGUAGE },
        }),
      );
      return out.Item as CallRecord | undefined;
    },
  };
}

/** Whether `room` is a call room with a caller in it now (the only rooms a supervisor may join). */
export async function isLiveCallRoom(rooms: RoomsApi, room: string): Promise<boolean> {
  if (!room.startsWith(CALL_ROOM_PREFIX)) return false;
  const people = await rooms.listParticipants(room).catch(() => []);
  return people.some((p) => p.kind === KIND_SIP && p.state !== STATE_DISCONNECTED);
}

export async function listLiveCalls(
  rooms: RoomsApi,
  records: CallRecordReader | undefined,
  nowMs = Date.now(),
): Promise<LiveCall[]> {
  const callRooms = (await rooms.listRooms()).filter((r) => r.name.startsWith(CALL_ROOM_PREFIX));
  const calls = await Promise.all(
    callRooms.map(async (r): Promise<LiveCall | undefined> => {
      const people = (await rooms.listParticipants(r.name).catch(() => [])).filter(
        (p) => p.state !== STATE_DISCONNECTED,
      );
      const sip = people.find((p) => p.kind === KIND_SIP);
      if (!sip) return undefined; // the caller has gone: the room is on its way out
      const tx = sip.attributes[CallAttribute.transactionId];
      const record = tx ? await records?.read(tx).catch(() => undefined) : undefined;
      if (record?.EndedAt !== undefined) return undefined;
      const created = Number(r.creationTime) * 1000 || nowMs;
      const agent = people.find((p) => p.kind === KIND_AGENT);
      const figures = agentFiguresOf(agent?.attributes ?? {});
      return {
        room: r.name,
        transactionId: tx,
        useCase: record?.UseCase ?? sip.attributes[CallAttribute.useCase],
        language: callLanguageOf(record as Record<string, unknown> | undefined),
        phase: record?.Phase,
        direction: record?.Direction,
        startedAt: record?.AnsweredAt ?? created,
        sipStatus: sip.attributes['sip.callStatus'],
        agentPresent: agent !== undefined,
        ttfaMs: figures.ttfaMs,
        turns: figures.turns,
        lastTurnMs: figures.lastTurnMs,
        medianTurnMs: figures.medianTurnMs,
        supervisorsSpeaking: people.filter((p) => isConsoleSupervisor(p.attributes)).length,
      };
    }),
  );
  return calls
    .filter((c): c is LiveCall => c !== undefined)
    .sort((a, b) => a.startedAt - b.startedAt);
}
