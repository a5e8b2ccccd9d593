import { describe, expect, it } from 'vitest';
import { ConfigError, loadSmaConfig } from '../../../lambdas/sma/config.js';
import {
  DEVELOPMENT_CALLER_KEY_SECRET,
  DEVELOPMENT_CALL_TOKEN_SECRET,
  LOCAL_SMA_ENV,
} from '../../../lab/chime/local-sma-env.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

const load = (env: Record<string, string | undefined>) =>
  loadSmaConfig({ ...LOCAL_SMA_ENV, ...env }, USE_CASES_JSON);

describe('SMA handler configuration: trust', () => {
  it('signs with CALL_TOKEN_SECRET for 4 hours, and checks no invoker, by default', () => {
    const config = load({});
    expect(config.decide.callToken).toEqual({
      secret: DEVELOPMENT_CALL_TOKEN_SECRET,
      ttlMs: 14_400_000,
    });
    expect(config.owner).toEqual({ applicationId: undefined, accountId: undefined });
  });

  it('reads the TTL, the SMA application id and the account id when set', () => {
    const config = load({
      CALL_TOKEN_TTL_SECONDS: '3600',
      SMA_APPLICATION_ID: 'a1b2c3d4-0000-4000-8000-000000000001',
      AWS_ACCOUNT_ID: '111122223333',
    });
    expect(config.decide.callToken.ttlMs).toBe(3_600_000);
    expect(config.owner).toEqual({
      applicationId: 'a1b2c3d4-0000-4000-8000-000000000001',
      accountId: '111122223333',
    });
  });

  it('stops at start when CALL_TOKEN_SECRET is missing', () => {
    expect(() => load({ CALL_TOKEN_SECRET: undefined })).toThrow(/CALL_TOKEN_SECRET: missing/);
  });

  it('stops at start when CALL_TOKEN_SECRET is short, without printing it', () => {
    const short = 'only-thirty-one-bytes-long-abcd';
    let error: unknown;
    try {
      load({ CALL_TOKEN_SECRET: short });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/CALL_TOKEN_SECRET: must be at least 32 bytes/);
    expect((error as Error).message).not.toContain(short);
  });

  it.each([
    ['CALL_TOKEN_TTL_SECONDS', '59'],
    ['CALL_TOKEN_TTL_SECONDS', 'a day'],
    ['AWS_ACCOUNT_ID', '11112222333'],
    ['SMA_APPLICATION_ID', ''],
  ])('stops at start when %s is %j', (name, value) => {
    expect(() => load({ [name]: value })).toThrow(new RegExp(`${name}: `));
  });
});

describe('SMA handler configuration: admission', () => {
  it('gives admission the caller-key secret, a 300 ms budget and the lab cap of 10', () => {
    expect(load({}).admission).toEqual({
      timeoutMs: 300,
      callerKeySecret: DEVELOPMENT_CALLER_KEY_SECRET,
      maxConcurrentCalls: 10,
    });
  });

  it('leaves the deployment uncapped when MAX_CONCURRENT_CALLS is unset', () => {
    const config = load({ MAX_CONCURRENT_CALLS: undefined, ADMISSION_TIMEOUT_MS: '150' });
    expect(config.admission).toMatchObject({ timeoutMs: 150, maxConcurrentCalls: undefined });
  });

  it('stops at start when CALLER_KEY_SECRET is missing or short, without printing it', () => {
    expect(() => load({ CALLER_KEY_SECRET: undefined })).toThrow(/CALLER_KEY_SECRET: missing/);
    const short = 'a-caller-key-secret-of-31-bytes';
    expect(() => load({ CALLER_KEY_SECRET: short })).toThrow(
      /CALLER_KEY_SECRET: must be at least 32 bytes/,
    );
    try {
      load({ CALLER_KEY_SECRET: short });
    } catch (e) {
      expect((e as Error).message).not.toContain(short);
    }
  });

  it.each([
    ['MAX_CONCURRENT_CALLS', '0'],
    ['MAX_CONCURRENT_CALLS', 'ten'],
    ['ADMISSION_TIMEOUT_MS', '5'],
    ['ADMISSION_TIMEOUT_MS', '5000'],
  ])('stops at start when %s is %j', (name, value) => {
    expect(() => load({ [name]: value })).toThrow(new RegExp(`${name}: `));
  });
});

describe('SMA handler configuration: call token lifetime', () => {
  /** The shipped use cases, with `limits.maxCallSeconds` of city-311-residents set. */
  function withResidentsMaxCall(maxCallSeconds: number): unknown {
    const file = structuredClone(USE_CASES_JSON) as {
      useCases: { id: string; limits?: Record<string, unknown> }[];
    };
    const residents = file.useCases.find((uc) => uc.id === 'city-311-residents')!;
    residents.limits = { ...residents.limits, maxCallSeconds };
    return file;
  }

  it('accepts a token that outlives the longest call, its ring time and two minutes', () => {
    // Shipped calls last at most 1,800 s: 1,800 + 30 + 120 = 1,950.
    expect(load({ CALL_TOKEN_TTL_SECONDS: '1951' }).decide.callToken.ttlMs).toBe(1_951_000);
  });

  it('stops at start, naming the use case and the numbers, when the token expires first', () => {
    expect(() => load({ CALL_TOKEN_TTL_SECONDS: '1950' })).toThrow(ConfigError);
    expect(() => load({ CALL_TOKEN_TTL_SECONDS: '1950' })).toThrow(
      "CALL_TOKEN_TTL_SECONDS: 1950 s must be longer than use case city-311's " +
        'limits.maxCallSeconds 1800 s + AI_RING_TIMEOUT_SECONDS 30 s + 120 s = 1950 s',
    );
  });

  it('counts the ring time of the bridge to the agent', () => {
    expect(() =>
      load({ CALL_TOKEN_TTL_SECONDS: '2000', AI_RING_TIMEOUT_SECONDS: '60' }),
    ).not.toThrow();
    expect(() => load({ CALL_TOKEN_TTL_SECONDS: '2000', AI_RING_TIMEOUT_SECONDS: '90' })).toThrow(
      /AI_RING_TIMEOUT_SECONDS 90 s \+ 120 s = 2010 s/,
    );
  });

  it('stops at start when one use case allows calls longer than the default token', () => {
    const env = { ...LOCAL_SMA_ENV };
    let error: unknown;
    try {
      loadSmaConfig(env, withResidentsMaxCall(14_400));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(
      "CALL_TOKEN_TTL_SECONDS: 14400 s must be longer than use case city-311-residents's " +
        'limits.maxCallSeconds 14400 s + AI_RING_TIMEOUT_SECONDS 30 s + 120 s = 14550 s',
    );
    expect(message).not.toContain("use case city-311's");
    expect(() =>
      loadSmaConfig({ ...env, CALL_TOKEN_TTL_SECONDS: '14551' }, withResidentsMaxCall(14_400)),
    ).not.toThrow();
  });
});
