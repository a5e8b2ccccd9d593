// Benchmark of the agent with the local (offline) providers: prints figures, asserts nothing.
//   npm run bench:agent [-- --sessions 20 --turns 10 --memory-sessions 6]
// - TTFA: call answered -> first greeting frame played, greeting from the prewarmed cache;
// - turn response latency: a caller utterance (Flite voice `rms`, resampled to 8 kHz telephone
//   audio, pushed in real time) -> the first frame of the agent's reply, through Silero VAD,
//   PocketSphinx, the dialogue engine and Flite;
// - memory per additional session: RSS growth over N concurrent sessions, each after one turn.
import { parseArgs } from 'node:util';
import { initializeLogger, voice } from '@livekit/agents';
import { metrics } from '@opentelemetry/api';
import { pino } from 'pino';
import { readCallContext } from '../../agent/call-context.js';
import { loadAgentConfig } from '../../agent/config.js';
import { GreetingCache } from '../../agent/greeting-cache.js';
import { LatencyRecorder } from '../../agent/latency.js';
import { resamplePcm } from '../../agent/audio.js';
import { synthesizeToPcm } from '../../agent/providers/flite-tts.js';
import { loadSpeechProviders, type SpeechProviders } from '../../agent/providers/index.js';
import { assembleSession } from '../../agent/session-assembly.js';
import { createAgentInstruments } from '../../otel/instruments.js';
import useCasesJson from '../../contracts/use-cases.json' with { type: 'json' };
import { PushAudioInput, RecordingAudioOutput } from '../../test/helpers/audio.js';
import { summary } from '../../lab/stats.js';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '20' },
    turns: { type: 'string', default: '10' },
    'memory-sessions': { type: 'string', default: '6' },
  },
});

initializeLogger({ pretty: false, level: 'error' });
const logger = pino({ level: 'silent' });
// Dev-room sessions only: no phone call, so no call-token secret.
const config = loadAgentConfig(
  { SPEECH_PROVIDERS: 'local', AGENT_DEV_ROOMS_ONLY: 'true' },
  useCasesJson,
);
const useCase = config.useCases.defaultUseCase;
const instruments = createAgentInstruments(metrics.getMeter('bench'));

const UTTERANCES = [
  'how do i report a pothole',
  'my trash was not picked up',
  'when is city hall open',
  'where is city hall',
];

const stats = (xs: number[]) => summary(xs);

async function telephone(text: string): Promise<Int16Array> {
  const pcm = await synthesizeToPcm(text, { voice: 'rms' });
  return resamplePcm(pcm.samples, pcm.sampleRate, 8000);
}

async function startSession(providers: SpeechProviders, realtime: boolean) {
  const call = readCallContext({}, config.useCases);
  const { session, agent } = assembleSession(call, {
    providers,
    control: undefined,
    logger,
    leave: () => undefined,
  });
  const input = new PushAudioInput();
  const output = new RecordingAudioOutput(16000, realtime);
  session.input.audio = input;
  session.output.audio = output;
  const ttfa: number[] = [];
  const turns: number[] = [];
  const latency = new LatencyRecorder(
    instruments,
    {},
    { onTtfa: (ms) => ttfa.push(ms), onTurn: (ms) => turns.push(ms) },
  );
  latency.attach(session, output);
  await session.start({ agent });
  return { session, input, output, latency, ttfa, turns };
}

const providers = await loadSpeechProviders(config, logger);
const cache = new GreetingCache();
await cache.warm(config.useCases.all, providers.renderSpeech);
console.log(`agent benchmark, local providers (Node ${process.versions.node})`);

// TTFA from the cache.
const ttfas: number[] = [];
for (let i = 0; i < Number(values.sessions); i++) {
  const s = await startSession(providers, false);
  s.latency.markAnswered(Date.now());
  await s.session.say(useCase.greeting, { audio: cache.stream(useCase) }).waitForPlayout();
  ttfas.push(...s.ttfa);
  await s.session.close();
}
console.log(`TTFA (answer -> first greeting frame, cached):  ${stats(ttfas)}`);

// Turn latency on real audio.
const audio = await Promise.all(UTTERANCES.map(telephone));
const s = await startSession(providers, true);
const heard: string[] = [];
s.session.on(
  voice.AgentSessionEventTypes.UserInputTranscribed,
  (ev) => ev.isFinal && heard.push(ev.transcript),
);
await new Promise((r) => setTimeout(r, 500));
for (let i = 0; i < Number(values.turns); i++) {
  const before = s.turns.length;
  await s.input.push(audio[i % audio.length]!, 8000);
  await s.input.silence(400, 8000);
  const deadline = Date.now() + 15_000;
  while (s.turns.length === before && Date.now() < deadline) await s.input.silence(100, 8000);
  await s.output.waitForPlayout();
  await s.input.silence(300, 8000);
}
console.log(`turn response latency (end of speech -> first reply frame): ${stats(s.turns)}`);
console.log(
  `  heard: ${heard
    .slice(0, 4)
    .map((h) => JSON.stringify(h))
    .join(', ')}`,
);
await s.session.close();

// Memory per additional session.
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const base = process.memoryUsage().rss;
const live = [];
const n = Number(values['memory-sessions']);
for (let i = 0; i < n; i++) {
  const m = await startSession(providers, false);
  await m.input.push(audio[0]!, 8000, true);
  await m.input.silence(600, 8000);
  live.push(m);
}
await new Promise((r) => setTimeout(r, 3000));
gc?.();
const perSession = (process.memoryUsage().rss - base) / n / 1024 / 1024;
console.log(
  `memory per additional session: ${perSession.toFixed(1)} MB (RSS growth over ${n} live sessions${gc ? '' : ', no --expose-gc'})`,
);
for (const m of live) await m.session.close();
process.exit(0);
