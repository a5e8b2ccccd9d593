// The language of a switched call in the contracts: the call update carries it
// (contracts/call-update.ts), the use case's `languages` decide which tags count and what Chime
// says in each (contracts/use-cases.ts: offeredLanguage, chimeLineIn), and the call's state item
// keeps it (contracts/call-state.ts). An unknown tag is refused with a message that says why, and
// the rest of an update is never lost over it.
import { describe, expect, it } from 'vitest';
import { CALL_STATE_LANGUAGE, callLanguageOf } from '../../../contracts/call-state.js';
import {
  CallUpdate,
  parseCallUpdateArguments,
  toCallUpdateArguments,
} from '../../../contracts/call-update.js';
import { chimeLineIn, offeredLanguage, parseUseCases } from '../../../contracts/use-cases.js';
import { USE_CASES_JSON, type Json } from '../../helpers/sma.js';

const TOKEN = 'v1.1700014400.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

const ES = {
  language: 'es-US',
  confirmation: 'Claro, seguimos en español.',
  voice: { chime: 'Lupe' },
  messages: { apology: 'Lo sentimos. Adiós.', connecting: 'Un momento, por favor.' },
  voicemail: { prompt: 'Deje su mensaje.', thanks: 'Gracias. Adiós.' },
};

function city(languages: unknown[], change: (uc: Json) => void = () => {}) {
  const file = structuredClone(USE_CASES_JSON) as Json;
  const uc = file.useCases.find((u: Json) => u.id === 'city-311');
  uc.languages = languages;
  change(uc);
  return parseUseCases(file).byIdOrUndefined('city-311')!;
}

describe('the call update carries the language', () => {
  it('reads back a transfer, a hang-up and a message with the language as sent', () => {
    const updates: CallUpdate[] = [
      {
        action: 'transfer',
        queue: 'general',
        reason: 'caller_asked',
        requestedAt: 7,
        token: TOKEN,
        language: 'es-US',
      },
      { action: 'hangup', reason: 'caller_done', requestedAt: 8, token: TOKEN, language: 'es-US' },
      {
        action: 'voicemail',
        reason: 'caller_asked',
        requestedAt: 9,
        token: TOKEN,
        language: 'es-US',
      },
    ];
    for (const u of updates) {
      const args = toCallUpdateArguments(CallUpdate.parse(u));
      expect(args['language']).toBe('es-US');
      expect(parseCallUpdateArguments(args)).toMatchObject({ action: u.action, language: 'es-US' });
    }
  });

  it('a call that never switched sends no language argument', () => {
    const args = toCallUpdateArguments({
      action: 'hangup',
      reason: 'caller_done',
      requestedAt: 1,
      token: TOKEN,
    });
    expect(args).not.toHaveProperty('language');
    expect(parseCallUpdateArguments(args)).toMatchObject({ language: undefined });
  });

  it('the language update: the tag, its time and the token, and nothing else', () => {
    const update = CallUpdate.parse({
      action: 'language',
      language: 'es-US',
      requestedAt: 5,
      token: TOKEN,
    });
    const args = toCallUpdateArguments(update);
    expect(args).toEqual({ action: 'language', language: 'es-US', requestedAt: '5', token: TOKEN });
    expect(parseCallUpdateArguments(args)).toEqual({
      action: 'language',
      language: 'es-US',
      requestedAt: 5,
      token: TOKEN,
    });
  });

  it('the agent cannot build an update with text that is not a language tag', () => {
    for (const language of ['Spanish please', 'es_US', '+12065550100', '', 'x'.repeat(40)]) {
      const r = CallUpdate.safeParse({
        action: 'transfer',
        queue: 'general',
        reason: 'caller_asked',
        requestedAt: 1,
        token: TOKEN,
        language,
      });
      expect(r.success, language).toBe(false);
      expect(r.error!.issues[0]!.path).toEqual(['language']);
      expect(r.error!.issues[0]!.message).toMatch(/language tag/);
    }
    expect(CallUpdate.safeParse({ action: 'language', requestedAt: 1, token: TOKEN }).success).toBe(
      false,
    );
  });

  it('a bad language reaching the SMA loses nothing else of the update: the decision judges it', () => {
    const parsed = parseCallUpdateArguments({
      action: 'transfer',
      queue: 'general',
      reason: 'caller_asked',
      requestedAt: '12',
      token: TOKEN,
      language: `  ${'Spanish please, and then call +12065550100 '.repeat(3)}`,
    });
    expect(parsed).toMatchObject({
      action: 'transfer',
      queue: 'general',
      reason: 'caller_asked',
      requestedAt: 12,
      token: TOKEN,
    });
    // Cut, never trusted: offeredLanguage refuses it.
    expect(parsed!.language!.length).toBeLessThanOrEqual(35);
    expect(offeredLanguage(city([ES]), parsed!.language).ok).toBe(false);
    // The language update without a language reads as one, for the decision to refuse.
    expect(parseCallUpdateArguments({ action: 'language', token: TOKEN })).toMatchObject({
      action: 'language',
      language: undefined,
    });
  });
});

