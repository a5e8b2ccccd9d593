// switch_language: the caller asks to go on in another language, and the call switches to it in
// place: the recognizer (a new stream, opened with the language), the model (its instructions
// now name the language) and the voice, with the call's fixed lines, change together; the caller
// hears the language's confirmation in its voice. Only the languages the use case lists
// (`languages`) can be switched to: the tool takes a language tag and refuses any other, so nothing
// a caller says selects anything beyond that list. A worker whose speech set cannot speak the
// language (the offline set hears and speaks English only) changes nothing and says so.
//
// The call's controller (the SMA) is told of the switch, and later updates carry the language, so
// that what Chime says itself (a notice, an apology, the message prompts) follows it.
//
// The framework's own mechanism does the switch: Agent.updateOptions() on the running agent swaps
// its STT (the recognizer's stream is closed and a new one opened), LLM and TTS, and
// updateInstructions() its system prompt; the conversation, the tools and the turn detector carry
// on (docs/decisions/language-switch.md).
import { llm, voice, type VAD } from '@livekit/agents';
import type { Logger } from 'pino';
import * as z from 'zod';
import { offeredLanguage, type UseCase, type UseCaseLanguage } from '../contracts/use-cases.js';
import type { CallContext } from './call-context.js';
import type { CallControl } from './call-control.js';
import type { CallLines } from './greeting-cache.js';
import { CallVad } from './providers/call-vad.js';
import type { SpeechProviders } from './providers/index.js';
import { outcome, ToolOutcome } from './tools/outcome.js';
import { servingFor } from './unserved.js';

/** The English name of a language tag's base language ("Spanish" for `es-US`). */
export function languageName(tag: string): string {
  const base = tag.split('-')[0]!;
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(base) ?? base;
  } catch {
    return base;
  }
}

/** The use case's offer of `tag` (case aside, exactly as listed), or undefined. */
export function languageOptionOf(useCase: UseCase, tag: string): UseCaseLanguage | undefined {
  const offered = offeredLanguage(useCase, tag.trim());
  return offered.ok ? offered.option : undefined;
}

/**
 * The call's use case in one of its languages: that language, its voices (the use case's where it
 * sets none), its fixed lines (where it sets none: the use case's own in its own language, the
 * English defaults in any other), and its confirmation in the place of the greeting. Everything
 * else (queues, limits, instructions) is the use case's.
 */
