// One bench:cpu session in a process of its own, so the process's CPU is the session's.
//   node --import tsx scripts/bench/cpu/session-child.ts callbridge|stock
// Loads what a job process loads (callbridge: its prewarm; stock: the same offline components with
// the framework's defaults), plays the scripted call, prints one JSON line (summary.ts RunResult).
import { readFileSync } from 'node:fs';
import { initializeLogger, voice, type VAD } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { pino } from 'pino';
import useCasesJson from '../../../contracts/use-cases.json' with { type: 'json' };
import { CALLER_FRAME_MS } from '../../../agent/call-audio-input.js';
import { readCallContext, type CallContext } from '../../../agent/call-context.js';
import { createCallAgent } from '../../../agent/call-agent.js';
import { loadAgentConfig } from '../../../agent/config.js';
import { DialogueLLM } from '../../../agent/dialogue/dialogue-llm.js';
import { CallLines, GreetingCache } from '../../../agent/greeting-cache.js';
import { FliteTTS, warmUpFlite } from '../../../agent/providers/flite-tts.js';
import { callTranscriber, loadSpeechProviders } from '../../../agent/providers/index.js';
import { MoonshineModel, MoonshineSTT } from '../../../agent/providers/moonshine-stt.js';
import { assembleSession, CALL_AUDIO_RATE } from '../../../agent/session-assembly.js';
import { RecordingAudioOutput } from '../../../test/helpers/audio.js';
import { callerAudio, CallerLine, playCall } from './conversation.js';
import { RunResult, type Pipeline } from './summary.js';
import { gcMeter, mappedMemory, MeteredTranscriber, onnxMeter } from './meters.js';
import { cpuByRole, readThreads, ThreadRoles } from './threads.js';

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const roles = new ThreadRoles(process.pid);
roles.mark('node (V8 platform, libuv pool)');
const prewarm: Record<string, number> = { imports: Math.round(cpuNow()) };
let lastMark = cpuNow();
function step(name: string): void {
  const now = cpuNow();
  prewarm[name] = Math.round(now - lastMark);
  lastMark = now;
  roles.mark(name);
}

/** The framework's defaults: a room's audio at 24 kHz, 10 ms frames (rtc-node's AudioStream). */
const STOCK = { rate: 24000, frameMs: 10 };

initializeLogger({ pretty: false, level: 'error' });
const logger = pino({ level: 'silent' });
const config = loadAgentConfig(
  { SPEECH_PROVIDERS: 'local', AGENT_DEV_ROOMS_ONLY: 'true' },
  useCasesJson,
);
const pipeline = process.argv[2] as Pipeline;
const onnx = onnxMeter();

interface Built {
  session: voice.AgentSession;
  agent: voice.Agent;
  greet: (s: voice.AgentSession) => voice.SpeechHandle;
  rate: number;
  frameMs: number;
  metered: MeteredTranscriber;
}

let left = false;
const leave = () => {
  left = true;
};

/** Flite and Moonshine loaded one at a time first, so their threads' roles can be told apart. */
async function loadEngines(): Promise<MoonshineModel> {
  await warmUpFlite();
  step('flite');
  const model = await MoonshineModel.load();
  step('moonshine');
  return model;
}

async function buildCallbridge(call: CallContext): Promise<Built> {
  const model = await loadEngines(); // loadSpeechProviders finds them loaded
  const providers = await loadSpeechProviders(config, logger);
  step('providers');
  const greetings = new GreetingCache();
  await greetings.warmFixedLines(config.useCases.all, providers.renderSpeech);
  step('greetings');
  const metered = new MeteredTranscriber(model);
  const lines = new CallLines(call.useCase, greetings);
  const metering = {
    ...providers,
    components: (uc: typeof call.useCase) => {
      const c = providers.components(uc);
      return { ...c, stt: callTranscriber(metered, c.vad) };
    },
  };
  const { session, agent } = assembleSession(call, {
    providers: metering,
    control: undefined,
    logger,
    lines,
    leave,
  });
  const greet = (s: voice.AgentSession) => lines.say(s, 'greeting', { allowInterruptions: true });
  return { session, agent, greet, rate: CALL_AUDIO_RATE, frameMs: CALLER_FRAME_MS, metered };
}

