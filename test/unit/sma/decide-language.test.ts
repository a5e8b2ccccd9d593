// What Chime says itself after the caller switched the call's language (contracts/call-update.ts
// `language`, docs/decisions/language-switch.md): the SMA keeps a language of the use case's
// `languages` (state `lang`, the state item's `Language`) and says its own lines in it (the
// apology, the connecting notice, the message prompts) in that language's Polly voice; a tag the
// use case does not offer changes nothing and the rest of the update goes on; a call that never
// switched, or whose state carries no language, hears the use case's own lines as before.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { createHandler } from '../../../lambdas/sma/handler.js';
import { stateUpdate } from '../../../lambdas/sma/journal.js';
import {
  configWithCity311,
  journaledHandler,
  memoryJournal,
  NOW,
  simulateCall,
  testInstruments,
  type Json,
} from '../../helpers/sma.js';

const TX = 'a11ce000-5a1e-4c4b-9d2a-7e1f00c0ffee';
const BUCKET = 'callbridge-test-recordings';

const ES = {
  language: 'es-US',
  confirmation: 'Claro, seguimos en español.',
  voice: { cloud: 'aura-2-celeste-es', chime: 'Lupe' },
  messages: {
    apology: 'Lo sentimos, nadie puede atender su llamada ahora. Adiós.',
    connecting: 'Un momento, por favor. Le comunico con una persona.',
  },
  voicemail: {
    prompt: 'Deje su mensaje después del tono.',
    thanks: 'Gracias. Su mensaje ha quedado grabado. Adiós.',
  },
};
/** A language with lines but no Polly voice, and one with a voice but no lines. */
const PT = { language: 'pt-BR', confirmation: 'Claro.', messages: { apology: 'Desculpe.' } };
const FR = { language: 'fr-FR', confirmation: "D'accord.", voice: { chime: 'Lea' } };

function config(opts: { voicemail?: boolean; languages?: unknown[] } = {}) {
  return configWithCity311(
    (uc) => {
      uc.languages = opts.languages ?? [ES, PT, FR];
      if (opts.voicemail) uc.voicemail = { enabled: true, maxSeconds: 45 };
    },
    { bucket: BUCKET },
  );
}

const city = (cfg: ReturnType<typeof config>) => cfg.useCases.byIdOrUndefined('city-311')!;

type Sim = ReturnType<typeof simulateCall>;

async function callWithAgent(
  cfg: ReturnType<typeof config>,
  numberAnswers: (n: string) => boolean = () => true,
) {
  const { handler, entries } = journaledHandler(cfg);
  const call = simulateCall(
    { transactionId: TX, smaId: 'sma-lab', region: 'us-east-1', accountId: '111122223333' },
    handler,
    { numberAnswers },
  );
  await call.startInbound();
  await call.settled();
  return { call, entries };
}

function tellLanguage(call: Sim, language: string) {
  return call.update({
    action: 'language',
    language,
    requestedAt: String(NOW),
    token: call.callToken ?? '',
  });
}

function transfer(call: Sim, language?: string) {
  return call.send({
    action: 'transfer',
    queue: 'general',
    reason: 'caller_asked',
    requestedAt: NOW,
    token: call.callToken ?? '',
    ...(language ? { language } : {}),
  });
}

const speaks = (call: Sim) =>
  call.timeline.flatMap((s) =>
    s.actions
      .filter((a) => a.Type === 'Speak')
      .map((a) => a.Parameters as { Text: string; LanguageCode: string; VoiceId: string }),
  );

