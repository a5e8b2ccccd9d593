// The SMS adapter: AWS End User Messaging SMS (the PinpointSMSVoiceV2 API), SendTextMessage.
// https://docs.aws.amazon.com/pinpoint/latest/apireference_smsvoicev2/API_SendTextMessage.html
import {
  SendTextMessageCommand,
  type PinpointSMSVoiceV2Client,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';

export interface SmsSender {
  /** Resolves when the service accepted the message; rejects with the service's error. */
  send(to: string, text: string): Promise<void>;
}

/**
 * Errors about the destination itself (opted out, a country not enabled, a number the service
 * will not take): answering them differently from a sent code would tell which numbers are
 * reachable, so the API answers as if sent.
 */
const DESTINATION_ERRORS = new Set(['ValidationException', 'ConflictException']);

export function isDestinationError(err: unknown): boolean {
  return err instanceof Error && DESTINATION_ERRORS.has(err.name);
}

/** What may be logged of an SDK error: its name and HTTP status, never its message (it may quote the number). */
export function errorSummary(err: unknown): { name: string; status?: number } {
  if (!(err instanceof Error)) return { name: typeof err };
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined ? { name: err.name } : { name: err.name, status };
}

export class EndUserMessagingSms implements SmsSender {
  constructor(
    private readonly client: PinpointSMSVoiceV2Client,
    private readonly originationIdentity: string,
  ) {}

  async send(to: string, text: string): Promise<void> {
    await this.client.send(
      new SendTextMessageCommand({
        DestinationPhoneNumber: to,
        OriginationIdentity: this.originationIdentity,
        MessageBody: text,
        MessageType: 'TRANSACTIONAL',
      }),
    );
  }
}
