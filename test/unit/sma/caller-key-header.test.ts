// The caller's key on the bridge to the agent (contracts/headers.ts, X-Caller-Key): the agent keys
// the caller's profile by it and never learns the number.
import { describe, expect, it } from 'vitest';
import { callerKey } from '../../../contracts/callers.js';
import { SipHeader } from '../../../contracts/headers.js';
import { decideRaw, fixture, testConfig } from '../../helpers/sma.js';

const SECRET = 'caller-key-header-test-secret-of-32-bytes';

function bridgeHeaders(config = testConfig(), from?: string): Record<string, string> {
  const ev = fixture('new-inbound-call');
  if (from !== undefined) ev.CallDetails.Participants[0].From = from;
  const d = decideRaw(ev, undefined, config);
  const bridge = d.actions.find((a) => a.Type === 'CallAndBridge') as
    { Parameters: { SipHeaders: Record<string, string> } } | undefined;
  return bridge!.Parameters.SipHeaders;
}

describe('X-Caller-Key', () => {
  it("carries the caller key of LEG-A's number, never the number", () => {
    const ev = fixture('new-inbound-call');
    const from = ev.CallDetails.Participants[0].From as string;
    const headers = bridgeHeaders({ ...testConfig(), callerKeySecret: SECRET });
    expect(headers[SipHeader.callerKey]).toBe(callerKey(from, SECRET));
    expect(JSON.stringify(headers)).not.toContain(from.slice(1));
  });

  it('is left out without the secret, and for a withheld number', () => {
    expect(bridgeHeaders()[SipHeader.callerKey]).toBeUndefined();
    const withheld = bridgeHeaders({ ...testConfig(), callerKeySecret: SECRET }, 'anonymous');
    expect(withheld[SipHeader.callerKey]).toBeUndefined();
  });
});