describe('the caller switched language: what Chime says itself', () => {
  it('keeps the language with the call and the state item, then apologises in it, in its voice', async () => {
    const cfg = config();
    const { call, entries } = await callWithAgent(cfg, () => false);
    await tellLanguage(call, 'es-US');
    await call.settled();
    expect(call.transactionAttributes['lang']).toBe('es-US');
    const told = entries.find((e) => e.eventType === 'CALL_UPDATE_REQUESTED')!;
    expect(told.record).toEqual({ Language: 'es-US' });
    expect(told.actionTypes).toEqual([]);
    await transfer(call);
    await call.settled();
    // The queue and its fallback did not answer: the apology, in Spanish and its Polly voice.
    expect(speaks(call)).toEqual([
      { ...speakParams(ES.messages.apology), LanguageCode: 'es-US', VoiceId: 'Lupe' },
    ]);
    expect(entries.at(-1)!.record).toMatchObject({ Phase: 'ended', Disposition: 'failed' });
    // The state item takes each switch (not only the first), under the same LastSequence rule.
    const write = stateUpdate(told, 0);
    expect(write.UpdateExpression).toContain('#Language = :Language');
    expect(write.ExpressionAttributeValues[':Language']).toBe('es-US');
  });

  it('a transfer that carries the language is enough (the language update was lost)', async () => {
    const { call, entries } = await callWithAgent(config(), () => false);
    await transfer(call, 'ES-us');
    await call.settled();
    expect(call.transactionAttributes['lang']).toBe('es-US');
    const asked = entries.find((e) => e.eventType === 'CALL_UPDATE_REQUESTED')!;
    expect(asked.record).toMatchObject({ Language: 'es-US', TransferQueue: 'general' });
    expect(speaks(call).map((s) => [s.Text, s.LanguageCode, s.VoiceId])).toEqual([
      [ES.messages.apology, 'es-US', 'Lupe'],
    ]);
  });

  it('the agent leg drops after the switch: the connecting notice in the language', async () => {
    const { call } = await callWithAgent(config());
    await tellLanguage(call, 'es-US');
    await call.settled();
    await call.remoteHangup('LEG-B');
    await call.settled();
    expect(speaks(call).map((s) => [s.Text, s.LanguageCode, s.VoiceId])).toEqual([
      [ES.messages.connecting, 'es-US', 'Lupe'],
    ]);
  });

  it('the message prompt and the thanks in the language', async () => {
    const { call } = await callWithAgent(config({ voicemail: true }));
    await tellLanguage(call, 'es-US');
    await call.settled();
    await call.send({
      action: 'voicemail',
      reason: 'caller_asked',
      requestedAt: NOW,
      token: call.callToken ?? '',
    });
    await call.settled();
    expect(speaks(call).map((s) => [s.Text, s.LanguageCode, s.VoiceId])).toEqual([
      [ES.voicemail.prompt, 'es-US', 'Lupe'],
      [ES.voicemail.thanks, 'es-US', 'Lupe'],
    ]);
  });

  it('a call that never switched: the use case lines, language and voice; no language kept', async () => {
    const cfg = config();
    const { call, entries } = await callWithAgent(cfg, () => false);
    await transfer(call);
    await call.settled();
    const uc = city(cfg);
    expect(speaks(call)).toEqual([
      { ...speakParams(uc.messages.apology), LanguageCode: 'en-US', VoiceId: 'Joanna' },
    ]);
    expect(call.transactionAttributes).not.toHaveProperty('lang');
    expect(entries.some((e) => 'Language' in e.record)).toBe(false);
  });

  it('a state without the language (a call under way when the SMA was updated): unchanged', async () => {
    const cfg = config();
    const { call } = await callWithAgent(cfg);
    // Chime echoes the attributes the handler wrote; a call under way carries no `lang`.
    expect(call.transactionAttributes).not.toHaveProperty('lang');
    await call.remoteHangup('LEG-B');
    await call.settled();
    expect(speaks(call).map((s) => [s.Text, s.LanguageCode, s.VoiceId])).toEqual([
      [city(cfg).messages.connecting, 'en-US', 'Joanna'],
    ]);
  });

  it('switched back to the use case language (when listed): its own lines again', async () => {
    const cfg = config({ languages: [ES, { language: 'en-US', confirmation: 'Sure.' }] });
    const { call, entries } = await callWithAgent(cfg, () => false);
    await tellLanguage(call, 'es-US');
    await tellLanguage(call, 'en-US');
    await transfer(call);
    await call.settled();
    expect(call.transactionAttributes['lang']).toBe('en-US');
    expect(entries.map((e) => e.record.Language).filter(Boolean)).toEqual(['es-US', 'en-US']);
    expect(speaks(call).map((s) => [s.Text, s.LanguageCode, s.VoiceId])).toEqual([
      [city(cfg).messages.apology, 'en-US', 'Joanna'],
    ]);
  });

  it('the use case language, when not listed, is not a language to switch to: the call stays', async () => {
    const { call } = await callWithAgent(config(), () => false);
    await tellLanguage(call, 'es-US');
    await tellLanguage(call, 'en-US');
    await call.settled();
    expect(call.transactionAttributes['lang']).toBe('es-US');
  });

  it('fails safe to the use case language: a language without a Polly voice, or without the line', async () => {
    for (const tag of ['pt-BR', 'fr-FR']) {
      const cfg = config();
      const { call } = await callWithAgent(cfg, () => false);
      await transfer(call, tag);
      await call.settled();
      expect(call.transactionAttributes['lang']).toBe(tag);
      expect(speaks(call).map((s) => [s.Text, s.LanguageCode, s.VoiceId])).toEqual([
        [city(cfg).messages.apology, 'en-US', 'Joanna'],
      ]);
    }
  });
});

