import { describe, expect, it } from 'vitest';
import {
  CodeRequest,
  ConfirmRequest,
  FunctionUrlEvent,
  parseBody,
} from '../../../lambdas/verify/http.js';

function event(body: string | undefined, headers: Record<string, string> = {}, base64 = false) {
  return FunctionUrlEvent.parse({
    headers: { 'content-type': 'application/json', ...headers },
    body,
    isBase64Encoded: base64,
    requestContext: { http: { method: 'POST', path: '/codes', sourceIp: '198.51.100.7' } },
  });
}

const errorOf = (r: ReturnType<typeof parseBody>) =>
  r.ok ? undefined : { status: r.response.statusCode, ...JSON.parse(r.response.body) };

describe('verification API request bodies', () => {
  it('reads a number when the body is JSON', () => {
    const r = parseBody(event('{"number":"+15550100311"}'), CodeRequest);
    expect(r).toEqual({ ok: true, value: { number: '+15550100311' } });
  });

  it('reads a base64 body when the function URL encoded it', () => {
    const body = Buffer.from('{"number":"+15550100311","code":"012345"}').toString('base64');
    const r = parseBody(event(body, {}, true), ConfirmRequest);
    expect(r).toEqual({ ok: true, value: { number: '+15550100311', code: '012345' } });
  });

  it('answers 400 with a clear error when the JSON is malformed', () => {
    expect(errorOf(parseBody(event('{"number":'), CodeRequest))).toEqual({
      status: 400,
      error: 'the request body is not valid JSON',
    });
  });

  it('answers 400 naming the field, without repeating it, when the number is not E.164', () => {
    const err = errorOf(parseBody(event('{"number":"555-0100 ext 4"}'), CodeRequest));
    expect(err?.status).toBe(400);
    expect(err?.error).toMatch(/^number: must be an E\.164 number/);
    expect(err?.error).not.toContain('555-0100');
  });

  it('answers 400 when a field is missing, has the wrong type or is unexpected', () => {
    const missing = errorOf(parseBody(event('{"number":"+15550100311"}'), ConfirmRequest));
    expect(missing).toEqual({ status: 400, error: 'code: required, as a string' });
    const typed = errorOf(parseBody(event('{"number":15550100311}'), CodeRequest));
    expect(typed).toEqual({ status: 400, error: 'number: required, as a string' });
    const extra = errorOf(parseBody(event('{"number":"+15550100311","x":1}'), CodeRequest));
    expect(extra).toEqual({ status: 400, error: 'unexpected field: x' });
    const array = errorOf(parseBody(event('[]'), CodeRequest));
    expect(array).toEqual({ status: 400, error: 'the request body must be a JSON object' });
  });

  it('answers 400 when the code is not six digits', () => {
    const err = errorOf(
      parseBody(event('{"number":"+15550100311","code":"12345a"}'), ConfirmRequest),
    );
    expect(err).toEqual({ status: 400, error: 'code: must be the 6 digits of the SMS' });
  });

  it('answers 415 when the body is not sent as JSON, so a cross-site form cannot post', () => {
    const r = parseBody(
      event('{"number":"+15550100311"}', { 'content-type': 'text/plain' }),
      CodeRequest,
    );
    expect(errorOf(r)?.status).toBe(415);
  });

  it('answers 413 when the body is larger than any request of the API', () => {
    const r = parseBody(event(JSON.stringify({ number: 'x'.repeat(5000) })), CodeRequest);
    expect(errorOf(r)?.status).toBe(413);
  });

  it('refuses an event without a request context when it is not from a function URL', () => {
    expect(FunctionUrlEvent.safeParse({ body: '{}' }).success).toBe(false);
  });
});
