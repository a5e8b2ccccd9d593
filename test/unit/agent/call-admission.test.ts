// Which participants the agent takes as phone calls: only a SIP participant carrying the call token
// the SMA signed for its TransactionId (contracts/call-token.ts), from the configured SMA. Anything
// else on SIP is hung up before a word is said; anything not on SIP is a dev room.
import type { JobContext } from '@livekit/agents';
import { ParticipantKind } from '@livekit/rtc-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { admitCall, type CallTrust } from '../../../agent/call-context.js';
import { runCall, type CallDeps } from '../../../agent/call-session.js';
import { fixedUseCases } from '../../../store/use-case-cache.js';
import type { AgentConfig } from '../../../agent/config.js';
import { GreetingCache } from '../../../agent/greeting-cache.js';
import type { SpeechProviders } from '../../../agent/providers/index.js';
import { signCallToken } from '../../../contracts/call-token.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import type { AgentInstruments } from '../../../otel/instruments.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

const useCases = parseUseCases(USE_CASES_JSON);
const SECRET = 'unit-test-call-token-secret-of-at-least-32-bytes';
const NOW = 1_900_000_000_000;
const TX = '6f1c2d3e-1111-4222-8333-944455566677';
const CALLER = '+12065550100';
const trust: CallTrust = { secret: SECRET, applicationId: 'sma-1', region: 'us-east-1' };

const token = (claims: { transactionId?: string; applicationId?: string } = {}, expiresAt = NOW) =>
  signCallToken(
    { transactionId: claims.transactionId ?? TX, applicationId: claims.applicationId ?? 'sma-1' },
    expiresAt + 60_000,
    SECRET,
  );

/** The SIP participant as livekit-sip presents it (the inbound trunk's headers as attributes). */
function sipAttrs(
  callToken: string | undefined,
  over: Record<string, string> = {},
): Record<string, string> {
  return {
    'sma.transactionId': TX,
    'sma.applicationId': 'sma-1',
    'sma.region': 'us-east-1',
    'call.useCase': 'city-311',
    'sip.phoneNumber': CALLER,
    'sip.trunkPhoneNumber': '+12025550132',
    'sip.callID': 'SCL_abc',
    ...(callToken === undefined ? {} : { 'sma.callToken': callToken }),
    ...over,
  };
}

const sip = (attributes: Record<string, string>) => ({ kind: ParticipantKind.SIP, attributes });

describe('admitCall', () => {
  it('takes a SIP participant with a valid token as a phone call it can control', () => {
    const valid = token();
    const admission = admitCall(sip(sipAttrs(valid)), useCases, trust, NOW);
    expect(admission).toMatchObject({
      accepted: true,
      call: {
        kind: 'phone',
        sma: { transactionId: TX, sipMediaApplicationId: 'sma-1', region: 'us-east-1' },
      },
    });
    expect(admission.call.sma?.token).toBe(valid);
  });

  it.each([
    ['no token', sipAttrs(undefined), 'missing'],
    ['a malformed token', sipAttrs('v1.not-a-token'), 'malformed'],
    ["another call's token", sipAttrs(token({ transactionId: 'another-tx' })), 'mismatch'],
    ['an expired token', sipAttrs(token({}, NOW - 120_000)), 'expired'],
    ['no SMA headers at all (a plain INVITE)', {}, 'missing'],
    ['a token but no region', sipAttrs(token(), { 'sma.region': 'nowhere' }), 'incomplete'],
  ])('refuses a SIP participant with %s as forged', (_what, attrs, check) => {
    expect(admitCall(sip(attrs), useCases, trust, NOW)).toMatchObject({
      accepted: false,
      reason: 'forged',
      check,
    });
  });

  it('refuses a token made with another secret as forged, even for the right call', () => {
    const other = signCallToken(
      { transactionId: TX, applicationId: 'sma-1' },
      NOW + 60_000,
      'another-secret-of-at-least-thirty-two-bytes',
    );
    expect(admitCall(sip(sipAttrs(other)), useCases, trust, NOW)).toMatchObject({
      accepted: false,
      reason: 'forged',
      check: 'mismatch',
    });
  });

  it('refuses a genuine token from another SMA application or region as foreign_sma', () => {
    const foreign = sipAttrs(token({ applicationId: 'sma-2' }), { 'sma.applicationId': 'sma-2' });
    expect(admitCall(sip(foreign), useCases, trust, NOW)).toMatchObject({
      accepted: false,
      reason: 'foreign_sma',
      check: 'application_id',
    });
    const elsewhere = sipAttrs(token(), { 'sma.region': 'eu-west-1' });
    expect(admitCall(sip(elsewhere), useCases, trust, NOW)).toMatchObject({
      accepted: false,
      reason: 'foreign_sma',
      check: 'region',
    });
  });

  it('takes a genuine token from any SMA when none is configured', () => {
    const anySma = { ...trust, applicationId: undefined, region: undefined };
    const foreign = sipAttrs(token({ applicationId: 'sma-2' }), { 'sma.applicationId': 'sma-2' });
    expect(admitCall(sip(foreign), useCases, anySma, NOW).accepted).toBe(true);
  });

  it('refuses every SIP participant when the worker serves dev rooms only', () => {
    const devOnly = { secret: undefined, applicationId: undefined, region: undefined };
    expect(admitCall(sip(sipAttrs(token())), useCases, devOnly, NOW)).toMatchObject({
      accepted: false,
      reason: 'forged',
      check: 'dev_rooms_only',
    });
  });

  it('takes a standard (WebRTC) participant as a dev room, whatever sma.* attributes it carries', () => {
    const standard = { kind: ParticipantKind.STANDARD, attributes: sipAttrs(token()) };
    expect(admitCall(standard, useCases, trust, NOW)).toMatchObject({
      accepted: true,
      call: { kind: 'dev', sma: undefined, useCase: { id: 'city-311' } },
    });
    const devOnly = { secret: undefined, applicationId: undefined, region: undefined };
    const plain = { kind: ParticipantKind.STANDARD, attributes: {} };
    expect(admitCall(plain, useCases, devOnly, NOW)).toMatchObject({
      accepted: true,
      call: { kind: 'dev' },
    });
  });
});

