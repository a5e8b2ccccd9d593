// Speech recognition over the phone path: word error rate and real-time factor of each recognizer
// on a test set made at run time (./stt/sentences.ts said by ./stt/voices.ts, then resampled to
// 8 kHz, G.711 µ-law encoded and decoded, and resampled to 16 kHz: ./stt/phone.ts). Each
// recognizer runs alone in a process of its own, one clip at a time (./stt/worker.ts); one that
// cannot run here is listed as skipped, with why. Prints figures, asserts nothing.
//
//   npm run bench:stt [-- --json --voices flite-slt,espeak-us --recognizers moonshine,deepgram
//                         --sentences 4 --worst 3 --feed utterance|clip]
//   npm run bench:stt -- --list
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { revision } from './revision.js';
import { parseBenchArgs, USAGE, UsageError, type BenchArgs } from './stt/args.js';
import { runIsolated, writeClips } from './stt/isolated.js';
import { printReport, scoreRun, type RecognizerReport } from './stt/report.js';
import { RECOGNIZER_NAMES } from './stt/recognizers.js';
import { SENTENCES } from './stt/sentences.js';
import { makeTestSet, type Clip } from './stt/test-set.js';
import { VOICES } from './stt/voices.js';

const say = (line = '') => process.stdout.write(`${line}\n`);

function parsed(): BenchArgs {
  try {
    return parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
}

function list(): void {
  say('voices:');
  for (const v of VOICES) say(`  ${v.id.padEnd(14)} ${v.describe}`);
  say('sentences:');
  for (const s of SENTENCES) say(`  ${s.id.padEnd(16)} ${s.text}`);
  say(`recognizers: ${RECOGNIZER_NAMES.join(', ')}`);
}

/** Each recognizer over the clips, one after another, each in a process of its own. */
async function recognize(args: BenchArgs, clips: Clip[]): Promise<RecognizerReport[]> {
  const dir = await mkdtemp(join(tmpdir(), 'callbridge-bench-stt-'));
  const reports: RecognizerReport[] = [];
  try {
    await writeClips(dir, clips);
    for (const name of args.recognizers) {
      const startedAt = performance.now();
      const result = await runIsolated(name, dir);
      const took = ((performance.now() - startedAt) / 1000).toFixed(1);
      say(`${name}: ${result.status === 'ran' ? `ran in ${took} s` : result.status}`);
      reports.push(scoreRun(name, result, clips, args.worst));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return reports;
}

async function main(args: BenchArgs): Promise<void> {
  const madeAt = performance.now();
  const clips = await makeTestSet(args.sentences, args.voices, args.feed);
  const madeS = (performance.now() - madeAt) / 1000;
  const audioSeconds = clips.reduce((s, c) => s + c.audioMs, 0) / 1000;
  const rev = revision();
  say(
    `${clips.length} clips (${args.sentences.length} sentences × ${args.voices.length} voices, ` +
      `${audioSeconds.toFixed(1)} s of audio, fed as ${args.feed === 'utterance' ? 'utterances' : 'bare clips'}) made in ${madeS.toFixed(1)} s; ` +
      `revision ${rev}, ${new Date().toISOString().slice(0, 10)}`,
  );
  const reports = await recognize(args, clips);
  say();
  for (const line of printReport(
    reports,
    args.voices.map((v) => v.id),
  ))
    say(line);
  if (!args.json) return;
  const result = {
    revision: rev,
    date: new Date().toISOString(),
    feed: args.feed,
    clips: clips.length,
    audioSeconds,
    voices: args.voices.map((v) => v.id),
    sentences: args.sentences.map((s) => s.id),
    recognizers: reports,
  };
  say(JSON.stringify(result));
}

const args = parsed();
if (args.list) list();
else await main(args);
// rtc-node's resampler holds the process open (agent/audio.ts).
process.exit(0);
