// When the caller's turn ends with the dialogue engine: the bundled `v1-mini` end-of-turn model
// hears how a line ends (its audio); the engine reads what was said. When the model says the
// caller goes on (endpointing would wait its maximum, 2.5 s) but the words so far are a complete
// request the engine understands, the turn ends after a short hold instead: long enough for a
// pause inside a sentence ("My trash was not picked up … this week"), where the caller speaks
// again before it ends and the turn stays one. An unfinished fragment ("I want to …"), a line the
// engine does not understand, an engine error, or a cloud LLM in place of the engine: the model's
// answer stands (docs/decisions/turn-timing.md).
//
// The framework asks the detector's stream for its probability, then for its threshold, in the
// task that ends the turn; the threshold is where this detector answers "over" (0) for an
// understood request, after the hold. A caller who speaks during the hold cancels that task.
import { inference, voice } from '@livekit/agents';
import type { Logger } from 'pino';
import type { UseCase } from '../contracts/use-cases.js';
import { DialogueLLM, turnsOf } from './dialogue/dialogue-llm.js';
import { Lines, nextReply, normalise, type Turn } from './dialogue/engine.js';
import { followReplies, turnSoFar } from './line-goes-on.js';

/**
 * The framework asks the model for a prediction once the caller has been silent this long
 * (`MIN_SILENCE_DURATION_MS` of @livekit/agents' streaming turn detection, not exported): the
 * caller's last speech is at least this long before the request (on the VAD's first 32 ms window
 * past it, so a hold ends a window or two later than `understoodEndMs`).
 */
const PREDICTION_AFTER_SILENCE_MS = 200;

/**
 * Words a request does not end on: a line that stops on one was cut off ("I want to", "my trash
 * was", "when is the") and the caller is still speaking it.
 */
const UNFINISHED_ENDINGS = new Set([
  // articles, possessives, determiners
  ...['a', 'an', 'the', 'my', 'our', 'your', 'their', 'his', 'her', 'its', 'this', 'these', 'some'],
  // prepositions
  ...['to', 'of', 'in', 'on', 'at', 'for', 'with', 'about', 'from', 'by', 'into', 'near', 'than'],
  // conjunctions and question words
  ...['and', 'or', 'but', 'because', 'if', 'that', 'which', 'who', 'what', 'when', 'where', 'how'],
  // subjects and verbs that need more
  ...['i', 'we', 'is', 'are', 'was', 'were', 'am', 'be', 'been', 'not', 'do', 'does', 'did'],
  ...['can', 'could', 'would', 'will', 'should', 'have', 'has', 'had', "i'm", "it's", "i'd"],
  ...['want', 'need', 'wanna', 'gonna', 'trying', 'going'],
  // hesitations
  ...['um', 'uh', 'er', 'erm', 'hmm'],
]);

/**
 * Whether `transcript`, said after `history`, is a complete request the dialogue engine
 * understands: it does not stop on a word that needs more, and the engine answers it with
 * something other than "didn't catch that" (or the transfer that follows a second one).
 */
export function understoodRequest(useCase: UseCase, history: Turn[], transcript: string): boolean {
  const words = normalise(transcript).split(' ').filter(Boolean);
  if (words.length === 0 || UNFINISHED_ENDINGS.has(words.at(-1)!)) return false;
  const reply = nextReply(useCase, [...history, { role: 'user', text: transcript }]);
  if (reply.kind === 'silent') return false;
  if (reply.kind === 'say') return reply.text !== Lines.notUnderstood;
  return !(reply.name === 'transfer_to_human' && reply.args.reason === 'not_understood');
}

/** Judges the caller's turn so far; false leaves the model's answer. */
export type TurnJudge = (transcript: string) => boolean;

export interface UnderstoodTurnDetectorOptions extends inference.TurnDetectorOptions {
  /**
   * From the caller's last speech, when the turn of an understood request ends though the model
   * says it goes on. At or under endpointing's minimum: at that minimum.
   */
  understoodEndMs: number;
  logger?: Logger;
}

/**
 * The `v1-mini` detector (the same model, executor and thresholds), whose answer "the caller goes
 * on" gives way, after `understoodEndMs`, when the turn so far is an understood request.
 */
export class UnderstoodTurnDetector extends inference.TurnDetector {
  private judge: TurnJudge = () => false;
  private heardSoFar: string[] = [];
  private judgeFailed = false;
  readonly understoodEndMs: number;
  /** @internal */
  readonly _logger: Logger | undefined;

