// The call's limits, from the agent's side (contracts/use-cases.ts `limits`): a caller who says
// nothing is checked in on, twice at most, and after `silence.endAfterMs` the agent says goodbye
// and ends the call (`caller_silent`); a minute before `maxCallSeconds` it offers a person once,
// and at the maximum it says goodbye and ends the call (`max_duration`) unless a transfer is under
// way. Ending goes through hangUpCall, as end_call does; in a dev room that leaves the room.
//
// The silence clock is our own. The framework's `userAwayTimeout` sets the user `away` once, after
// one session-wide time, restarted from zero whenever the agent stops speaking; it has no second
// check-in, no end, and knows nothing of transfers. What the framework does give, its user and
// agent states, drives the clock: it counts only while the caller is not speaking (VAD: any
// speech, understood or not), the agent is not speaking, and no transfer is in progress; it
// pauses, not restarts, while the agent speaks, so its own check-ins do not keep the call alive.
import { voice } from '@livekit/agents';
import type { Logger } from 'pino';
import type { HangupReason } from '../contracts/reasons.js';
import type { UseCaseLimits } from '../contracts/use-cases.js';
import type { CallControl } from './call-control.js';
import type { CallLines } from './greeting-cache.js';
import type { LineName } from './lines.js';
import { hangUpCall, type HangUpDeps } from './tools/end-call.js';

/** How long before the longest call the agent offers a person. */
export const OFFER_BEFORE_MAX_MS = 60_000;
/** Check-ins before the silent caller's goodbye. */
export const MAX_CHECK_INS = 2;

export type LimitReason = Extract<HangupReason, 'caller_silent' | 'max_duration'>;

/** What the limits make the agent do; each settles once its line has been said (or cut off). */
export interface LimitActions {
  checkIn(): Promise<void>;
  offerPerson(): Promise<void>;
  /** Says goodbye and ends the call. */
  end(reason: LimitReason): Promise<void>;
}

export interface LimitClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The global clock, looked up at each call, so fake timers drive it in tests. */
export const GLOBAL_CLOCK: LimitClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface CallLimitsOptions {
  limits: Pick<UseCaseLimits, 'maxCallSeconds' | 'silence'>;
  logger: Logger;
  clock?: LimitClock;
}

/** One call's limits: fed the call's states, it decides when to check in, offer and end. */
export class CallLimits {
  private readonly clock: LimitClock;
  private actions: LimitActions | undefined;
  private ended = false;
  private caller = false;
  private agent = false;
  private ownLines = 0;
  private transferring = false;
  private maxReached = false;
  private silentMs = 0;
  private runningSince: number | undefined;
  private checkIns = 0;
  private silenceTimer: unknown;
  private readonly callTimers: unknown[] = [];

  constructor(private readonly opts: CallLimitsOptions) {
    this.clock = opts.clock ?? GLOBAL_CLOCK;
  }

  /** The call was answered: the clocks start. Once only, and never after the end. */
  start(actions: LimitActions): void {
    if (this.actions || this.ended) return;
    this.actions = actions;
    const maxMs = this.opts.limits.maxCallSeconds * 1000;
    this.callTimers.push(
      this.clock.setTimeout(() => this.offerPerson(), maxMs - OFFER_BEFORE_MAX_MS),
      this.clock.setTimeout(() => this.reachMax(), maxMs),
    );
    this.reconcile();
  }

  /** The caller started (true) or stopped (false) speaking. */
  callerSpeaking(speaking: boolean): void {
    this.caller = speaking;
    if (speaking) this.heardCaller();
    else this.reconcile();
  }

  /** The caller said something (a transcript): the silence starts over, check-ins too. */
  heardCaller(): void {
    this.fold();
    this.silentMs = 0;
    this.checkIns = 0;
    this.reconcile();
  }

  agentSpeaking(speaking: boolean): void {
    this.agent = speaking;
    this.reconcile();
  }

  /** The call's control, watched: a transfer pauses the limits, a hang-up ends them. */
  watch(control: CallControl | undefined): CallControl | undefined {
    if (!control) return undefined;
    return {
      update: async (update) => {
        if (update.action === 'transfer') this.transferStarted();
        else this.stop();
        try {
          await control.update(update);
        } catch (err) {
          if (update.action === 'transfer') this.transferFailed();
          throw err;
        }
      },
      // A language switch changes nothing the limits watch.
      ...(control.languageChanged ? { languageChanged: (l) => control.languageChanged!(l) } : {}),
    };
  }

  transferStarted(): void {
    this.transferring = true;
    this.reconcile();
  }

  /** The transfer was not made: the agent keeps the caller, and a call past its maximum ends. */
  transferFailed(): void {
    this.transferring = false;
    if (this.maxReached) return this.finish('max_duration');
    this.heardCaller();
  }

