// The context handed to the person (contracts/handoff-context.ts): what the transfer arguments
// carry and how they are read back, the attributes Connect gets, and the agent's summary.
import { describe, expect, it } from 'vitest';
import {
  parseCallUpdateArguments,
  toCallUpdateArguments,
  CallUpdate,
} from '../../../contracts/call-update.js';
import {
  connectAttributesOf,
  ConnectContextAttribute,
  HANDOFF_SUMMARY_MAX,
  HANDOFF_TOPIC_MAX,
  HandoffContext,
  whisperOf,
} from '../../../contracts/handoff-context.js';
import { handoffSummaryOf } from '../../../agent/call-memory.js';

const TOKEN = 'v1.1700014400.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const transfer = {
  action: 'transfer' as const,
  queue: 'sanitation',
  reason: 'caller_asked' as const,
  requestedAt: 1_700_000_000_123,
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  token: TOKEN,
  summary: 'x'.repeat(HANDOFF_SUMMARY_MAX),
  topic: 'y'.repeat(HANDOFF_TOPIC_MAX),
  verification: 'verified' as const,
};

describe('transfer arguments with context', () => {
  it('round-trips, and the longest context stays within Chime’s 20 pairs', () => {
    const args = toCallUpdateArguments(CallUpdate.parse(transfer));
    expect(Object.keys(args).length).toBeLessThanOrEqual(20);
    expect(parseCallUpdateArguments(args)).toEqual(transfer);
  });

  it('the agent cannot send a summary or topic over the bound', () => {
    expect(CallUpdate.safeParse({ ...transfer, summary: 'x'.repeat(401) }).success).toBe(false);
    expect(CallUpdate.safeParse({ ...transfer, topic: 'y'.repeat(81) }).success).toBe(false);
    expect(CallUpdate.safeParse({ ...transfer, verification: 'trusted' }).success).toBe(false);
  });

  it('the handler cuts what a forger sends too long, and drops an unknown verification', () => {
    const args = toCallUpdateArguments(CallUpdate.parse(transfer));
    const read = parseCallUpdateArguments({
      ...args,
      summary: `  ${'z'.repeat(5000)}  `,
      topic: 't'.repeat(500),
      verification: 'trusted',
    });
    expect(read).toMatchObject({ action: 'transfer', verification: undefined });
    const t = read as Extract<typeof read, { action: 'transfer' }>;
    expect(t.summary).toHaveLength(HANDOFF_SUMMARY_MAX);
    expect(t.topic).toHaveLength(HANDOFF_TOPIC_MAX);
  });

  it('a transfer without context reads as one without summary, as before', () => {
    const { summary: _s, topic: _t, verification: _v, ...plain } = transfer;
    const read = parseCallUpdateArguments(toCallUpdateArguments(CallUpdate.parse(plain)));
    expect(read).toMatchObject({ summary: undefined, topic: undefined, verification: undefined });
    expect(
      parseCallUpdateArguments({ ...toCallUpdateArguments(plain), summary: '   ' }),
    ).toMatchObject({ summary: undefined });
  });
});

describe('what Connect gets', () => {
  const context: HandoffContext = {
    summary: 'Topic: My trash was not picked up. 2 caller turn(s).',
    topic: 'My trash was not picked up.',
    reason: 'out_of_scope',
    verification: 'verified',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    useCase: 'city-311',
    queue: 'sanitation',
  };

  it('a flat map of strings with exactly the contract’s keys, no number, no transaction id', () => {
    const attrs = connectAttributesOf(context);
    expect(Object.keys(attrs).sort()).toEqual(Object.values(ConnectContextAttribute).sort());
    for (const v of Object.values(attrs)) expect(typeof v).toBe('string');
    expect(JSON.stringify(attrs)).not.toMatch(/\+\d{7,}/);
  });

  it('the whisper is short: topic, reason and verification, not the summary', () => {
    expect(whisperOf(context)).toBe(
      "From the assistant: the assistant could not help with this. About: My trash was not picked up. The caller's number is verified.",
    );
    expect(whisperOf({ ...context, topic: '', reason: 'caller_asked' })).toBe(
      "From the assistant: the caller asked for a person. The caller's number is verified.",
    );
  });
});

describe('the summary handed over, made without a model', () => {
  const line = (role: 'caller' | 'agent', text: string) => ({ role, text, at: 0 });

  it('says the topic, what the caller said and what the agent last answered', () => {
    const s = handoffSummaryOf(
      [
        line('agent', 'Hello, this is the city 311 line.'),
        line('caller', 'My trash was not picked up this week.'),
        line('agent', 'Missed pickups are collected the next business day.'),
        line('caller', 'I would like to talk to a person please.'),
      ],
      'My trash was not picked up.',
    );
    expect(s).toBe(
      'Topic: My trash was not picked up. Caller said: "My trash was not picked up this week.". ' +
        'Assistant answered: "Missed pickups are collected the next business day.". 2 caller turn(s).',
    );
  });

  it('stays within the bound however long the lines', () => {
    const long = 'word '.repeat(500);
    const s = handoffSummaryOf([line('caller', long), line('agent', long)], long);
    expect(s.length).toBeLessThanOrEqual(HANDOFF_SUMMARY_MAX);
  });

  it('a caller who said nothing', () => {
    expect(handoffSummaryOf([line('agent', 'Hello.')], undefined)).toBe(
      'The caller said nothing to the assistant.',
    );
  });
});
