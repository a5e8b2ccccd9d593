// "Call me" and `npm run call -- dial`: which calls are placed (a use case that allows outbound
// calls, a number its settings allow) and who may place them (the dialer role), with Chime SDK
// Voice faked so that what would be dialled is seen. A refused request dials nothing, and the
// number appears in logs under `pii` only.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Writable } from 'node:stream';
import type { CreateSipMediaApplicationCallCommandInput } from '@aws-sdk/client-chime-sdk-voice';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type UseCaseCatalog, loadUseCases, parseUseCases } from '../../../contracts/use-cases.js';
import bundledUseCases from '../../../contracts/use-cases.json' with { type: 'json' };
import { dialNumberProblem } from '../../../contracts/phone-numbers.js';
import { loadConsoleConfig } from '../../../console/config.js';
import { OutboundRefused, checkOutboundCall } from '../../../console/outbound.js';
import type { RoomsApi } from '../../../console/calls.js';
import { type ConsoleServer, startConsoleServer } from '../../../console/server.js';
import { dial } from '../../../scripts/call.js';

const ME = '+12065550100';

/** The bundled use cases, with city-311 allowing outbound calls (and +44 for the UK test). */
function outboundUseCases(outbound: Record<string, unknown> = { allowed: true }): UseCaseCatalog {
  const file = structuredClone(bundledUseCases) as { useCases: Record<string, unknown>[] };
  file.useCases[0]!.outbound = outbound;
  return parseUseCases(file);
}

/** A fake Chime SDK Voice client: what it was asked to dial. */
function fakeVoice() {
  const dialled: CreateSipMediaApplicationCallCommandInput[] = [];
  let n = 0;
  return {
    dialled,
    failNext: false,
    async send(command: { input: unknown }) {
      if (this.failNext) {
        this.failNext = false;
        throw Object.assign(new Error(`ToPhoneNumber ${ME} rejected`), {
          name: 'BadRequestException',
        });
      }
      dialled.push(command.input as CreateSipMediaApplicationCallCommandInput);
      return { SipMediaApplicationCall: { TransactionId: `tx-${++n}` } };
    },
  };
}

describe('checkOutboundCall', () => {
  const uc = outboundUseCases();

  it('places a call for a use case that allows it, from its first number', () => {
    expect(checkOutboundCall(uc, 'city-311', ME)).toEqual({
      useCase: 'city-311',
      from: '+12025550131',
      to: ME,
    });
  });

  it('refuses, with a reason and a clear message, what its settings do not allow', () => {
    const refusal = (useCase: string, to: string) => {
      try {
        checkOutboundCall(uc, useCase, to);
      } catch (e) {
        expect(e).toBeInstanceOf(OutboundRefused);
        const r = e as OutboundRefused;
        expect(r.message).not.toContain(to.slice(1)); // the number is not repeated
        return [r.status, r.reason, r.message];
      }
      throw new Error('placed');
    };
    expect(refusal('nope', ME)).toEqual([404, 'unknown_use_case', 'no use case nope']);
    expect(refusal('city-311-residents', ME)).toEqual([
      403,
      'outbound_not_allowed',
      'the use case city-311-residents does not place outbound calls (its outbound.allowed setting is off)',
    ]);
    expect(refusal('city-311', '2065550100')[1]).toBe('not_e164');
    expect(refusal('city-311', '+1 206 555 0100')[1]).toBe('not_e164');
    expect(refusal('city-311', '+442079460000')).toEqual([
      403,
      'foreign',
      'this use case dials only numbers with the country code +1',
    ]);
    expect(refusal('city-311', '+19005550100')).toEqual([
      403,
      'premium',
      'this use case does not dial premium-rate numbers (900, 976)',
    ]);
    expect(refusal('city-311', '+12069110100')[1]).toBe('not_a_subscriber');
    expect(refusal('city-311', '+19115550100')[1]).toBe('not_a_subscriber');
  });

  it('follows the use case: other calling codes, premium numbers, another of its numbers', () => {
    const wide = outboundUseCases({
      allowed: true,
      callingCodes: ['1', '44'],
      allowPremium: true,
      fromNumber: '+12025550131',
    });
    expect(checkOutboundCall(wide, 'city-311', '+442079460000').to).toBe('+442079460000');
    expect(checkOutboundCall(wide, 'city-311', '+19005550100').from).toBe('+12025550131');
    expect(() => outboundUseCases({ allowed: true, fromNumber: '+12025550199' })).toThrow(
      /outbound\.fromNumber: \+12025550199 is not one of this use case's dialedNumbers/,
    );
  });

  it('is off by default: the bundled use cases place no outbound calls', () => {
    const bundled = loadUseCases(undefined, bundledUseCases);
    for (const u of bundled.all) {
      expect(() => checkOutboundCall(bundled, u.id, ME)).toThrow(/outbound\.allowed/);
    }
  });

  it('is the callbacks rule: one definition in contracts/', () => {
    expect(dialNumberProblem(ME, { callingCodes: ['1'], allowPremium: false })).toBeUndefined();
  });
});

