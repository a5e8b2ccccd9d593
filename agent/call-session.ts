// One call, from the agent's side: wait for the caller's participant, read the call context, start
// the session, play the cached greeting the moment the call is answered, and end cleanly when the
// caller goes. Provider failures get a spoken fallback line; repeated failure hands the caller to
// a person.
import { voice, type JobContext } from '@livekit/agents';
import { context } from '@opentelemetry/api';
import { contextFromTraceparent } from '../otel/traceparent.js';
import { ParticipantKind, RoomEvent, type RemoteParticipant } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import type { AgentInstruments } from '../otel/instruments.js';
import { CallAudioInput } from './call-audio-input.js';
import { createCallAgent } from './call-agent.js';
import { readCallContext, LiveKitSipAttribute, type CallContext } from './call-context.js';
import { ChimeCallControl, type CallControl } from './call-control.js';
import type { AgentConfig } from './config.js';
import type { GreetingCache } from './greeting-cache.js';
import { LatencyRecorder } from './latency.js';
import { PROVIDER_TROUBLE_LINE, watchProviderErrors } from './provider-failures.js';
import { HANDOFF_LINE } from './tools/transfer-to-human.js';
import type { SpeechProviders } from './providers/index.js';

export interface CallDeps {
  config: AgentConfig;
  providers: SpeechProviders;
  greetings: GreetingCache;
  instruments: AgentInstruments;
  logger: Logger;
}

function controlFor(call: CallContext, config: AgentConfig): CallControl | undefined {
  if (!call.sma) return undefined;
  return new ChimeCallControl({
    client: ChimeCallControl.clientFor(call.sma.region),
    sipMediaApplicationId: call.sma.sipMediaApplicationId,
    transactionId: call.sma.transactionId,
    budgetMs: config.transferRetryBudgetMs,
  });
}

/**
 * When the SIP participant's call is answered (sip.callStatus = active; at once for a dev room
 * participant), or undefined if the caller leaves before that.
 */
function whenAnswered(room: JobContext['room'], p: RemoteParticipant): Promise<number | undefined> {
  const status = () => p.attributes[LiveKitSipAttribute.callStatus];
  if (p.kind !== ParticipantKind.SIP || status() === undefined || status() === 'active') {
    return Promise.resolve(Date.now());
  }
  return new Promise((resolve) => {
    const done = (at: number | undefined) => {
      room.off(RoomEvent.ParticipantAttributesChanged, onChange);
      room.off(RoomEvent.ParticipantDisconnected, onLeft);
      resolve(at);
    };
    const onChange = (_changed: Record<string, string>, who: { identity: string }) => {
      if (who.identity === p.identity && status() === 'active') done(Date.now());
    };
    const onLeft = (who: { identity: string }) => {
      if (who.identity === p.identity) done(undefined);
    };
    room.on(RoomEvent.ParticipantAttributesChanged, onChange);
    room.on(RoomEvent.ParticipantDisconnected, onLeft);
  });
}

/**
 * The rate of the agent's audio in and out. The phone line carries 8 kHz; 16 kHz is what the VAD
 * and the speech models work at, so the framework resamples nothing per frame (its 24 kHz default
 * would cost a resampler each way on every frame).
 */
const CALL_AUDIO_RATE = 16000;

