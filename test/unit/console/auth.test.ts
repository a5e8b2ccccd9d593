// Console sessions and one-time sign-in links, and the configuration's refusals.
import { describe, expect, it } from 'vitest';
import { Sessions, cookieOf, rolesFromGroups, sessionCookie } from '../../../console/auth.js';
import { ConsoleConfigError, loadConsoleConfig } from '../../../console/config.js';

const user = { id: 'local', name: 'local developer', roles: ['developer' as const] };

describe('Sessions', () => {
  it('a one-time link opens one session, once', () => {
    const s = new Sessions(3600);
    const link = s.issueLink(user);
    const id = s.redeemLink(link);
    expect(id).toBeDefined();
    expect(s.get(id)?.user).toEqual(user);
    expect(s.redeemLink(link)).toBeUndefined();
    expect(s.redeemLink('made-up')).toBeUndefined();
  });

  it('an expired link or session is refused', () => {
    let now = 1_000_000;
    const s = new Sessions(60, () => now);
    const late = s.issueLink(user, 10);
    const id = s.redeemLink(s.issueLink(user, 10))!;
    now += 11_000;
    expect(s.redeemLink(late)).toBeUndefined();
    expect(s.get(id)).toBeDefined();
    now += 50_000;
    expect(s.get(id)).toBeUndefined();
  });

  it('signing out ends the session', () => {
    const s = new Sessions(60);
    const id = s.open(user);
    s.close(id);
    expect(s.get(id)).toBeUndefined();
  });
});

describe('cookies', () => {
  it('the session cookie is HttpOnly, SameSite=Lax, Secure over https', () => {
    expect(sessionCookie('abc', 60, true)).toBe(
      'callbridge_console=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure',
    );
    expect(sessionCookie('abc', 60, false)).not.toContain('Secure');
  });

  it('reads one cookie among several', () => {
    const req = { headers: { cookie: 'a=1; callbridge_console=xyz; b=2' } };
    expect(cookieOf(req, 'callbridge_console')).toBe('xyz');
    expect(cookieOf({ headers: {} }, 'callbridge_console')).toBeUndefined();
  });
});

describe('rolesFromGroups', () => {
  const groups = { developer: 'devs', supervisor: 'sups', dialer: 'dials' };
  it('grants the roles of the configured groups the user is in', () => {
    expect(rolesFromGroups(['sups', 'other'], groups)).toEqual(['supervisor']);
    expect(rolesFromGroups('devs sups', groups)).toEqual(['developer', 'supervisor']);
    expect(rolesFromGroups(['dials'], groups)).toEqual(['dialer']);
    expect(rolesFromGroups(undefined, groups)).toEqual([]);
    expect(rolesFromGroups([42, { x: 1 }], groups)).toEqual([]);
  });
});

describe('loadConsoleConfig', () => {
  it('defaults to local sign-in on loopback', () => {
    const c = loadConsoleConfig({});
    expect(c.auth).toEqual({ mode: 'local' });
    expect(c.host).toBe('127.0.0.1');
    expect(c.tokenTtlSeconds).toBe(120);
  });

  it('refuses local sign-in off this machine', () => {
    expect(() => loadConsoleConfig({ CONSOLE_HOST: '0.0.0.0' })).toThrow(/CONSOLE_AUTH=oidc/);
  });

  it('names what OIDC is missing, and wants https off this machine', () => {
    expect(() => loadConsoleConfig({ CONSOLE_AUTH: 'oidc' })).toThrow(
      'OIDC_ISSUER_URL, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, CONSOLE_PUBLIC_URL',
    );
    const oidc = {
      CONSOLE_AUTH: 'oidc',
      OIDC_ISSUER_URL: 'https://login.example.org',
      OIDC_CLIENT_ID: 'console',
      OIDC_CLIENT_SECRET: 's3cret',
    };
    expect(() =>
      loadConsoleConfig({ ...oidc, CONSOLE_PUBLIC_URL: 'http://console.example.org' }),
    ).toThrow(ConsoleConfigError);
    const c = loadConsoleConfig({ ...oidc, CONSOLE_PUBLIC_URL: 'https://console.example.org' });
    expect(c.auth.mode === 'oidc' && c.auth.redirectUri.href).toBe(
      'https://console.example.org/signin/callback',
    );
  });

  it('names a malformed variable', () => {
    expect(() => loadConsoleConfig({ CONSOLE_TOKEN_TTL_SECONDS: '1' })).toThrow(
      /CONSOLE_TOKEN_TTL_SECONDS/,
    );
  });
});
