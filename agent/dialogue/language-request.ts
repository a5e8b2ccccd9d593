// A caller asking to speak another language ("Spanish please", "¿Habla español?"), as the local
// dialogue engine hears it: a language's name, in English or in itself, with a word that makes it
// a request, or on its own in a short line. The engine asks for switch_language with the use
// case's own tag for that language, never anything else (agent/language-switch.ts).
import type { UseCase } from '../../contracts/use-cases.js';

/**
 * Names of languages callers ask for, by base tag, as normalise() leaves them (letters outside
 * a-z become spaces: "español" is "espa ol").
 */
const NAMES: Record<string, readonly string[]> = {
  en: ['english', 'ingles', 'ingl s'],
  es: ['spanish', 'espanol', 'espa ol', 'castellano'],
  fr: ['french', 'francais', 'fran ais'],
  pt: ['portuguese', 'portugues', 'portugu s'],
  de: ['german', 'deutsch'],
  it: ['italian', 'italiano'],
  zh: ['chinese', 'mandarin', 'cantonese'],
  vi: ['vietnamese'],
  ko: ['korean'],
  tl: ['tagalog', 'filipino'],
  ar: ['arabic'],
  ru: ['russian'],
};

/** Words that make a language's name a request to speak it. */
const ASK =
  /\b(speak|speaks|talk|habla|hablar|hablan|hablamos|parle|parlez|fala|please|por favor|in|en|language|idioma)\b/;

/** The base tag of the language the caller asks to speak, if their words ask for one. */
export function askedLanguage(text: string): string | undefined {
  for (const [base, names] of Object.entries(NAMES)) {
    const said = names.some((n) => new RegExp(`(^| )${n}( |$)`).test(text));
    if (said && (ASK.test(text) || text.split(' ').length <= 3)) return base;
  }
  return undefined;
}

/** The use case's tag for a base language (`es` → `es-US`), when it offers one. */
export function offeredTag(useCase: UseCase, base: string): string | undefined {
  return useCase.languages.find((l) => l.language.toLowerCase().split('-')[0] === base)?.language;
}