  constructor(opts: UnderstoodTurnDetectorOptions) {
    const { understoodEndMs, logger, ...detector } = opts;
    super(detector);
    this.understoodEndMs = understoodEndMs;
    this._logger = logger;
  }

  /** Reads the session's final transcripts, and judges them by its dialogue engine, if any. */
  follow(session: voice.AgentSession): void {
    session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (ev) => {
      if (ev.isFinal) this.heard(ev.transcript);
    });
    followReplies(session);
    this.judge = (transcript) => {
      // The agent's own model (a language switch gives it new components) or the session's.
      const model = session.currentAgent.llm ?? session.llm;
      if (!(model instanceof DialogueLLM)) return false;
      // A line going on past a reply it cut off is judged whole, as it will be answered.
      const { history, line } = turnSoFar(session, transcript);
      return understoodRequest(model.useCase, turnsOf(history), line);
    };
  }

  /** Judges with `judge` instead of a session's engine (tests). */
  judgeWith(judge: TurnJudge): void {
    this.judge = judge;
  }

  /** A final transcript of the caller's turn in progress. */
  heard(transcript: string): void {
    if (transcript.trim()) this.heardSoFar.push(transcript.trim());
  }

  /** What the caller has said in the turn in progress. */
  get transcript(): string {
    return this.heardSoFar.join(' ');
  }

  /** @internal The turn was committed or cleared: what comes next is the next turn's. */
  _turnEnded(): void {
    this.heardSoFar = [];
  }

  /** @internal Whether the turn so far is an understood request; an engine error says no. */
  _understood(): boolean {
    const transcript = this.transcript;
    if (!transcript) return false;
    try {
      return this.judge(transcript);
    } catch (err) {
      if (!this.judgeFailed) this._logger?.warn({ err }, 'turn end: dialogue engine failed');
      this.judgeFailed = true;
      return false;
    }
  }

  override stream(opts: Parameters<inference.TurnDetector['stream']>[0] = {}) {
    const cloudOpts =
      this._cloudOpts !== undefined
        ? { ...this._cloudOpts, connOptions: opts?.connOptions ?? this._cloudOpts.connOptions }
        : undefined;
    const stream = new UnderstoodTurnStream(this, {
      detector: this,
      opts: this._opts,
      cloudOpts,
      model: this._model,
      executor: this._executor,
    });
    this._streams.add(stream);
    return stream;
  }
}

/** The model's stream, with the threshold answered for an understood request. */
class UnderstoodTurnStream extends inference.TurnDetectorStreamImpl {
  /** The last prediction requested, and when. */
  private request:
    { at: number; fut: ReturnType<inference.TurnDetectorStreamImpl['predict']> } | undefined;
  /** Ends the holds in progress early: the caller spoke again, or the turn ended. */
  private readonly releases = new Set<() => void>();

  constructor(
    private readonly owner: UnderstoodTurnDetector,
    args: ConstructorParameters<typeof inference.TurnDetectorStreamImpl>[0],
  ) {
    super(args);
  }

  override predict() {
    const fut = super.predict();
    this.request = { at: Date.now(), fut };
    return fut;
  }

  override cancelInference(opts?: { timedOut?: boolean }): void {
    this.request = undefined;
    for (const release of this.releases) release();
    super.cancelInference(opts);
  }

  override flush(reason?: string): void {
    this.owner._turnEnded();
    super.flush(reason);
  }

  override async unlikelyThreshold(
    language: Parameters<inference.TurnDetectorStreamImpl['unlikelyThreshold']>[0],
  ) {
    const threshold = await super.unlikelyThreshold(language);
    const request = this.request;
    if (threshold === undefined || !request?.fut.done) return threshold;
    if (request.fut.result.endOfTurnProbability >= threshold) return threshold; // over already
    if (!this.owner._understood()) return threshold;
    this.owner._logger?.debug(
      { probability: request.fut.result.endOfTurnProbability, threshold },
      'turn end: a request the dialogue engine understands, the model saying the caller goes on',
    );
    const lastSpeech = request.at - PREDICTION_AFTER_SILENCE_MS;
    const hold = lastSpeech + this.owner.understoodEndMs - Date.now();
    if (hold > 0) {
      await new Promise<void>((resolve) => {
        const release = () => {
          clearTimeout(timer);
          this.releases.delete(release);
          resolve();
        };
        const timer = setTimeout(release, hold);
        this.releases.add(release);
      });
      // The caller spoke again during the hold (the framework drops this decision anyway).
      if (this.request !== request) return threshold;
    }
    return 0;
  }
}
