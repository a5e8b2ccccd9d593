// One call, from the agent's side: wait for the caller's participant, decide whether to take its
// call (a SIP participant without the SMA's valid call token is hung up at once, nothing said),
// start the session, play the cached greeting the moment the call is answered, and end cleanly when
// the caller goes. Provider failures get a spoken fallback line; repeated failure hands the caller
// to a person. A silent caller is checked in on, and a call kept to its use case's length
// (agent/call-limits.ts); a caller whose line died without a BYE is sent to a person
// (agent/media-watch.ts).
import { voice, type JobContext } from '@livekit/agents';
import { context, trace } from '@opentelemetry/api';
import { RoomEvent, type RemoteParticipant } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { callTraceId } from '../otel/traceparent.js';
import { DynamoHandoffClaims } from '../store/handoff-claims.js';
import type { UseCaseSource } from '../store/use-case-cache.js';
import { agentFigureAttributes } from '../contracts/console.js';
import type { AgentInstruments } from '../otel/instruments.js';
import { CallAudioInput } from './call-audio-input.js';
import { CallLimits, followSession, sessionLimitActions } from './call-limits.js';
import { watchLineRestored } from './line-watch.js';
import { watchCallerMedia } from './media-watch.js';
import { admitCall, type Admission, type CallContext } from './call-context.js';
import { waitForCaller, whenAnswered } from './caller-arrival.js';
import { ChimeCallControl, type CallControl } from './call-control.js';
import type { AgentConfig } from './config.js';
import { CallLines, type GreetingCache } from './greeting-cache.js';
import { LatencyRecorder } from './latency.js';
import { holdPublications } from './publish-hold.js';
import { callFailurePolicy, watchProviderErrors } from './provider-failures.js';
import { pressZeroTransfers, type HandoffServices } from './handoff.js';
import { CallKeypad, followKeypad } from './keypad.js';
import type { SpeechProviders } from './providers/index.js';
import { forwardInterruptions } from '../twilio/agent-link.js';
import { TwilioCallControl } from '../twilio/call-control.js';
import { handOverUnserved, servingFor } from './unserved.js';
import { callMemoryFor, type CallMemory } from './call-memory.js';
import { Welcome } from './welcome.js';
import { assembleSession, CALL_AUDIO_RATE, roomStartOptions } from './session-assembly.js';

export interface CallDeps {
  config: AgentConfig;
  /** The use cases now: a call reads them once, when it is admitted. */
  useCases: UseCaseSource;
  /** The calls table's client (profiles, records); undefined without CALLS_TABLE. */
  table?: DynamoDBClient;
  providers: SpeechProviders;
  greetings: GreetingCache;
  instruments: AgentInstruments;
  logger: Logger;
  /** Queue status and callbacks (agent/handoff.ts); undefined: a plain transfer. */
  handoff?: HandoffServices;
}

/** The longest the agent's track waits for the call's setup (agent/publish-hold.ts). */
const PUBLISH_HOLD_MAX_MS = 3000;

/** The budget of a Twilio transfer's rolling-number claim, as the SMA's (ADMISSION_TIMEOUT_MS). */
const CLAIM_TIMEOUT_MS = 300;

function controlFor(
  call: CallContext,
  config: AgentConfig,
  table?: DynamoDBClient,
): CallControl | undefined {
  if (call.twilio) {
    // A Twilio call (docs/twilio.md): the same interface, through Twilio's REST API; with the calls
    // table, a transfer with context claims a rolling number as the SMA does (docs/handoff.md).
    const traceId =
      (call.traceContext && trace.getSpanContext(call.traceContext)?.traceId) ??
      callTraceId(call.twilio.callSid);
    return TwilioCallControl.forCall(call.twilio, call.useCase, {
      traceContext: call.traceContext,
      budgetMs: config.transferRetryBudgetMs,
      ...(table && config.table
        ? {
            claims: new DynamoHandoffClaims(table, config.table.name, {
              timeoutMs: CLAIM_TIMEOUT_MS,
            }),
            traceId,
          }
        : {}),
    });
  }
  if (!call.sma) return undefined;
  return ChimeCallControl.forCall(call.sma, {
    traceContext: call.traceContext,
    budgetMs: config.transferRetryBudgetMs,
  });
}

/** When the job began, and its process's CPU then: the call's time and CPU count from here. */
interface JobStart {
  at: number;
  cpu: NodeJS.CpuUsage;
}

