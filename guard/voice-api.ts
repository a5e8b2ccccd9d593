// The guard's Chime adapter: UpdateSipMediaApplicationCall, the one call the Voice API has for a
// call in progress. The guard uses it two ways:
// - to fail a call over: the AI leg died without a BYE (livekit-sip went away), so the SMA would
//   never learn it; a transfer update with the call's own token (the SIP participant's
//   `sma.callToken`, never one the guard made) has the SMA send the caller to a person;
// - to ask whether a call still exists: an update with no arguments, which the SMA handler answers
//   with no new actions (docs/architecture.md, the update contract); NotFoundException means Chime
//   has no such call any more.
// Every request within its deadline; the SDK retries throttling and server errors inside it.
// https://docs.aws.amazon.com/chime-sdk/latest/APIReference/API_voice-chime_UpdateSipMediaApplicationCall.html
import {
  ChimeSDKVoiceClient,
  UpdateSipMediaApplicationCallCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import { CallAttribute } from '../contracts/headers.js';
import { withDeadline } from './errors.js';

/** A call as the Voice API names it. */
export interface SmaCallRef {
  applicationId: string;
  transactionId: string;
  /** The SMA's region; the client's default (AWS_REGION) when undefined. */
  region: string | undefined;
}

/** `accepted`: Chime has the call and invoked the handler; `gone`: Chime has no such call. */
export type UpdateOutcome = 'accepted' | 'gone';

/** The Voice API as the guard uses it; tests inject a fake. */
export interface VoiceApi {
  update(call: SmaCallRef, args: Record<string, string>): Promise<UpdateOutcome>;
}

/** The Voice API's answer for a call that is not in progress. */
export function isCallGone(err: unknown): boolean {
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  return e?.name === 'NotFoundException' || e?.$metadata?.httpStatusCode === 404;
}

export class ChimeVoiceApi implements VoiceApi {
  private readonly clients = new Map<string, ChimeSDKVoiceClient>();

  constructor(
    private readonly timeoutMs: number,
    /** A client for a region (default: the SDK's, endpoint from AWS_ENDPOINT_URL_CHIME_SDK_VOICE). */
    private readonly clientFor: (region: string | undefined) => ChimeSDKVoiceClient = (region) =>
      new ChimeSDKVoiceClient({ region, maxAttempts: 3 }),
  ) {}

  private client(region: string | undefined): ChimeSDKVoiceClient {
    const key = region ?? '';
    let client = this.clients.get(key);
    if (!client) this.clients.set(key, (client = this.clientFor(region)));
    return client;
  }

  async update(call: SmaCallRef, args: Record<string, string>): Promise<UpdateOutcome> {
    const command = new UpdateSipMediaApplicationCallCommand({
      SipMediaApplicationId: call.applicationId,
      TransactionId: call.transactionId,
      Arguments: args,
    });
    try {
      await withDeadline(this.timeoutMs, (abortSignal) =>
        this.client(call.region).send(command, { abortSignal }),
      );
      return 'accepted';
    } catch (err) {
      if (isCallGone(err)) return 'gone';
      throw err;
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}

/** The call a SIP participant carries, with its token; undefined without the SMA's attributes. */
export function callOfParticipant(
  attributes: Readonly<Record<string, string>>,
): (SmaCallRef & { token: string | undefined }) | undefined {
  const transactionId = attributes[CallAttribute.transactionId];
  const applicationId = attributes[CallAttribute.applicationId];
  if (!transactionId || !applicationId) return undefined;
  return {
    transactionId,
    applicationId,
    region: attributes[CallAttribute.region] || undefined,
    token: attributes[CallAttribute.callToken] || undefined,
  };
}

/**
 * The update that sends a caller whose AI leg died to a person: a transfer to the use case's
 * default queue (an empty `queue`), reason `agent_error`, as the SMA would decide itself had it
 * seen the leg go (docs/architecture.md, "Nobody is dropped").
 */
export function failoverArguments(token: string, nowMs: number): Record<string, string> {
  return {
    action: 'transfer',
    queue: '',
    reason: 'agent_error',
    requestedAt: String(nowMs),
    token,
  };
}

/** The update that only asks whether Chime still has the call: no arguments, no new actions. */
export const PROBE_ARGUMENTS: Record<string, string> = {};