// ---- runCall: the refusal itself ----

/** Stops runCall where the session would be assembled: the call was taken. */
class SessionAssembled extends Error {}

function harness(participant: { kind: ParticipantKind; attributes: Record<string, string> }) {
  const job = {
    deleted: 0,
    shutdowns: [] as (string | undefined)[],
    room: { name: 'call_+12025550132_abc', on: () => undefined, off: () => undefined },
    connect: async () => undefined,
    waitForParticipant: async () => ({ ...participant, identity: 'sip_caller' }),
    deleteRoom: async () => void job.deleted++,
    shutdown: (reason?: string) => void job.shutdowns.push(reason),
  };
  const refused: [number, Record<string, string>][] = [];
  const assembled: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const deps: CallDeps = {
    config: {
      useCases,
      calls: trust,
      transferRetryBudgetMs: 3000,
      lineWatch: { lostAfterMs: 1500, outageAfterMs: 2000 },
    } as AgentConfig,
    useCases: fixedUseCases(useCases),
    providers: {
      components: (uc: { id: string }) => {
        assembled.push(uc.id);
        throw new SessionAssembled();
      },
    } as unknown as SpeechProviders,
    greetings: new GreetingCache(),
    instruments: {
      refusedCalls: { add: (n: number, attrs: Record<string, string>) => refused.push([n, attrs]) },
    } as unknown as AgentInstruments,
    logger,
  };
  const run = () => runCall(job as unknown as JobContext, deps);
  return { job, refused, assembled, lines, run };
}

describe('runCall', () => {
  it('hangs up a SIP participant without a valid token before any session: room deleted, counted, logged', async () => {
    const forged = sipAttrs(token({ transactionId: 'another-tx' }));
    const h = harness(sip(forged));
    await h.run();
    expect(h.assembled).toEqual([]); // no session, so nothing is ever said
    expect(h.job.deleted).toBe(1);
    expect(h.job.shutdowns).toEqual(['call_refused']);
    expect(h.refused).toEqual([
      [1, { reason: 'forged', use_case: 'city-311', component: 'agent' }],
    ]);
    const line = h.lines.find((l) => l.msg === 'call refused')!;
    expect(line).toMatchObject({ reason: 'forged', check: 'mismatch', sipCallId: 'SCL_abc' });
    // The token is never logged; the caller's number only under `pii`.
    const { pii, ...rest } = line;
    expect(pii).toMatchObject({ caller: CALLER });
    expect(JSON.stringify(h.lines)).not.toContain(forged['sma.callToken']!);
    expect(JSON.stringify(rest)).not.toContain(CALLER);
  });

  it('hangs up a genuine call from a foreign SMA the same way, counted as foreign_sma', async () => {
    const foreign = sipAttrs(token({ applicationId: 'sma-2' }), { 'sma.applicationId': 'sma-2' });
    const h = harness(sip(foreign));
    await h.run();
    expect(h.assembled).toEqual([]);
    expect(h.job.deleted).toBe(1);
    expect(h.refused[0]![1]).toMatchObject({ reason: 'foreign_sma', component: 'agent' });
  });

  it('goes on to the session for a SIP participant with a valid token, deleting nothing', async () => {
    const h = harness(sip(sipAttrs(token({}, Date.now()))));
    await expect(h.run()).rejects.toBeInstanceOf(SessionAssembled);
    expect(h.assembled).toEqual(['city-311']);
    expect(h.job.deleted).toBe(0);
    expect(h.refused).toEqual([]);
    expect(h.lines.find((l) => l.msg === 'call started')).toMatchObject({ kind: 'phone' });
  });

  it('goes on to a dev-room session for a standard participant carrying sma.* attributes', async () => {
    const h = harness({ kind: ParticipantKind.STANDARD, attributes: sipAttrs(token()) });
    await expect(h.run()).rejects.toBeInstanceOf(SessionAssembled);
    expect(h.job.deleted).toBe(0);
    expect(h.lines.find((l) => l.msg === 'call started')).toMatchObject({ kind: 'dev' });
  });
});