describe("offeredLanguage: only the use case's languages", () => {
  it('finds a listed tag (case aside) as the use case spells it', () => {
    const r = offeredLanguage(city([ES]), 'ES-us');
    expect(r.ok && r.option.language).toBe('es-US');
  });

  it('refuses an unknown tag, naming it and the offered ones', () => {
    expect(offeredLanguage(city([ES]), 'fr-FR')).toEqual({
      ok: false,
      reason: 'not_offered',
      error: "fr-FR is not one of use case city-311's languages (es-US)",
    });
    expect(offeredLanguage(city([]), 'es-US')).toMatchObject({
      ok: false,
      error: "es-US is not one of use case city-311's languages (none)",
    });
  });

  it('refuses malformed text without repeating it', () => {
    for (const tag of ['Spanish please', 'es-US; fr', '', undefined]) {
      const r = offeredLanguage(city([ES]), tag);
      expect(r).toEqual({
        ok: false,
        reason: 'malformed',
        error: 'the language is not a language tag',
      });
    }
  });
});

describe('chimeLineIn: what Chime says, in the language where the use case has it', () => {
  it('a switched call: the language text, its Polly voice and its code', () => {
    const uc = city([ES], (u) => (u.voicemail = { enabled: true }));
    expect(chimeLineIn(uc, 'es-US', 'apology')).toEqual({
      text: ES.messages.apology,
      language: 'es-US',
      voice: 'Lupe',
    });
    expect(chimeLineIn(uc, 'es-US', 'connecting').text).toBe(ES.messages.connecting);
    expect(chimeLineIn(uc, 'es-US', 'voicemailPrompt').text).toBe(ES.voicemail.prompt);
    expect(chimeLineIn(uc, 'es-US', 'voicemailThanks').text).toBe(ES.voicemail.thanks);
  });

  it('a call that never switched, or in the use case language: the use case own line', () => {
    const uc = city([ES]);
    const own = { text: uc.messages.apology, language: 'en-US', voice: 'Joanna' };
    expect(chimeLineIn(uc, undefined, 'apology')).toEqual(own);
    expect(chimeLineIn(uc, 'EN-us', 'apology')).toEqual(own);
  });

  it('fails safe, whole: no voice, no line, or a language not offered gives the use case own', () => {
    const noVoice = city([{ ...ES, voice: undefined }]);
    const noLine = city([
      { ...ES, messages: { apology: ES.messages.apology }, voicemail: undefined },
    ]);
    const own = (uc: ReturnType<typeof city>, text: string) => ({
      text,
      language: 'en-US',
      voice: uc.voice.chime,
    });
    expect(chimeLineIn(noVoice, 'es-US', 'apology')).toEqual(
      own(noVoice, noVoice.messages.apology),
    );
    expect(chimeLineIn(noLine, 'es-US', 'connecting')).toEqual(
      own(noLine, noLine.messages.connecting),
    );
    expect(chimeLineIn(noLine, 'es-US', 'voicemailThanks').language).toBe('en-US');
    expect(chimeLineIn(noLine, 'de-DE', 'apology')).toEqual(own(noLine, noLine.messages.apology));
  });

  it('the schema refuses a line or a key Chime does not say after a switch', () => {
    const file = structuredClone(USE_CASES_JSON) as Json;
    file.useCases[0].languages = [{ ...ES, messages: { overLimit: 'x' } }];
    expect(() => parseUseCases(file)).toThrow(/languages\.0\.messages/);
    file.useCases[0].languages = [{ ...ES, voice: { chime: '' } }];
    expect(() => parseUseCases(file)).toThrow(/languages\.0\.voice\.chime/);
  });
});

describe("the state item's language (contracts/call-state.ts)", () => {
  it('reads a valid tag, else the fallback', () => {
    expect(CALL_STATE_LANGUAGE).toBe('Language');
    expect(callLanguageOf({ Language: 'es-US' }, 'en-US')).toBe('es-US');
    expect(callLanguageOf({}, 'en-US')).toBe('en-US');
    expect(callLanguageOf(undefined)).toBeUndefined();
    expect(callLanguageOf({ Language: 'Spanish please' }, 'en-US')).toBe('en-US');
  });
});
