// Benchmark of the call's VAD stream against the framework's Silero plugin: prints figures,
// asserts nothing.
//   npm run bench:vad [-- --seconds 60 --rounds 5]
// The same telephone speech (four of a caller's lines, Flite's `rms` voice through an 8 kHz line,
// two seconds of silence after each) in 40 ms frames, as the call's audio input gives them, at
// 16 kHz (the session's rate) and at 8 kHz; each stream hears it as fast as it can, in
// interleaved rounds. Printed: CPU per second of audio (median and range over the rounds), and
// whether the two streams found the same starts and ends of speech.
import { initializeLogger, VADEventType, type VAD } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { AudioFrame } from '@livekit/rtc-node';
import { resamplePcm } from '../../agent/audio.js';
import { CallSilero } from '../../agent/providers/call-silero.js';
import { synthesizeToPcm } from '../../agent/providers/flite-tts.js';
import { summary } from '../../lab/stats.js';
import { parseCli } from '../lib/cli.js';
import { revision } from './revision.js';

const values = parseCli('npm run bench:vad --', {
  seconds: { type: 'string', default: '60' },
  rounds: { type: 'string', default: '5' },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const FRAME_MS = 40;
initializeLogger({ pretty: false, level: 'warn' });

const LINES = [
  'my trash was not picked up this week',
  'when is city hall open on monday',
  'i would like to talk to a person please',
  'thank you, that is all, goodbye',
];

/** `SECONDS` of the caller's lines at `rate`, in 40 ms frames. */
async function callerAudio(rate: number): Promise<AudioFrame[]> {
  const parts: Int16Array[] = [];
  for (const line of LINES) {
    const pcm = await synthesizeToPcm(line, { voice: 'rms' });
    parts.push(resamplePcm(resamplePcm(pcm.samples, pcm.sampleRate, 8000), 8000, rate));
    parts.push(new Int16Array(rate * 2));
  }
  const n = (rate * FRAME_MS) / 1000;
  const frames: AudioFrame[] = [];
  for (let k = 0; frames.length * FRAME_MS < SECONDS * 1000; k++) {
    const part = parts[k % parts.length]!;
    for (let i = 0; i + n <= part.length; i += n) {
      frames.push(new AudioFrame(part.slice(i, i + n), rate, 1, n));
    }
  }
  return frames;
}

/** CPU ms to hear `frames`, and the starts and ends of speech found (window indices). */
async function hear(vad: VAD, frames: AudioFrame[]): Promise<{ cpuMs: number; edges: string }> {
  const windowSamples = frames[0]!.sampleRate === 8000 ? 256 : 512;
  // The plugin's stream holds back its last window or two: count up to before them.
  const windows = Math.floor((frames.length * frames[0]!.samplesPerChannel) / windowSamples) - 2;
  const stream = vad.stream();
  const edges: string[] = [];
  const before = process.cpuUsage();
  let heard = 0;
  const reading = (async () => {
    for await (const ev of stream) {
      if (ev.type === VADEventType.INFERENCE_DONE) {
        if (++heard >= windows) break;
      } else edges.push(`${ev.type === VADEventType.START_OF_SPEECH ? 'start' : 'end'}@${heard}`);
    }
  })();
  for (const f of frames) stream.pushFrame(f);
  await reading;
  const cpu = process.cpuUsage(before);
  stream.close();
  return { cpuMs: (cpu.user + cpu.system) / 1000, edges: edges.join(' ') };
}

process.stdout.write(
  `VAD streams over ${SECONDS} s of telephone speech, ${ROUNDS} rounds (${revision()}, ` +
    `${new Date().toISOString().slice(0, 10)}, Node ${process.versions.node})\n`,
);
for (const rate of [16000, 8000]) {
  const frames = await callerAudio(rate);
  const seconds = (frames.length * FRAME_MS) / 1000;
  const streams: [string, VAD][] = [
    ['plugin', await silero.VAD.load({ minSilenceDuration: 250, sampleRate: rate as 16000 })],
    ['call', await CallSilero.load({ minSilenceMs: 250 })],
  ];
  const perSecond = new Map<string, number[]>(streams.map(([name]) => [name, []]));
  const edges = new Map<string, string>();
  await hear(streams[0]![1], frames.slice(0, 50)); // warm both up once
  await hear(streams[1]![1], frames.slice(0, 50));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, vad] of streams) {
      const r = await hear(vad, frames);
      perSecond.get(name)!.push(r.cpuMs / seconds);
      edges.set(name, r.edges);
    }
  }
  for (const [name] of streams) {
    process.stdout.write(
      `  ${rate} Hz, ${name.padEnd(6)} CPU per second of audio: ${summary(perSecond.get(name)!, 1)}\n`,
    );
  }
  const same = edges.get('plugin') === edges.get('call');
  process.stdout.write(
    `  ${rate} Hz: starts and ends of speech ${same ? 'the same in both' : 'DIFFER'} ` +
      `(${edges.get('call')!.split(' ').length} found)\n`,
  );
}
// Flite's worker and the streams' model sessions would keep the process alive.
process.exit(0);
