// The operator console in a real browser (Debian's Chromium, headless, driven by puppeteer-core)
// against the whole lab: sign-in is required for every page and token; a listen token cannot
// publish; the agent answers in a browser tab whose microphone is a WAV file (Chromium's fake
// capture device) and the tab hears it; a supervisor listens in to a lab call, hears its caller
// and sees its transcript, barges in without the agent taking it for the caller (and the caller's
// ear hears the supervisor), and leaves without ending the call; "Call me" (and `npm run call --
// dial`) rings the lab's phone, and the agent greets it. Screenshots of each page go to
// .lab/test-output/console/.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import {
  AccessToken,
  ParticipantInfo_State,
  TrackSource as TrackSourceProto,
} from 'livekit-server-sdk';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SILENCE_RMS, pcmRms } from '../../agent/audio.js';
import { type StartedConsole, startConsole } from '../../console/console.js';
import bundledUseCases from '../../contracts/use-cases.json' with { type: 'json' };
import { CallObserver } from '../../lab/caller/call-observer.js';
import { report, tearDown } from '../../lab/caller/call-report.js';
import { openRun } from '../../lab/caller/call-run.js';
import { playScript } from '../../lab/caller/caller-script.js';
import { parseScenario } from '../../lab/caller/scenario.js';
import { LAB_CALLER, type LabCall } from '../../lab/lab.js';
import { LAB_SMA } from '../../lab/stack/lab-sma.js';
import { ROOT } from '../../lab/stack/local-stack.js';
import { chromiumPath, launchChromium, microphoneWav } from '../helpers/browser.js';
import { labForSuite } from '../helpers/lab.js';
import { waitFor } from '../helpers/wait.js';

const OUT = join(ROOT, '.lab', 'test-output', 'console');
/**
 * The lab's and the console's use cases: the bundled ones, with city-311 allowing outbound calls,
 * and checking in on a silent caller only after 30 s (the barge-in test's caller stays silent while
 * the supervisor speaks, and a check-in then would talk over the supervisor).
 */
const USE_CASES_FILE = join(OUT, 'use-cases-outbound.json');
mkdirSync(OUT, { recursive: true });
{
  const file = structuredClone(bundledUseCases) as { useCases: Record<string, unknown>[] };
  const city = file.useCases.find((u) => u.id === 'city-311')!;
  city.outbound = { allowed: true };
  const limits = (city.limits ?? {}) as Record<string, unknown>;
  city.limits = { ...limits, silence: { checkInAfterMs: 30_000, endAfterMs: 60_000 } };
  writeFileSync(USE_CASES_FILE, JSON.stringify(file, null, 2));
  process.env.USE_CASES_FILE = USE_CASES_FILE; // the lab's SMA table and agent workers
}
const lab = labForSuite({ prewarmed: 1, maxCalls: 4 });

let console_: StartedConsole;
let browser: Browser;

beforeAll(async () => {
  const s = lab().livekit.stack;
  console_ = await startConsole({
    env: {
      ...process.env,
      CONSOLE_AUTH: 'local',
      CONSOLE_PORT: '0',
      LOG_LEVEL: 'warn',
      USE_CASES_FILE,
      SMA_APPLICATION_ID: LAB_SMA.applicationId,
    },
    livekit: { url: s.url, apiKey: s.apiKey, apiSecret: s.apiSecret },
    dynamoEndpoint: lab().sma.dynamoEndpoint,
    voiceEndpoint: lab().voiceApi.endpoint,
  });
  browser = await launchChromium(await microphoneWav(OUT));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await console_?.close();
});

