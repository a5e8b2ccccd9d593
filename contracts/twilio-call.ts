// The Twilio way in (docs/twilio.md): what the TwiML webhook, the Media Streams gateway and the
// agent agree on for a call that reaches the agent from Twilio rather than through the SMA.
//
// The gateway places each call into livekit-sip as a SIP INVITE (the Twilio inbound trunk, which
// admits the gateway's address only), so the caller is a SIP participant as an SMA caller is and
// the agent's rule stays one: a phone call is a SIP participant with a valid call token. The token
// is the same contract (contracts/call-token.ts), signed by the webhook for the call's CallSid and
// its account, in a claim domain no SMA call can have (`twilio:<AccountSid>` is never a Chime
// application id).

import type { CallTokenClaims } from './call-token.js';
import { CallAttribute, SipHeader } from './headers.js';

export const CALL_PROVIDER = { sma: 'sma', twilio: 'twilio' } as const;
export type CallProvider = (typeof CALL_PROVIDER)[keyof typeof CALL_PROVIDER];

/** Participant attributes of a Twilio-bridged caller, beside CallAttribute's use case, trace, token. */
export const TwilioAttribute = {
  /** `twilio`; absent for SMA calls (their provider is the SMA). */
  provider: 'call.provider',
  callSid: 'twilio.callSid',
  accountSid: 'twilio.accountSid',
} as const;

/** Twilio's identifiers: 34 characters, a two-letter prefix and 32 hex digits. */
export const CALL_SID_PATTERN = /^CA[0-9a-f]{32}$/;
export const ACCOUNT_SID_PATTERN = /^AC[0-9a-f]{32}$/;
export const STREAM_SID_PATTERN = /^MZ[0-9a-f]{32}$/;

/** The call token's claims for a Twilio call. */
export function twilioTokenClaims(callSid: string, accountSid: string): CallTokenClaims {
  return { transactionId: callSid, applicationId: `twilio:${accountSid}` };
}

/**
 * `<Stream><Parameter>` names the webhook sets and the gateway reads from the `start` message's
 * `customParameters`.
 */
export const StreamParameter = {
  useCase: 'useCase',
  traceparent: 'traceparent',
  callToken: 'callToken',
  /** The number the caller dialled (Twilio's `To`): the room's name and the use case's number. */
  dialed: 'dialed',
  /** The admission lease's expiry (epoch ms) when the call holds a slot: released at the end. */
  lease: 'lease',
} as const;

/**
 * The X- headers of the gateway's INVITE for the Twilio-only attributes; the use case, trace
 * context and call token travel in the SMA's headers (contracts/headers.ts).
 */
export const TwilioSipHeader = {
  provider: 'X-Call-Provider',
  callSid: 'X-Twilio-Call-Sid',
  accountSid: 'X-Twilio-Account-Sid',
} as const;

/** headersToAttributes of the Twilio inbound trunk: what the agent reads of a Twilio call. */
export const twilioHeadersToAttributes: Readonly<Record<string, string>> = {
  [TwilioSipHeader.provider]: TwilioAttribute.provider,
  [TwilioSipHeader.callSid]: TwilioAttribute.callSid,
  [TwilioSipHeader.accountSid]: TwilioAttribute.accountSid,
  [SipHeader.useCase]: CallAttribute.useCase,
  [SipHeader.traceparent]: CallAttribute.traceparent,
  [SipHeader.callToken]: CallAttribute.callToken,
};

/** The call's context as the gateway's INVITE carries it. */
export function twilioCallHeaders(call: {
  callSid: string;
  accountSid: string;
  callToken: string;
  useCase?: string;
  traceparent?: string;
}): Record<string, string> {
  const headers: Record<string, string> = {
    [TwilioSipHeader.provider]: CALL_PROVIDER.twilio,
    [TwilioSipHeader.callSid]: call.callSid,
    [TwilioSipHeader.accountSid]: call.accountSid,
    [SipHeader.callToken]: call.callToken,
  };
  if (call.useCase) headers[SipHeader.useCase] = call.useCase;
  if (call.traceparent) headers[SipHeader.traceparent] = call.traceparent;
  return headers;
}

/**
 * The agent → gateway signal that the agent cut its reply (the caller barged in), so Twilio drops
 * what it has buffered: the agent publishes this keypad event in the room (SIP DTMF), livekit-sip
 * sends it to the gateway as an RFC 4733 telephone-event, and the gateway sends `clear` and plays
 * nothing of it. `d` (event 15) is no key of a phone's keypad, and livekit-sip writes it as 15.
 */
export const CLEAR_DTMF = { digit: 'd', event: 15 } as const;
