// The figures the agent publishes on its participant for the console's live call list: written
// as the agent measures them, read back as numbers, anything malformed left out.
import { describe, expect, it } from 'vitest';
import { agentFigureAttributes, agentFiguresOf } from '../../../contracts/console.js';

describe('agent figures', () => {
  it('publishes the time to first audio, then the last and median turn and their count', () => {
    expect(agentFigureAttributes(undefined, [])).toEqual({});
    expect(agentFigureAttributes(812.4, [])).toEqual({ 'callbridge.ttfaMs': '812' });
    const attrs = agentFigureAttributes(812.4, [900, 700.6, 1200, 650]);
    expect(attrs).toEqual({
      'callbridge.ttfaMs': '812',
      'callbridge.turns': '4',
      'callbridge.lastTurnMs': '650',
      'callbridge.medianTurnMs': '701',
    });
    expect(agentFiguresOf(attrs)).toEqual({
      ttfaMs: 812,
      turns: 4,
      lastTurnMs: 650,
      medianTurnMs: 701,
    });
  });

  it('reads nothing from attributes that are absent or not figures', () => {
    expect(
      agentFiguresOf({
        'callbridge.ttfaMs': '-1',
        'callbridge.turns': '1e3',
        'lk.agent.state': 'x',
      }),
    ).toEqual({
      ttfaMs: undefined,
      turns: undefined,
      lastTurnMs: undefined,
      medianTurnMs: undefined,
    });
  });
});
