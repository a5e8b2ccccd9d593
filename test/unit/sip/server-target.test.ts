// Which LiveKit server provisioning, the stack and dev rooms may talk to: the local profile and the
// committed development keys only on this machine, and a server from LIVEKIT_URL only with the
// profile named.
import { describe, expect, it } from 'vitest';
import {
  accessProblems,
  hostOf,
  isLoopbackHost,
  provisionTarget,
  serverFromEnv,
} from '../../../sip/livekit/server-target.js';

const LOCAL = {
  url: 'ws://127.0.0.1:7880',
  apiKey: 'devkey',
  apiSecret: 'callbridge-local-development-secret-0001',
};
const PROD = {
  LIVEKIT_URL: 'wss://livekit.example.com',
  LIVEKIT_API_KEY: 'APIprod',
  LIVEKIT_API_SECRET: 'a-production-secret-of-forty-characters-x',
};
const envOf = (url: string, key = LOCAL.apiKey, secret = LOCAL.apiSecret) => ({
  LIVEKIT_URL: url,
  LIVEKIT_API_KEY: key,
  LIVEKIT_API_SECRET: secret,
});

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.255.3.9', 'localhost', 'LOCALHOST', '::1', '[::1]'])(
    'holds for %s',
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );

  it.each(['10.0.0.1', '128.0.0.1', '0.0.0.0', 'livekit.example.com', '127.0.0.1.nip.io', '::2'])(
    'does not hold for %s',
    (host) => expect(isLoopbackHost(host)).toBe(false),
  );
});

describe('hostOf', () => {
  it('reads the host of ws, wss, http and https URLs, shorthand addresses in dotted form', () => {
    expect(hostOf('wss://lk.example.com:443/x')).toBe('lk.example.com');
    expect(hostOf('http://127.1:7880')).toBe('127.0.0.1');
    expect(hostOf('ws://[::1]:7880')).toBe('[::1]');
  });

  it('is undefined when the URL is no server URL', () => {
    expect(hostOf('127.0.0.1:7880')).toBeUndefined();
    expect(hostOf('ftp://lk.example.com')).toBeUndefined();
    expect(hostOf('')).toBeUndefined();
  });
});

describe('accessProblems', () => {
  const remote = { url: 'wss://lk.example.com', apiKey: 'APIprod', apiSecret: 'prod-secret' };

  it('allows anything on loopback, the development keys included', () => {
    expect(accessProblems(LOCAL, LOCAL, 'local')).toEqual([]);
    expect(accessProblems({ ...LOCAL, url: 'http://localhost:7880' }, LOCAL)).toEqual([]);
  });

  it('refuses the local profile when the server is off this machine', () => {
    expect(accessProblems(remote, LOCAL, 'local')).toEqual([
      expect.stringMatching(/local profile .* lk\.example\.com is not on this machine/),
    ]);
    expect(accessProblems(remote, LOCAL, 'production')).toEqual([]);
  });

  it('refuses the development key or secret off this machine, with or without a profile', () => {
    const devKey = { ...remote, apiKey: LOCAL.apiKey };
    const devSecret = { ...remote, apiSecret: LOCAL.apiSecret };
    for (const server of [devKey, devSecret]) {
      expect(accessProblems(server, LOCAL, 'production')).toEqual([
        expect.stringMatching(/development API key or secret/),
      ]);
      expect(accessProblems(server, LOCAL)).toHaveLength(1);
    }
  });

  it('never repeats the secret in what it says', () => {
    const problems = accessProblems({ ...remote, apiSecret: LOCAL.apiSecret }, LOCAL, 'local');
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).not.toContain(LOCAL.apiSecret);
  });

  it('refuses a URL that is no server URL', () => {
    expect(accessProblems({ ...remote, url: 'lk.example.com:443' }, LOCAL)).toEqual([
      expect.stringMatching(/not a ws:\/\/, wss:\/\/, http:\/\/ or https:\/\/ URL/),
    ]);
  });
});

describe('serverFromEnv', () => {
  it('takes all three variables, or none', () => {
    expect(serverFromEnv(PROD)).toEqual({
      url: PROD.LIVEKIT_URL,
      apiKey: PROD.LIVEKIT_API_KEY,
      apiSecret: PROD.LIVEKIT_API_SECRET,
    });
    expect(serverFromEnv({})).toBeUndefined();
    expect(serverFromEnv({ LIVEKIT_URL: PROD.LIVEKIT_URL, LIVEKIT_API_KEY: '' })).toEqual({
      missing: ['LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET'],
    });
  });
});

describe('provisionTarget', () => {
  it('takes the local stack and the local profile when nothing is set', () => {
    expect(provisionTarget({ profile: undefined, env: {}, local: LOCAL })).toEqual({
      ok: true,
      profile: 'local',
      server: LOCAL,
    });
  });

  it('wants the profile named when LIVEKIT_URL names a server', () => {
    const t = provisionTarget({ profile: undefined, env: PROD, local: LOCAL });
    expect(t).toEqual({
      ok: false,
      problems: [expect.stringMatching(/\(livekit\.example\.com\).*--profile local\|production/)],
    });
  });

  it('takes the named production profile and the server of the variables', () => {
    const t = provisionTarget({ profile: 'production', env: PROD, local: LOCAL });
    expect(t).toEqual({
      ok: true,
      profile: 'production',
      server: { url: PROD.LIVEKIT_URL, apiKey: 'APIprod', apiSecret: PROD.LIVEKIT_API_SECRET },
    });
  });

  it('refuses the local profile against production variables', () => {
    const t = provisionTarget({ profile: 'local', env: PROD, local: LOCAL });
    expect(t).toEqual({ ok: false, problems: [expect.stringMatching(/local profile/)] });
  });

  it('refuses the development keys against a server off this machine, even for production', () => {
    const t = provisionTarget({
      profile: 'production',
      env: envOf('wss://livekit.example.com'),
      local: LOCAL,
    });
    expect(t).toEqual({ ok: false, problems: [expect.stringMatching(/development API key/)] });
  });

  it('takes the local profile named against a loopback server of the variables', () => {
    const t = provisionTarget({
      profile: 'local',
      env: envOf('ws://localhost:7880'),
      local: LOCAL,
    });
    expect(t).toMatchObject({ ok: true, profile: 'local', server: { url: 'ws://localhost:7880' } });
  });

  it('refuses production without the variables, and a part of them', () => {
    expect(provisionTarget({ profile: 'production', env: {}, local: LOCAL })).toEqual({
      ok: false,
      problems: [expect.stringMatching(/production needs LIVEKIT_URL/)],
    });
    const partial = { LIVEKIT_URL: PROD.LIVEKIT_URL };
    expect(provisionTarget({ profile: 'local', env: partial, local: LOCAL })).toEqual({
      ok: false,
      problems: [expect.stringMatching(/go together; LIVEKIT_API_KEY, LIVEKIT_API_SECRET unset/)],
    });
  });
});