export async function runCall(
  ctx: JobContext,
  deps: CallDeps,
  // The job process serves this call only: its CPU from here is the call's.
  start: JobStart = { at: Date.now(), cpu: process.cpuUsage() },
): Promise<void> {
  const phases = new CallPhases(start.at);
  await ctx.connect();
  phases.mark('connected');
  const participant = await waitForCaller(ctx);
  phases.mark('participant');
  const admission = admitCall(participant, deps.useCases.current(), deps.config.calls, Date.now());
  if (!admission.accepted) return refuseCall(ctx, admission, deps);
  const call = admission.call;
  phases.mark('admitted'); // one HMAC after `participant`: the check's cost shows in the log
  // Watched from here, so the answer's time is when it happened, even while the session starts.
  const answered = whenAnswered(ctx.room, participant);
  const log = callLogger(deps.logger, ctx.room.name, call);
  if (admission.callerKeyRefused) {
    // The key itself is never logged: it names the caller.
    log.warn(
      { reason: 'caller_key_refused', check: admission.callerKeyRefused },
      'caller key not bound by the call token: no profile for this call',
    );
  }
  const memory = callMemoryFor(call, deps.table, deps.config.table, log);
  const welcome = new Welcome();
  if (memory) welcome.prepare(memory, call.useCase, deps.providers.renderSpeech, log);
  const { session, agent, lines, control, startLimits, keypad } = prepareSession(
    ctx,
    { call, participant },
    deps,
    log,
    memory,
  );
  // The record and the profile are written as the job ends, whoever ends the call.
  if (memory) ctx.addShutdownCallback(() => memory.finish(session.history.items));
  const latency = superviseCall(ctx, session, participant.identity, {
    call,
    deps,
    log,
    start,
  });
  // The agent's track, whose subscription lets livekit-sip answer, goes out once the setup below
  // is done, so the answer finds the job free (agent/publish-hold.ts).
  const hold = ctx.room.localParticipant
    ? holdPublications(ctx.room.localParticipant, PUBLISH_HOLD_MAX_MS)
    : undefined;
  try {
    // The framework's session spans are started inside this context: parented to the call's trace.
    await context.with(call.traceContext, () =>
      session.start({ agent, ...roomStartOptions(ctx.room, participant.identity) }),
    );
    phases.mark('sessionStarted');
    // The caller's keypad: 0 is a person at any moment; other digits go where they are awaited.
    const pressZero = pressZeroTransfers(session, { call, control, lines, logger: log });
    keypad.otherwise((d) => d === '0' && pressZero());
    ctx.room.once(RoomEvent.Disconnected, followKeypad(ctx.room, participant.identity, keypad));
    if (session.output.audio) latency.attach(session, session.output.audio);
    if (call.twilio && session.output.audio) {
      // The gateway sends Twilio `clear` when a reply is cut (twilio/agent-link.ts).
      forwardInterruptions(session.output.audio, ctx.room, log);
    }
    // What the session's start queued runs first.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    hold?.release();
  }
  const answeredAt = await answered;
  if (answeredAt === undefined) {
    log.info({ reason: 'caller_left_before_answer' }, 'call not answered');
    return;
  }
  latency.markAnswered(answeredAt);
  const serving = servingFor(deps.providers, call.useCase);
  if (!serving.ok) {
    return handOverUnserved(session, call, { lines, control, logger: log }, serving.why);
  }
  if (!welcome.sayWithGreeting(session, deps.greetings, call.useCase)) {
    if (!lines.isCached('greeting'))
      log.warn({ reason: 'greeting_not_cached' }, 'greeting from live TTS');
    const greeting = lines.say(session, 'greeting', { allowInterruptions: true });
    welcome.followGreeting(session, greeting);
  }
  startLimits();
  log.info({ ...phases.since(), answeredMs: answeredAt - phases.start }, 'call set up');
}

/**
 * Ends a call the agent does not take, before anything is said: deleting the room disconnects the
 * SIP participant and livekit-sip ends its call at once (BYE once answered, an error response
 * before); one server request ends the leg, the room and the job. The attributes logged are the
 * caller's own claims: the token is never logged, the claimed TransactionId only shortened.
 */
async function refuseCall(
  ctx: Pick<JobContext, 'room' | 'deleteRoom' | 'shutdown'>,
  refused: Extract<Admission, { accepted: false }>,
  deps: Pick<CallDeps, 'instruments' | 'logger'>,
): Promise<void> {
  const { call, reason, check } = refused;
  deps.instruments.refusedCalls.add(1, { reason, use_case: call.useCase.id, component: 'agent' });
  const claimed = call.sma?.transactionId.slice(0, 64);
  deps.logger.warn(
    {
      room: ctx.room.name,
      reason,
      check,
      useCase: call.useCase.id,
      claimedTransactionId: claimed,
      sipCallId: call.sipCallId,
      pii: { caller: call.callerNumber, dialed: call.dialedNumber },
    },
    'call refused',
  );
  await ctx.deleteRoom();
  ctx.shutdown('call_refused');
}

/** The refusals the agent can count: `forged` and `foreign_sma` (contracts/reasons.ts). */
const AGENT_REFUSALS = ['forged', 'foreign_sma'] as const;

/**
 * Every refusal series at 0 from the start, so an alert's increase() sees the first refused call
 * (a series that appears at 1 hides its first increment).
 */
export function startRefusalsAtZero(instruments: AgentInstruments, config: AgentConfig): void {
  for (const { id } of config.useCases.all) {
    for (const reason of AGENT_REFUSALS) {
      instruments.refusedCalls.add(0, { reason, use_case: id, component: 'agent' });
    }
  }
}

