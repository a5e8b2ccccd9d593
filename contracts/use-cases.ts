// Use cases: what each dialed number is for. One validated file serves every process (SMA handler,
// agent, provisioning), so one deployment can answer several numbers. docs/architecture.md,
// "Configuration".
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { e164, queueKey, useCaseId } from './ids.js';

const DEFAULT_APOLOGY =
  "We're sorry, we can't connect your call right now. Please call again later. Goodbye.";
const DEFAULT_CONNECTING = 'One moment please, I am connecting you to a member of our team.';
const DEFAULT_NOT_ALLOWED =
  "We're sorry, this line is only for callers who have registered their phone number. Please register your number on our website and call again. Goodbye.";
const DEFAULT_OVER_LIMIT =
  "We're sorry, all of our lines are busy right now. Please call again in a little while. Goodbye.";

/** An Amazon Connect id (instance, queue, contact flow): a UUID in Connect, at most 100 here. */
const connectId = z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'must be an Amazon Connect id');

/** The queue in Amazon Connect behind a queue's number: the agent reads its status (issue 18). */
const connectQueue = z.strictObject({ instanceId: connectId, queueId: connectId });

const queue = z.object({
  number: e164,
  fallbackNumber: e164.optional(),
  description: z.string().optional(),
  /** Set: the agent checks the queue in Connect before a transfer and tells the caller the wait. */
  connect: connectQueue.optional(),
  /**
   * Connect numbers that reach the same queue through the context flow (docs/handoff.md): a
   * transfer with context claims one for a short time, so Connect finds the context by the number
   * dialed. None free (or none listed): the plain `number`, as before.
   */
  rollingNumbers: z
    .array(e164)
    .max(50)
    .refine((n) => new Set(n).size === n.length, 'lists a number twice')
    .optional(),
});

/**
 * Callbacks the agent may queue in Connect for a caller who does not want to wait
 * (docs/agent.md, "Queue status and callbacks"). Unset: no callbacks are offered.
 */
const callbacks = z.strictObject({
  instanceId: connectId,
  /** The contact flow StartOutboundVoiceContact runs: it queues the callback. */
  contactFlowId: connectId,
  /** The queue the callback waits in. */
  queueId: connectId,
  /** The number the callback comes from (a number claimed in the Connect instance). */
  sourceNumber: e164.optional(),
  /** Country calling codes a callback may be placed to (default: the North American plan, 1). */
  callingCodes: z
    .array(z.string().regex(/^[1-9]\d{0,2}$/))
    .min(1)
    .default(['1']),
  /** Premium-rate numbers (900, 976 in the North American plan) may be called back. */
  allowPremium: z.boolean().default(false),
});

/**
 * Calls placed to a person for this use case, bridged to the agent when answered: the console's
 * "Call me" and `npm run call -- dial` (docs/console.md). Unset, or `allowed` false: none. The
 * destinations follow the same rule as callbacks (contracts/phone-numbers.ts).
 */
const outbound = z.strictObject({
  allowed: z.boolean().default(false),
  /** The number the call comes from: one of this use case's dialedNumbers (default the first). */
  fromNumber: e164.optional(),
  /** Country calling codes that may be dialled (default: the North American plan, 1). */
  callingCodes: z
    .array(z.string().regex(/^[1-9]\d{0,2}$/))
    .min(1)
    .default(['1']),
  /** Premium-rate numbers (900, 976 in the North American plan) may be dialled. */
  allowPremium: z.boolean().default(false),
});

const DEFAULT_RECORDING_NOTICE = 'This call may be recorded for quality and training purposes.';

/**
 * Call recordings (docs/architecture.md, "Recordings"). Unset or `enabled` false: nothing is
 * recorded. On: the caller hears `announcement` before the agent (in the use case's language and
 * Chime voice, or Twilio's <Say>), and the call's line is recorded to RECORDINGS_BUCKET.
 */
const recording = z.strictObject({
  enabled: z.boolean().default(false),
  /** Said to the caller before the agent, in the use case's language (at most 1,000 characters). */
  announcement: z.string().min(1).max(1000).default(DEFAULT_RECORDING_NOTICE),
});

