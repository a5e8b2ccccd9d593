// The agent's call control for Twilio calls: a transfer is a <Dial> to the queue's number from the
// use case (a key, never a number anyone says), a hang-up completes the call; Twilio's own client
// reaches another origin through TWILIO_API_URL unchanged; retries are budgeted. And the agent's
// admission of a Twilio-bridged participant: a SIP participant with the webhook's call token.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ParticipantKind } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import bundled from '../../../contracts/use-cases.json' with { type: 'json' };
import { admitCall } from '../../../agent/call-context.js';
import { CallControlError } from '../../../agent/call-control.js';
import { signCallToken } from '../../../contracts/call-token.js';
import { CallAttribute } from '../../../contracts/headers.js';
import { TwilioAttribute, twilioTokenClaims } from '../../../contracts/twilio-call.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { TwilioCallControl, callsOf, type TwilioCalls } from '../../../twilio/call-control.js';
import { twilioClient } from '../../../twilio/rest.js';
import type { ClaimRequest, ClaimResult, HandoffClaims } from '../../../store/handoff-claims.js';

const ACCOUNT = `AC${'a'.repeat(32)}`;
const CALL = `CA${'b'.repeat(32)}`;
const SECRET = 'a-call-token-secret-of-at-least-32-bytes!';
const catalog = parseUseCases(bundled);
const useCase = catalog.defaultUseCase;
const call = { callSid: CALL, accountSid: ACCOUNT, token: 'unused' };
const [queueKey, queue] = Object.entries(useCase.queues)[0]!;

function control(calls: TwilioCalls, budgetMs = 3000) {
  return new TwilioCallControl({
    calls,
    call,
    useCase,
    dialStatusUrl: 'https://voice.example.org/twilio/dial-status',
    budgetMs,
    sleep: async () => {},
  });
}

function recording(fail: unknown[] = []) {
  const updates: { sid: string; params: { twiml?: string; status?: string } }[] = [];
  const calls: TwilioCalls = {
    update: async (sid, params) => {
      updates.push({ sid, params });
      const err = fail.shift();
      if (err) throw err;
      return {};
    },
  };
  return { calls, updates };
}