/** A new tab signed in with a fresh one-time link. */
async function signedInPage(roles?: ('developer' | 'supervisor' | 'dialer')[]): Promise<Page> {
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

/** Each participant's audio as a hidden observer in `room` hears it: 100 ms buckets with sound. */
async function roomLevels(room: string) {
  const s = lab().livekit.stack;
  const at = new AccessToken(s.apiKey, s.apiSecret, { identity: 'test-levels', ttl: 600 });
  at.addGrant({ roomJoin: true, room, hidden: true, canPublish: false, canSubscribe: true });
  const r = new Room();
  /** identity → the 100 ms buckets (performance.now() / 100) in which it was audible. */
  const loud = new Map<string, Set<number>>();
  r.on(RoomEvent.TrackSubscribed, (track, _pub, p) => {
    if (track.kind !== TrackKind.KIND_AUDIO) return;
    const buckets = loud.get(p.identity) ?? new Set<number>();
    loud.set(p.identity, buckets);
    void (async () => {
      for await (const f of new AudioStream(track, { sampleRate: 16000, numChannels: 1 })) {
        if (pcmRms(f.data) >= SILENCE_RMS) buckets.add(Math.floor(performance.now() / 100));
      }
    })().catch(() => {});
  });
  await r.connect(s.url, await at.toJwt(), { autoSubscribe: true, dynacast: false });
  /** Whether anyone whose identity starts with `prefix` was audible from `from` to `to` (ms). */
  const audible = (prefix: string, from: number, to: number) => {
    for (const [identity, buckets] of loud) {
      if (!identity.startsWith(prefix)) continue;
      for (let b = Math.floor(from / 100); b <= Math.floor(to / 100); b++) {
        if (buckets.has(b)) return true;
      }
    }
    return false;
  };
  const audibleMs = (prefix: string) =>
    [...loud].reduce((n, [id, b]) => n + (id.startsWith(prefix) ? b.size * 100 : 0), 0);
  return { audible, audibleMs, close: () => r.disconnect() };
}

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
      '  - pause: 3000',
      '  - say: When is City Hall open?',
      '    then: { hears: agent, atLeastMs: 1000, withinMs: 20000 }',
      '  - pause: 25000',
      '  - say: Thank you, that is all.',
      '    then: { hears: agent, atLeastMs: 500, withinMs: 20000 }',
      '  - hangUp: { afterMs: 500 }',
    ].join('\n'),
    'inline',
  );
  // The scripted caller's run, kept: its line is the caller's ear.
  const run = openRun(lab(), scenario);
  const call = (async () => {
    try {
      await playScript(run, true);
    } finally {
      await tearDown(run);
    }
    return report(run);
  })();
  const page = await signedInPage(['supervisor']);
  await page.waitForSelector('#calls tr[data-room] button.listen', { timeout: 15_000 });
  const room = (await page.$eval('#calls tr[data-room]', (e) => e.getAttribute('data-room')))!;
  expect(await page.$eval('#calls tr[data-room]', (e) => e.textContent)).toMatch(/city-311/);
  await page.screenshot({ path: join(OUT, 'live-calls.png') });
  const levels = await roomLevels(room);

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
  // The list shows the call's figures as the agent publishes them: its time to first audio, and
  // its turn latency once the caller has been answered.
  await until(
    page,
    `(() => {
      const cells = [...document.querySelectorAll('#calls tr[data-room="${room}"] td')];
      return /^\\d+ ms$/.test(cells[5]?.textContent) && /^\\d+ ms \\(last \\d+ ms, \\d+ turns?\\)$/.test(cells[6]?.textContent);
    })()`,
    20_000,
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
  // Barging in once the agent is answering the caller's second question: the supervisor's
  // sentence (7 s into the tab's microphone) then comes after the answer, while the caller is
  // silent for 25 s.
  const asked = await waitFor(
    'the caller’s second question',
    async () => run.timeline.find((e) => e.source === 'caller' && /City Hall/.test(e.text))?.at,
    60_000,
  );
  await waitFor(
    'the answer at the caller’s ear',
    async () => (run.media.audibleMsSince(asked, ['agent']) >= 1000 ? true : undefined),
    20_000,
  );
  const bargedAt = performance.now();
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

  // The caller's ear hears the supervisor: the tab's microphone (the WAV's sentence, after its
  // lead of silence) is in the room, and the ear has sound while the supervisor speaks and the
  // agent is silent. Sound at the ear while both are silent would be someone else's: none.
  await waitFor(
    "the supervisor's sentence in the room",
    async () => (levels.audibleMs('console-supervisor-') >= 1500 ? true : undefined),
    30_000,
  );
  await new Promise((r) => setTimeout(r, 1000)); // the sentence's end, through livekit-sip
  const ear = run.media.agent!.heard.filter((f) => f.at >= bargedAt && f.rms >= SILENCE_RMS);
  const quiet = (prefix: string, at: number) => !levels.audible(prefix, at - 1500, at + 100);
  const supervisorHeardMs = ear
    .filter((f) => levels.audible('console-supervisor-', f.at - 600, f.at) && quiet('agent', f.at))
    .reduce((n, f) => n + f.ms, 0);
  const strayMs = ear
    .filter((f) => quiet('console-supervisor-', f.at) && quiet('agent', f.at))
    .reduce((n, f) => n + f.ms, 0);
  const earMs = ear.reduce((n, f) => n + f.ms, 0);
  process.stdout.write(
    `console: the caller's ear heard the supervisor for ${supervisorHeardMs} ms (${strayMs} ms of sound from no one in the room; ${earMs} ms of sound in all since barging in; in the room: supervisor ${levels.audibleMs('console-supervisor-')} ms, agent ${levels.audibleMs('agent')} ms)\n`,
  );
  expect(supervisorHeardMs).toBeGreaterThan(500);
  expect(strayMs).toBeLessThan(300);
  await levels.close();
  // Back to listening before the caller's last line: the caller hears the agent alone.
  await page.click('#call-listen');
  await until(page, `/Listening/.test(document.querySelector('#call-status').textContent)`, 15_000);
  await page.click('#call-leave');

  const r = await call;
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.what} (${c.detail ?? ''})`);
  expect(failed, failed.join('; ')).toEqual([]);
  // The agent served the phone caller throughout: the call ended as the caller's, not a dev room's.
  expect(r.timeline.some((e) => e.source === 'heard' && /trash/i.test(e.text))).toBe(true);
  expect((await measured(page)).error).toBeNull();
  await page.close();
}, 180_000);

/**
 * The call the lab's phone answered (the `n`th placed) is bridged to the agent, which greets it as
 * a phone call of city-311; then the phone hangs up.
 */
async function greetedOnThePhone(n: number): Promise<LabCall> {
  const placed = await waitFor('the lab phone rings', async () => lab().placed[n], 15_000);
  const observer = new CallObserver(lab().livekit.stack);
  try {
    const first = await placed.media.waitFirstAudio(30_000);
    await waitFor(
      'a second of the greeting at the phone',
      async () => (placed.media.audibleMsSince(first, ['agent']) >= 1000 ? true : undefined),
      15_000,
    );
    // The call's room holds a SIP participant with the SMA's TransactionId (the agent takes only a
    // call whose token is valid), and the SMA bridged it as the outbound call of the use case named.
    expect(await observer.attach(placed.tx, { join: false })).toBe(true);
    expect(observer.roomName).toMatch(/^call_/);
    const items = await lab().sma.journal(placed.tx);
    const state = items.find((i) => i['sk'] === 'state')!;
    expect([state['Direction'], state['UseCase'], state['Phase']]).toEqual([
      'outbound',
      'city-311',
      'ai_connected',
    ]);
    process.stdout.write(
      `console: call ${n + 1} placed: the greeting reached the phone ${Math.round(first - placed.media.answeredAt!)} ms after the agent's leg answered\n`,
    );
  } finally {
    await observer.leave();
    await placed.media.callerHangsUp();
    await waitFor('the call ended', async () => (placed.call.ended ? true : undefined), 15_000);
    lab().calls.delete(placed.tx);
  }
  return placed;
}

