// The operator console in a real browser (Debian's Chromium, headless, driven by puppeteer-core)
// against the whole lab: sign-in is required for every page and token; a listen token cannot
// publish; the agent answers in a browser tab whose microphone is a WAV file (Chromium's fake
// capture device) and the tab hears it; a supervisor listens in to a lab call, hears its caller
// and sees its transcript, barges in without the agent taking it for the caller, and leaves
// without ending the call. Screenshots of each page go to .lab/test-output/console/.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  AudioSource,
  LocalAudioTrack,
  Room,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import { ParticipantInfo_State, TrackSource as TrackSourceProto } from 'livekit-server-sdk';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type StartedConsole, startConsole } from '../../console/console.js';
import { runScriptedCall } from '../../lab/caller/scripted-caller.js';
import { parseScenario } from '../../lab/caller/scenario.js';
import { ROOT } from '../../lab/stack/local-stack.js';
import { chromiumPath, launchChromium, microphoneWav } from '../helpers/browser.js';
import { labForSuite } from '../helpers/lab.js';
import { waitFor } from '../helpers/wait.js';

const OUT = join(ROOT, '.lab', 'test-output', 'console');
const lab = labForSuite({ prewarmed: 1, maxCalls: 4 });

let console_: StartedConsole;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  const s = lab().livekit.stack;
  console_ = await startConsole({
    env: { ...process.env, CONSOLE_AUTH: 'local', CONSOLE_PORT: '0', LOG_LEVEL: 'warn' },
    livekit: { url: s.url, apiKey: s.apiKey, apiSecret: s.apiSecret },
    dynamoEndpoint: lab().sma.dynamoEndpoint,
  });
  browser = await launchChromium(await microphoneWav(OUT));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await console_?.close();
});

/** A new tab signed in with a fresh one-time link. */
async function signedInPage(roles?: ('developer' | 'supervisor')[]): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  const res = await page.goto(console_.signInLink({ roles }), { waitUntil: 'load' });
  expect(res?.url()).toBe(`${console_.url}/`);
  expect(res?.status()).toBe(200);
  return page;
}

type Measured = {
  greetingMs: number | null;
  turnsMs: number[];
  heardMs: { caller: number; agent: number; dev: number };
  error: string | null;
};
const measured = (page: Page) => page.evaluate('window.callbridgeConsole') as Promise<Measured>;
/** Waits until `expr`, a JavaScript expression evaluated in the page, is true. */
const until = (page: Page, expr: string, timeout: number) =>
  page.waitForFunction(expr, { timeout, polling: 100 });