describe('Twilio call control', () => {
  it('carries a language the use case offers to the dial-status URL, and no other', async () => {
    const es = parseUseCases({
      defaultUseCase: useCase.id,
      useCases: [
        {
          ...bundled.useCases.find((u) => u.id === useCase.id)!,
          languages: [{ language: 'es-US', confirmation: 'Claro.' }],
        },
      ],
    }).defaultUseCase;
    const transfer = { action: 'transfer', queue: queueKey, reason: 'caller_asked' } as const;
    const { calls, updates } = recording();
    const c = new TwilioCallControl({
      calls,
      call,
      useCase: es,
      dialStatusUrl: 'https://voice.example.org/twilio/dial-status',
      sleep: async () => {},
    });
    await c.languageChanged('de-DE');
    await c.update({ ...transfer, requestedAt: 1 });
    expect(updates[0]!.params.twiml).not.toContain('language=');
    await c.languageChanged('es-US');
    await c.update({ ...transfer, requestedAt: 2 });
    expect(updates[1]!.params.twiml).toContain('language=es-US');
  });

  it("transfers with a <Dial> to the queue's number, reporting to the dial-status URL", async () => {
    const { calls, updates } = recording();
    await control(calls).update({
      action: 'transfer',
      queue: queueKey,
      reason: 'caller_asked',
      requestedAt: 1,
    });
    expect(updates).toHaveLength(1);
    expect(updates[0]!.sid).toBe(CALL);
    const twiml = updates[0]!.params.twiml!;
    expect(twiml).toContain(`>${queue.number}</Dial>`);
    expect(twiml).toContain(`useCase=${useCase.id}`);
    expect(twiml).toContain(`queue=${queueKey}`);
    expect(twiml).toContain('https://voice.example.org/twilio/dial-status?');
  });

  it('refuses a queue the use case does not have, sending nothing', async () => {
    const { calls, updates } = recording();
    const sent = control(calls).update({
      action: 'transfer',
      queue: 'not_a_queue',
      reason: 'caller_asked',
      requestedAt: 1,
    });
    await expect(sent).rejects.toBeInstanceOf(CallControlError);
    expect(updates).toEqual([]);
  });

  it('hangs up by completing the call', async () => {
    const { calls, updates } = recording();
    await control(calls).update({ action: 'hangup', reason: 'caller_done', requestedAt: 1 });
    expect(updates).toEqual([{ sid: CALL, params: { status: 'completed' } }]);
  });

  it('retries throttling and server errors within its budget, not client errors', async () => {
    const retried = recording([{ status: 429 }, { status: 503 }]);
    await control(retried.calls).update({
      action: 'hangup',
      reason: 'caller_done',
      requestedAt: 1,
    });
    expect(retried.updates).toHaveLength(3);
    const refused = recording([{ status: 404 }]);
    const err = await control(refused.calls)
      .update({ action: 'hangup', reason: 'caller_done', requestedAt: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallControlError);
    expect((err as CallControlError).retryable).toBe(false);
    expect(refused.updates).toHaveLength(1);
  });
});

describe('Twilio transfers with context (rolling numbers, store/handoff-claims.ts)', () => {
  const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
  const withContext = {
    action: 'transfer' as const,
    queue: queueKey,
    reason: 'caller_asked' as const,
    requestedAt: 1,
    summary: 'Missed trash pickup on Elm Street.',
    topic: 'Missed trash pickup',
    verification: 'verified' as const,
  };
  function claiming(result: ClaimResult | Error) {
    const requests: ClaimRequest[] = [];
    const claims: HandoffClaims = {
      claim: async (req) => {
        requests.push(req);
        if (result instanceof Error) throw result;
        return result;
      },
    };
    return { claims, requests };
  }
  const controlWith = (calls: TwilioCalls, claims: HandoffClaims) =>
    new TwilioCallControl({
      calls,
      call,
      useCase,
      dialStatusUrl: 'https://voice.example.org/twilio/dial-status',
      sleep: async () => {},
      claims,
      traceId: TRACE,
      now: () => 1_000,
    });

  it('claims a rolling number with the context, keyed by the call SID, and dials it', async () => {
    expect(queue.rollingNumbers?.length).toBeGreaterThan(1);
    const { calls, updates } = recording();
    const { claims, requests } = claiming({ slot: 1 });
    await controlWith(calls, claims).update(withContext);
    expect(requests).toEqual([
      {
        transactionId: CALL,
        slots: queue.rollingNumbers!.length,
        nowMs: 1_000,
        context: {
          summary: withContext.summary,
          topic: withContext.topic,
          reason: 'caller_asked',
          verification: 'verified',
          traceId: TRACE,
          useCase: useCase.id,
          queue: queueKey,
        },
      },
    ]);
    const twiml = updates[0]!.params.twiml!;
    expect(twiml).toContain(`>${queue.rollingNumbers![1]}</Dial>`);
    // The dial's status still names the queue: a rolling number unanswered goes to its fallback.
    expect(twiml).toContain(`queue=${queueKey}`);
    expect(twiml).toContain('target=primary');
  });

  it.each([
    ['no number free', { slot: undefined, why: 'exhausted' } as ClaimResult],
    ['the table failing', new Error('ProvisionedThroughputExceededException')],
  ])("dials the queue's own number with %s", async (_, result) => {
    const { calls, updates } = recording();
    await controlWith(calls, claiming(result).claims).update(withContext);
    expect(updates[0]!.params.twiml!).toContain(`>${queue.number}</Dial>`);
  });

  it('claims nothing for a transfer without a summary, or to a queue without rolling numbers', async () => {
    const { calls, updates } = recording();
    const { claims, requests } = claiming({ slot: 0 });
    const { summary: _, ...plain } = withContext;
    await controlWith(calls, claims).update(plain);
    const [otherKey, other] = Object.entries(useCase.queues).find(
      ([, q]) => !q.rollingNumbers?.length,
    )!;
    await controlWith(calls, claims).update({ ...withContext, queue: otherKey });
    expect(requests).toEqual([]);
    expect(updates[0]!.params.twiml!).toContain(`>${queue.number}</Dial>`);
    expect(updates[1]!.params.twiml!).toContain(`>${other.number}</Dial>`);
  });
});

describe("Twilio's client at another origin (TWILIO_API_URL)", () => {
  let server: Server;
  const seen: { method?: string; url?: string; auth?: string; body: string }[] = [];
  let origin: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sid: CALL, account_sid: ACCOUNT, status: 'in-progress' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends the documented call update to the stand-in, with the account credentials', async () => {
    const client = await twilioClient({
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: 'an-auth-token-of-thirty-two-chars',
      TWILIO_PUBLIC_URL: 'https://voice.example.org',
      TWILIO_API_URL: origin,
    });
    await callsOf(client).update(CALL, { twiml: '<Response><Hangup/></Response>' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Calls/${CALL}.json`);
    const basic = Buffer.from(`${ACCOUNT}:an-auth-token-of-thirty-two-chars`).toString('base64');
    expect(seen[0]!.auth).toBe(`Basic ${basic}`);
    expect(new URLSearchParams(seen[0]!.body).get('Twiml')).toBe('<Response><Hangup/></Response>');
  });
});

describe("the agent's admission of a Twilio-bridged participant", () => {
  const trust = { secret: SECRET, applicationId: 'sma-app-id', region: 'us-east-1' };
  const attrs = (token: string, over: Record<string, string> = {}) => ({
    [TwilioAttribute.provider]: 'twilio',
    [TwilioAttribute.callSid]: CALL,
    [TwilioAttribute.accountSid]: ACCOUNT,
    [CallAttribute.callToken]: token,
    [CallAttribute.useCase]: useCase.id,
    ...over,
  });
  const token = signCallToken(twilioTokenClaims(CALL, ACCOUNT), Date.now() + 60_000, SECRET);

  it('is a phone call with its token, whatever the SMA trust settings', () => {
    const a = admitCall(
      { kind: ParticipantKind.SIP, attributes: attrs(token) },
      catalog,
      trust,
      Date.now(),
    );
    expect(a.accepted).toBe(true);
    expect(a.call).toMatchObject({ kind: 'phone', sma: undefined, twilio: { callSid: CALL } });
  });

  it("is refused with another call's token, a token for an SMA call, or none", () => {
    const other = signCallToken(
      twilioTokenClaims(`CA${'c'.repeat(32)}`, ACCOUNT),
      Date.now() + 60_000,
      SECRET,
    );
    const smaToken = signCallToken(
      { transactionId: CALL, applicationId: ACCOUNT },
      Date.now() + 60_000,
      SECRET,
    );
    for (const t of [other, smaToken, '']) {
      const a = admitCall(
        { kind: ParticipantKind.SIP, attributes: attrs(t) },
        catalog,
        trust,
        Date.now(),
      );
      expect(a).toMatchObject({ accepted: false, reason: 'forged' });
    }
    const noSid: Record<string, string> = attrs(token);
    delete noSid[TwilioAttribute.callSid];
    const a = admitCall(
      { kind: ParticipantKind.SIP, attributes: noSid },
      catalog,
      trust,
      Date.now(),
    );
    expect(a).toMatchObject({ accepted: false, reason: 'forged', check: 'incomplete' });
  });

  it('is never a phone call when it is not a SIP participant (a browser)', () => {
    const a = admitCall(
      { kind: ParticipantKind.STANDARD, attributes: attrs(token) },
      catalog,
      trust,
      Date.now(),
    );
    expect(a.accepted && a.call.kind).toBe('dev');
    expect(a.call.twilio).toBeUndefined();
  });
});