  /**
   * The call's line came back after an outage (agent/line-watch.ts): the caller heard nothing and
   * may have spoken into it, so the agent checks in now, unless someone is speaking or a transfer
   * is under way. Not one of the silent caller's check-ins.
   */
  lineRestored(): void {
    if (!this.running()) {
      const { caller, agent, transferring } = this;
      this.opts.logger.info(
        { reason: 'line_restored', callerSpeaking: caller, agentSpeaking: agent, transferring },
        'the line came back while someone speaks; no check-in',
      );
      return;
    }
    this.opts.logger.info({ reason: 'line_restored' }, 'checking in after the line came back');
    this.say(() => this.actions!.checkIn());
  }

  /** The session ended or a hang-up is under way: nothing more from the limits. */
  stop(): void {
    this.ended = true;
    this.fold();
    this.clock.clearTimeout(this.silenceTimer);
    for (const t of this.callTimers) this.clock.clearTimeout(t);
  }

  private running(): boolean {
    return (
      this.actions !== undefined &&
      !this.ended &&
      !this.caller &&
      !this.agent &&
      this.ownLines === 0 &&
      !this.transferring
    );
  }

  /** Adds the time the clock has run since it last started. */
  private fold(): void {
    if (this.runningSince === undefined) return;
    this.silentMs += this.clock.now() - this.runningSince;
    this.runningSince = undefined;
  }

  /** Runs the silence clock, or pauses it, as the call's state now says. */
  private reconcile(): void {
    this.fold();
    this.clock.clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
    if (!this.running()) return;
    this.runningSince = this.clock.now();
    const mark = this.nextMark();
    this.silenceTimer = this.clock.setTimeout(
      () => this.reachMark(mark),
      Math.max(0, mark - this.silentMs),
    );
  }

  private nextMark(): number {
    const { checkInAfterMs, endAfterMs } = this.opts.limits.silence;
    const next = (this.checkIns + 1) * checkInAfterMs;
    return this.checkIns < MAX_CHECK_INS && next < endAfterMs ? next : endAfterMs;
  }

  private reachMark(mark: number): void {
    this.runningSince = undefined;
    this.silentMs = mark;
    if (mark >= this.opts.limits.silence.endAfterMs) return this.finish('caller_silent');
    this.checkIns += 1;
    this.opts.logger.info(
      { checkIn: this.checkIns, silentMs: mark },
      'checking in on a silent caller',
    );
    this.say(() => this.actions!.checkIn());
  }

  private offerPerson(): void {
    if (this.ended || this.transferring) return;
    this.opts.logger.info(
      { maxCallSeconds: this.opts.limits.maxCallSeconds },
      'offering a person before the longest call',
    );
    this.say(() => this.actions!.offerPerson());
  }

  private reachMax(): void {
    this.maxReached = true;
    if (this.ended) return;
    if (this.transferring) {
      this.opts.logger.info({ reason: 'max_duration' }, 'longest call reached during a transfer');
      return;
    }
    this.finish('max_duration');
  }

  /** The clock waits while the agent says a line of the limits' own. */
  private say(line: () => Promise<void>): void {
    this.ownLines += 1;
    this.reconcile();
    const said = async () => line();
    said()
      .catch((err: unknown) => this.opts.logger.warn({ err }, 'limit line not said'))
      .finally(() => {
        this.ownLines -= 1;
        this.reconcile();
      });
  }

  private finish(reason: LimitReason): void {
    if (this.ended || !this.actions) return;
    this.stop();
    this.opts.logger.info(
      { reason, silentMs: this.silentMs },
      'call limit reached; ending the call',
    );
    const end = async () => this.actions!.end(reason);
    end().catch((err: unknown) =>
      this.opts.logger.error({ err, reason }, 'ending the call failed'),
    );
  }
}

/** Feeds the session's user and agent states to the limits; the session's end stops them. */
export function followSession(session: voice.AgentSession, limits: CallLimits): void {
  const E = voice.AgentSessionEventTypes;
  session.on(E.UserStateChanged, (ev) => limits.callerSpeaking(ev.newState === 'speaking'));
  session.on(E.UserInputTranscribed, () => limits.heardCaller());
  session.on(E.AgentStateChanged, (ev) => limits.agentSpeaking(ev.newState === 'speaking'));
  session.on(E.Close, () => limits.stop());
}

/** The limits' lines from the call's cache; the end through hangUpCall, as end_call does. */
export function sessionLimitActions(
  session: voice.AgentSession,
  deps: { lines: CallLines; hangUp: HangUpDeps },
): LimitActions {
  return limitActions(
    (name, allowInterruptions) =>
      deps.lines.say(session, name, { allowInterruptions }).waitForPlayout(),
    (reason) => hangUpCall(deps.hangUp, reason),
  );
}

/** Check-ins and the offer can be cut off by the caller; a goodbye cannot. */
export function limitActions(
  say: (line: LineName, allowInterruptions: boolean) => Promise<void>,
  hangUp: (reason: LimitReason) => Promise<unknown>,
): LimitActions {
  return {
    checkIn: async () => say('checkIn', true),
    offerPerson: async () => say('timeOffer', true),
    end: async (reason) => {
      await say(reason === 'caller_silent' ? 'silentGoodbye' : 'goodbye', false);
      await hangUp(reason);
    },
  };
}
