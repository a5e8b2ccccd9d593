import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PAGE_CSP, registrationPage } from '../../../lambdas/verify/page.js';

const page = registrationPage("City 311 & Parks' line");
const inline = (tag: string) => new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(page)![1]!;
const hashOf = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

describe('registration page', () => {
  it('allows exactly its inline script and style in the CSP, and nothing else', () => {
    expect(PAGE_CSP).toContain(`script-src ${hashOf(inline('script'))}`);
    expect(PAGE_CSP).toContain(`style-src ${hashOf(inline('style'))}`);
    expect(PAGE_CSP).toContain("default-src 'none'");
    expect(PAGE_CSP).toContain("connect-src 'self'");
    expect(PAGE_CSP).not.toContain('unsafe');
  });

  it('loads nothing from elsewhere and calls only the two endpoints', () => {
    expect(page).not.toMatch(/\s(src|href)=/);
    const calls = [...inline('script').matchAll(/post\('([^']+)'/g)].map((m) => m[1]);
    expect(calls).toEqual(['codes', 'codes/confirm']);
  });

  it('labels every input and announces results when it is read by a screen reader', () => {
    for (const id of [...page.matchAll(/<input id="([^"]+)"/g)].map((m) => m[1])) {
      expect(page).toContain(`<label for="${id}">`);
    }
    expect(page).toContain('role="status"');
    expect(page).toContain('aria-live="polite"');
    expect(page).toContain('<html lang="en">');
    expect(page).toContain('name="viewport"');
    expect(page).toContain('autocomplete="one-time-code"');
  });

  it('escapes the service name when it is shown', () => {
    expect(page).toContain('City 311 &amp; Parks&#39; line');
  });
});
