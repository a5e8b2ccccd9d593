// Scenario files for the lab's scripted caller (lab/caller/scenarios/*.yaml): what the caller says
// and when, the pauses, and what must hold (hears a greeting within, is transferred, the call
// ends, hangs up after). A file is validated in full before any call is placed; every problem is
// reported with its path in the file.
//
//   name: ask-then-transfer
//   description: The caller asks about a missed pickup, then asks for a person.
//   queueAnswers: true              # does the Connect stand-in's queue answer? (default true)
//   registers: false                # confirm the caller's number by SMS code first (default false)
//   steps:
//     - greeting: { withinMs: 3000 }  # first audio from the agent, timed from the answer
//     - say: My trash was not picked up this week.
//       then: { hears: agent, atLeastMs: 3000, withinMs: 15000 }
//     - say: I would like to talk to a person please.
//       then: { transferred: true, withinMs: 15000 }
//     - listen: { hears: person, atLeastMs: 2000, withinMs: 10000 }
//     - hangUp: { afterMs: 500 }
//   expect: { disposition: transferred, transferOutcome: connected }
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import * as z from 'zod';
import { e164, queueKey } from '../../contracts/ids.js';

export const SCENARIO_DIR = join(import.meta.dirname, 'scenarios');
export const DEFAULT_SCENARIO = 'ask-then-transfer';

const ms = (max: number) => z.number().int().min(0).max(max);

/**
 * Who the caller hears: the AI agent, the person in the queue, Chime's own voice (Speak,
 * PlayAudio), or anyone of them (a caller who must not be left on a silent line).
 */
export const Who = z.enum(['agent', 'person', 'chime', 'anyone']);
export type Who = z.infer<typeof Who>;

const Hears = z.strictObject({
  hears: Who,
  /** Audible speech (not silence), in total, from that side. */
  atLeastMs: ms(120_000).default(1000),
  withinMs: ms(600_000),
});
const Transferred = z.strictObject({
  /** The person's words reach the caller (CTD ends here). */
  transferred: z.literal(true),
  withinMs: ms(600_000),
});
const CallEnds = z.strictObject({
  /** The far end ends the call: both legs gone. */
  callEnds: z.literal(true),
  withinMs: ms(600_000),
});
export const Expectation = z.union([Hears, Transferred, CallEnds]);
export type Expectation = z.infer<typeof Expectation>;

const Step = z.union([
  z.strictObject({
    /** The agent's first audio reaches the caller within this long after the answer. */
    greeting: z.strictObject({ withinMs: ms(60_000) }),
  }),
  z.strictObject({
    /** What the caller says, once the line has been quiet for `afterQuietMs`. */
    say: z.string().trim().min(1).max(500),
    afterQuietMs: ms(10_000).default(800),
    then: Expectation.optional(),
    /**
     * Say it again (once) when `then` did not hold: offline recognition of 8 kHz phone audio
     * misses now and then, the agent asks again, and a caller would repeat themselves.
     */
    repeatIfNotHeard: z.boolean().default(true),
  }),
  z.strictObject({
    /** Keys the caller presses on the keypad (RFC 4733 telephone-events to the agent's leg). */
    press: z.string().regex(/^[0-9*#]{1,20}$/, 'keypad digits: 0-9, * and #'),
    then: Expectation.optional(),
  }),
  z.strictObject({ listen: Expectation }),
  z.strictObject({ pause: ms(600_000) }),
  z.strictObject({ hangUp: z.strictObject({ afterMs: ms(600_000).default(0) }) }),
]);
export type Step = z.infer<typeof Step>;

const LabQueueSetting = z.strictObject({
  agentsAvailable: z.number().int().min(0).max(1000).optional(),
  contactsInQueue: z.number().int().min(0).max(10_000).optional(),
  oldestContactAgeS: z.number().int().min(0).max(86_400).optional(),
  /** Connect's own estimate (ESTIMATED_WAIT_TIME); unset: the instance offers none. */
  estimatedWaitS: z.number().int().min(0).max(86_400).optional(),
  open: z.boolean().optional(),
  /** An hours override closes today (a holiday): Connect's effective hours say closed. */
  closedToday: z.boolean().optional(),
});

export const Scenario = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and dashes'),
  description: z.string().min(1),
  /** The caller's number (E.164) and the number dialled (default: the default use case's). */
  caller: e164.optional(),
  dialed: e164.optional(),
  /** The caller's Flite voice: not the agent's, so the two are told apart. */
  voice: z.string().default('rms'),
  queueAnswers: z.boolean().default(true),
  /**
   * The Connect stand-in's queues for this call, by the use case's queue key (lab/connect/): who
   * is available, how many callers wait and for how long, whether the team is open (its weekly
   * hours, or an override closing today). A queue not named has someone available and is open.
   */
  queues: z.record(queueKey, LabQueueSetting).default({}),
  /**
   * Before dialling, the caller registers their number on the lab's verification API: asks for a
   * code, reads it from the SMS their phone receives, and confirms it (use cases whose access mode
   * is `verified`).
   */
  registers: z.boolean().default(false),
  steps: z.array(Step).min(1),
  expect: z
    .strictObject({
      /** The SMA's state item at the end. */
      disposition: z
        .enum(['ai_completed', 'transferred', 'failed', 'abandoned', 'refused'])
        .optional(),
      transferOutcome: z.string().optional(),
      /** A callback was queued in the Connect stand-in for this call, and kept with its items. */
      callback: z.boolean().optional(),
      /** The caller's message is in the lab's S3, and its item (`voicemail`) with the call's. */
      message: z.boolean().optional(),
      /**
       * Connect's flow found the agent's context for this call (lab/connect/contact-flows.ts), the
       * person heard the whisper and greeted with the topic.
       */
      personKnows: z.boolean().optional(),
    })
    .default({}),
});
export type Scenario = z.infer<typeof Scenario>;

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

/** Parses and validates a scenario's text; `source` names it in errors. */
export function parseScenario(text: string, source: string): Scenario {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new ScenarioError(`${source}: not valid YAML: ${(e as Error).message}`);
  }
  const res = Scenario.safeParse(raw);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new ScenarioError(`${source}: not a valid scenario:\n${lines.join('\n')}`);
  }
  return res.data;
}

/** A scenario by file path, or by name from the bundled scenarios. */
export function loadScenario(pathOrName: string): Scenario {
  const path = /[/\\]|\.ya?ml$/.test(pathOrName)
    ? pathOrName
    : join(SCENARIO_DIR, `${pathOrName}.yaml`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(e);
    throw new ScenarioError(`scenario ${pathOrName}: ${why} (${path})`);
  }
  return parseScenario(text, basename(path));
}
