// One call's agent session, assembled the same way for either provider set. The set (agent/
// providers) supplies the components: VAD, STT, LLM, TTS. Everything else about the session is
// decided here, once for both, so the offline and cloud paths cannot drift: turn detection by the
// bundled `v1-mini` end-of-turn model (with the dialogue engine's word on understood requests,
// agent/turn-end.ts), VAD interruptions (barge-in), endpointing timed for a phone
// line, the audio rate, and no session recording. Nothing here reaches LiveKit Cloud: left unset,
// the framework would pick a turn detector and an interruption mode of its own, and would record
// the session (traces, logs, transcript, audio) when the server's job asks for it.
import { inference, voice } from '@livekit/agents';
import type { Room } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import type { AgentTransferReason } from '../contracts/reasons.js';
import type { UseCase, UseCaseTurnTaking } from '../contracts/use-cases.js';
import { createCallAgent } from './call-agent.js';
import type { CallContext } from './call-context.js';
import type { CallMemory } from './call-memory.js';
import type { CallControl } from './call-control.js';
import type { CallLines } from './greeting-cache.js';
import type { HandoffServices } from './handoff.js';
import type { SpeechProviders } from './providers/index.js';
import { UnderstoodTurnDetector } from './turn-end.js';
import { TURN_TIMING } from './turn-timing.js';

/** Runs the turn detector's model: the worker's inference process (from the job's context). */
export type TurnExecutor = NonNullable<
  ConstructorParameters<typeof inference.TurnDetector>[0]
>['executor'];

/**
 * The rate of the agent's audio in and out. The phone line carries 8 kHz; 16 kHz is what the VAD
 * and the speech models work at, so the framework resamples nothing per frame (its 24 kHz default
 * would cost a resampler each way on every frame).
 */
export const CALL_AUDIO_RATE = 16000;

export type TurnHandling = NonNullable<voice.AgentSessionOptions['turnHandling']>;

/**
 * The turn handling of one session. The bundled `v1-mini` end-of-turn model runs in the worker's
 * inference process, which the detector finds through the job's context: it is made per session,
 * inside the job (made at prewarm, it has no executor and predicts "turn over" every time). Outside
 * a job (a benchmark) the executor is given. The detector reads the dialogue engine once
 * {@link followTurns} has joined it to its session.
 */
export function turnHandling(
  executor?: TurnExecutor,
  taking: UseCaseTurnTaking = DEFAULT_TURN_TAKING,
  logger?: Logger,
): TurnHandling {
  return {
    turnDetection: new UnderstoodTurnDetector({
      version: 'v1-mini',
      executor,
      understoodEndMs: TURN_TIMING.understoodEndMs,
      logger,
    }),
    endpointing: { minDelay: taking.endpointingMinMs, maxDelay: taking.endpointingMaxMs },
    interruption: { enabled: taking.interruptions, mode: 'vad' },
    // The framework's preemptive generation runs the reply's model on each final transcript; its
    // tools run only once the turn has ended and the reply is kept. With `preemptiveTts` the
    // speech is made then too, and played once the turn ends.
    preemptiveGeneration: { enabled: true, preemptiveTts: TURN_TIMING.preemptiveTts },
  };
}

/** The turn-taking of a use case that sets none (the schema's defaults are these). */
export const DEFAULT_TURN_TAKING: UseCaseTurnTaking = {
  endpointingMinMs: TURN_TIMING.endpointingMinMs,
  endpointingMaxMs: TURN_TIMING.endpointingMaxMs,
  interruptions: true,
};

/**
 * The options of one call's session: the set's components for the use case, and the rest, with
 * the use case's turn-taking (`turnTaking`).
 */
export function sessionOptions(
  providers: SpeechProviders,
  useCase: UseCase,
  logger?: Logger,
): voice.AgentSessionOptions {
  return {
    ...providers.components(useCase),
    turnHandling: turnHandling(undefined, useCase.turnTaking, logger),
  };
}

/**
 * Joins the session's turn detector to the session: the caller's transcripts, and the dialogue
 * engine when the session's model is one (a cloud LLM leaves the `v1-mini` model's answer).
 */
export function followTurns(session: voice.AgentSession): void {
  const detector = session.turnDetection;
  if (detector instanceof UnderstoodTurnDetector) detector.follow(session);
}

export interface SessionDeps {
  providers: SpeechProviders;
  /** Undefined in a dev room: there is no phone call to transfer or hang up. */
  control: CallControl | undefined;
  logger: Logger;
  /** The call's fixed lines, played from the cache. */
  lines?: CallLines;
  leave: () => Promise<void> | void;
  onTransferStarted?: (queue: string, reason: AgentTransferReason) => void;
  /** What the agent remembers of the caller; undefined: nothing (no tools for it). */
  memory?: CallMemory;
  /** Queue status, callbacks, the keypad (agent/handoff.ts); undefined: a plain transfer. */
  handoff?: HandoffServices;
}

export interface AssembledSession {
  session: voice.AgentSession;
  agent: voice.Agent;
}

/** The session and the agent of one call, for either provider set. */
export function assembleSession(call: CallContext, deps: SessionDeps): AssembledSession {
  const session = new voice.AgentSession(sessionOptions(deps.providers, call.useCase, deps.logger));
  followTurns(session);
  const agent = createCallAgent({
    call,
    control: deps.control,
    logger: deps.logger,
    lines: deps.lines,
    leave: deps.leave,
    onTransferStarted: deps.onTransferStarted,
    memory: deps.memory,
    handoff: deps.handoff,
    providers: deps.providers,
    onLanguageSwitched: (language) => deps.memory?.languageChanged(language),
  });
  return { session, agent };
}

export type RoomStartOptions = Omit<Parameters<voice.AgentSession['start']>[0], 'agent'>;

/**
 * How the session joins the call's room. The caller's audio comes from the session's own input
 * (agent/call-audio-input.ts), so the framework's is off; the session ends when the caller goes.
 */
export function roomStartOptions(room: Room, participantIdentity: string): RoomStartOptions {
  return {
    room,
    inputOptions: { participantIdentity, closeOnDisconnect: true, audioEnabled: false },
    outputOptions: { audioSampleRate: CALL_AUDIO_RATE },
    record: false,
  };
}
