// The verification API (docs/verification.md): a caller asks for a code by SMS and confirms it, and
// the number is then verified for the use cases with `access.mode: verified`. It never throws to
// the function URL: anything unexpected is a 500 without details. The code is never logged, and the
// number only under `pii`.
import { callerKey, callerPk, sourcePk } from '../../contracts/callers.js';
import { CODE_TTL_MS, codeMatches, hashCode, newCode, smsText, windowStart } from './codes.js';
import type { SendLimit, VerifyConfig } from './config.js';
import {
  CodeRequest,
  ConfirmRequest,
  FunctionUrlEvent,
  fail,
  html,
  json,
  parseBody,
  type HttpResponse,
} from './http.js';
import type { Logger } from '../sma/logger.js';
import { PAGE_CSP, registrationPage } from './page.js';
import { errorSummary, isDestinationError, type SmsSender } from './sms.js';
import type { VerificationStore } from './store.js';

export interface VerifyDeps {
  config: Pick<VerifyConfig, 'callerKeySecret' | 'serviceName' | 'perNumber' | 'perSource'>;
  store: VerificationStore;
  sms: SmsSender;
  logger: Logger;
  now: () => number;
}

export type VerifyHandler = (event: unknown) => Promise<HttpResponse>;

const SENT = `If this number can receive text messages, a code is on its way. It expires in ${CODE_TTL_MS / 60_000} minutes.`;
const WRONG =
  'That code is not right, or it has expired. Check the text message, or ask for a new code.';
const LOCKED = 'Too many tries. Please wait a few minutes and ask for a new code.';
const BUSY = 'Too many codes were asked for. Please try again later.';

/** Seconds until the window of `nowMs` ends: the Retry-After of a refused send. */
const retryAfter = (limit: SendLimit, nowMs: number) => ({
  'retry-after': String(
    Math.ceil((windowStart(nowMs, limit.windowMs) + limit.windowMs - nowMs) / 1000),
  ),
});

export function createVerifyHandler(deps: VerifyDeps): VerifyHandler {
  const page = registrationPage(deps.config.serviceName);
  const routes: Record<string, Record<string, (e: FunctionUrlEvent) => Promise<HttpResponse>>> = {
    '/': { GET: async () => html(page, PAGE_CSP) },
    '/codes': { POST: (e) => requestCode(deps, e) },
    '/codes/confirm': { POST: (e) => confirmCode(deps, e) },
  };
  return async (raw) => {
    const parsed = FunctionUrlEvent.safeParse(raw);
    if (!parsed.success) {
      deps.logger.warn({ event: 'bad_event' }, 'not a function URL event');
      return fail(400, 'bad request');
    }
    const { method, path } = parsed.data.requestContext.http;
    const route = routes[path];
    if (!route) return fail(404, 'not found');
    const run = route[method];
    if (!run) return fail(405, 'method not allowed', { allow: Object.keys(route).join(', ') });
    try {
      return await run(parsed.data);
    } catch (err) {
      deps.logger.error(
        { event: 'request_failed', path, err: errorSummary(err) },
        'request failed',
      );
      return fail(500, 'Something went wrong on our side. Please try again in a few minutes.');
    }
  };
}

async function requestCode(deps: VerifyDeps, event: FunctionUrlEvent): Promise<HttpResponse> {
  const body = parseBody(event, CodeRequest);
  if (!body.ok) return body.response;
  const { config, store, logger } = deps;
  const nowMs = deps.now();
  const number = body.value.number;
  const key = callerKey(number, config.callerKeySecret);
  const overLimit = await takeSend(deps, event.requestContext.http.sourceIp, key, nowMs);
  if (overLimit) {
    logger.info({ event: 'send_refused', limit: overLimit, pii: { number } }, 'code not sent');
    return fail(429, BUSY, retryAfter(config[overLimit], nowMs));
  }
  const code = newCode();
  const hash = hashCode(config.callerKeySecret, key, code);
  if (!(await store.putCode(key, hash, nowMs, nowMs + CODE_TTL_MS))) {
    logger.info({ event: 'send_refused', limit: 'locked', pii: { number } }, 'code not sent');
    return fail(429, LOCKED);
  }
  try {
    await deps.sms.send(number, smsText(config.serviceName, code));
  } catch (err) {
    if (!isDestinationError(err)) throw err;
    logger.warn(
      { event: 'sms_refused', err: errorSummary(err), pii: { number } },
      'SMS refused for the destination',
    );
    return json(202, { message: SENT });
  }
  logger.info({ event: 'code_sent', pii: { number } }, 'code sent');
  return json(202, { message: SENT });
}

/** Counts the send against the source address, then the number: the limit it is over, if any. */
async function takeSend(
  { config, store }: VerifyDeps,
  sourceIp: string,
  key: string,
  nowMs: number,
): Promise<'perSource' | 'perNumber' | undefined> {
  const source = callerKey(sourceIp, config.callerKeySecret);
  if (!(await store.countSend(sourcePk(source), config.perSource, nowMs))) return 'perSource';
  if (!(await store.countSend(callerPk(key), config.perNumber, nowMs))) return 'perNumber';
  return undefined;
}

async function confirmCode(deps: VerifyDeps, event: FunctionUrlEvent): Promise<HttpResponse> {
  const body = parseBody(event, ConfirmRequest);
  if (!body.ok) return body.response;
  const { config, store, logger } = deps;
  const nowMs = deps.now();
  const { number, code } = body.value;
  const key = callerKey(number, config.callerKeySecret);
  const attempt = await store.attempt(key, nowMs);
  if (attempt.kind === 'locked') {
    logger.info({ event: 'confirm_refused', outcome: 'locked', pii: { number } }, 'code locked');
    return fail(429, LOCKED);
  }
  if (attempt.kind === 'none' || !codeMatches(config.callerKeySecret, key, code, attempt.hash)) {
    logger.info(
      { event: 'confirm_refused', outcome: 'wrong_or_expired', pii: { number } },
      'code refused',
    );
    return fail(400, WRONG);
  }
  await store.markVerified(key, attempt.hash, nowMs);
  logger.info({ event: 'number_verified', pii: { number } }, 'number verified');
  return json(200, { status: 'verified', message: 'Thank you: your number is registered.' });
}
