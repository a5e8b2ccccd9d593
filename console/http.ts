// The console server's HTTP parts: refusals with a status, the same-origin rule for POSTs, bounded
// JSON bodies, zod parsing that names every problem, and per-user rate windows.
import type { IncomingMessage } from 'node:http';
import type * as z from 'zod';

/** A refusal the console answers with `status` and `{error: message}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The largest request body the console reads. */
export const MAX_BODY = 4096;

/** A cross-site POST is refused: JSON only, and its Origin, when sent, must be this host's. */
export function checkSameOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin !== undefined && URL.parse(origin)?.host !== req.headers.host) {
    throw new HttpError(403, 'cross-site request refused');
  }
  // A cross-site page cannot send JSON without a CORS preflight, which is never answered.
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
    throw new HttpError(415, 'send application/json');
  }
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'request too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
}

export function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
    throw new HttpError(400, problems.join('; '));
  }
  return r.data;
}

/** Counts an action against the user's window, or refuses it (429 with `refusal`). */
export function perUserLimit(
  clock: () => number,
  max: number,
  windowMs: number,
  refusal: string,
): (userId: string) => void {
  const started = new Map<string, number[]>();
  return (userId) => {
    const since = clock() - windowMs;
    const recent = (started.get(userId) ?? []).filter((t) => t > since);
    if (recent.length >= max) throw new HttpError(429, refusal);
    started.set(userId, [...recent, clock()]);
  };
}
