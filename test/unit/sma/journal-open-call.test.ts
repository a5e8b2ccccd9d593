import { describe, expect, it } from 'vitest';
import { stateUpdate, type JournalEntry } from '../../../lambdas/sma/journal.js';

const entry = (record: JournalEntry['record']): JournalEntry => ({
  transactionId: 'tx',
  sequence: 3,
  eventType: 'HANGUP',
  actionDataType: undefined,
  errorType: undefined,
  actionTypes: [],
  phase: record.Phase,
  receivedAtMs: 1_700_000_000_000,
  record,
});

describe('stateUpdate (the open-calls index)', () => {
  it.each(['dialing', 'bridging_ai', 'ai_connected', 'transfer_pending', 'ending'])(
    'marks the call open when its phase becomes %s',
    (phase) => {
      const u = stateUpdate(entry({ Phase: phase }), 1);
      expect(u.UpdateExpression).toContain('#OpenCall = :OpenCall');
      expect(u.ExpressionAttributeValues[':OpenCall']).toBe('open');
      expect(u.UpdateExpression).not.toMatch(/REMOVE.*#OpenCall/);
    },
  );

  it('takes the call out of the index when it has ended', () => {
    const u = stateUpdate(entry({ Phase: 'ended', Disposition: 'ai_completed' }), 1);
    expect(u.UpdateExpression).toMatch(/ REMOVE #OpenCall$/);
    expect(u.ExpressionAttributeNames['#OpenCall']).toBe('OpenCall');
    expect(u.ExpressionAttributeValues).not.toHaveProperty(':OpenCall');
  });

  it('leaves the mark as it is when an event does not move the phase', () => {
    const u = stateUpdate(entry({ TransferOutcome: 'connected' }), 1);
    expect(u.UpdateExpression).not.toContain('OpenCall');
    expect(u.ExpressionAttributeNames).not.toHaveProperty('#OpenCall');
  });
});
