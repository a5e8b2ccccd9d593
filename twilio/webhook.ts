// The TwiML webhook of a Twilio number (docs/twilio.md). Twilio POSTs the call (form-encoded) to
// `<TWILIO_PUBLIC_URL>/twilio/voice`; the request is taken only when its X-Twilio-Signature
// verifies with Twilio's own helper for the URL Twilio called (anything else: 403, empty body).
// Then the use case from the number called (Twilio's `To`), the access rules and limits as the SMA
// applies them (lambdas/sma/admission/), and the answer: TwiML that connects a bidirectional
// stream to the gateway with the call's parameters (use case, trace context, the call token), or
// the use case's message, or people.
//
// `<TWILIO_PUBLIC_URL>/twilio/dial-status` is where a transfer's <Dial> reports: a queue that did
// not answer gets its fallback number, then the use case's apology; the call is never left silent.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import { signCallToken } from '../contracts/call-token.js';
import { isE164 } from '../contracts/ids.js';
import type { RefusedReason } from '../contracts/reasons.js';
import { twilioTokenClaims } from '../contracts/twilio-call.js';
import { chimeLineIn, type UseCase } from '../contracts/use-cases.js';
import type { CallAdmission } from '../lambdas/sma/admission/types.js';
import type { UseCaseSource } from '../store/use-case-cache.js';
import { connectStreamTwiml, dialQueueTwiml, hangUpTwiml, sayAndHangUpTwiml } from './twiml.js';

export const VOICE_PATH = '/twilio/voice';
export const DIAL_STATUS_PATH = '/twilio/dial-status';
export const STREAM_PATH = '/twilio/stream';

/** The call as the webhook admitted it: what the caller's leg carries. */
export interface RingingCall {
  callSid: string;
  accountSid: string;
  callToken: string;
  useCase?: string;
  traceparent?: string;
  dialed?: string;
}

export interface WebhookDeps {
  accountSid: string;
  authToken: string;
  /** TWILIO_PUBLIC_URL: the origin (and path prefix, if any) Twilio calls; what it signs. */
  publicUrl: string;
  /** The gateway's wss:// stream address (TWILIO_STREAM_URL). */
  streamUrl: string;
  useCases: UseCaseSource;
  admission: CallAdmission;
  callToken: { secret: string; ttlMs: number };
  /**
   * Places the caller's SIP call into livekit-sip while the call rings (the agent dispatched, its
   * session up: livekit-sip answers then) before the answer; the stream's start takes that leg. A
   * failure leaves it to the gateway, at the stream's start.
   */
  prepareLeg?: (call: RingingCall) => Promise<void>;
  /** RECORDINGS_BUCKET: the calls of use cases that record are announced (and recorded). */
  recordingsBucket?: string;
  logger: Logger;
  now?: () => number;
}

/** The most the answer waits for the caller's leg and the agent. */
const PREPARE_LEG_MS = 4000;

function within<T>(p: Promise<T> | undefined, ms: number): Promise<T | undefined> {
  if (!p) return Promise.resolve(undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The largest webhook body read (Twilio's are about 1 KB). */
const MAX_BODY_BYTES = 16 * 1024;

/** Twilio's form body, read whole (bounded). */
export async function readForm(req: IncomingMessage): Promise<Record<string, string> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

/** The URL Twilio signed: the public base and the request's path and query. */
export function signedUrl(publicUrl: string, reqUrl: string): string {
  return publicUrl.replace(/\/$/, '') + reqUrl;
}

/** Whether the request is Twilio's, for this URL and these parameters. */
export function isSignedByTwilio(
  authToken: string,
  signature: string | string[] | undefined,
  url: string,
  params: Record<string, string>,
): boolean {
  if (typeof signature !== 'string' || signature === '') return false;
  return validateRequest(authToken, signature, url, params);
}

/** Handles the webhook's two paths; false when the path is not one of them. */
export async function handleWebhook(
  req: IncomingMessage,
  res: ServerResponse,
  deps: WebhookDeps,
): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path !== VOICE_PATH && path !== DIAL_STATUS_PATH) return false;
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' }).end();
    return true;
  }
  const form = await readForm(req);
  const url = signedUrl(deps.publicUrl, req.url ?? '/');
  const signature = req.headers['x-twilio-signature'];
  if (!form || !isSignedByTwilio(deps.authToken, signature, url, form)) {
    deps.logger.warn({ reason: 'bad_signature', path }, 'webhook refused');
    res.writeHead(403).end();
    return true;
  }
  if (form['AccountSid'] !== deps.accountSid) {
    deps.logger.warn({ reason: 'other_account', path }, 'webhook refused');
    res.writeHead(403).end();
    return true;
  }
  const twiml =
    path === VOICE_PATH
      ? await answerCall(form, deps)
      : dialStatus(form, new URL(url).searchParams, deps);
  res.writeHead(200, { 'content-type': 'text/xml' }).end(twiml);
  return true;
}

/** A W3C traceparent for the call: its trace id is the CallSid's 32 hex digits, one per call. */
export function callTraceparent(callSid: string): string | undefined {
  const hex = /^CA([0-9a-f]{32})$/.exec(callSid)?.[1];
  return hex ? `00-${hex}-${randomBytes(8).toString('hex')}-01` : undefined;
}