/** The stock assembly: plugin defaults, a non-streaming STT the framework wraps with its VAD. */
async function buildStock(call: CallContext): Promise<Built> {
  const model = await loadEngines();
  const vad: VAD = await silero.VAD.load();
  step('providers');
  const metered = new MeteredTranscriber(model);
  const session = new voice.AgentSession({
    vad,
    stt: new MoonshineSTT(metered), // no VAD given: the framework's StreamAdapter with its own
    llm: new DialogueLLM(call.useCase),
    tts: new FliteTTS({ voice: call.useCase.voice.local }),
  });
  const agent = createCallAgent({ call, control: undefined, logger, leave });
  const greet = (s: voice.AgentSession) => s.say(call.useCase.greeting);
  return { session, agent, greet, ...STOCK, metered };
}

/** The process's resident memory, and how much of the model's mapped files it shares. */
function memoryMb(): Record<string, number> {
  const rollup = mappedMemory(readFileSync('/proc/self/smaps_rollup', 'utf8'), '[rollup]');
  const model = mappedMemory(readFileSync('/proc/self/smaps', 'utf8'), '.ort');
  return {
    'process RSS': rollup.rssMb,
    'process PSS': rollup.pssMb,
    'model files RSS': model.rssMb,
    'model files PSS': model.pssMb,
    'model files private': model.privateDirtyMb,
  };
}

/** The session's audio: the caller's line in, a real-time player out; what the agent heard. */
function wire(built: Built) {
  const output = new RecordingAudioOutput(built.rate, true);
  const line = new CallerLine(built.rate, built.frameMs);
  const heard: string[] = [];
  built.session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (ev) => {
    if (ev.isFinal) heard.push(ev.transcript);
  });
  built.session.input.audio = line;
  built.session.output.audio = output;
  return { output, line, heard };
}

async function main(): Promise<void> {
  const call = readCallContext({}, config.useCases);
  const built = pipeline === 'stock' ? await buildStock(call) : await buildCallbridge(call);
  const audio = await callerAudio(built.rate);
  roles.mark('before the call');
  const { output, line, heard } = wire(built);

  const gc = gcMeter();
  const vad0 = { runs: onnx?.runs() ?? 0, ms: onnx?.ms() ?? 0 };
  const threads0 = readThreads();
  const cpu0 = cpuNow();
  const wall0 = Date.now();
  await built.session.start({ agent: built.agent });
  const greet = () => built.greet(built.session);
  const played = await playCall({
    session: built.session,
    line,
    output,
    audio,
    greet,
    left: () => left,
  });
  await built.session.close();
  const cpuMs = Math.round(cpuNow() - cpu0);
  const threads = cpuByRole(threads0, readThreads(), roles);
  const parts = {
    'stt decode (off-main threads)': built.metered.cpuMs,
    'tts (Flite worker thread)': threads.flite ?? 0,
    'gc pauses': Math.round(gc.stop()),
    ...(onnx ? { 'vad inference (Silero, main thread)': Math.round(onnx.ms() - vad0.ms) } : {}),
    'vad inferences (count)': (onnx?.runs() ?? 0) - vad0.runs,
    'stt decodes (count)': built.metered.count,
  };
  const prewarmed = pipeline === 'callbridge' ? prewarm : {};
  const wallMs = Date.now() - wall0;
  const result = { pipeline, label: pipeline, cpuMs, wallMs, threads, parts, ...played, heard };
  console.log(
    JSON.stringify(RunResult.parse({ ...result, prewarm: prewarmed, memoryMb: memoryMb() })),
  );
}

await main();
process.exit(0);
