// Call recordings end to end on the real lab (docs/architecture.md, "Recordings"): a use case that
// records, called both ways in. Through Chime, the SMA starts StartCallRecording on the caller's
// leg, Chime says the announcement before the agent, and the lab's Chime writes the caller's line
// to the lab's S3 (moto) when the call ends; through Twilio, Twilio says the announcement and the
// gateway writes both directions of the stream. Either way the recording is in the local S3 with
// the length its item in the calls table says, and its key names no phone number.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import bundled from '../../contracts/use-cases.json' with { type: 'json' };
import {
  RECORDING_SK,
  recordingItem,
  VOICEMAIL_SK,
  voicemailItem,
} from '../../contracts/recordings.js';
import { renderPhoneLine } from '../../lab/chime/voice-connector-media.js';
import { LAB_CALLER } from '../../lab/lab.js';
import { readObject } from '../../lab/stack/local-s3.js';
import { wavFacts } from '../../store/recordings.js';
import { labForSuite } from '../helpers/lab.js';
import { until, waitFor } from '../helpers/wait.js';

const NOTICE = 'This call is recorded so that we can serve you better.';

// Every use case of the shipped file records (the lab reads USE_CASES_FILE as it starts).
const file = structuredClone(bundled) as { useCases: Record<string, unknown>[] };
for (const uc of file.useCases) {
  uc['recording'] = { enabled: true, announcement: NOTICE };
  uc['voicemail'] = { enabled: true, maxSeconds: 20 };
}
const dir = mkdtempSync(join(tmpdir(), 'callbridge-recordings-'));
const before = process.env.USE_CASES_FILE;
process.env.USE_CASES_FILE = join(dir, 'use-cases.json');
afterAll(() => {
  if (before === undefined) delete process.env.USE_CASES_FILE;
  else process.env.USE_CASES_FILE = before;
});
writeFileSync(process.env.USE_CASES_FILE, JSON.stringify(file));

const lab = labForSuite({ twilio: true, prewarmed: 1 });

async function recordingOf(tx: string) {
  const item = await waitFor(
    'the recording item with its length',
    async () => {
      const found = (await lab().sma.journal(tx)).find((i) => i['sk'] === RECORDING_SK);
      return found?.['Seconds'] !== undefined ? found : undefined;
    },
    20_000,
  );
  return recordingItem.parse(item);
}

it('records a Chime call: the announcement before the agent, the caller line in S3', async () => {
  const { call, media, tx } = lab().newCall();
  const question = await renderPhoneLine('When is my trash picked up?', 'rms');
  await call.startInbound();
  const firstAgentAudio = await media.waitFirstAudio(20_000);
  await media.say(question.samples, question.sampleRate);
  await new Promise((r) => setTimeout(r, 1500));
  await media.callerHangsUp();

  // The announcement was heard, from Chime, before the agent said anything.
  const announced = media.firstAudibleAt('chime');
  expect(announced).toBeDefined();
  expect(announced!).toBeLessThan(firstAgentAudio);
  expect(call.timeline.map((s) => s.actions.map((a) => a.Type))).toContainEqual([
    'StartCallRecording',
  ]);

  const written = await media.recordingWritten!;
  const rec = await recordingOf(tx);
  expect(rec).toMatchObject({ Source: 'chime', Format: 'wav', Track: 'BOTH' });
  expect(rec.Key).toBe(written.key);
  expect(rec.Key).not.toContain(LAB_CALLER.slice(1));
  const obj = await readObject(lab().sma.s3.client, lab().sma.s3.bucket, rec.Key);
  const wav = wavFacts(obj.bytes);
  expect(wav).toMatchObject({ channels: 2, sampleRate: 8000 });
  // As long as the call from the recording's start: what the SMA measured and what Chime wrote
  // (the SMA counts from StartCallRecording's result to LEG-A's hang-up, the executor from the
  // action to the line going quiet: a few hundred milliseconds apart at most).
  expect(Math.abs(wav.seconds - rec.Seconds!)).toBeLessThan(1);
  expect(wav.seconds).toBeGreaterThan(question.samples.length / question.sampleRate + 1.5);
  expect(obj.metadata['recording-duration']).toBe(String(written.seconds));
}, 120_000);