function callLogger(logger: Logger, room: string | undefined, call: CallContext): Logger {
  const log = logger.child({
    room,
    transactionId: call.sma?.transactionId,
    useCase: call.useCase.id,
    kind: call.kind,
  });
  log.info({ pii: { caller: call.callerNumber, dialed: call.dialedNumber } }, 'call started');
  return log;
}

/**
 * The call's session and agent, its fixed lines, what a provider failure makes it do, its limits
 * (agent/call-limits.ts: silence and length) and the watch of the caller's media
 * (agent/media-watch.ts: a line lost without a BYE), which watch every update sent to the SMA and
 * start once the call is answered.
 */
function prepareSession(
  ctx: JobContext,
  { call, participant }: { call: CallContext; participant: RemoteParticipant },
  deps: CallDeps,
  log: Logger,
  memory?: CallMemory,
) {
  const limits = new CallLimits({ limits: call.useCase.limits, logger: log });
  const limited = limits.watch(controlFor(call, deps.config, deps.table));
  const remembered = memory ? memory.watch(limited) : limited;
  const leave = () => ctx.shutdown('agent_left');
  // Outermost, so that its own transfer passes the limits and the memory too.
  const media = watchCallerMedia(ctx.room, participant, call, {
    logger: log,
    settings: deps.config.lineWatch,
    leave,
  });
  const control = media ? media.watch(remembered) : remembered;
  const lines = new CallLines(call.useCase, deps.greetings);
  const keypad = new CallKeypad();
  const { session, agent } = assembleSession(call, {
    providers: deps.providers,
    control,
    logger: log,
    lines,
    leave,
    onTransferStarted: (queue, reason) => log.info({ queue, reason }, 'handed off'),
    memory,
    handoff: { ...deps.handoff, keypad },
  });
  watchProviderErrors(session, callFailurePolicy(session, call, { lines, control, logger: log }));
  followSession(session, limits);
  watchLineRestored(ctx.room, () => limits.lineRestored());
  const hangUp = { call, control, logger: log, leave };
  const startLimits = () => {
    limits.start(sessionLimitActions(session, { lines, hangUp }));
    media?.start();
  };
  return { session, agent, lines, control, startLimits, keypad };
}

/**
 * The call's audio in, its gauges and latencies, and its end. The caller's audio comes in 40 ms
 * frames (the framework's input would take 10 ms ones); the session does not close an input it
 * was given, so the Close handler does.
 */
function superviseCall(
  ctx: JobContext,
  session: voice.AgentSession,
  callerIdentity: string,
  c: { call: CallContext; deps: CallDeps; log: Logger; start: JobStart },
): LatencyRecorder {
  const { instruments } = c.deps;
  const attrs = { component: 'agent', use_case: c.call.useCase.id };
  instruments.activeCalls.add(1, attrs);
  const callerAudio = new CallAudioInput(ctx.room, callerIdentity, CALL_AUDIO_RATE);
  session.input.audio = callerAudio;
  session.on(voice.AgentSessionEventTypes.Close, () => {
    void callerAudio.close();
    instruments.activeCalls.add(-1, attrs);
    logCallEnded(session, c.log, c.start);
    // The call is over (the caller hung up, or the session ended): leave the room at once, so the
    // job ends, the worker's load drops, and nothing lingers in the room.
    ctx.shutdown('call_ended');
  });
  // The figures so far, on the agent's own participant: the console's live call list reads them.
  let ttfaMs: number | undefined;
  const turnsMs: number[] = [];
  const publishFigures = () =>
    void ctx.room.localParticipant
      ?.setAttributes(agentFigureAttributes(ttfaMs, turnsMs))
      .catch((e: unknown) => c.log.debug({ err: (e as Error).message }, 'figures not published'));
  return new LatencyRecorder(instruments, attrs, {
    onTtfa: (ms, at) => {
      c.log.info({ ttfaMs: ms, ...at }, 'first audio');
      ttfaMs = ms;
      publishFigures();
    },
    onTurn: (ms, prediction, at) => {
      c.log.info({ turnMs: ms, ...prediction, ...at }, 'turn');
      turnsMs.push(ms);
      publishFigures();
    },
  });
}

/** The call's end: its job process's CPU (`cpuMs`, every thread) over the job's time (`ms`). */
function logCallEnded(session: voice.AgentSession, log: Logger, start: JobStart) {
  const transcript = session.history.items
    .filter((i) => i.type === 'message')
    .map((i) => `${i.role}: ${i.textContent ?? ''}`);
  const cpu = process.cpuUsage(start.cpu);
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  log.info({ cpuMs, ms: Date.now() - start.at, pii: { transcript } }, 'call ended');
}

/** Milliseconds from the job's start to each step of setting up the call (logged once per call). */
class CallPhases {
  private readonly at: Record<string, number> = {};

  constructor(readonly start: number) {}

  mark(name: string): void {
    this.at[name] = Date.now() - this.start;
  }

  since(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.at).map(([k, v]) => [`${k}Ms`, v]));
  }
}
