// The TwiML webhook: X-Twilio-Signature checked with Twilio's helper (good, bad, a replayed URL,
// other parameters), the use case from the number called, access and limits as the SMA applies
// them, and the answer: <Connect><Stream> with the call's parameters, a message, or people.
// Signatures here are computed as Twilio documents them (HMAC-SHA1 of the URL and the sorted
// parameters, base64), independently of the helper under test.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import bundled from '../../../contracts/use-cases.json' with { type: 'json' };
import { verifyCallToken } from '../../../contracts/call-token.js';
import { twilioTokenClaims } from '../../../contracts/twilio-call.js';
import { chimeLineIn, parseUseCases } from '../../../contracts/use-cases.js';
import type { Admission, CallAdmission } from '../../../lambdas/sma/admission/types.js';
import { fixedUseCases } from '../../../store/use-case-cache.js';
import { sayAndHangUpTwiml } from '../../../twilio/twiml.js';
import { handleWebhook, type WebhookDeps } from '../../../twilio/webhook.js';

const AUTH_TOKEN = 'an-auth-token-of-thirty-two-chars';
const ACCOUNT = `AC${'a'.repeat(32)}`;
const CALL = `CA${'b'.repeat(32)}`;
const PUBLIC = 'https://voice.example.org';
const SECRET = 'a-call-token-secret-of-at-least-32-bytes!';
const catalog = parseUseCases(bundled);
const dialed = catalog.defaultUseCase.dialedNumbers[0]!;

function sign(url: string, params: Record<string, string>, token = AUTH_TOKEN): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', token).update(Buffer.from(data, 'utf8')).digest('base64');
}

let verdict: Admission = { verdict: 'admit', unchecked: [] };
const admitted: string[] = [];
const admission: CallAdmission = {
  admit: async (req) => {
    admitted.push(req.transactionId);
    return verdict;
  },
  release: async () => [],
};

