// DynamoDB goes away mid-call: call control goes on from TransactionAttributes alone. The caller
// is still transferred to a person and the call ends cleanly; the journal writes that failed are
// counted, not fatal (docs/architecture.md, failure rules).
import { expect, it } from 'vitest';
import { labForSuite } from '../helpers/lab.js';
import { until } from '../helpers/wait.js';

const lab = labForSuite();

it('transfers the caller and ends the call after DynamoDB stops mid-call', async () => {
  const { call, media, tx } = lab().newCall();
  try {
    await call.startInbound();
    const leg = media.agent!;
    await leg.waitFirstAudio(5_000);
    const before = (await lab().sma.journal(tx)).length;
    expect(before).toBeGreaterThan(0);

    await lab().sma.db.stop(); // the table is gone from here on

    await call.requestTransfer('general', Date.now());
    await until('the person heard', () => media.audibleMsSince(0, ['person']) >= 1000, 15_000);
    await media.callerHangsUp();
    expect(call.ended).toBe(true);
    const types = call.timeline.map((s) => s.type);
    expect(types.slice(2)).toEqual(
      expect.arrayContaining(['CALL_UPDATE_REQUESTED', 'HANGUP', 'ACTION_SUCCESSFUL']),
    );
    await expect(lab().participantsLeft()).resolves.toBe(0);
  } finally {
    await media.close();
  }
}, 90_000);