it('requires sign-in for every page and token request; a used link is refused', async () => {
  for (const path of ['/', '/app.js', '/api/me', '/api/calls']) {
    expect((await fetch(`${console_.url}${path}`, { redirect: 'manual' })).status, path).toBe(401);
  }
  const post = await fetch(`${console_.url}/api/dev-rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ useCase: 'city-311' }),
  });
  expect(post.status).toBe(401);
  const page = await browser.newPage();
  const res = await page.goto(`${console_.url}/`);
  expect(res?.status()).toBe(401);
  await page.screenshot({ path: join(OUT, 'sign-in-required.png') });
  const link = console_.signInLink();
  expect((await page.goto(link))?.status()).toBe(200);
  expect((await page.goto(link))?.status()).toBe(401); // spent
  expect(await page.$eval('#signin-message', (e) => e.textContent)).toMatch(/used or has expired/);
  await page.close();
}, 60_000);

it('talks to the agent in a browser tab: greeting heard, the reply and the transcript shown', async () => {
  const page = await signedInPage(['developer']);
  await page.waitForSelector('#dev-use-case option');
  await page.select('#dev-use-case', 'city-311');
  await page.click('#dev-start');
  await until(page, 'window.callbridgeConsole.greetingMs !== null', 20_000);
  // The sentence in the WAV, recognized by the agent, then its reply, both in the transcript.
  await until(
    page,
    `(() => {
      const lines = [...document.querySelectorAll('#dev-transcript .line')];
      const you = lines.findIndex((l) => l.classList.contains('you') && /trash/i.test(l.textContent));
      return you >= 0 && lines.slice(you + 1).some((l) => l.classList.contains('agent'));
    })()`,
    45_000,
  );
  await until(page, 'window.callbridgeConsole.turnsMs.length > 0', 20_000);
  const m = await measured(page);
  expect(m.error).toBeNull();
  expect(m.heardMs.dev).toBeGreaterThan(1000); // the agent's speech reached the tab's audio
  expect(await page.$eval('#dev-figures', (e) => e.textContent)).toMatch(
    /greeting heard after \d+ ms/,
  );
  process.stdout.write(
    `console: greeting heard in the tab ${m.greetingMs} ms after the click; turns ${m.turnsMs.join(', ')} ms\n`,
  );
  await page.screenshot({ path: join(OUT, 'talk-to-the-agent.png') });
  await page.click('#dev-stop');
  await page.close();
}, 120_000);

it('a supervisor listens in to a lab call, hears the caller, sees its transcript, barges in and leaves', async () => {
  const scenario = parseScenario(
    [
      'name: watched-call',
      'description: A caller asks a question and stays while a supervisor listens in.',
      'steps:',
      '  - greeting: { withinMs: 3000 }',
      '  - pause: 6000',
      '  - say: My trash was not picked up this week.',
      '    then: { hears: agent, atLeastMs: 2000, withinMs: 20000 }',
      '  - pause: 12000',
      '  - say: Thank you, that is all.',
      '    then: { hears: agent, atLeastMs: 500, withinMs: 20000 }',
      '  - hangUp: { afterMs: 500 }',
    ].join('\n'),
    'inline',
  );
  const call = runScriptedCall(lab(), scenario);
  const page = await signedInPage(['supervisor']);
  await page.waitForSelector('#calls tr[data-room] button.listen', { timeout: 15_000 });
  const room = (await page.$eval('#calls tr[data-room]', (e) => e.getAttribute('data-room')))!;
  expect(await page.$eval('#calls tr[data-room]', (e) => e.textContent)).toMatch(/city-311/);
  await page.screenshot({ path: join(OUT, 'live-calls.png') });

  // A listen token cannot publish: minted by the console for this page's session.
  const cookies = await browser.cookies();
  const session = cookies.find((c) => c.name === 'callbridge_console')!;
  const tokenRes = await fetch(`${console_.url}/api/calls/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: `${session.name}=${session.value}` },
    body: JSON.stringify({ room, action: 'listen' }),
  });
  expect(tokenRes.status).toBe(200);
  const listen = (await tokenRes.json()) as { token: string; url: string };
  const probe = new Room();
  await probe.connect(listen.url, listen.token, { autoSubscribe: false, dynacast: false });
  try {
    const source = new AudioSource(48_000, 1);
    const track = LocalAudioTrack.createAudioTrack('probe', source);
    const opts = new TrackPublishOptions();
    opts.source = TrackSource.SOURCE_MICROPHONE;
    await expect(probe.localParticipant!.publishTrack(track, opts)).rejects.toThrow();
  } finally {
    await probe.disconnect();
  }

  await page.click(`#calls tr[data-room="${room}"] button.listen`);
  await until(
    page,
    `[...document.querySelectorAll('#call-transcript .line.agent')].some((l) => l.textContent.length > 10)`,
    40_000,
  );
  // The hidden listener hears both sides: the caller's voice and the agent's.
  await until(
    page,
    'window.callbridgeConsole.heardMs.caller > 500 && window.callbridgeConsole.heardMs.agent > 500',
    30_000,
  );
  await page.screenshot({ path: join(OUT, 'listen-in.png') });
  // Listening is hidden (others are never told of it) and publishes nothing.
  const rooms = lab().livekit.rooms;
  const supervisors = async () =>
    (await rooms.listParticipants(room)).filter(
      (p) =>
        p.attributes['console.role'] === 'supervisor' && p.state === ParticipantInfo_State.ACTIVE,
    );
  const listening = await supervisors();
  expect(
    listening.map((p) => [p.permission?.hidden, p.permission?.canPublish, p.tracks.length]),
  ).toEqual([[true, false, 0]]);

  // Barging in: a visible supervisor whose microphone is in the room, while the agent stays with
  // the caller (checked below from what it heard and the call's end).
  await page.click('#call-speak');
  await until(page, `/Speaking/.test(document.querySelector('#call-status').textContent)`, 15_000);
  const speaking = await waitFor(
    'a visible supervisor publishing a microphone',
    async () => {
      const list = await supervisors();
      return list.length === 1 && !list[0]!.permission?.hidden && list[0]!.tracks.length === 1
        ? list[0]
        : undefined;
    },
    15_000,
  );
  expect(speaking.tracks[0]!.source).toBe(TrackSourceProto.MICROPHONE);
  await page.screenshot({ path: join(OUT, 'barge-in.png') });
  await page.click('#call-leave');

  const r = await call;
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.what} (${c.detail ?? ''})`);
  expect(failed, failed.join('; ')).toEqual([]);
  // The agent served the phone caller throughout: the call ended as the caller's, not a dev room's.
  expect(r.timeline.some((e) => e.source === 'heard' && /trash/i.test(e.text))).toBe(true);
  expect((await measured(page)).error).toBeNull();
  await page.close();
}, 180_000);

it('reports the page weight', () => {
  process.stdout.write(
    `console: page weight ${(console_.pageWeightGzipped / 1024).toFixed(0)} KB gzipped\n`,
  );
  expect(console_.pageWeightGzipped).toBeLessThan(500 * 1024);
  // Chromium's version, for the record of what ran.
  process.stdout.write(
    `console: ${execFileSync(chromiumPath(), ['--version']).toString().trim()}\n`,
  );
});
