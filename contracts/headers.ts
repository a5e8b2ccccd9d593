// The SIP header contract between the SMA's CallAndBridge (SipHeaders) and LiveKit participant
// attributes (the inbound trunk's headersToAttributes). docs/architecture.md, "SIP headers".
// Chime accepts custom headers only when their names start with `X-` (never `X-AMZN`), at most
// 2048 characters each: https://docs.aws.amazon.com/chime-sdk/latest/dg/sip-headers.html

export const SipHeader = {
  transactionId: 'X-Sma-Transaction-Id',
  applicationId: 'X-Sma-Application-Id',
  region: 'X-Sma-Region',
  useCase: 'X-Use-Case',
  traceparent: 'X-Traceparent',
  /** The SMA's signature of the call: contracts/call-token.ts. */
  callToken: 'X-Call-Token',
  /**
   * The caller's key (contracts/callers.ts: an HMAC of the number, never the number), which the
   * agent keys the caller's profile by; absent when the caller's number is withheld.
   */
  callerKey: 'X-Caller-Key',
} as const;

export const CallAttribute = {
  transactionId: 'sma.transactionId',
  applicationId: 'sma.applicationId',
  region: 'sma.region',
  useCase: 'call.useCase',
  traceparent: 'trace.traceparent',
  callToken: 'sma.callToken',
  callerKey: 'sma.callerKey',
} as const;

export type SipHeaderKey = keyof typeof SipHeader;

/** headersToAttributes for the inbound trunk: every contract header mapped to its attribute. */
export const headersToAttributes: Readonly<Record<string, string>> = Object.fromEntries(
  (Object.keys(SipHeader) as SipHeaderKey[]).map((k) => [SipHeader[k], CallAttribute[k]]),
);

export const MAX_SIP_HEADER_LENGTH = 2048;

/** The headers every bridge carries, and the caller's key when the number is known. */
export type CallHeaderValues = Record<Exclude<SipHeaderKey, 'callerKey'>, string> & {
  callerKey?: string;
};

/** The SipHeaders map the SMA sends on the CallAndBridge to LiveKit. */
export function buildCallHeaders(values: CallHeaderValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(SipHeader) as SipHeaderKey[]) {
    const v = values[k];
    if (v !== undefined) out[SipHeader[k]] = v.slice(0, MAX_SIP_HEADER_LENGTH);
  }
  return out;
}
