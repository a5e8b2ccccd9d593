// Twilio's REST API through Twilio's own client (the `twilio` package), for the agent's call
// control and the gateway's failover. Credentials come from the environment only and are never
// logged. TWILIO_API_URL moves every request to another origin (the lab's stand-in), as the AWS
// SDK's endpoint variables do for Chime and DynamoDB: the client builds its usual
// https://api.twilio.com/... addresses and an http client override rewrites the origin.
import type { Twilio } from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import * as z from 'zod';
import { ACCOUNT_SID_PATTERN } from '../contracts/twilio-call.js';

export const restEnvSchema = z.object({
  TWILIO_ACCOUNT_SID: z.string().regex(ACCOUNT_SID_PATTERN, 'must be an account SID (AC…)'),
  /** The account's auth token: signs and checks webhooks, and authenticates REST requests. */
  TWILIO_AUTH_TOKEN: z.string().min(16),
  /**
   * The webhook's public base URL, as Twilio reaches it (https://…): the TwiML webhook is
   * `<this>/twilio/voice`, a transfer's dial status `<this>/twilio/dial-status`. Signatures cover it.
   */
  TWILIO_PUBLIC_URL: z.url(),
  /** Another origin for Twilio's REST API (the lab's stand-in); unset in production. */
  TWILIO_API_URL: z.url().optional(),
});
export type TwilioRestEnv = z.infer<typeof restEnvSchema>;

export class TwilioConfigError extends Error {
  override name = 'TwilioConfigError';
}

/** The REST settings, or an error naming each variable that is missing or malformed. */
export function readRestEnv(env: NodeJS.ProcessEnv): TwilioRestEnv {
  const res = restEnvSchema.safeParse(env);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new TwilioConfigError(`Twilio configuration is invalid:\n${lines.join('\n')}`);
  }
  return res.data;
}

/**
 * A Twilio client (loaded on first use: the package takes about 0.3 s to load, which a worker
 * that never serves a Twilio call should not pay).
 */
export async function twilioClient(env: TwilioRestEnv): Promise<Twilio> {
  const { default: twilio } = await import('twilio');
  const httpClient = requestClient(twilio.RequestClient, env.TWILIO_API_URL);
  return twilio(env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, { httpClient });
}

/** A request's time limit: the caller waits on the line, and the control budgets its retries. */
const REQUEST_TIMEOUT_MS = 3000;

function requestClient(Base: typeof RequestClient, origin: string | undefined): RequestClient {
  // autoRetry off: the control's own retries are budgeted.
  const opts = { timeout: REQUEST_TIMEOUT_MS, autoRetry: false };
  if (!origin) return new Base(opts);
  const target = new URL(origin);
  class OriginRequestClient extends Base {
    override request<T>(req: RequestClient.RequestOptions<T>) {
      const uri = new URL(req.uri);
      if (uri.hostname === 'twilio.com' || uri.hostname.endsWith('.twilio.com')) {
        uri.protocol = target.protocol;
        uri.host = target.host;
      }
      return super.request<T>({ ...req, uri: uri.toString() });
    }
  }
  return new OriginRequestClient(opts);
}
