import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { readCallContext } from '../../../agent/call-context.js';
import { AgentConfigError, loadAgentConfig } from '../../../agent/config.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

const useCases = parseUseCases(USE_CASES_JSON);
const phone = {
  'sma.transactionId': 'tx-1',
  'sma.applicationId': 'sma-1',
  'sma.region': 'us-west-2',
  'call.useCase': 'city-311',
  'trace.traceparent': '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  'sip.phoneNumber': '+12065550100',
  'sip.trunkPhoneNumber': '+12025550132',
  'sip.callID': 'SCL_abc',
};

describe('readCallContext', () => {
  it('reads a phone call from the SIP participant attributes', () => {
    expect(readCallContext({ ...phone, 'sma.callToken': 'v1.1.t' }, useCases)).toMatchObject({
      kind: 'phone',
      sma: {
        transactionId: 'tx-1',
        sipMediaApplicationId: 'sma-1',
        region: 'us-west-2',
        token: 'v1.1.t',
      },
      callerNumber: '+12065550100',
      dialedNumber: '+12025550132',
      sipCallId: 'SCL_abc',
      traceparent: phone['trace.traceparent'],
      useCase: { id: 'city-311' },
    });
  });

  it('treats a participant without SMA attributes as a dev room, with the default use case', () => {
    expect(readCallContext({}, useCases)).toMatchObject({
      kind: 'dev',
      sma: undefined,
      useCase: { id: 'city-311' },
    });
  });

  it('needs all three SMA attributes to control a call, and a valid region', () => {
    expect(readCallContext({ ...phone, 'sma.region': 'not a region' }, useCases).kind).toBe('dev');
    const { ['sma.applicationId']: _drop, ...noApp } = phone;
    expect(readCallContext(noApp, useCases).kind).toBe('dev');
  });

  it('drops a malformed traceparent and resolves the use case from the dialed number', () => {
    const ctx = readCallContext(
      { ...phone, 'trace.traceparent': 'garbage', 'call.useCase': 'nope' },
      useCases,
    );
    expect(ctx.traceparent).toBeUndefined();
    expect(ctx.useCase.id).toBe('city-311');
  });

  it('parses the trace once: its context holds the call root span, or no span without a trace', () => {
    expect(trace.getSpanContext(readCallContext(phone, useCases).traceContext)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
    const garbage = readCallContext({ ...phone, 'trace.traceparent': 'garbage' }, useCases);
    expect(trace.getSpanContext(garbage.traceContext)).toBeUndefined();
    expect(trace.getSpanContext(readCallContext({}, useCases).traceContext)).toBeUndefined();
  });
});

/** What every worker that serves phone calls is given: the SMA's call-token secret. */
const SECRET = 'unit-test-call-token-secret-of-at-least-32-bytes';
const CALLS = { CALL_TOKEN_SECRET: SECRET };

describe('loadAgentConfig', () => {
  it('chooses local speech without both cloud keys, and says why', () => {
    const c = loadAgentConfig({ ...CALLS, DEEPGRAM_API_KEY: 'dg' }, USE_CASES_JSON);
    expect(c.speech).toBe('local');
    expect(c.speechReason).toMatch(/not both set/);
  });

  it('chooses cloud speech when both keys are present', () => {
    expect(
      loadAgentConfig({ ...CALLS, DEEPGRAM_API_KEY: 'dg', OPENAI_API_KEY: 'sk' }, USE_CASES_JSON)
        .speech,
    ).toBe('cloud');
  });

  it('refuses SPEECH_PROVIDERS=cloud without keys, naming them', () => {
    expect(() =>
      loadAgentConfig(
        { ...CALLS, SPEECH_PROVIDERS: 'cloud', OPENAI_API_KEY: 'sk' },
        USE_CASES_JSON,
      ),
    ).toThrow(/DEEPGRAM_API_KEY/);
  });

  it('names a malformed variable', () => {
    expect(() =>
      loadAgentConfig({ ...CALLS, TRANSFER_RETRY_BUDGET_MS: 'soon' }, USE_CASES_JSON),
    ).toThrow(AgentConfigError);
    expect(() =>
      loadAgentConfig({ ...CALLS, OPENAI_BASE_URL: 'not a url' }, USE_CASES_JSON),
    ).toThrow(/OPENAI_BASE_URL/);
  });

  it('watches a line for a 1.5 s stall and a 2 s outage by default, takes 0 as off, and refuses a threshold too short to trust', () => {
    const watch = (env: Record<string, string>) =>
      loadAgentConfig({ ...CALLS, ...env }, USE_CASES_JSON).lineWatch;
    expect(watch({})).toEqual({ lostAfterMs: 1500, outageAfterMs: 2000 });
    expect(watch({ LINE_LOST_AFTER_MS: '0', LINE_OUTAGE_AFTER_MS: '0' })).toEqual({
      lostAfterMs: 0,
      outageAfterMs: 0,
    });
    expect(watch({ LINE_LOST_AFTER_MS: '4000', LINE_OUTAGE_AFTER_MS: '3500' })).toEqual({
      lostAfterMs: 4000,
      outageAfterMs: 3500,
    });
    expect(() => watch({ LINE_LOST_AFTER_MS: '200' })).toThrow(/LINE_LOST_AFTER_MS/);
    expect(() => watch({ LINE_OUTAGE_AFTER_MS: '500' })).toThrow(/LINE_OUTAGE_AFTER_MS/);
    expect(() => watch({ LINE_OUTAGE_AFTER_MS: 'soon' })).toThrow(/LINE_OUTAGE_AFTER_MS/);
  });
});

describe('loadAgentConfig: which calls the worker takes', () => {
  it('stops start-up without CALL_TOKEN_SECRET, naming it, unless the worker serves dev rooms only', () => {
    expect(() => loadAgentConfig({}, USE_CASES_JSON)).toThrow(/CALL_TOKEN_SECRET/);
    const dev = loadAgentConfig({ AGENT_DEV_ROOMS_ONLY: 'true' }, USE_CASES_JSON);
    expect(dev.calls).toEqual({ secret: undefined, applicationId: undefined, region: undefined });
  });

  it('refuses a secret shorter than 32 bytes without printing it', () => {
    const err = (() => {
      try {
        loadAgentConfig({ CALL_TOKEN_SECRET: 'short-secret' }, USE_CASES_JSON);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(AgentConfigError);
    expect(err?.message).toMatch(/CALL_TOKEN_SECRET: must be at least 32 bytes/);
    expect(err?.message).not.toContain('short-secret');
  });

  it('takes calls from the configured SMA when one is set, from any SMA with the secret otherwise', () => {
    const one = loadAgentConfig(
      { ...CALLS, SMA_APPLICATION_ID: 'sma-1', SMA_REGION: 'us-west-2' },
      USE_CASES_JSON,
    );
    expect(one.calls).toEqual({ secret: SECRET, applicationId: 'sma-1', region: 'us-west-2' });
    expect(loadAgentConfig(CALLS, USE_CASES_JSON).calls).toEqual({
      secret: SECRET,
      applicationId: undefined,
      region: undefined,
    });
    expect(() => loadAgentConfig({ ...CALLS, SMA_REGION: 'Oregon' }, USE_CASES_JSON)).toThrow(
      /SMA_REGION/,
    );
  });
});
