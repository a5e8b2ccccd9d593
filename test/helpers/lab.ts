// One lab per suite, started before the suite's tests and stopped after: the whole lab
// (lab/lab.ts), or only LiveKit with the agent (lab/stack/livekit-lab.ts).
import { afterAll, beforeAll } from 'vitest';
import {
  CONVERSATION_SK,
  conversationItem,
  type ConversationItem,
} from '../../contracts/conversations.js';
import { type Lab, type LabOptions, startLab } from '../../lab/lab.js';
import { type LiveKitLab, startLiveKitLab } from '../../lab/stack/livekit-lab.js';
import { waitFor } from './wait.js';

/**
 * Starts the lab in `beforeAll` (and waits for `prewarmed` job processes to settle) and stops it
 * in `afterAll`. Returns the suite's lab, for use inside tests.
 */
export function labForSuite(
  opts: LabOptions & { prewarmed?: number } = {},
  startTimeoutMs = 180_000,
): () => Lab {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await startLab(opts);
    // Within the hook's own timeout, so a slow load fails with the worker's message, not vitest's.
    const loadMs = Math.round(startTimeoutMs * 0.8);
    const n = opts.prewarmed;
    if (n) await Promise.all(lab.livekit.workers.map((w) => w.waitPrewarmed(n, loadMs)));
  }, startTimeoutMs);
  afterAll(async () => {
    await lab?.stop();
  });
  return () => {
    if (!lab) throw new Error('the lab is not started (use it inside a test)');
    return lab;
  };
}

/** The LiveKit stack, provisioned, with the agent worker, for the suite. */
export function liveKitLabForSuite(): () => LiveKitLab {
  let lab: LiveKitLab | undefined;
  beforeAll(async () => {
    lab = await startLiveKitLab({ worker: true });
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
  });
  return () => {
    if (!lab) throw new Error('the lab is not started (use it inside a test)');
    return lab;
  };
}

/**
 * A call's conversation record (contracts/conversations.ts) as the agent wrote it to the lab's
 * table when the call ended: what both sides said, whoever the lab's observer heard.
 */
export async function conversationRecord(lab: Lab, tx: string): Promise<ConversationItem> {
  const item = await waitFor('the conversation record', async () =>
    (await lab.sma.journal(tx)).find((i) => i['sk'] === CONVERSATION_SK),
  );
  return conversationItem.parse(item);
}
