// Rendered greetings shared by one worker's job processes through a directory: each line is
// rendered once per worker, and a bad or missing file only means rendering it again.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioFrame } from '@livekit/rtc-node';
import { afterEach, describe, expect, it } from 'vitest';
import { GreetingCache, RenderedLinesDir } from '../../../agent/greeting-cache.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

const useCase = parseUseCases(USE_CASES_JSON).defaultUseCase;
const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'callbridge-lines-test-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A line's audio: 250 ms of silence (dropped as lead-in), then a 300 ms tone at `rate`. */
function speech(rate: number): AudioFrame[] {
  const n = rate / 50;
  const frames: AudioFrame[] = [];
  for (let i = 0; i < 28; i++) {
    const data = new Int16Array(n);
    if (i >= 12) for (let j = 0; j < n; j++) data[j] = Math.round(3000 * Math.sin(j / 3));
    frames.push(new AudioFrame(data, rate, 1, n));
  }
  return frames;
}

async function played(cache: GreetingCache, text = useCase.greeting): Promise<Int16Array[]> {
  const out: Int16Array[] = [];
  for await (const f of cache.stream(useCase, text)!) out.push(f.data);
  return out;
}

describe('GreetingCache with a RenderedLinesDir', () => {
  it('renders each line once for all the processes sharing the directory, and plays the same audio', async () => {
    const dir = freshDir();
    const rendered: string[] = [];
    const render = async (text: string) => (rendered.push(text), speech(16000));
    const first = new GreetingCache(new RenderedLinesDir(dir));
    const second = new GreetingCache(new RenderedLinesDir(dir));
    expect(await first.warm([useCase], render, ['One moment.'])).toEqual([]);
    expect(await second.warm([useCase], render, ['One moment.'])).toEqual([]);
    expect(rendered).toEqual([useCase.greeting, 'One moment.']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.pcm'))).toHaveLength(2);
    expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
    const a = (await played(first)).flatMap((d) => [...d]);
    const b = (await played(second)).flatMap((d) => [...d]);
    expect(b).toEqual(a);
    expect(a.length).toBe(16 * 16000 * 0.02); // the lead-in silence dropped before storing
  });

  it('keeps the sample rate of what it stores', () => {
    const lines = new RenderedLinesDir(freshDir());
    lines.put('k', speech(24000));
    const back = lines.get('k')!;
    expect(back.every((f) => f.sampleRate === 24000 && f.channels === 1)).toBe(true);
    expect(back.reduce((n, f) => n + f.samplesPerChannel, 0)).toBe(28 * 480);
  });

  it('renders again when a stored line is unreadable, and when nothing is stored', async () => {
    const dir = freshDir();
    const lines = new RenderedLinesDir(dir);
    expect(lines.get('never stored')).toBeUndefined();
    lines.put('k', speech(16000));
    const [file] = readdirSync(dir);
    writeFileSync(join(dir, file!), Buffer.from([1, 2, 3])); // truncated
    expect(lines.get('k')).toBeUndefined();
    let renders = 0;
    const cache = new GreetingCache(new RenderedLinesDir(dir));
    await cache.warm([useCase], async () => (renders++, speech(16000)));
    expect(renders).toBe(1);
    expect(cache.has(useCase)).toBe(true);
  });

  it('stores nothing when the directory cannot be written, and still keeps the line in memory', async () => {
    const file = join(freshDir(), 'a-file');
    writeFileSync(file, '');
    const cache = new GreetingCache(new RenderedLinesDir(join(file, 'lines'))); // not a directory
    expect(await cache.warm([useCase], async () => speech(16000))).toEqual([]);
    expect(cache.has(useCase)).toBe(true);
  });
});