it('"Call me" rings the lab phone and the agent greets it; so does `npm run call -- dial`', async () => {
  const page = await signedInPage(['dialer']);
  await page.waitForSelector('#dial-use-case option');
  // Only a use case whose settings allow outbound calls is offered.
  expect(await page.$$eval('#dial-use-case option', (o) => o.map((e) => e.value))).toEqual([
    'city-311',
  ]);
  const before = lab().placed.length;
  // A number outside the use case's allowed set: refused with a clear message, nothing dialled.
  await page.type('#dial-number', '+442079460000');
  await page.click('#dial-start');
  await until(
    page,
    `/country code \\+1/.test(document.querySelector('#dial-status').textContent)`,
    10_000,
  );
  expect(lab().placed.length).toBe(before);
  await page.$eval('#dial-number', (e) => ((e as unknown as { value: string }).value = ''));
  await page.type('#dial-number', LAB_CALLER);
  await page.click('#dial-start');
  await until(page, `/^Calling/.test(document.querySelector('#dial-status').textContent)`, 10_000);
  await page.screenshot({ path: join(OUT, 'call-me.png') });
  const placed = await greetedOnThePhone(before);
  expect(await page.$eval('#dial-status', (e) => e.textContent)).toContain(placed.tx);
  await page.close();

  // The command: the same rules, the same call.
  const { stdout } = await promisify(execFile)(
    join(ROOT, 'node_modules', '.bin', 'tsx'),
    ['scripts/call.ts', 'dial', LAB_CALLER, '--use-case', 'city-311'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        USE_CASES_FILE,
        SMA_APPLICATION_ID: LAB_SMA.applicationId,
        AWS_ENDPOINT_URL_CHIME_SDK_VOICE: lab().voiceApi.endpoint,
      },
    },
  );
  const dialled = await greetedOnThePhone(before + 1);
  expect(stdout).toContain(`placed: ${dialled.tx}`);
}, 120_000);

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