const DEFAULT_VOICEMAIL_PROMPT =
  'No one can take your call right now. Please leave a message after the tone, and press the pound key when you are done.';
const DEFAULT_VOICEMAIL_THANKS = 'Thank you. Your message has been recorded. Goodbye.';

/**
 * A message instead of a dead end (docs/architecture.md, "Recordings"): when the queue and its
 * fallback do not answer, Chime says `prompt`, records the caller (RecordAudio) to
 * RECORDINGS_BUCKET for up to `maxSeconds`, says `thanks` and ends the call. Unset or off: the
 * apology, as before.
 */
const voicemail = z.strictObject({
  enabled: z.boolean().default(false),
  prompt: z.string().min(1).max(1000).default(DEFAULT_VOICEMAIL_PROMPT),
  thanks: z.string().min(1).max(1000).default(DEFAULT_VOICEMAIL_THANKS),
  maxSeconds: z.number().int().min(5).max(300).default(60),
});

const faqEntry = z.object({
  id: z.string().regex(/^[a-z0-9_-]+$/),
  question: z.string().min(1),
  /** Words and phrases that identify the question when a caller asks it (local dialogue engine). */
  keywords: z.array(z.string().min(1)).min(1),
  answer: z.string().min(1),
});

/**
 * Who may reach the agent (docs/architecture.md, "Access and limits"). The block list applies in
 * every mode; it and the allow list live in the calls table, keyed by contracts/callers.ts.
 */
const access = z
  .strictObject({
    /**
     * `open`: anyone not blocked; `verified`: callers who confirmed their number with a code sent by
     * SMS; `allowlist`: only numbers an operator allowed.
     */
    mode: z.enum(['open', 'verified', 'allowlist']).default('open'),
    /** A caller who may not reach the agent: Chime says `messages.notAllowed` and ends the call, or people. */
    refused: z.enum(['message', 'people']).default('message'),
    /** How long a confirmed number stays verified. */
    verifiedForDays: z.number().int().min(1).max(365).default(30),
  })
  .default({ mode: 'open', refused: 'message', verifiedForDays: 30 });

const silence = z
  .strictObject({
    /** The agent checks in when the caller has said nothing for this long, and again after as long. */
    checkInAfterMs: z.number().int().min(3000).max(60_000).default(8000),
    /** The agent ends the call politely after this long without a word from the caller. */
    endAfterMs: z.number().int().min(10_000).max(600_000).default(30_000),
  })
  .default({ checkInAfterMs: 8000, endAfterMs: 30_000 })
  .refine((s) => s.endAfterMs > s.checkInAfterMs, 'endAfterMs must be longer than checkInAfterMs');

/** Caps and rates (enforced by the SMA) and the length of a call (enforced by the agent). */
const limits = z
  .strictObject({
    /**
     * Calls of this use case with the agent at once, at most; unset: only the deployment's cap.
     * Its leases share one DynamoDB item (400 KB, about 7,500 leases), hence the ceiling.
     */
    maxConcurrentCalls: z.number().int().min(1).max(5000).optional(),
    /** Calls from one number per clock hour, at most; unset: no limit. */
    callsPerCallerPerHour: z.number().int().min(1).max(1000).optional(),
    /** A call over a cap or rate: to people, or Chime says `messages.overLimit` and ends it. */
    overLimit: z.enum(['people', 'message']).default('people'),
    /** The longest conversation with the agent; it offers a person a minute before. */
    maxCallSeconds: z.number().int().min(120).max(14_400).default(1800),
    silence,
  })
  .default({
    overLimit: 'people',
    maxCallSeconds: 1800,
    silence: { checkInAfterMs: 8000, endAfterMs: 30_000 },
  });

/**
 * How the agent takes turns on this use case's calls (docs/decisions/turn-timing.md): endpointing's
 * wait after the caller's last speech when the turn detector says the turn is over, and its wait
 * when the detector says the caller goes on; whether the caller can talk over the agent.
 */
