import { describe, expect, it } from 'vitest';
import {
  codeMatches,
  hashCode,
  newCode,
  smsText,
  windowStart,
} from '../../../lambdas/verify/codes.js';

const SECRET = 'a-test-caller-key-secret-of-at-least-32-bytes';

describe('verification codes', () => {
  it('makes six digits, leading zeros kept, when it draws a code', () => {
    const codes = Array.from({ length: 500 }, newCode);
    for (const c of codes) expect(c).toMatch(/^\d{6}$/);
    expect(new Set(codes).size).toBeGreaterThan(490);
  });

  it('hashes a code to a value that holds neither the code nor the key', () => {
    const hash = hashCode(SECRET, 'key-a', '012345');
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hash).not.toContain('012345');
    expect(hash).not.toContain('key-a');
  });

  it('binds a hash to its caller key when the same code is sent to two numbers', () => {
    expect(hashCode(SECRET, 'key-a', '012345')).not.toBe(hashCode(SECRET, 'key-b', '012345'));
  });

  it('matches only the code that was hashed, for that key and secret', () => {
    const stored = hashCode(SECRET, 'key-a', '012345');
    expect(codeMatches(SECRET, 'key-a', '012345', stored)).toBe(true);
    expect(codeMatches(SECRET, 'key-a', '012346', stored)).toBe(false);
    expect(codeMatches(SECRET, 'key-b', '012345', stored)).toBe(false);
    expect(codeMatches(`${SECRET}x`, 'key-a', '012345', stored)).toBe(false);
  });

  it('refuses without throwing when the stored hash is malformed', () => {
    expect(codeMatches(SECRET, 'key-a', '012345', '')).toBe(false);
    expect(codeMatches(SECRET, 'key-a', '012345', 'short')).toBe(false);
  });

  it('aligns windows on the epoch when it places a send', () => {
    const quarter = 15 * 60_000;
    const t = Date.UTC(2030, 0, 1, 10, 44, 59);
    expect(windowStart(t, quarter)).toBe(Date.UTC(2030, 0, 1, 10, 30));
    expect(windowStart(Date.UTC(2030, 0, 1, 10, 45), quarter)).toBe(Date.UTC(2030, 0, 1, 10, 45));
  });

  it('says the code and the service name, and nothing else variable, in the SMS', () => {
    const text = smsText('City 311', '004211');
    expect(text).toContain('004211');
    expect(text).toContain('City 311');
    expect(text.replace('004211', '').replace('City 311', '')).not.toMatch(/\d{3,}/);
    expect(text.length).toBeLessThanOrEqual(160);
  });
});
