// Use cases: what each dialed number is for. One validated file serves every process (SMA handler,
// agent, provisioning), so one deployment can answer several numbers. docs/architecture.md,
// "Configuration".
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { e164, queueKey, useCaseId } from './ids.js';
import {
  DEFAULT_VOICEMAIL_PROMPT,
  LanguageTag,
  access,
  callbacks,
  faqEntry,
  language,
  languageOption,
  languages,
  limits,
  lines,
  memory,
  outbound,
  queue,
  recording,
  speech,
  turnTaking,
  voicemail,
} from './use-case-parts.js';

const DEFAULT_APOLOGY =
  "We're sorry, we can't connect your call right now. Please call again later. Goodbye.";
const DEFAULT_CONNECTING = 'One moment please, I am connecting you to a member of our team.';
const DEFAULT_NOT_ALLOWED =
  "We're sorry, this line is only for callers who have registered their phone number. Please register your number on our website and call again. Goodbye.";
const DEFAULT_OVER_LIMIT =
  "We're sorry, all of our lines are busy right now. Please call again in a little while. Goodbye.";

const useCase = z.object({
  id: useCaseId,
  name: z.string().min(1),
  /** Numbers callers dial (routed to the SMA by a SIP rule). */
  dialedNumbers: z.array(e164).min(1),
  /**
   * The LiveKit inbound trunk number of this use case: the CallAndBridge `Uri` (user part of the
   * Request-URI, 1-36 characters) that the Voice Connector sends to LiveKit SIP.
   */
  livekitNumber: e164,
  /** The language callers speak: it reaches the recognizer, the model and the voice. */
  language: language.default('en-US'),
  /** Languages a caller may switch the call to (cloud speech); none by default. */
  languages,
  /** The agent's fixed lines in this use case's words; unset ones are the English defaults. */
  lines: lines.optional(),
  voice: z
    .object({
      /** Flite voice of the local (offline) TTS. */
      local: z.string().default('kal16'),
      /** Voice of the cloud TTS provider. */
      cloud: z.string().optional(),
      /** Amazon Polly voice for what Chime itself says (Speak): apologies, hold notices. */
      chime: z.string().default('Joanna'),
    })
    .default({ local: 'kal16', chime: 'Joanna' }),
  greeting: z.string().min(1).max(1000),
  instructions: z.string().min(1),
  faq: z.array(faqEntry).default([]),
  queues: z.record(queueKey, queue).refine((q) => Object.keys(q).length > 0, 'needs one queue'),
  defaultQueue: queueKey,
  /** What Chime says itself (Speak, at most 1,000 characters each). */
  messages: z
    .object({
      /** When no person can be reached: said before the call ends. */
      apology: z.string().min(1).max(1000).default(DEFAULT_APOLOGY),
      /** When the AI leg fails and the caller is sent to a person instead. */
      connecting: z.string().min(1).max(1000).default(DEFAULT_CONNECTING),
      /** A caller the use case's access rules keep from the agent (how to register, say). */
      notAllowed: z.string().min(1).max(1000).default(DEFAULT_NOT_ALLOWED),
      /** A caller over a cap or rate, when the use case answers those with a message. */
      overLimit: z.string().min(1).max(1000).default(DEFAULT_OVER_LIMIT),
    })
    .default({
      apology: DEFAULT_APOLOGY,
      connecting: DEFAULT_CONNECTING,
      notAllowed: DEFAULT_NOT_ALLOWED,
      overLimit: DEFAULT_OVER_LIMIT,
    }),
  access,
  limits,
  speech,
  turnTaking,
  memory,
  callbacks: callbacks.optional(),
  outbound: outbound.optional(),
  recording: recording.optional(),
  voicemail: voicemail.optional(),
});

/** The base of an English language tag: a use case in another language needs cloud speech. */
export function isEnglish(languageTag: string): boolean {
  return languageTag.toLowerCase().split('-')[0] === 'en';
}

/**
 * The use case's offer of `tag` (case aside, exactly as listed in `languages`), or why there is
 * none, in words an operator reads in a log. Nothing outside that list is ever a call's language.
 */
