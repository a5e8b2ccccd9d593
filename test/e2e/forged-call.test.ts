// Calls that did not come through the SMA: anyone who reaches livekit-sip's inbound trunk can send
// an INVITE with X-Sma-* headers of their choosing. The lab's RTP phone calls livekit-sip straight,
// as such a caller would; the agent must hang up at once, say nothing, and never send the Voice
// API (UpdateSipMediaApplicationCall with the deployment's credentials) a request for a
// TransactionId it was told. A call placed the same way with a genuine token is answered
// (test/e2e/rtp-phone.test.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labForSuite } from '../helpers/lab.js';
import { waitFor } from '../helpers/wait.js';
import { SipHeader, buildCallHeaders } from '../../contracts/headers.js';
import { RtpPhone } from '../../lab/phone/rtp-phone.js';
import { LAB_SMA, labCallToken } from '../../lab/stack/lab-sma.js';

const lab = labForSuite({ prewarmed: 1 });

/** How long a refused call may stay up, from its INVITE. */
const HANG_UP_WITHIN_MS = 2000;

/** The contract's headers for `transactionId`, as the lab's SMA would send them, but no token. */
function madeUpHeaders(transactionId: string): Record<string, string> {
  return {
    [SipHeader.transactionId]: transactionId,
    [SipHeader.applicationId]: LAB_SMA.applicationId,
    [SipHeader.region]: LAB_SMA.region,
    [SipHeader.useCase]: lab().livekit.useCases.defaultUseCase.id,
    [SipHeader.traceparent]: `00-${transactionId.replaceAll('-', '')}-9f0d2e5b6c7d8e9f-01`,
  };
}

/** The agent worker's log lines, parsed. */
function agentLog(): Record<string, unknown>[] {
  return readFileSync(lab().livekit.worker!.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const refusals = () => agentLog().filter((l) => l['msg'] === 'call refused');

/** voice.calls.refused{component="agent", reason} on the worker's scrape endpoint. */
async function refusedCount(reason: string): Promise<number> {
  const body = await fetch(lab().livekit.worker!.metricsUrl).then((r) => r.text());
  return body
    .split('\n')
    .filter((l) => /^voice_calls_refused(?:_total)?\{/.test(l))
    .filter((l) => l.includes('component="agent"') && l.includes(`reason="${reason}"`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/**
 * Places a call straight to livekit-sip and waits for it to end; fails unless it is ended by the
 * far end within HANG_UP_WITHIN_MS of the INVITE, with no audio heard and no Voice API request.
 */
async function placeRefusedCall(headers: Record<string, string> | undefined): Promise<RtpPhone> {
  await lab().livekit.worker!.waitPrewarmed(1); // a refusal's speed, not a job process's loading
  const requestsBefore = lab().voiceApi.requests.length;
  const phone = await RtpPhone.call({
    sipAddress: lab().livekit.stack.sipAddress,
    to: lab().livekit.useCases.defaultUseCase.livekitNumber,
    from: '+15550100997',
    headers,
    answerTimeoutMs: 10_000,
  });
  try {
    await phone.waitEnded(10_000);
  } finally {
    await phone.hangUp();
  }
  // Hung up by livekit-sip (BYE once answered, an error response before), not given up on by us.
  expect(['remote', 'rejected']).toContain(phone.endedBy);
  expect(phone.endedAt! - phone.invitedAt).toBeLessThanOrEqual(HANG_UP_WITHIN_MS);
  // No greeting, nor anything else: the agent started no session.
  expect(phone.firstAudioAt).toBeUndefined();
  expect(phone.audibleMsSince(phone.invitedAt)).toBe(0);
  // Anything the agent would have sent has had time to arrive.
  await new Promise((r) => setTimeout(r, 1000));
  expect(lab().voiceApi.requests.slice(requestsBefore)).toEqual([]);
  await expect(lab().participantsLeft()).resolves.toBe(0);
  return phone;
}

describe('a call that did not come through the SMA', () => {
  it('is hung up at once, nothing said and no Voice API request, with made-up X-Sma-* headers and no token', async () => {
    const tx = '0f0e0d0c-1111-4222-8333-944455566601';
    const forgedBefore = await refusedCount('forged');
    await placeRefusedCall(madeUpHeaders(tx));
    const line = await waitFor('the refusal in the agent log', async () =>
      refusals().find((l) => l['claimedTransactionId'] === tx),
    );
    expect(line).toMatchObject({ reason: 'forged', check: 'missing' });
    // Refused before any call was started: the agent never took it as a call.
    expect(agentLog().filter((l) => l['transactionId'] === tx)).toEqual([]);
    await waitFor('voice.calls.refused counted', async () =>
      (await refusedCount('forged')) > forgedBefore ? true : undefined,
    );
  }, 60_000);

  it('is hung up the same way with a genuine token for another call (a borrowed token)', async () => {
    const tx = '0f0e0d0c-1111-4222-8333-944455566602';
    const borrowed = labCallToken('0f0e0d0c-1111-4222-8333-944455566699');
    const headers = buildCallHeaders({
      transactionId: tx,
      applicationId: LAB_SMA.applicationId,
      region: LAB_SMA.region,
      useCase: lab().livekit.useCases.defaultUseCase.id,
      traceparent: `00-${tx.replaceAll('-', '')}-9f0d2e5b6c7d8e9f-01`,
      callToken: borrowed,
    });
    await placeRefusedCall(headers);
    const line = await waitFor('the refusal in the agent log', async () =>
      refusals().find((l) => l['claimedTransactionId'] === tx),
    );
    expect(line).toMatchObject({ reason: 'forged', check: 'mismatch' });
    // The token is never written to the log.
    expect(readFileSync(lab().livekit.worker!.logFile, 'utf8')).not.toContain(borrowed);
  }, 60_000);

  it('gets no conversation with no headers at all', async () => {
    const before = refusals().filter((l) => l['check'] === 'missing').length;
    await placeRefusedCall(undefined);
    await waitFor('the refusal in the agent log', async () =>
      refusals().filter((l) => l['check'] === 'missing').length > before ? true : undefined,
    );
  }, 60_000);
});