describe('a language the use case does not offer', () => {
  it('is refused with a clear note; nothing else is lost: the transfer goes on', async () => {
    for (const sent of ['de-DE', 'Spanish please', '+12065550100', 'es-US; fr', '']) {
      const { call, entries } = await callWithAgent(config(), () => false);
      await call.update({
        action: 'transfer',
        queue: 'general',
        reason: 'caller_asked',
        requestedAt: String(NOW),
        token: call.callToken ?? '',
        language: sent,
      });
      await call.settled();
      const asked = call.timeline.find((s) => s.type === 'CALL_UPDATE_REQUESTED')!;
      expect(asked.actions.map((a) => a.Type)).toEqual(['Hangup']);
      expect(call.transactionAttributes).not.toHaveProperty('lang');
      expect(entries.some((e) => 'Language' in e.record)).toBe(false);
      expect(entries.some((e) => e.record.TransferOutcome === 'failed')).toBe(true);
      expect(speaks(call).map((s) => s.LanguageCode)).toEqual(['en-US']);
    }
  });

  it('a language update with an unknown tag, a bad token or outside the agent changes nothing', async () => {
    const { call, entries } = await callWithAgent(config());
    const before = { ...call.transactionAttributes };
    await tellLanguage(call, 'de-DE');
    await call.update({
      action: 'language',
      language: 'es-US',
      requestedAt: String(NOW),
      token: 'v1.1.forged',
    });
    await call.settled();
    expect(call.transactionAttributes).toEqual(before);
    const updates = entries.filter((e) => e.eventType === 'CALL_UPDATE_REQUESTED');
    expect(updates.map((e) => [e.actionTypes, e.record])).toEqual([
      [[], {}],
      [[], {}],
    ]);
    // Once the call has left the agent (a transfer under way), a late one is refused too.
    await transfer(call);
    await tellLanguage(call, 'es-US');
    await call.settled();
    expect(call.transactionAttributes).not.toHaveProperty('lang');
  });

  it('notes why, naming a well-formed tag and never a malformed text', async () => {
    const lines: Json[] = [];
    const handler = createHandler({
      config: config(),
      journal: memoryJournal(),
      instruments: testInstruments().instruments,
      logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) }),
      now: () => NOW,
    });
    const call = simulateCall(
      { transactionId: TX, smaId: 'sma-lab', region: 'us-east-1', accountId: '111122223333' },
      handler,
    );
    await call.startInbound();
    await call.settled();
    await tellLanguage(call, 'de-DE');
    await tellLanguage(call, 'call +12065550100 now');
    await call.update({ action: 'language', requestedAt: String(NOW), token: call.callToken! });
    await call.settled();
    const notes = lines.filter((l) => l.reason === 'language_not_offered');
    expect(notes.map((n) => [n.why, n.language])).toEqual([
      ['not_offered', 'de-DE'],
      ['malformed', undefined],
      ['malformed', undefined],
    ]);
    expect(notes[0].msg).toBe(
      "call language not changed: de-DE is not one of use case city-311's languages (es-US, pt-BR, fr-FR)",
    );
    expect(notes[1].msg).toBe('call language not changed: the language is not a language tag');
    expect(JSON.stringify(lines)).not.toContain('+12065550100 now');
  });
});

describe('the use case languages as Chime speaks them (contracts/use-cases.ts)', () => {
  it('takes a Polly voice, messages and message prompts per language; refuses unknown keys', () => {
    const uc = city(config());
    expect(uc.languages[0]).toMatchObject({ voice: { chime: 'Lupe' }, messages: ES.messages });
    const bad = structuredClone(config().useCases.file) as Json;
    bad.useCases[0].languages = [{ ...ES, messages: { ...ES.messages, notAllowed: 'x' } }];
    expect(() => parseUseCases(bad)).toThrow(/languages\.0\.messages/);
  });
});

function speakParams(text: string) {
  return { CallId: expect.any(String), Text: text, Engine: 'neural', TextType: 'text' };
}
