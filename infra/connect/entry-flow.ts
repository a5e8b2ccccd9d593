// The inbound flow of the numbers callers dial in Connect (docs/architecture.md, step 1): a short
// notice, then "Transfer to phone number" to the SMA's number. If that transfer fails (Chime does
// not answer in time, or the call fails), the caller goes to the fallback queue; if the queue is
// full too, an apology and a hang-up. Nobody is left in silence.
//
// "Resume flow after disconnect" stays off: the SMA ends every call by hanging up its leg (after
// the agent's goodbye, or when the person it transferred to hangs up), and a resumed flow cannot
// tell those ends from a failure, so every caller would be queued again at the end of the call.
// Failures after the call is up are the SMA's to handle: it sends the caller to a person itself
// (docs/architecture.md, "Nobody is dropped").
import type { DeployConfig } from '../config.js';
import { flowContent, queueOrApology, type Block, type FlowContent } from './flow.js';

type ConnectConfig = NonNullable<DeployConfig['connect']>;

export const ENTRY_FLOW_BLOCKS = {
  notice: 'notice',
  forward: 'forward-to-callbridge',
  setQueue: 'set-fallback-queue',
  toQueue: 'to-fallback-queue',
  apology: 'apology',
  end: 'end',
} as const;

export function entryFlow(c: ConnectConfig): FlowContent {
  const b = ENTRY_FLOW_BLOCKS;
  const blocks: Block[] = [
    {
      id: b.notice,
      type: 'MessageParticipant',
      text: c.notice,
      next: b.forward,
      // A notice that cannot be played must not keep the caller from the call.
      errors: { NoMatchingError: b.forward },
    },
    {
      id: b.forward,
      type: 'TransferParticipantToThirdParty',
      phoneNumber: c.smaNumber,
      resumeAfterDisconnect: false,
      timeoutSeconds: c.forwardTimeoutSeconds,
      next: b.end,
      errors: {
        CallFailed: b.setQueue,
        ConnectionTimeLimitExceeded: b.setQueue,
        NoMatchingError: b.setQueue,
      },
    },
    ...queueOrApology(b, c.fallbackQueueArn, c.apology),
  ];
  return flowContent(b.notice, blocks);
}
