import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { callerKey } from '../../../contracts/callers.js';
import { codeMatches } from '../../../lambdas/verify/codes.js';
import { createVerifyHandler, type VerifyDeps } from '../../../lambdas/verify/handler.js';
import type { SmsSender } from '../../../lambdas/verify/sms.js';
import type { Attempt, VerificationStore } from '../../../lambdas/verify/store.js';
import { createLogger } from '../../../lambdas/sma/logger.js';

const SECRET = 'a-test-caller-key-secret-of-at-least-32-bytes';
const NUMBER = '+15550100311';
const NOW = Date.UTC(2030, 0, 1, 0, 5);

/** The store's decisions, without DynamoDB: one code per key, sends counted per pk. */
class MemoryStore implements VerificationStore {
  sends = new Map<string, number>();
  codes = new Map<string, { hash: string; attempts: number }>();
  verified = new Set<string>();
  fail?: Error;
  async countSend(pk: string, limit: { max: number }) {
    if (this.fail) throw this.fail;
    const n = this.sends.get(pk) ?? 0;
    if (n >= limit.max) return false;
    this.sends.set(pk, n + 1);
    return true;
  }
  async putCode(key: string, hash: string) {
    this.codes.set(key, { hash, attempts: 0 });
    return true;
  }
  async attempt(key: string): Promise<Attempt> {
    const c = this.codes.get(key);
    if (!c) return { kind: 'none' };
    if (c.attempts >= 5) return { kind: 'locked' };
    c.attempts += 1;
    return { kind: 'try', hash: c.hash };
  }
  async markVerified(key: string) {
    this.verified.add(key);
    this.codes.delete(key);
  }
}

class MemorySms implements SmsSender {
  sent: { to: string; text: string }[] = [];
  fail?: Error;
  async send(to: string, text: string) {
    if (this.fail) throw this.fail;
    this.sent.push({ to, text });
  }
}

function setup(logPii = true) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const store = new MemoryStore();
  const sms = new MemorySms();
  const deps: VerifyDeps = {
    config: {
      callerKeySecret: SECRET,
      serviceName: 'City 311',
      perNumber: { max: 3, windowMs: 900_000 },
      perSource: { max: 20, windowMs: 3_600_000 },
    },
    store,
    sms,
    logger: createLogger({ level: 'debug', pii: logPii, name: 'verify' }, destination),
    now: () => NOW,
  };
  return { handler: createVerifyHandler(deps), store, sms, lines };
}

function request(method: string, path: string, body?: unknown) {
  return {
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { http: { method, path, sourceIp: '198.51.100.7' } },
  };
}

const codeOf = (text: string) => /\d{6}/.exec(text)![0];
const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('verification API handler', () => {
  it('sends a code and verifies the number when the code comes back', async () => {
    const { handler, store, sms } = setup();
    const sent = await handler(request('POST', '/codes', { number: NUMBER }));
    expect(sent.statusCode).toBe(202);
    expect(sms.sent).toHaveLength(1);
    expect(sms.sent[0]!.to).toBe(NUMBER);
    const code = codeOf(sms.sent[0]!.text);
    const key = callerKey(NUMBER, SECRET);
    expect(codeMatches(SECRET, key, code, store.codes.get(key)!.hash)).toBe(true);

    const ok = await handler(request('POST', '/codes/confirm', { number: NUMBER, code }));
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ status: 'verified' });
    expect(store.verified.has(key)).toBe(true);
  });

  it('answers a wrong code and a missing code alike when confirming', async () => {
    const { handler, sms } = setup();
    await handler(request('POST', '/codes', { number: NUMBER }));
    const wrong = wrongCode(codeOf(sms.sent[0]!.text));
    const a = await handler(request('POST', '/codes/confirm', { number: NUMBER, code: wrong }));
    const other = { number: '+15550100312', code: wrong };
    const b = await handler(request('POST', '/codes/confirm', other));
    expect(a.statusCode).toBe(400);
    expect(b.statusCode).toBe(400);
    expect(a.body).toBe(b.body);
  });

  it('answers 429 with Retry-After when the number is over its sends', async () => {
    const { handler, sms } = setup();
    for (let i = 0; i < 3; i++) await handler(request('POST', '/codes', { number: NUMBER }));
    const res = await handler(request('POST', '/codes', { number: NUMBER }));
    expect(res.statusCode).toBe(429);
    // 00:05 in a window of 15 minutes: 10 minutes left.
    expect(res.headers['retry-after']).toBe('600');
    expect(sms.sent).toHaveLength(3);
  });

  it('answers 202 as if sent when the SMS service refuses the destination', async () => {
    const { handler, sms, lines } = setup();
    sms.fail = Object.assign(new Error(`destination ${NUMBER} opted out`), {
      name: 'ValidationException',
    });
    const res = await handler(request('POST', '/codes', { number: NUMBER }));
    expect(res.statusCode).toBe(202);
    const warn = lines.map((l) => JSON.parse(l)).find((l) => l.event === 'sms_refused');
    expect(warn.err).toEqual({ name: 'ValidationException' });
  });

  it('answers 500 without details when the SMS service or the table fails', async () => {
    const { handler, sms, store, lines } = setup();
    sms.fail = Object.assign(new Error(`throttled sending to ${NUMBER}`), {
      name: 'ThrottlingException',
    });
    const a = await handler(request('POST', '/codes', { number: NUMBER }));
    store.fail = new Error('table is gone');
    const b = await handler(request('POST', '/codes', { number: NUMBER }));
    for (const res of [a, b]) {
      expect(res.statusCode).toBe(500);
      expect(res.body).not.toMatch(/Throttling|table|stack|at /);
    }
    expect(lines.join('')).not.toContain('throttled sending');
  });

  it('routes unknown paths to 404, other methods to 405, and non-events to 400', async () => {
    const { handler } = setup();
    expect((await handler(request('GET', '/admin'))).statusCode).toBe(404);
    const wrong = await handler(request('GET', '/codes'));
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
    expect((await handler({ hello: 'world' })).statusCode).toBe(400);
    expect((await handler(null)).statusCode).toBe(400);
  });

  it('serves the page with its CSP when GET /', async () => {
    const { handler } = setup();
    const res = await handler(request('GET', '/'));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toMatch(/script-src 'sha256-/);
    expect(res.body).toContain('City 311');
  });

  it('logs the number only under pii, and never the code, when a number is verified', async () => {
    const { handler, sms, lines } = setup(true);
    await handler(request('POST', '/codes', { number: NUMBER }));
    const code = codeOf(sms.sent[0]!.text);
    await handler(request('POST', '/codes/confirm', { number: NUMBER, code: wrongCode(code) }));
    await handler(request('POST', '/codes/confirm', { number: NUMBER, code }));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      expect(line).not.toContain(code);
      const { pii: _pii, ...rest } = JSON.parse(line) as Record<string, unknown>;
      expect(JSON.stringify(rest)).not.toContain('5550100311');
    }
    expect(lines.some((l) => l.includes(NUMBER))).toBe(true);
  });
});
