// The Lambda function URL's wire format (payload format 2.0), parsed once at the edge, and the
// answers the API gives. https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
import * as z from 'zod';
import { e164 } from '../../contracts/ids.js';
import { codeSchema } from './codes.js';

/** The fields of a function URL event the API reads. Header names arrive in lower case. */
export const FunctionUrlEvent = z.object({
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().default(false),
  requestContext: z.object({
    http: z.object({ method: z.string(), path: z.string(), sourceIp: z.string().min(1) }),
  }),
});
export type FunctionUrlEvent = z.infer<typeof FunctionUrlEvent>;

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The largest body the API reads; its requests are a few dozen bytes. */
export const MAX_BODY_BYTES = 2048;

export const CodeRequest = z.strictObject({ number: e164 });
export const ConfirmRequest = z.strictObject({ number: e164, code: codeSchema });

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function json(statusCode: number, body: object, headers: Record<string, string> = {}) {
  return {
    statusCode,
    headers: { ...COMMON_HEADERS, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  } satisfies HttpResponse;
}

export const fail = (statusCode: number, error: string, headers?: Record<string, string>) =>
  json(statusCode, { error }, headers);

export function html(body: string, csp: string): HttpResponse {
  return {
    statusCode: 200,
    headers: {
      ...COMMON_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      'x-frame-options': 'DENY',
    },
    body,
  };
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; response: HttpResponse };

/**
 * The request's JSON body, checked against `schema`. Only `application/json` is read: a cross-site
 * form can post text/plain without asking, but a JSON request from another origin needs a
 * preflight the API never grants.
 */
export function parseBody<T>(event: FunctionUrlEvent, schema: z.ZodType<T>): Parsed<T> {
  const type = event.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return { ok: false, response: fail(415, 'send the request as application/json') };
  }
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) {
    return { ok: false, response: fail(413, 'the request body is too large') };
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, response: fail(400, 'the request body is not valid JSON') };
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) return { ok: false, response: fail(400, describeIssues(parsed.error)) };
  return { ok: true, value: parsed.data };
}

/** What is wrong with a body, by field, without repeating what was sent. */
function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'the request body is not valid';
  if (issue.code === 'unrecognized_keys') return `unexpected field: ${issue.keys.join(', ')}`;
  const field = issue.path.join('.');
  if (!field) return 'the request body must be a JSON object';
  if (issue.code === 'invalid_type') return `${field}: required, as a string`;
  return `${field}: ${issue.message}`;
}