export function inLanguage(useCase: UseCase, option: UseCaseLanguage): UseCase {
  const { lines: own, ...rest } = useCase;
  const home = option.language.toLowerCase() === useCase.language.toLowerCase();
  const lines = option.lines ?? (home ? own : undefined);
  return {
    ...rest,
    language: option.language,
    greeting: option.confirmation,
    voice: { ...useCase.voice, ...definedOnly(option.voice ?? {}) },
    ...(lines ? { lines } : {}),
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Every use case in each language it offers that `providers` can speak: their fixed lines are
 * rendered at prewarm like the use cases' own, so a confirmation plays from memory.
 */
export function languageVariants(
  useCases: readonly UseCase[],
  providers: SpeechProviders,
): UseCase[] {
  return useCases.flatMap((uc) =>
    uc.languages.map((l) => inLanguage(uc, l)).filter((v) => servingFor(providers, v).ok),
  );
}

/** What the model is told once the call is in `useCase`'s language (after its own instructions). */
export function languageInstructions(base: string, useCase: UseCase): string {
  const name = languageName(useCase.language);
  return (
    `${base}\n\nThe caller asked to go on in ${name} (${useCase.language}): from now on, answer ` +
    `only in ${name}, whatever the instructions above say.`
  );
}

export interface LanguageSwitchDeps {
  /** The call as admitted: its use case in its own language. */
  call: CallContext;
  providers: SpeechProviders;
  /** The call's fixed lines: they switch with the call. */
  lines: CallLines | undefined;
  logger: Logger;
  /** The agent's instructions for the call (agent/call-agent.ts). */
  instructionsFor: (call: CallContext) => string;
  /** Told of each switch: the conversation record keeps the language. */
  onSwitched?: (language: string) => void;
  /** The call's control: told of each switch (CallControl.languageChanged); none in a dev room. */
  control?: CallControl | undefined;
  now?: () => number;
}

/** The tool's parameters: a language tag, one of the use case's (the schema lists them). */
export function switchParameters(useCase: UseCase) {
  const tags = useCase.languages.map((l) => l.language).join(', ');
  return z.object({
    language: z.string().max(35).describe(`The language tag, one of: ${tags}`),
  });
}

/** switch_language, on a use case that lists languages; none otherwise. */
export function switchLanguageTools(deps: LanguageSwitchDeps) {
  return deps.call.useCase.languages.length > 0 ? [switchLanguageTool(deps)] : [];
}

export function switchLanguageTool(deps: LanguageSwitchDeps) {
  const home = deps.call.useCase;
  const offered = home.languages.map((l) => `${l.language} (${languageName(l.language)})`);
  let current = home.language;
  const log = deps.logger.child({ tool: 'switch_language' });
  return llm.tool({
    name: 'switch_language',
    description:
      `Switch the call to another language when the caller asks to speak it. language must be ` +
      `one of: ${offered.join(', ')}. After the switch the caller hears a confirmation; answer ` +
      `in that language from then on.`,
    parameters: switchParameters(home),
    execute: async ({ language }, { ctx }) => {
      const option = languageOptionOf(home, language);
      if (!option) {
        // The model's argument is not logged as it came: only whether it was offered.
        log.warn({ reason: 'not_offered', current }, 'language switch refused');
        return outcome(
          ToolOutcome.languageRefused,
          `This line does not offer that language; it offers ${offered.join(', ')}. ` +
            `Tell the caller, in the current language.`,
        );
      }
      if (option.language.toLowerCase() === current.toLowerCase()) {
        return outcome(ToolOutcome.languageCurrent, `The call is in ${option.language} already.`);
      }
      const target = inLanguage(home, option);
      const serving = servingFor(deps.providers, target);
      if (!serving.ok) {
        log.info(
          { reason: 'language_unavailable', why: serving.why, to: option.language, current },
          'language switch not possible with this speech set',
        );
        return outcome(
          ToolOutcome.languageUnavailable,
          `This line cannot speak ${languageName(option.language)} now. Say so in the current ` +
            `language and offer to connect the caller with a person.`,
        );
      }
      const now = deps.now ?? Date.now;
      const started = now();
      await switchSession(ctx.session, target, deps);
      deps.lines?.switchTo(target);
      const from = current;
      current = option.language;
      deps.onSwitched?.(current);
      log.info({ from, to: current, switchMs: now() - started }, 'language switched');
      tellControl(deps.control, current, log);
      // The confirmation, in the new voice; the caller's next words are heard in the new language.
      if (deps.lines) await deps.lines.say(ctx.session, 'greeting').waitForPlayout();
      else await ctx.session.say(target.greeting).waitForPlayout();
      // No output: the confirmation was the reply (the model is not asked for another).
      return undefined;
    },
  });
}

/**
 * The call's controller learns the language while the caller hears the confirmation; a failure
 * costs only Chime's own lines until the next update, which carries the language again.
 */
function tellControl(control: CallControl | undefined, language: string, log: Logger): void {
  control?.languageChanged?.(language).catch((err: unknown) => {
    log.warn(
      { reason: 'language_not_told', error: (err as Error)?.message },
      'the call controller was not told of the language',
    );
  });
}

/**
 * Gives the running agent `target`'s recognizer, model and voice, and its instructions. The new
 * components follow the call's own VAD (the offline fallback recognizer listens by it) and are
 * closed with the session.
 */
async function switchSession(
  session: voice.AgentSession,
  target: UseCase,
  deps: LanguageSwitchDeps,
): Promise<void> {
  const vad: VAD | undefined = session.vad;
  const parts = deps.providers.components(target, vad instanceof CallVad ? vad : undefined);
  session.once(voice.AgentSessionEventTypes.Close, () => {
    void parts.stt.close().catch(() => {});
    void parts.tts.close().catch(() => {});
    void parts.llm.aclose().catch(() => {});
  });
  const agent = session.currentAgent;
  await agent.updateOptions({ stt: parts.stt, llm: parts.llm, tts: parts.tts });
  await agent.updateInstructions(
    languageInstructions(deps.instructionsFor({ ...deps.call, useCase: target }), target),
  );
}
