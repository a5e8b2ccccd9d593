import { describe, expect, it } from 'vitest';
import { ConfigError, loadVerifyConfig } from '../../../lambdas/verify/config.js';

const SECRET = 'a-test-caller-key-secret-of-at-least-32-bytes';
const BASE = {
  CALLS_TABLE: 'callbridge-calls',
  CALLER_KEY_SECRET: SECRET,
  SMS_ORIGINATION_IDENTITY: '+15550100999',
};

describe('verification API configuration', () => {
  it('limits 3 sends per number per 15 min and 20 per source per hour by default', () => {
    const c = loadVerifyConfig(BASE);
    expect(c.perNumber).toEqual({ max: 3, windowMs: 900_000 });
    expect(c.perSource).toEqual({ max: 20, windowMs: 3_600_000 });
    expect(c.serviceName).toBe('callbridge');
    expect(c.logPii).toBe(false);
  });

  it('reads the limits and the service name when they are set', () => {
    const c = loadVerifyConfig({
      ...BASE,
      VERIFY_SENDS_PER_NUMBER: '5',
      VERIFY_NUMBER_WINDOW_MINUTES: '30',
      VERIFY_SENDS_PER_SOURCE: '100',
      VERIFY_SOURCE_WINDOW_MINUTES: '1440',
      VERIFY_SERVICE_NAME: "City 311 (residents' line)",
    });
    expect(c.perNumber).toEqual({ max: 5, windowMs: 1_800_000 });
    expect(c.perSource).toEqual({ max: 100, windowMs: 86_400_000 });
    expect(c.serviceName).toBe("City 311 (residents' line)");
  });

  it('names every missing variable when the required ones are unset', () => {
    expect(() => loadVerifyConfig({})).toThrow(ConfigError);
    expect(() => loadVerifyConfig({})).toThrow(
      /CALLS_TABLE: missing[\s\S]*CALLER_KEY_SECRET: missing[\s\S]*SMS_ORIGINATION_IDENTITY: missing/,
    );
  });

  it('refuses a short secret without printing it', () => {
    const short = 'only-thirty-one-bytes-long-abcd';
    let message = '';
    try {
      loadVerifyConfig({ ...BASE, CALLER_KEY_SECRET: short });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/CALLER_KEY_SECRET: must be at least 32 bytes/);
    expect(message).not.toContain(short);
  });

  it('refuses a service name with markup when one is set', () => {
    expect(() => loadVerifyConfig({ ...BASE, VERIFY_SERVICE_NAME: '<b>x</b>' })).toThrow(
      /VERIFY_SERVICE_NAME/,
    );
  });
});