const turnTaking = z
  .strictObject({
    endpointingMinMs: z.number().int().min(100).max(3000).default(400),
    endpointingMaxMs: z.number().int().min(500).max(10_000).default(2500),
    interruptions: z.boolean().default(true),
  })
  .default({ endpointingMinMs: 400, endpointingMaxMs: 2500, interruptions: true })
  .refine(
    (t) => t.endpointingMaxMs > t.endpointingMinMs,
    'endpointingMaxMs must be longer than endpointingMinMs',
  );

/**
 * The speech providers and models of this use case's calls. `worker`: the worker's set
 * (SPEECH_PROVIDERS); `cloud`: cloud speech, and a worker without cloud keys says it cannot serve
 * the call and hands the caller to a person; `local`: the offline set even on a cloud worker.
 */
const speech = z
  .strictObject({
    providers: z.enum(['worker', 'local', 'cloud']).default('worker'),
    /** The cloud recognizer's model (Deepgram); unset: `nova-3`. */
    sttModel: z.string().min(1).max(64).optional(),
    /** The cloud LLM's chat model; unset: the worker's OPENAI_MODEL. */
    llmModel: z.string().min(1).max(64).optional(),
    /** The cloud LLM's sampling temperature; unset: the provider's default. */
    temperature: z.number().min(0).max(2).optional(),
  })
  .default({ providers: 'worker' });

/** What is kept of this use case's calls once they end (docs/architecture.md, "DynamoDB"). */
const memory = z
  .strictObject({
    /** The conversation record: the transcript (both sides, with times) and a short summary. */
    storeTranscripts: z.boolean().default(true),
    /** Caller profiles: read at the call's start ("welcome back"), updated at its end. */
    callerProfiles: z.boolean().default(true),
  })
  .default({ storeTranscripts: true, callerProfiles: true });

/**
 * A BCP 47 language tag as the speech providers take it: `en-US`, `es`, `pt-BR` (at most 35
 * characters). The call update and the call's state carry one too (contracts/call-update.ts).
 */
export const LanguageTag = z
  .string()
  .max(35, 'must be a language tag of at most 35 characters')
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag like "en-US" or "es"');
const language = LanguageTag;

const fixedLine = z.string().min(1).max(1000);

/**
 * The agent's fixed lines in this use case's words (agent/lines.ts; unset ones are the English
 * defaults): a use case in another language sets them in it.
 */
const lines = z.strictObject({
  handoff: fixedLine.optional(),
  trouble: fixedLine.optional(),
  goodbye: fixedLine.optional(),
  checkIn: fixedLine.optional(),
  silentGoodbye: fixedLine.optional(),
  notServed: fixedLine.optional(),
  timeOffer: fixedLine.optional(),
});

/**
 * A language the caller may ask the agent to switch to mid-call (cloud speech; docs/agent.md,
 * "Switching language"). Only the languages listed here can be switched to; the use case's own
 * `language` is listed too when a caller may switch back to it.
 */
const languageOption = z.strictObject({
  language,
  /** Said in that language, in its voice, once the agent has switched: a confirmation. */
  confirmation: fixedLine,
  /**
   * The voices of that language (unset: the use case's). `chime`: the Amazon Polly voice of what
   * Chime says itself once the call is in that language (unset: Chime keeps the use case's own
   * language, voice and messages).
   */
  voice: z
    .strictObject({
      local: z.string().optional(),
      cloud: z.string().optional(),
      chime: z.string().min(1).max(64).optional(),
    })
    .optional(),
  /** The fixed lines in that language (unset: the English defaults). */
  lines: lines.optional(),
  /**
   * What Chime says itself in that language after a switch (the use case's `messages`); each one
   * unset, or no `voice.chime`: Chime says the use case's own, in its language and voice.
   */
  messages: z
    .strictObject({ apology: fixedLine.optional(), connecting: fixedLine.optional() })
    .optional(),
  /** The message prompts in that language (the use case's `voicemail`), as `messages`. */
  voicemail: z
    .strictObject({ prompt: fixedLine.optional(), thanks: fixedLine.optional() })
    .optional(),
});

const languages = z
  .array(languageOption)
  .max(8)
  .refine(
    (ls) => new Set(ls.map((l) => l.language.toLowerCase())).size === ls.length,
    'lists a language twice',
  )
  .default([]);

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
