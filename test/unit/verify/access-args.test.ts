import { describe, expect, it } from 'vitest';
import { describeCaller, parseAccessArgs } from '../../../scripts/access.js';

const USE_CASES = ['city-311', 'city-311-residents'];

describe('npm run access', () => {
  it('applies to every use case when --use-case is not given', () => {
    expect(parseAccessArgs(['block', '+15550100311'], USE_CASES)).toEqual({
      op: 'block',
      number: '+15550100311',
      useCase: '*',
    });
  });

  it('reads one use case, or *, when --use-case is given', () => {
    expect(
      parseAccessArgs(['allow', '+15550100311', '--use-case', 'city-311-residents'], USE_CASES),
    ).toEqual({ op: 'allow', number: '+15550100311', useCase: 'city-311-residents' });
    expect(parseAccessArgs(['remove', '+15550100311', '--use-case', '*'], USE_CASES)).toMatchObject(
      { useCase: '*' },
    );
  });

  it('refuses an unknown command, a malformed number or use case, without echoing the number', () => {
    expect(parseAccessArgs(['permit', '+15550100311'], USE_CASES)).toHaveProperty('error');
    const bad = parseAccessArgs(['allow', '4255550199'], USE_CASES);
    expect(bad).toHaveProperty('error');
    expect((bad as { error: string }).error).not.toContain('4255550199');
    expect(
      parseAccessArgs(['allow', '+15550100311', '--use-case', 'nowhere'], USE_CASES),
    ).toHaveProperty('error', expect.stringMatching(/no use case "nowhere"/));
    expect(parseAccessArgs(['allow', '+15550100311', '--use-case'], USE_CASES)).toHaveProperty(
      'error',
    );
    expect(parseAccessArgs(['check', '+15550100311', '--use-case', '*'], USE_CASES)).toHaveProperty(
      'error',
    );
  });

  it('describes what the table holds for a number when it is checked', () => {
    const now = Date.UTC(2030, 0, 1);
    const lines = describeCaller(
      [
        { sk: 'access#*', List: 'block' },
        { sk: 'code', Attempts: 2, ExpiresAt: now / 1000 + 60 },
        { sk: 'sends#2030-01-01T00:00', Sends: 1 },
        { sk: 'verified', VerifiedAt: now - 86_400_000 },
      ],
      now,
    );
    expect(lines).toEqual([
      'block for *',
      'code pending, 2 of 5 attempts used',
      'verified at 2029-12-31T00:00:00.000Z',
    ]);
    expect(describeCaller([], now)).toEqual(['no verification, no allow or block entry']);
  });
});