let server: Server;
let base: string;
beforeAll(async () => {
  const deps: WebhookDeps = {
    accountSid: ACCOUNT,
    authToken: AUTH_TOKEN,
    publicUrl: PUBLIC,
    streamUrl: 'wss://voice.example.org/twilio/stream',
    useCases: fixedUseCases(catalog),
    admission,
    callToken: { secret: SECRET, ttlMs: 3_600_000 },
    logger: pino({ level: 'silent' }),
  };
  server = createServer((req, res) => {
    void handleWebhook(req, res, deps).then((h) => h || res.writeHead(404).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const callForm = (over: Record<string, string> = {}) => ({
  AccountSid: ACCOUNT,
  CallSid: CALL,
  From: '+12065550100',
  To: dialed,
  CallStatus: 'ringing',
  Direction: 'inbound',
  ...over,
});

async function post(
  path: string,
  form: Record<string, string>,
  /** null: no signature header at all. */
  signature: string | null = sign(PUBLIC + path, form),
) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature !== null ? { 'x-twilio-signature': signature } : {}),
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: await res.text() };
}

describe('the TwiML webhook', () => {
  it('answers a signed call with <Connect><Stream> and the call parameters', async () => {
    verdict = { verdict: 'admit', unchecked: [], leaseExpiresAtMs: 99 };
    const { status, body } = await post('/twilio/voice', callForm());
    expect(status).toBe(200);
    expect(body).toContain('<Connect><Stream url="wss://voice.example.org/twilio/stream">');
    expect(body).toContain(`<Parameter name="useCase" value="${catalog.defaultUseCase.id}"/>`);
    expect(body).toContain(`<Parameter name="dialed" value="${dialed}"/>`);
    expect(body).toContain('<Parameter name="lease" value="99"/>');
    expect(body).toMatch(/<Parameter name="traceparent" value="00-b{32}-[0-9a-f]{16}-01"\/>/);
    const token = /name="callToken" value="([^"]+)"/.exec(body)?.[1];
    const check = verifyCallToken(token, twilioTokenClaims(CALL, ACCOUNT), SECRET, Date.now());
    expect(check.ok).toBe(true);
    expect(body).not.toContain('+12065550100'); // the caller's number goes nowhere
  });

  it('refuses a bad, missing or other-token signature with 403 and nothing else', async () => {
    admitted.length = 0;
    const form = callForm();
    const otherToken = sign(`${PUBLIC}/twilio/voice`, form, 'x'.repeat(32));
    for (const sig of ['', 'bm90IGEgc2lnbmF0dXJl', otherToken, null]) {
      const r = await post('/twilio/voice', form, sig);
      expect(r).toEqual({ status: 403, body: '' });
    }
    expect(admitted).toEqual([]);
  });

  it('refuses a signature replayed to another URL or with other parameters', async () => {
    const form = callForm();
    const forStatus = sign(`${PUBLIC}/twilio/dial-status`, form);
    expect((await post('/twilio/voice', form, forStatus)).status).toBe(403);
    const otherHost = sign('https://attacker.example/twilio/voice', form);
    expect((await post('/twilio/voice', form, otherHost)).status).toBe(403);
    const signed = sign(`${PUBLIC}/twilio/voice`, form);
    expect((await post('/twilio/voice', { ...form, To: '+15550100999' }, signed)).status).toBe(403);
    const withQuery = sign(`${PUBLIC}/twilio/voice?x=1`, form);
    expect((await post('/twilio/voice', form, withQuery)).status).toBe(403);
  });

  it("refuses another account's call even when signed", async () => {
    const form = callForm({ AccountSid: `AC${'c'.repeat(32)}` });
    expect((await post('/twilio/voice', form)).status).toBe(403);
  });

  it('answers a refused caller with the use case message, or people', async () => {
    verdict = { verdict: 'refuse', reason: 'blocked', unchecked: [] };
    const blocked = await post('/twilio/voice', callForm());
    expect(blocked.body).toContain(`<Say>${catalog.defaultUseCase.messages.notAllowed}`);
    expect(blocked.body).toContain('<Hangup/>');
    expect(blocked.body).not.toContain('<Stream');
    verdict = { verdict: 'unknown', unchecked: ['access'] };
    const unknown = await post('/twilio/voice', callForm());
    const queue = catalog.defaultUseCase.queues[catalog.defaultUseCase.defaultQueue]!;
    expect(unknown.body).toContain(`>${queue.number}</Dial>`);
    expect(unknown.body).not.toContain('<Stream');
  });

  it('tries the fallback number, then apologises, when a transfer is not answered', async () => {
    const uc = catalog.defaultUseCase;
    const q = Object.entries(uc.queues).find(([, v]) => v.fallbackNumber)!;
    const path = `/twilio/dial-status?useCase=${uc.id}&queue=${q[0]}&target=primary`;
    const form = { AccountSid: ACCOUNT, CallSid: CALL, DialCallStatus: 'no-answer' };
    const first = await post(path, form);
    expect(first.body).toContain(`>${q[1].fallbackNumber}</Dial>`);
    const fallbackPath = path.replace('primary', 'fallback');
    const second = await post(fallbackPath, form);
    expect(second.body).toContain(`<Say>${uc.messages.apology}`);
    const done = await post(path, { ...form, DialCallStatus: 'completed' });
    expect(done.body).toContain('<Hangup/>');
    expect(done.body).not.toContain('<Dial');
  });

  it('apologises in the language the caller switched to only when the use case offers it', async () => {
    const uc = catalog.defaultUseCase;
    const q = Object.entries(uc.queues).find(([, v]) => v.fallbackNumber)!;
    const form = { AccountSid: ACCOUNT, CallSid: CALL, DialCallStatus: 'no-answer' };
    // The fallback's dial carries the language on; the bundled use case offers none, so the
    // apology stays its own.
    const first = await post(
      `/twilio/dial-status?useCase=${uc.id}&queue=${q[0]}&target=primary&language=es-US`,
      form,
    );
    expect(first.body).toContain('language=es-US');
    const last = await post(
      `/twilio/dial-status?useCase=${uc.id}&queue=${q[0]}&target=fallback&language=es-US`,
      form,
    );
    expect(last.body).toContain(`<Say>${uc.messages.apology}</Say>`);
    // A use case that offers Spanish, with its apology and Polly voice: said in it.
    const es = parseUseCases({
      defaultUseCase: uc.id,
      useCases: [
        {
          ...bundled.useCases.find((u) => u.id === uc.id)!,
          languages: [
            {
              language: 'es-US',
              confirmation: 'Claro.',
              voice: { chime: 'Lupe' },
              messages: { apology: 'Lo siento, no hay nadie disponible.' },
            },
          ],
        },
      ],
    }).defaultUseCase;
    expect(sayAndHangUpTwiml(chimeLineIn(es, 'es-US', 'apology'), es)).toContain(
      '<Say language="es-US" voice="Polly.Lupe">Lo siento, no hay nadie disponible.</Say><Hangup/>',
    );
    expect(sayAndHangUpTwiml(chimeLineIn(es, 'de-DE', 'apology'), es)).toContain(
      `<Say>${es.messages.apology}</Say>`,
    );
  });

  it('answers other paths with 404 and other methods with 405', async () => {
    expect((await fetch(`${base}/twilio/other`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/twilio/voice`)).status).toBe(405);
  });
});
