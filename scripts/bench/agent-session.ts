// Benchmark of the agent with the local (offline) providers: prints figures, asserts nothing.
//   npm run bench:agent [-- --sessions 20 --turns 10 --memory-sessions 6 --only ttfa,turns,memory
//     --paused-rounds 2 --sweep "vadMinSilenceMs=300;vadMinSilenceMs=200,endpointingMinMs=400"
//     --eot-threshold 0.75]
// - TTFA: call answered -> first greeting frame played, greeting from the prewarmed cache;
// - turn response latency: a caller utterance (Flite voice `rms`, resampled to 8 kHz telephone
//   audio, pushed in real time) -> the first frame of the agent's reply, through Silero VAD,
//   Moonshine, the turn detector, the dialogue engine and Flite; with the turn's parts
//   (./agent-turns.ts), how many sentences with a pause inside were split into two turns, and how
//   many turns the dialogue engine ended (agent/turn-end.ts); once per turn-timing setting of
//   `--sweep` (TURN_TIMING keys; empty: the shipped timing; `understoodEndMs=2500`: the model's
//   answer alone); `--eot-threshold 0.75` raises the turn detector's threshold over its
//   probabilities at this voice's sentence ends (0.45–0.69), so that every finished line is one it
//   says goes on, as the lab's caller's request for a person is;
// - memory per additional session: RSS growth over N concurrent sessions, each after one turn.
import { inference, initializeLogger, llm, voice } from '@livekit/agents';
import { metrics } from '@opentelemetry/api';
import { pino } from 'pino';
import { createCallAgent } from '../../agent/call-agent.js';
import { Lines } from '../../agent/dialogue/engine.js';
import { readCallContext } from '../../agent/call-context.js';
import { loadAgentConfig } from '../../agent/config.js';
import { GreetingCache } from '../../agent/greeting-cache.js';
import { LatencyRecorder } from '../../agent/latency.js';
import { loadSpeechProviders, type SpeechProviders } from '../../agent/providers/index.js';
import { MoonshineSTT } from '../../agent/providers/moonshine-stt.js';
import {
  assembleSession,
  followTurns,
  turnHandling,
  DEFAULT_TURN_TAKING,
  type TurnExecutor,
  type TurnHandling,
} from '../../agent/session-assembly.js';
import type { TurnPart } from '../../agent/turn-parts.js';
import { TURN_TIMING } from '../../agent/turn-timing.js';
import { createAgentInstruments } from '../../otel/instruments.js';
import useCasesJson from '../../contracts/use-cases.json' with { type: 'json' };
import { PushAudioInput, RecordingAudioOutput } from '../../test/helpers/audio.js';
import { summary } from '../../lab/stats.js';
import {
  inProcessTurnExecutor,
  pausedSentences,
  RATE,
  telephone,
  TurnProbe,
} from './agent-turns.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npm run bench:agent --', {
  sessions: { type: 'string', default: '20' },
  turns: { type: 'string', default: '10' },
  'memory-sessions': { type: 'string', default: '6' },
  only: { type: 'string', default: 'ttfa,turns,memory' },
  sweep: { type: 'string', default: '' },
  'paused-rounds': { type: 'string', default: '2' },
  'eot-threshold': { type: 'string', default: '' },
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
const only = new Set(values.only.split(','));

/** `--eot-threshold`: finished lines in this voice become the turn detector's "goes on" too. */
function withThreshold(handling: TurnHandling): TurnHandling {
  if (values['eot-threshold'])
    (handling.turnDetection as inference.TurnDetector).updateOptions({
      unlikelyThreshold: Number(values['eot-threshold']),
    });
  return handling;
}

/**
 * A dev-room call's session, as agent/session-assembly.ts makes it; given an executor, its turn
 * detector runs the model through it (outside a job there is no inference process).
 */
async function startSession(providers: SpeechProviders, realtime: boolean, eot?: TurnExecutor) {
  const call = readCallContext({}, config.useCases);
  const deps = { providers, control: undefined, logger, leave: () => undefined };
  const components = eot ? providers.components(call.useCase) : undefined;
  const { session, agent } = components
    ? {
        session: new voice.AgentSession({
          ...components,
          // The setting's endpointing (DEFAULT_TURN_TAKING holds TURN_TIMING's as it was loaded).
          turnHandling: withThreshold(
            turnHandling(eot, {
              ...DEFAULT_TURN_TAKING,
              endpointingMinMs: TURN_TIMING.endpointingMinMs,
              endpointingMaxMs: TURN_TIMING.endpointingMaxMs,
            }),
          ),
        }),
        agent: createCallAgent({ ...deps, call }),
      }
    : assembleSession(call, deps);
  if (eot) followTurns(session);
  const input = new PushAudioInput();
  const output = new RecordingAudioOutput(16000, realtime);
  session.input.audio = input;
  session.output.audio = output;
  const ttfa: number[] = [];
  const turns: number[] = [];
  const parts = new Map<TurnPart, number[]>();
  const latency = new LatencyRecorder(
    instruments,
    {},
    {
      onTtfa: (ms) => ttfa.push(ms),
      onTurn: (ms) => turns.push(ms),
      onTurnPart: (p, ms) => parts.set(p, [...(parts.get(p) ?? []), ms]),
    },
  );
  latency.attach(session, output);
  await session.start({ agent });
  const stt = components?.stt instanceof MoonshineSTT ? components.stt : undefined;
  return { session, input, output, latency, ttfa, turns, parts, stt };
}

const providers = await loadSpeechProviders(config, logger);
const cache = new GreetingCache();
await cache.warm(config.useCases.all, providers.renderSpeech);
console.log(`agent benchmark, local providers (Node ${process.versions.node})`);

// TTFA from the cache.
const ttfas: number[] = [];
for (let i = 0; only.has('ttfa') && i < Number(values.sessions); i++) {
  const s = await startSession(providers, false);
  s.latency.markAnswered(Date.now());
  await s.session.say(useCase.greeting, { audio: cache.stream(useCase) }).waitForPlayout();
  ttfas.push(...s.ttfa);
  await s.session.close();
}
if (only.has('ttfa'))
  console.log(`TTFA (answer -> first greeting frame, cached):  ${stats(ttfas)}`);

// Turn latency on real audio, per turn-timing setting.
const audio = await Promise.all(UTTERANCES.map(telephone));
const paused = await pausedSentences();
const shipped = { ...TURN_TIMING };
const settings = values.sweep.split(';').map((setting) =>
  Object.fromEntries(
    setting
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('=').map((x) => x.trim()) as [keyof typeof TURN_TIMING, string])
      .map(([k, v]) => {
        if (!(k in shipped)) throw new Error(`--sweep: no TURN_TIMING.${k}`);
        if (typeof shipped[k] !== 'boolean') return [k, Number(v)];
        if (v !== 'true' && v !== 'false') throw new Error(`--sweep: ${k} is true or false`);
        return [k, v === 'true'];
      }),
  ),
);
const eotMs: number[] = [];
const eot = inProcessTurnExecutor(eotMs);
for (const setting of only.has('turns') ? settings : []) {
  Object.assign(TURN_TIMING, shipped, setting);
  eotMs.length = 0;
  const set = await loadSpeechProviders(config, logger); // the VAD takes its timing at load
  const s = await startSession(set, true, eot);
  const probe = new TurnProbe(s.session, s.output, s.input);
  const heard: string[] = [];
  s.session.on(
    voice.AgentSessionEventTypes.UserInputTranscribed,
    (ev) => ev.isFinal && heard.push(ev.transcript),
  );
  // The dialogue engine's "over" where the model said the caller goes on (agent/turn-end.ts).
  let understood = 0;
  s.session.on(voice.AgentSessionEventTypes.EotPrediction, (ev) => {
    if (ev.threshold === 0) understood += 1;
  });
  await new Promise((r) => setTimeout(r, 500));
  const eotEnd: number[] = [];
  for (let i = 0; i < Number(values.turns); i++) {
    eotEnd.push(...(await probe.say(audio[i % audio.length]!)).eot);
    await s.output.waitForPlayout();
    await s.input.silence(300, RATE);
  }
  const split = { natural: [0, 0], final: [0, 0] };
  const twoLines = { natural: 0, final: 0 };
  const notCaught = { natural: 0, final: 0 };
  const notCaughtBy = new Map<string, [number, number]>();
  const eotPaused: Record<string, number[]> = { natural: [], final: [] };
  const answerMs: number[] = [];
  const cutOff: number[] = [];
  for (const p of Array.from({ length: Number(values['paused-rounds']) }, () => paused).flat()) {
    // Each sentence as a call's first request: what the engine answered before (a line it did not
    // catch, then a transfer) does not change how it answers this one.
    await s.session.currentAgent.updateChatCtx(new llm.ChatContext());
    s.session.history.items = [];
    const said = await probe.say(p.pcm, 3000);
    const { turns, lines, eot: probabilities } = said;
    twoLines[p.kind] += lines > 1 ? 1 : 0;
    if (said.answerMs !== undefined) answerMs.push(said.answerMs);
    if (said.cutOffMs !== undefined) cutOff.push(said.cutOffMs);
    eotPaused[p.kind]!.push(...probabilities);
    await s.output.waitForPlayout();
    // The answer joins the history when its speech handle completes, just after its playout.
    const isAnswer = (i: llm.ChatItem | undefined) =>
      i?.type === 'message' && i.role === 'assistant' && !i.interrupted;
    for (let t = 0; t < 40 && !isAnswer(s.session.history.items.at(-1)); t++)
      await s.input.silence(50, RATE);
    const answer = s.session.history.items.findLast(isAnswer);
    const missed = answer?.type === 'message' && answer.textContent === Lines.notUnderstood;
    if (missed) notCaught[p.kind] += 1;
    const [n, of] = notCaughtBy.get(p.head) ?? [0, 0];
    notCaughtBy.set(p.head, [n + (missed ? 1 : 0), of + 1]);
    await s.input.silence(300, RATE);
    split[p.kind][0]! += turns > 1 ? 1 : 0;
    split[p.kind][1]! += 1;
  }
  console.log(`\nturn timing ${JSON.stringify(TURN_TIMING)}`);
  console.log(`turn response latency (VAD end of speech -> first reply frame): ${stats(s.turns)}`);
  for (const [part, ms] of [...probe.parts, ...s.parts]) console.log(`  ${part}: ${stats(ms)}`);
  console.log(`  turn detector inference: ${stats(eotMs)}`);
  if (s.stt) {
    const d = s.stt.decodes;
    console.log(
      `  decodes: ${d.earlyUsed} started early and used, ${d.early - d.earlyUsed} started early ` +
        `and voided (the caller spoke again), ${d.atEnd} at the end of speech`,
    );
  }
  console.log(
    `  paused sentences split into two turns: natural pause ${split.natural.join('/')}, ` +
      `pause after a sentence-final fall ${split.final.join('/')}`,
  );
  console.log(
    `  … answered as two lines (not joined, agent/line-goes-on.ts): natural ${twoLines.natural}, ` +
      `final ${twoLines.final}`,
  );
  console.log(
    `  … the agent's last answer "didn't catch that": natural ${notCaught.natural}, ` +
      `final ${notCaught.final}`,
  );
  console.log(
    `  … by sentence: ${[...notCaughtBy].map(([h, [n, of]]) => `"${h} …" ${n}/${of}`).join(', ')}`,
  );
  console.log(`  … a reply started in the pause, played before it stopped: ${stats(cutOff)}`);
  console.log(`  … last audible → first frame of the last reply: ${stats(answerMs)}`);
  console.log(`  ended by the dialogue engine, the model saying the caller goes on: ${understood}`);
  const probs = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  console.log(`  turn detector's probabilities, sentence ends: ${probs(eotEnd)}`);
  console.log(`  … paused sentences, natural: ${probs(eotPaused['natural']!)}`);
  console.log(`  … paused sentences, final: ${probs(eotPaused['final']!)}`);
  console.log(
    `  heard: ${heard
      .slice(0, 4)
      .map((h) => JSON.stringify(h))
      .join(', ')}`,
  );
  await s.session.close();
}
Object.assign(TURN_TIMING, shipped);
if (!only.has('memory')) process.exit(0);

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
