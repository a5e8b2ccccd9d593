// The Twilio way in (docs/twilio.md): what the TwiML webhook, the Media Streams gateway and the
// agent agree on for a call that reaches the agent from Twilio rather than through the SMA.
//
// The gateway joins the call room as a SIP participant (a LiveKit token of kind `sip`, which only a
// holder of the LiveKit API secret can mint, as livekit-sip does), so the agent's rule stays one: a
// phone call is a SIP participant with a valid call token. The token is the same contract
// (contracts/call-token.ts), signed by the webhook for the call's CallSid and its account, in a
// claim domain no SMA call can have (`twilio:<AccountSid>` is never a Chime application id).

import type { CallTokenClaims } from './call-token.js';

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
 * The agent → gateway topic (reliable data, to the caller's participant only): `{"type":"clear"}`
 * when the caller barged in and the agent's reply was cut, so Twilio drops what it has buffered.
 */
export const GATEWAY_TOPIC = 'callbridge.gateway';
export const CLEAR_MESSAGE = JSON.stringify({ type: 'clear' });
