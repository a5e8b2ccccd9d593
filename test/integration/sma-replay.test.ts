// `npm run sma:replay`: the real script, in a child process, on a file of Chime events.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, ROOT, type Json } from '../helpers/sma.js';

function withoutAttributes(name: string): Json {
  const ev = fixture(name);
  delete ev.CallDetails.TransactionAttributes;
  return ev;
}

describe('sma:replay', () => {
  it('answers each line with one line, carrying TransactionAttributes between events', () => {
    const first = withoutAttributes('new-inbound-call');
    first.CallDetails.TransactionAttributes = { customerTier: 'gold' };
    const lines = [
      JSON.stringify(first),
      JSON.stringify(withoutAttributes('action-successful-bridge-agent')),
      'this line is not JSON',
      '',
      JSON.stringify(withoutAttributes('call-update-requested-transfer')),
      JSON.stringify(fixture('hangup-leg-b-during-transfer')), // carries its own attributes
    ];
    const file = join(mkdtempSync(join(tmpdir(), 'replay-')), 'events.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/sma-replay.ts', file], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });
    const responses = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Json);
    expect(responses).toHaveLength(lines.length);
    expect(responses.map((r) => r.Actions.map((a: Json) => a.Type))).toEqual([
      ['CallAndBridge'],
      [],
      [],
      [],
      ['Hangup'],
      ['CallAndBridge'],
    ]);
    expect(responses[1].TransactionAttributes).toMatchObject({
      phase: 'ai_connected',
      useCase: 'city-311',
    });
    // The foreign key of the first event travels with the call: proof of the carry-over.
    expect(responses[4].TransactionAttributes).toMatchObject({
      phase: 'transfer_pending',
      customerTier: 'gold',
    });
    for (const r of responses) expect(r.SchemaVersion).toBe('1.0');
  });
});
