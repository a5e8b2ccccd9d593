// The call's limits wired into the framework's own session (agent/call-limits.ts followSession,
// sessionLimitActions): a silent caller hears the check-ins and the goodbye from the cache, then
// the SMA is asked to hang up with caller_silent; in a dev room the agent leaves instead. Silence
// settings far shorter than a use case allows keep the test quick; only the order is asserted.
import { initializeLogger, voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createCallAgent } from '../../../agent/call-agent.js';
import { readCallContext } from '../../../agent/call-context.js';
import type { CallUpdateRequest } from '../../../agent/call-control.js';
import { CallLimits, followSession, sessionLimitActions } from '../../../agent/call-limits.js';
import { DialogueLLM } from '../../../agent/dialogue/dialogue-llm.js';
import { CallLines, GreetingCache } from '../../../agent/greeting-cache.js';
import { fixedLines, type LineName } from '../../../agent/lines.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { CountingTTS } from '../../helpers/agent.js';
import { RecordingAudioOutput } from '../../helpers/audio.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

initializeLogger({ pretty: false, level: 'error' });

const useCases = parseUseCases(USE_CASES_JSON);
const useCase = useCases.defaultUseCase;
const logger = pino({ level: 'silent' });
const QUICK = { maxCallSeconds: 1800, silence: { checkInAfterMs: 150, endAfterMs: 600 } };
const PHONE_ATTRS = {
  'sma.transactionId': 'tx-limits',
  'sma.applicationId': 'sma-test',
  'sma.region': 'us-east-1',
  'call.useCase': useCase.id,
};

/** A line's audio: a tone whose pitch tells the lines apart. */
async function renderTone(text: string): Promise<AudioFrame[]> {
  const n = 320;
  const frames: AudioFrame[] = [];
  for (let i = 0; i < 10; i++) {
    const data = new Int16Array(n);
    const step = 2 + (text.length % 7);
    for (let j = 0; j < n; j++) data[j] = Math.round(3000 * Math.sin(j / step));
    frames.push(new AudioFrame(data, 16000, 1, n));
  }
  return frames;
}

const sessions: voice.AgentSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

/** A call's session with the limits followed and started, as call-session.ts wires them. */
async function silentCall(attrs: Record<string, string>) {
  const cache = new GreetingCache();
  await cache.warmFixedLines([useCase], renderTone);
  const call = readCallContext(attrs, useCases);
  const tts = new CountingTTS({ voice: useCase.voice.local });
  const updates: CallUpdateRequest[] = [];
  let left = 0;
  const leave = () => void left++;
  const limits = new CallLimits({ limits: QUICK, logger });
  const control = limits.watch(
    call.kind === 'phone' ? { update: async (u) => void updates.push(u) } : undefined,
  );
  const lines = new CallLines(call.useCase, cache);
  const agent = createCallAgent({ call, control, logger, lines, leave });
  const session = new voice.AgentSession({ llm: new DialogueLLM(call.useCase), tts });
  sessions.push(session);
  const output = new RecordingAudioOutput(16000, false);
  session.output.audio = output;
  followSession(session, limits);
  await session.start({ agent });
  limits.start(sessionLimitActions(session, { lines, hangUp: { call, control, logger, leave } }));
  const pcm = async (name: LineName) => {
    const out: number[] = [];
    for await (const f of cache.stream(useCase, fixedLines(useCase)[name])!) out.push(...f.data);
    return out;
  };
  const played = (segment: number) => output.framesOf(segment).flatMap((f) => [...f.data]);
  return { updates, left: () => left, tts, pcm, played };
}

describe('call limits in a session', () => {
  it('checks in twice from the cache, says goodbye, then asks the SMA to hang up (caller_silent)', async () => {
    const c = await silentCall(PHONE_ATTRS);
    await until(() => c.updates.length > 0);
    expect(c.updates).toMatchObject([{ action: 'hangup', reason: 'caller_silent' }]);
    expect(c.tts.texts).toEqual([]);
    expect(c.played(0)).toEqual(await c.pcm('checkIn'));
    expect(c.played(1)).toEqual(await c.pcm('checkIn'));
    expect(c.played(2)).toEqual(await c.pcm('silentGoodbye'));
    expect(c.left()).toBe(0);
  });

  it('says the same in a dev room, then leaves the room', async () => {
    const c = await silentCall({ 'call.useCase': useCase.id });
    await until(() => c.left() > 0);
    expect(c.left()).toBe(1);
    expect(c.played(2)).toEqual(await c.pcm('silentGoodbye'));
    expect(c.updates).toEqual([]);
  });
});
