// The parts of a use case (contracts/use-cases.ts): its queues, callbacks, outbound calls,
// recording, messages, access, limits, turn-taking, speech, memory and languages, each a zod
// schema with its defaults. docs/configuration.md says what each setting does.
import * as z from 'zod';
import { e164 } from './ids.js';

/** An Amazon Connect id (instance, queue, contact flow): a UUID in Connect, at most 100 here. */
const connectId = z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'must be an Amazon Connect id');

/** The queue in Amazon Connect behind a queue's number: the agent reads its status (issue 18). */
const connectQueue = z.strictObject({ instanceId: connectId, queueId: connectId });

export const queue = z.object({
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
export const callbacks = z.strictObject({
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
export const outbound = z.strictObject({
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
export const recording = z.strictObject({
  enabled: z.boolean().default(false),
  /** Said to the caller before the agent, in the use case's language (at most 1,000 characters). */
  announcement: z.string().min(1).max(1000).default(DEFAULT_RECORDING_NOTICE),
});

export const DEFAULT_VOICEMAIL_PROMPT =
  'No one can take your call right now. Please leave a message after the tone, and press the pound key when you are done.';
const DEFAULT_VOICEMAIL_THANKS = 'Thank you. Your message has been recorded. Goodbye.';

/**
 * A message instead of a dead end (docs/architecture.md, "Recordings"): when the queue and its
 * fallback do not answer, Chime says `prompt`, records the caller (RecordAudio) to
 * RECORDINGS_BUCKET for up to `maxSeconds`, says `thanks` and ends the call. Unset or off: the
 * apology, as before.
 */
export const voicemail = z.strictObject({
  enabled: z.boolean().default(false),
  prompt: z.string().min(1).max(1000).default(DEFAULT_VOICEMAIL_PROMPT),
  thanks: z.string().min(1).max(1000).default(DEFAULT_VOICEMAIL_THANKS),
  maxSeconds: z.number().int().min(5).max(300).default(60),
});

export const faqEntry = z.object({
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
export const access = z
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
export const limits = z
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
export const turnTaking = z
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
export const speech = z
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
export const memory = z
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
export const language = LanguageTag;

const fixedLine = z.string().min(1).max(1000);

/**
 * The agent's fixed lines in this use case's words (agent/lines.ts; unset ones are the English
 * defaults): a use case in another language sets them in it.
 */
export const lines = z.strictObject({
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
export const languageOption = z.strictObject({
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

export const languages = z
  .array(languageOption)
  .max(8)
  .refine(
    (ls) => new Set(ls.map((l) => l.language.toLowerCase())).size === ls.length,
    'lists a language twice',
  )
  .default([]);