async function answerCall(form: Record<string, string>, deps: WebhookDeps): Promise<string> {
  const callSid = form['CallSid'] ?? '';
  const dialed = form['To'];
  const catalog = deps.useCases.current();
  const useCase = catalog.byDialedNumber(dialed) ?? catalog.defaultUseCase;
  const nowMs = deps.now?.() ?? Date.now();
  const caller = isE164(form['From']) ? form['From'] : undefined;
  const log = deps.logger.child({ callSid, useCase: useCase.id });
  const t0 = performance.now();
  const verdict = await deps.admission.admit({
    transactionId: callSid,
    useCase,
    callerNumber: caller,
    nowMs,
  });
  if (verdict.unchecked.length > 0)
    log.warn({ unchecked: verdict.unchecked }, 'admission unchecked');
  if (verdict.verdict !== 'admit') {
    const answer = verdict.verdict === 'refuse' ? refusalAnswer(useCase, verdict.reason) : 'people';
    log.info(
      {
        reason: verdict.verdict === 'refuse' ? verdict.reason : 'unknown',
        answer,
        pii: { caller },
      },
      'call not admitted',
    );
    if (answer === 'people') return toPeople(useCase, deps);
    const access =
      verdict.verdict === 'refuse' && ['blocked', 'unverified'].includes(verdict.reason);
    return sayAndHangUpTwiml(access ? useCase.messages.notAllowed : useCase.messages.overLimit);
  }
  const callToken = signCallToken(
    twilioTokenClaims(callSid, form['AccountSid']!),
    nowMs + deps.callToken.ttlMs,
    deps.callToken.secret,
  );
  const admitMs = Math.round(performance.now() - t0);
  const traceparent = callTraceparent(callSid);
  // Twilio waits 15 s for an answer; the leg gets a few of them, then the gateway makes it.
  const leg = {
    callSid,
    accountSid: form['AccountSid']!,
    callToken,
    useCase: useCase.id,
    dialed,
    traceparent,
  };
  await within(deps.prepareLeg?.(leg), PREPARE_LEG_MS).catch((err: unknown) => {
    log.warn({ err: (err as Error).message }, 'call leg not prepared; the gateway makes it');
  });
  const legMs = Math.round(performance.now() - t0) - admitMs;
  log.info({ admitMs, legMs, pii: { caller, dialed } }, 'call connected to the gateway');
  return connectStreamTwiml({
    streamUrl: deps.streamUrl,
    useCase: useCase.id,
    dialed: dialed ?? '',
    callToken,
    traceparent,
    leaseExpiresAtMs: verdict.leaseExpiresAtMs,
    // Twilio says it before the stream starts, in the use case's language.
    ...(deps.recordingsBucket && useCase.recording?.enabled
      ? { notice: useCase.recording.announcement, noticeLanguage: useCase.language }
      : {}),
  });
}

/**
 * As the SMA answers a refusal (lambdas/sma/decide/refusal.ts): a blocked caller always hears the
 * message; access and limits otherwise as the use case says.
 */
export function refusalAnswer(
  useCase: UseCase,
  reason: Exclude<RefusedReason, 'forged' | 'foreign_sma'>,
): 'message' | 'people' {
  switch (reason) {
    case 'blocked':
      return 'message';
    case 'unverified':
      return useCase.access.refused;
    case 'over_capacity':
    case 'rate_limited':
      return useCase.limits.overLimit;
  }
}

/** The use case's `connecting` notice, then its default queue. */
function toPeople(useCase: UseCase, deps: Pick<WebhookDeps, 'publicUrl'>): string {
  const dial = dialQueueTwiml({
    useCase,
    queue: useCase.defaultQueue,
    target: 'primary',
    statusUrl: signedUrl(deps.publicUrl, DIAL_STATUS_PATH),
    say: useCase.messages.connecting,
  });
  return dial ?? sayAndHangUpTwiml(useCase.messages.apology);
}

/** A transfer's <Dial> ended: done when the person answered; else the fallback, else the apology. */
function dialStatus(
  form: Record<string, string>,
  query: URLSearchParams,
  deps: WebhookDeps,
): string {
  const status = form['DialCallStatus'];
  if (status === 'completed' || status === 'answered') return hangUpTwiml();
  const useCase = deps.useCases.current().byIdOrUndefined(query.get('useCase') ?? undefined);
  const queue = query.get('queue') ?? '';
  deps.logger.warn(
    { callSid: form['CallSid'], queue, status, target: query.get('target') },
    'transfer not answered',
  );
  if (!useCase) return hangUpTwiml();
  // The language the caller switched to, as the transfer carried it: only one the use case offers
  // is ever used (chimeLineIn checks it), so a URL Twilio signed cannot name another.
  const language = query.get('language') ?? undefined;
  if (query.get('target') === 'primary') {
    const fallback = dialQueueTwiml({
      useCase,
      queue,
      target: 'fallback',
      statusUrl: signedUrl(deps.publicUrl, DIAL_STATUS_PATH),
      language,
    });
    if (fallback) return fallback;
  }
  return sayAndHangUpTwiml(chimeLineIn(useCase, language, 'apology'), useCase);
}