export function offeredLanguage(
  useCase: UseCase,
  tag: string | undefined,
):
  | { ok: true; option: UseCaseLanguage }
  | { ok: false; reason: 'malformed' | 'not_offered'; error: string } {
  // Case aside: the list is matched case-insensitively (`ES-us` finds `es-US`).
  if (tag === undefined || !LanguageTag.safeParse(tag.toLowerCase()).success) {
    return { ok: false, reason: 'malformed', error: 'the language is not a language tag' };
  }
  const wanted = tag.toLowerCase();
  const option = useCase.languages.find((l) => l.language.toLowerCase() === wanted);
  if (option) return { ok: true, option };
  const offered = useCase.languages.map((l) => l.language).join(', ') || 'none';
  return {
    ok: false,
    reason: 'not_offered',
    error: `${tag} is not one of use case ${useCase.id}'s languages (${offered})`,
  };
}

/** The lines Chime itself says once the caller is with the agent (Speak). */
export type ChimeLine = 'apology' | 'connecting' | 'voicemailPrompt' | 'voicemailThanks';

/** A line for Chime's Speak: its text, Polly's LanguageCode and VoiceId. */
export interface ChimeSpeech {
  text: string;
  language: string;
  voice: string;
}

function ownChimeLine(useCase: UseCase, line: ChimeLine): string {
  switch (line) {
    case 'apology':
      return useCase.messages.apology;
    case 'connecting':
      return useCase.messages.connecting;
    case 'voicemailPrompt':
      return useCase.voicemail?.prompt ?? DEFAULT_VOICEMAIL_PROMPT;
    case 'voicemailThanks':
      return useCase.voicemail?.thanks ?? useCase.messages.apology;
  }
}

function optionChimeLine(option: UseCaseLanguage, line: ChimeLine): string | undefined {
  switch (line) {
    case 'apology':
    case 'connecting':
      return option.messages?.[line];
    case 'voicemailPrompt':
      return option.voicemail?.prompt;
    case 'voicemailThanks':
      return option.voicemail?.thanks;
  }
}

/**
 * What Chime says for `line` on a call now in `language` (a call that never switched: undefined).
 * The language's own text in its Polly voice only when the use case offers the language and sets
 * both; anything missing, and the whole line is the use case's own, in its language and voice:
 * never a Spanish voice reading English text, nor the reverse.
 */
export function chimeLineIn(
  useCase: UseCase,
  language: string | undefined,
  line: ChimeLine,
): ChimeSpeech {
  const own: ChimeSpeech = {
    text: ownChimeLine(useCase, line),
    language: useCase.language,
    voice: useCase.voice.chime,
  };
  if (language === undefined || language.toLowerCase() === useCase.language.toLowerCase()) {
    return own;
  }
  const offered = offeredLanguage(useCase, language);
  if (!offered.ok) return own;
  const { option } = offered;
  const text = optionChimeLine(option, line);
  const voice = option.voice?.chime;
  if (text === undefined || voice === undefined) return own;
  return { text, language: option.language, voice };
}

const useCaseFile = z
  .object({ defaultUseCase: z.string(), useCases: z.array(useCase).min(1) })
  .superRefine((file, ctx) => {
    const seen = new Map<string, string>();
    const claim = (value: string, owner: string, path: (string | number)[]) => {
      const prev = seen.get(value);
      if (prev !== undefined) {
        ctx.addIssue({ code: 'custom', path, message: `${value} is already used by ${prev}` });
      }
      seen.set(value, owner);
    };
    file.useCases.forEach((uc, i) => {
      claim(`id ${uc.id}`, uc.id, ['useCases', i, 'id']);
      uc.dialedNumbers.forEach((n, j) => claim(n, uc.id, ['useCases', i, 'dialedNumbers', j]));
      claim(uc.livekitNumber, uc.id, ['useCases', i, 'livekitNumber']);
      const from = uc.outbound?.fromNumber;
      if (from !== undefined && !uc.dialedNumbers.includes(from)) {
        ctx.addIssue({
          code: 'custom',
          path: ['useCases', i, 'outbound', 'fromNumber'],
          message: `${from} is not one of this use case's dialedNumbers`,
        });
      }
      if (!(uc.defaultQueue in uc.queues)) {
        ctx.addIssue({
          code: 'custom',
          path: ['useCases', i, 'defaultQueue'],
          message: `"${uc.defaultQueue}" is not one of this use case's queues`,
        });
      }
    });
    if (!file.useCases.some((uc) => uc.id === file.defaultUseCase)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultUseCase'],
        message: `"${file.defaultUseCase}" is not a use case id`,
      });
    }
  });