const rooms = {
  listRooms: async () => [],
  listParticipants: async () => [],
} as unknown as RoomsApi;

describe('POST /api/outbound-calls', () => {
  let server: ConsoleServer;
  let off: ConsoleServer;
  const voice = fakeVoice();
  const lines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  const web = { js: Buffer.from('/* app */'), gzipped: gzipSync('/* app */') };
  beforeAll(async () => {
    server = await startConsoleServer({
      config: loadConsoleConfig({ CONSOLE_PORT: '0', SMA_APPLICATION_ID: 'sma-1' }),
      livekit: { url: 'ws://127.0.0.1:7880', apiKey: 'k', apiSecret: 's'.repeat(32) },
      useCases: outboundUseCases(),
      web,
      rooms,
      voice,
      logger,
    });
    off = await startConsoleServer({
      config: loadConsoleConfig({ CONSOLE_PORT: '0' }),
      livekit: { url: 'ws://127.0.0.1:7880', apiKey: 'k', apiSecret: 's'.repeat(32) },
      useCases: outboundUseCases(),
      web,
      rooms,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await server.close();
    await off.close();
  });
  beforeEach(() => {
    voice.dialled.length = 0;
  });

  async function signIn(s: ConsoleServer, roles?: ('developer' | 'supervisor' | 'dialer')[]) {
    const link = new URL(s.signInLink({ id: `user-${Math.random()}`, roles }));
    const res = await fetch(`${s.url}${link.pathname}${link.search}`, { redirect: 'manual' });
    return res.headers.get('set-cookie')!.split(';')[0]!;
  }
  const callMe = async (cookie: string, body: unknown, s = server) => {
    const res = await fetch(`${s.url}/api/outbound-calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  it('a dialer places the call through the SMA, naming the use case', async () => {
    const dialer = await signIn(server, ['dialer']);
    const r = await callMe(dialer, { useCase: 'city-311', to: ` ${ME} ` });
    expect(r).toEqual({ status: 202, body: { transactionId: 'tx-1', useCase: 'city-311' } });
    expect(voice.dialled).toEqual([
      {
        SipMediaApplicationId: 'sma-1',
        FromPhoneNumber: '+12025550131',
        ToPhoneNumber: ME,
        ArgumentsMap: { useCase: 'city-311' },
      },
    ]);
    const me = (await (
      await fetch(`${server.url}/api/me`, { headers: { cookie: dialer } })
    ).json()) as {
      useCases: { id: string; outbound: boolean }[];
      outboundCalls: boolean;
    };
    expect(me.outboundCalls).toBe(true);
    expect(me.useCases.filter((u) => u.outbound).map((u) => u.id)).toEqual(['city-311']);
  });

  it('a developer or a supervisor cannot place a call, and nothing is dialled', async () => {
    for (const role of ['developer', 'supervisor'] as const) {
      const r = await callMe(await signIn(server, [role]), { useCase: 'city-311', to: ME });
      expect(r).toEqual({ status: 403, body: { error: 'needs the dialer role' } });
    }
    expect(
      (await callMe('callbridge_console=forged', { useCase: 'city-311', to: ME })).status,
    ).toBe(401);
    expect(voice.dialled).toEqual([]);
  });

  it('a number outside the allowed set is refused with a clear message, and nothing is dialled', async () => {
    const dialer = await signIn(server, ['dialer']);
    expect(await callMe(dialer, { useCase: 'city-311', to: '+442079460000' })).toEqual({
      status: 403,
      body: { error: 'this use case dials only numbers with the country code +1' },
    });
    expect(await callMe(dialer, { useCase: 'city-311', to: '+19765550100' })).toEqual({
      status: 403,
      body: { error: 'this use case does not dial premium-rate numbers (900, 976)' },
    });
    expect((await callMe(dialer, { useCase: 'city-311', to: '911' })).status).toBe(400);
    expect(await callMe(dialer, { useCase: 'city-311-residents', to: ME })).toEqual({
      status: 403,
      body: {
        error:
          'the use case city-311-residents does not place outbound calls (its outbound.allowed setting is off)',
      },
    });
    expect((await callMe(dialer, { useCase: 'city-311', to: ME, from: ME })).status).toBe(400);
    expect(voice.dialled).toEqual([]);
  });

  it('limits the calls one user places, says when Chime fails, and is off without an SMA', async () => {
    const dialer = await signIn(server, ['dialer']);
    voice.failNext = true;
    expect(await callMe(dialer, { useCase: 'city-311', to: ME })).toEqual({
      status: 502,
      body: { error: 'Chime did not place the call; try again' },
    });
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await callMe(dialer, { useCase: 'city-311', to: ME })).status);
    expect(statuses).toEqual([202, 202, 202, 202, 429]);
    expect(voice.dialled).toHaveLength(4);
    // Another user has a window of their own.
    expect(
      (await callMe(await signIn(server, ['dialer']), { useCase: 'city-311', to: ME })).status,
    ).toBe(202);
    const r = await callMe(await signIn(off, ['dialer']), { useCase: 'city-311', to: ME }, off);
    expect(r.status).toBe(503);
    expect(r.body.error).toMatch(/SMA_APPLICATION_ID/);
  });

  it('logs the number under pii only', () => {
    const placed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(placed.some((l) => l.msg === 'outbound call placed')).toBe(true);
    expect(placed.some((l) => l.msg === 'outbound call refused')).toBe(true);
    for (const l of placed) {
      const { pii: _pii, ...rest } = l;
      expect(JSON.stringify(rest)).not.toMatch(/2065550100|2079460000|9765550100/);
    }
  });
});

describe('npm run call -- dial', () => {
  const out = () => {
    const o = { lines: [] as string[], errors: [] as string[] };
    return {
      o,
      io: { log: (l: string) => o.lines.push(l), error: (l: string) => o.errors.push(l) },
    };
  };

  it('places the call when the use case allows it, and says what to run next', async () => {
    const voice = fakeVoice();
    const dir = mkdtempSync(join(tmpdir(), 'call-dial-'));
    const file = join(dir, 'use-cases.json');
    const data = structuredClone(bundledUseCases) as { useCases: Record<string, unknown>[] };
    data.useCases[0]!.outbound = { allowed: true };
    writeFileSync(file, JSON.stringify(data));
    const { o, io } = out();
    const env = { SMA_APPLICATION_ID: 'sma-1', USE_CASES_FILE: file };
    try {
      expect(await dial([ME, '--use-case', 'city-311'], env, io, voice)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(voice.dialled[0]).toMatchObject({
      ToPhoneNumber: ME,
      ArgumentsMap: { useCase: 'city-311' },
    });
    expect(o.lines.join('\n')).toMatch(/placed: tx-1[\s\S]*npm run call -- show tx-1/);
  });

  it('refuses what the use case does not allow, and a command without its parts', async () => {
    const voice = fakeVoice();
    const { o, io } = out();
    expect(
      await dial([ME, '--use-case', 'city-311'], { SMA_APPLICATION_ID: 'sma-1' }, io, voice),
    ).toBe(1);
    expect(o.errors[0]).toMatch(/refused: the use case city-311 does not place outbound calls/);
    expect(await dial([ME], { SMA_APPLICATION_ID: 'sma-1' }, io, voice)).toBe(2);
    expect(await dial([ME, '--use-case', 'city-311'], {}, io, voice)).toBe(2);
    expect(o.errors.at(-1)).toMatch(/SMA_APPLICATION_ID/);
    expect(voice.dialled).toEqual([]);
  });
});
