// The caller's keypad: digits to whatever awaits them, else to the call's default (0: a person).
import { initializeLogger, voice } from '@livekit/agents';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallAgent } from '../../../agent/call-agent.js';
import { readCallContext } from '../../../agent/call-context.js';
import { ChimeCallControl } from '../../../agent/call-control.js';
import { DialogueLLM } from '../../../agent/dialogue/dialogue-llm.js';
import { CallLines } from '../../../agent/greeting-cache.js';
import { pressZeroTransfers } from '../../../agent/handoff.js';
import { CallKeypad } from '../../../agent/keypad.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { startVoiceApiServer, type VoiceApiServer } from '../../../lab/chime/voice-api-server.js';
import { USE_CASES_JSON, type Json } from '../../helpers/sma.js';

initializeLogger({ pretty: false, level: 'warn' });
const logger = pino({ level: 'silent' });

describe('CallKeypad', () => {
  it('gives a digit to the latest capture that takes it, else to the default', () => {
    const keypad = new CallKeypad();
    const seen: string[] = [];
    keypad.otherwise((d) => seen.push(`default ${d}`));
    const stop = keypad.capture((d) => (d === '#' ? false : (seen.push(`capture ${d}`), true)));
    keypad.press('1');
    keypad.press('#');
    stop();
    keypad.press('0');
    expect(seen).toEqual(['capture 1', 'default #', 'default 0']);
  });
});

const TX = '6f1c2d3e-1111-4222-8333-944455566680';
let api: VoiceApiServer;
beforeAll(async () => {
  api = await startVoiceApiServer({ onUpdate: (_sma, tx) => tx === TX }, { ratePerSecond: 100 });
  process.env.AWS_ENDPOINT_URL_CHIME_SDK_VOICE = api.endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
});
afterAll(async () => {
  await api.stop();
});

describe('press 0', () => {
  it('transfers to the default queue without the model, once', async () => {
    const useCases = parseUseCases(USE_CASES_JSON);
    const call = readCallContext(
      {
        'sma.transactionId': TX,
        'sma.callToken': 'v1.1900000000.the-call-token-as-the-sma-signed-it',
        'sma.applicationId': 'sma-test',
        'sma.region': 'us-east-1',
        'call.useCase': 'city-311',
        'sip.phoneNumber': '+12065550100',
      },
      useCases,
    );
    const control = ChimeCallControl.forCall(call.sma!);
    const agent = createCallAgent({ call, control, logger, leave: () => undefined });
    const session = new voice.AgentSession({ llm: new DialogueLLM(call.useCase) });
    await session.start({ agent });
    const lines = new CallLines(call.useCase);
    const pressZero = pressZeroTransfers(session, { call, control, lines, logger });
    pressZero();
    pressZero();
    for (let i = 0; i < 100 && api.requests.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(api.requests.map((r) => (r.body as Json).Arguments)).toEqual([
      expect.objectContaining({ action: 'transfer', queue: 'general', reason: 'caller_asked' }),
    ]);
    await session.close();
  });
});