export async function runCall(ctx: JobContext, deps: CallDeps): Promise<void> {
  const phases = new CallPhases();
  const cpuAtStart = process.cpuUsage(); // the job process serves this call only
  await ctx.connect();
  phases.mark('connected');
  const participant = await ctx.waitForParticipant();
  phases.mark('participant');
  // Watched from here, so the answer's time is when it happened, even while the session starts.
  const answered = whenAnswered(ctx.room, participant);
  const call = readCallContext(participant.attributes, deps.config.useCases);
  const log = deps.logger.child({
    room: ctx.room.name,
    transactionId: call.sma?.transactionId,
    useCase: call.useCase.id,
    kind: call.kind,
  });
  log.info({ pii: { caller: call.callerNumber, dialed: call.dialedNumber } }, 'call started');
  const attrs = { component: 'agent', use_case: call.useCase.id };
  deps.instruments.activeCalls.add(1, attrs);

  const control = controlFor(call, deps.config);
  const session = new voice.AgentSession({ ...deps.providers.forSession(call.useCase) });
  const agent = createCallAgent({
    call,
    control,
    logger: log,
    leave: () => ctx.shutdown('agent_left'),
    onTransferStarted: (queue, reason) => log.info({ queue, reason }, 'handed off'),
  });
  const latency = new LatencyRecorder(deps.instruments, attrs, {
    onTtfa: (ms) => log.info({ ttfaMs: ms }, 'first audio'),
    onTurn: (ms) => log.info({ turnMs: ms }, 'turn'),
  });

  watchProviderErrors(session, {
    logger: log,
    sayTrouble: () =>
      void session.say(PROVIDER_TROUBLE_LINE, {
        audio: deps.greetings.stream(call.useCase, PROVIDER_TROUBLE_LINE),
      }),
    handOff: async () => {
      const handoff = deps.greetings.stream(call.useCase, HANDOFF_LINE);
      await session
        .say(HANDOFF_LINE, { audio: handoff, allowInterruptions: false })
        .waitForPlayout();
      if (!control) return;
      const queue = call.useCase.defaultQueue;
      await control.update({
        action: 'transfer',
        queue,
        reason: 'agent_error',
        requestedAt: Date.now(),
        traceparent: call.traceparent,
      });
    },
  });
  const callerAudio = new CallAudioInput(ctx.room, participant.identity, CALL_AUDIO_RATE);
  session.on(voice.AgentSessionEventTypes.Close, () => {
    void callerAudio.close();
    deps.instruments.activeCalls.add(-1, attrs);
    const transcript = session.history.items
      .filter((i) => i.type === 'message')
      .map((i) => `${i.role}: ${i.textContent ?? ''}`);
    const cpu = process.cpuUsage(cpuAtStart);
    const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
    log.info({ cpuMs, pii: { transcript } }, 'call ended');
    // The call is over (the caller hung up, or the session ended): leave the room at once, so the
    // job ends, the worker's load drops, and nothing lingers in the room.
    ctx.shutdown('call_ended');
  });

  // The caller's audio in 40 ms frames (the framework's input would take 10 ms ones). The session
  // does not close an input it was given: the Close handler above does.
  session.input.audio = callerAudio;
  // The framework's session spans are started inside this context: parented to the call's trace.
  await context.with(contextFromTraceparent(call.traceparent), () =>
    session.start({
      agent,
      room: ctx.room,
      inputOptions: {
        participantIdentity: participant.identity,
        closeOnDisconnect: true,
        audioEnabled: false, // the input above stands in for the framework's
      },
      outputOptions: { audioSampleRate: CALL_AUDIO_RATE },
    }),
  );
  phases.mark('sessionStarted');
  if (session.output.audio) latency.attach(session, session.output.audio);
  const answeredAt = await answered;
  if (answeredAt === undefined) {
    log.info({ reason: 'caller_left_before_answer' }, 'call not answered');
    return;
  }
  latency.markAnswered(answeredAt);
  const cached = deps.greetings.stream(call.useCase);
  if (!cached) log.warn({ reason: 'greeting_not_cached' }, 'greeting from live TTS');
  session.say(call.useCase.greeting, { audio: cached, allowInterruptions: true });
  log.info({ ...phases.since(), answeredMs: answeredAt - phases.start }, 'call set up');
}

/** Milliseconds from the job's start to each step of setting up the call (logged once per call). */
class CallPhases {
  readonly start = Date.now();
  private readonly at: Record<string, number> = {};

  mark(name: string): void {
    this.at[name] = Date.now() - this.start;
  }

  since(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.at).map(([k, v]) => [`${k}Ms`, v]));
  }
}