it('records a Twilio call: both directions of the stream as one stereo WAV', async () => {
  const twilio = lab().twilio!;
  const call = twilio.standIn.newCall({
    voiceUrl: twilio.voiceUrl,
    caller: LAB_CALLER,
    dialed: lab().livekit.useCases.defaultUseCase.dialedNumbers[0]!,
  });
  const question = await renderPhoneLine('When is my trash picked up?', 'rms');
  const started = performance.now();
  try {
    await call.startInbound();
    await call.waitFirstAudio(20_000);
    await call.say(question.samples, question.sampleRate);
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    await call.callerHangsUp();
  }
  const span = (performance.now() - started) / 1000;
  // Twilio said the announcement (its <Say>) before the stream.
  expect(call.audibleMsSince(started, ['chime'])).toBeGreaterThan(1000);

  const rec = await recordingOf(call.callSid);
  expect(rec).toMatchObject({ Source: 'twilio', Format: 'wav', Track: 'BOTH' });
  expect(rec.Key).toContain(`_${call.callSid}_${call.streamSid}.wav`);
  expect(rec.Key).not.toContain(LAB_CALLER.slice(1));
  const obj = await readObject(lab().sma.s3.client, lab().sma.s3.bucket, rec.Key);
  const wav = wavFacts(obj.bytes);
  expect(wav).toEqual({ channels: 2, sampleRate: 8000, seconds: rec.Seconds });
  // The stream's length: at least what the caller said and waited, at most the whole call.
  expect(wav.seconds).toBeGreaterThan(question.samples.length / question.sampleRate + 1.5);
  expect(wav.seconds).toBeLessThan(span);
}, 120_000);

it('takes a message when no person answers, and keeps it in S3 with the call', async () => {
  const { call, media, tx } = lab().newCall({ queueAnswers: false });
  await call.startInbound();
  await media.waitFirstAudio(20_000);
  // The transfer the agent would ask for; the queue and its fallback ring out.
  // Chime runs the whole action chain before the update's promise settles: not awaited here.
  const transferred = call.requestTransfer('general');
  await until(
    'the message is asked for',
    () => call.timeline.some((s) => s.actions.some((a) => a.Type === 'RecordAudio')),
    30_000,
  );
  const asked = performance.now();
  await until(
    'the prompt, then quiet',
    () =>
      media.audibleMsSince(asked, ['chime']) > 0 &&
      performance.now() - (media.lastAudibleAt() ?? 0) > 800,
    30_000,
  );
  const message = await renderPhoneLine('Please call me back about my trash pickup.', 'rms');
  await media.say(message.samples, message.sampleRate);
  await media.pressKeys('#');
  await transferred;
  await until('the call ends', () => call.ended, 20_000);

  const left = await waitFor(
    'the voicemail item',
    async () => (await lab().sma.journal(tx)).find((i) => i['sk'] === VOICEMAIL_SK),
    10_000,
  );
  const vm = voicemailItem.parse(left);
  expect(vm).toMatchObject({ Bucket: lab().sma.s3.bucket, Format: 'wav', Queue: 'general' });
  expect(vm.Key).toMatch(/^voicemail\//);
  const obj = await readObject(lab().sma.s3.client, lab().sma.s3.bucket, vm.Key);
  const wav = wavFacts(obj.bytes);
  // The message as said (the recording stops at #, pressed right after it).
  const said = message.samples.length / message.sampleRate;
  expect(wav.seconds).toBeGreaterThan(said - 0.1);
  expect(wav.seconds).toBeLessThan(said + 1);
  const state = (await lab().sma.journal(tx)).find((i) => i['sk'] === 'state');
  expect(state).toMatchObject({ TransferOutcome: 'failed', Disposition: 'failed' });
}, 120_000);
