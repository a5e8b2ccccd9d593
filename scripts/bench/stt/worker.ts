// One recognizer over the test set, in a process of its own (./isolated.ts):
//   node --import tsx scripts/bench/stt/worker.ts <recognizer> <clips directory>
// Loads the recognizer (timed, RSS before and after), decodes one clip untimed so that first-use
// costs (lazy allocation, caches) stay out of the figures, then every clip one after another,
// timing each decode in wall time and in the process's CPU time. Prints one line of JSON.
import { readClips, type ClipResult, type WorkerResult } from './isolated.js';
import {
  LOAD_RECOGNIZER,
  RECOGNIZER_NAMES,
  RecognizerUnavailableError,
  type RecognizerName,
} from './recognizers.js';

const MB = 1024 * 1024;
const rssMb = () => process.memoryUsage().rss / MB;
const cpuMsSince = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
};

async function measure(name: RecognizerName, dir: string): Promise<WorkerResult> {
  const clips = await readClips(dir);
  const rssBeforeLoadMb = rssMb();
  const loadedAt = performance.now();
  let recognizer;
  try {
    recognizer = await LOAD_RECOGNIZER[name]();
  } catch (err) {
    if (err instanceof RecognizerUnavailableError)
      return { status: 'skipped', reason: err.message };
    throw err;
  }
  const loadMs = performance.now() - loadedAt;
  const rssAfterLoadMb = rssMb();
  if (clips[0]) await recognizer.transcribe(clips[0].pcm);
  const results: ClipResult[] = [];
  for (const clip of clips) {
    const cpu = process.cpuUsage();
    const t = performance.now();
    const hypothesis = await recognizer.transcribe(clip.pcm);
    results.push({
      id: clip.id,
      hypothesis,
      decodeMs: performance.now() - t,
      cpuMs: cpuMsSince(cpu),
    });
  }
  return {
    status: 'ran',
    loadMs,
    rssBeforeLoadMb,
    rssAfterLoadMb,
    peakRssMb: (process.resourceUsage().maxRSS * 1024) / MB,
    note: recognizer.note,
    clips: results,
  };
}

const [name, dir] = process.argv.slice(2);
let result: WorkerResult;
if (!RECOGNIZER_NAMES.includes(name as RecognizerName) || !dir) {
  result = { status: 'failed', reason: `usage: worker.ts <${RECOGNIZER_NAMES.join('|')}> <dir>` };
} else {
  result = await measure(name as RecognizerName, dir).catch((err: unknown): WorkerResult => ({
    status: 'failed',
    reason: (err as Error).message,
  }));
}
process.stdout.write(`${JSON.stringify(result)}\n`);
// Native recognizers and rtc-node keep threads that would hold the process open.
process.exit(0);