export type UseCase = z.infer<typeof useCase>;
/** One use case as written (before defaults): what the store keeps and an operator puts. */
export type UseCaseInput = z.input<typeof useCase>;
/** The schema of one use case and of a whole file: the store and `npm run use-case` check both. */
export const useCaseSchema = useCase;
export const useCaseFileSchema = useCaseFile;
export type UseCaseSpeech = z.infer<typeof speech>;
export type UseCaseLanguage = z.infer<typeof languageOption>;
export type UseCaseLines = z.infer<typeof lines>;
export type UseCaseTurnTaking = z.infer<typeof turnTaking>;
export type Queue = z.infer<typeof queue>;
export type UseCaseCallbacks = z.infer<typeof callbacks>;
export type UseCaseRecording = z.infer<typeof recording>;
export type UseCaseOutbound = z.infer<typeof outbound>;
export type UseCaseAccess = z.infer<typeof access>;
export type UseCaseLimits = z.infer<typeof limits>;
export type UseCaseFile = z.infer<typeof useCaseFile>;

export class UseCaseFileError extends Error {
  override name = 'UseCaseFileError';
}

/** Lookups over a validated use-case file. */
export class UseCaseCatalog {
  readonly defaultUseCase: UseCase;
  private readonly byId: Map<string, UseCase>;
  private readonly byNumber: Map<string, UseCase>;

  constructor(readonly file: UseCaseFile) {
    this.byId = new Map(file.useCases.map((uc) => [uc.id, uc]));
    this.byNumber = new Map(file.useCases.flatMap((uc) => uc.dialedNumbers.map((n) => [n, uc])));
    const def = this.byId.get(file.defaultUseCase);
    if (!def) throw new UseCaseFileError(`default use case ${file.defaultUseCase} missing`);
    this.defaultUseCase = def;
  }

  get all(): readonly UseCase[] {
    return this.file.useCases;
  }

  byIdOrUndefined(id: string | undefined): UseCase | undefined {
    return id === undefined ? undefined : this.byId.get(id);
  }

  byDialedNumber(number: string | undefined): UseCase | undefined {
    return number === undefined ? undefined : this.byNumber.get(number);
  }
}

/** Every problem of a use-case file, one line each (`path: message`); none when it is valid. */
export function useCaseFileProblems(data: unknown): string[] {
  const res = useCaseFile.safeParse(data);
  return res.success ? [] : res.error.issues.map(problemLine);
}

function problemLine(i: z.core.$ZodIssue): string {
  return `${i.path.join('.') || '(root)'}: ${i.message}`;
}

export function parseUseCases(data: unknown, source = 'use cases'): UseCaseCatalog {
  const res = useCaseFile.safeParse(data);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${problemLine(i)}`);
    throw new UseCaseFileError(`${source} is invalid:\n${lines.join('\n')}`);
  }
  return new UseCaseCatalog(res.data);
}

export function loadUseCasesFile(path: string): UseCaseCatalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new UseCaseFileError(`cannot read use-case file ${path}`, { cause });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new UseCaseFileError(`use-case file ${path} is not valid JSON`, { cause });
  }
  return parseUseCases(data, `use-case file ${path}`);
}

/** The use cases of a process: USE_CASES_FILE when set, else the file bundled with the code. */
export function loadUseCases(file: string | undefined, bundled: unknown): UseCaseCatalog {
  return file ? loadUseCasesFile(file) : parseUseCases(bundled, 'bundled use cases');
}
