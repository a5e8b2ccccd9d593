// The caller's keypad: digits to whatever awaits them, else to the call's default (0: a person).
import { describe, expect, it } from 'vitest';
import { readCallContext } from '../../../agent/call-context.js';
import { CallLines } from '../../../agent/greeting-cache.js';
import { pressZeroTransfers } from '../../../agent/handoff.js';
import { CallKeypad } from '../../../agent/keypad.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { agentSessions, smaCallAttrs } from '../../helpers/agent-session.js';
import { silentLogger, USE_CASES_JSON } from '../../helpers/sma.js';

describe('CallKeypad', () => {
  it('gives a digit to the latest capture that takes it, else to the default', () => {
    const keypad = new CallKeypad();
    const seen: string[] = [];
    keypad.otherwise((d) => seen.push(`default ${d}`));
    const stop = keypad.capture((d) => (d === '#' ? false : (seen.push(`capture ${d}`), true)));
    keypad.press('1');
    keypad.press('#');
    stop();
    keypad.press('0');
    expect(seen).toEqual(['capture 1', 'default #', 'default 0']);
  });
});

const TX = '6f1c2d3e-1111-4222-8333-944455566680';
const agents = agentSessions((tx) => tx === TX);

describe('press 0', () => {
  it('transfers to the default queue without the model, once', async () => {
    const useCases = parseUseCases(USE_CASES_JSON);
    const call = readCallContext(smaCallAttrs(TX), useCases);
    const { session, control } = await agents.start(call);
    const lines = new CallLines(call.useCase);
    const pressZero = pressZeroTransfers(session, { call, control, lines, logger: silentLogger });
    pressZero();
    pressZero();
    for (let i = 0; i < 100 && agents.api.requests.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(agents.updates()).toEqual([
      expect.objectContaining({ action: 'transfer', queue: 'general', reason: 'caller_asked' }),
    ]);
  });
});
