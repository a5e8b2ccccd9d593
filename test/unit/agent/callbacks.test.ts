// Callbacks: which numbers may be called back, digits keyed in as numbers, the request_callback
// tool in the framework's session with the local dialogue engine (the number only ever the
// caller ID or keyed digits, always confirmed), and the Connect adapter through the real AWS SDK
// client against the lab's Connect stand-in.
import { initializeLogger, voice } from '@livekit/agents';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCallAgent } from '../../../agent/call-agent.js';
import { readCallContext, type CallContext } from '../../../agent/call-context.js';
import { ChimeCallControl } from '../../../agent/call-control.js';
import { callbackNumberProblem, keyedNumber } from '../../../agent/callbacks/callback-number.js';
import {
  ConnectCallbacks,
  type CallbackQueuer,
  type CallbackRequest,
} from '../../../agent/callbacks/connect-callbacks.js';
import { DialogueLLM } from '../../../agent/dialogue/dialogue-llm.js';
import { Lines, toolText } from '../../../agent/dialogue/engine.js';
import { CallKeypad } from '../../../agent/keypad.js';
import { ConnectQueueSource } from '../../../agent/queue-status/connect-queues.js';
import type { QueueStatusLookup } from '../../../agent/queue-status/index.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { startVoiceApiServer, type VoiceApiServer } from '../../../lab/chime/voice-api-server.js';
import {
  startConnectApiServer,
  type ConnectApiServer,
} from '../../../lab/connect/connect-api-server.js';
import { USE_CASES_JSON, type Json } from '../../helpers/sma.js';

initializeLogger({ pretty: false, level: 'warn' });

const useCases = parseUseCases(USE_CASES_JSON);
const policy = useCases.defaultUseCase.callbacks!;
const TX = '6f1c2d3e-1111-4222-8333-944455566679';
const CALLER = '+12065550100';
const attrs = (caller: string) => ({
  'sma.transactionId': TX,
  'sma.callToken': 'v1.1900000000.the-call-token-as-the-sma-signed-it',
  'sma.applicationId': 'sma-test',
  'sma.region': 'us-east-1',
  'call.useCase': 'city-311',
  'sip.phoneNumber': caller,
  'sip.trunkPhoneNumber': '+12025550132',
});
const logger = pino({ level: 'silent' });

describe('callback numbers', () => {
  const us = { callingCodes: ['1'], allowPremium: false };
  it.each([
    ['+12065550100', undefined],
    ['+18005550100', undefined], // toll-free
    ['2065550100', 'not_e164'],
    ['+442079460000', 'foreign'],
    ['+19005550100', 'premium'],
    ['+19765550100', 'premium'],
    ['+19115550100', 'not_a_subscriber'], // N11 area code
    ['+12069115555', 'not_a_subscriber'], // N11 exchange
    ['+11065550100', 'not_a_subscriber'], // area code starting 1
    ['+1206555010', 'not_a_subscriber'], // 9 digits
  ])('%s: %s', (number, problem) => {
    expect(callbackNumberProblem(number, us)).toBe(problem);
  });

  it('allows premium and other countries only when the use case says so', () => {
    expect(callbackNumberProblem('+19005550100', { ...us, allowPremium: true })).toBeUndefined();
    expect(
      callbackNumberProblem('+442079460000', { callingCodes: ['1', '44'], allowPremium: false }),
    ).toBeUndefined();
  });

  it.each([
    ['2065550123', '+12065550123'],
    ['12065550123', '+12065550123'],
    ['011442079460000', '+442079460000'],
    ['*442079460000', '+442079460000'],
  ])('keyed %s is %s', (digits, number) => {
    expect(keyedNumber(digits, policy)).toBe(number);
  });

  it('refuses what is not digits', () => {
    expect(keyedNumber('12#4', policy)).toBeUndefined();
    expect(keyedNumber('', policy)).toBeUndefined();
  });
});

let api: VoiceApiServer;
let connect: ConnectApiServer;
beforeAll(async () => {
  api = await startVoiceApiServer({ onUpdate: (_sma, tx) => tx === TX }, { ratePerSecond: 100 });
  connect = await startConnectApiServer({
    instanceId: policy.instanceId,
    queueIds: [policy.queueId],
  });
  process.env.AWS_ENDPOINT_URL_CHIME_SDK_VOICE = api.endpoint;
  process.env.AWS_ENDPOINT_URL_CONNECT = connect.endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
});
afterAll(async () => {
  await api.stop();
  await connect.stop();
});
const sessions: voice.AgentSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
  api.requests.length = 0;
  connect.callbacks.length = 0;
});

const busy: QueueStatusLookup = {
  watch: () => {},
  status: () =>
    Promise.resolve({
      agentsAvailable: 0,
      contactsInQueue: 5,
      oldestContactAgeS: 400,
      open: true,
      readAt: Date.now(),
    }),
};

class RecordingQueuer implements CallbackQueuer {
  requests: CallbackRequest[] = [];
  queue(req: CallbackRequest): Promise<string> {
    this.requests.push(req);
    return Promise.resolve('contact-1');
  }
}

async function startSession(call: CallContext, callbacks: CallbackQueuer, keypad: CallKeypad) {
  const control = ChimeCallControl.forCall(call.sma!);
  const agent = createCallAgent({
    call,
    control,
    logger,
    leave: () => undefined,
    handoff: { queues: busy, callbacks, keypad },
  });
  const session = new voice.AgentSession({ llm: new DialogueLLM(call.useCase) });
  sessions.push(session);
  await session.start({ agent });
  return session;
}

const said = (events: Json[]) =>
  events
    .filter((e) => e.type === 'message' && e.item.role === 'assistant')
    .map((e) => e.item.textContent as string);
const outputs = (events: Json[]) =>
  events.filter((e) => e.type === 'function_call_output').map((e) => toolText(e.item.output));
const updates = () => api.requests.map((r) => (r.body as Json).Arguments.action as string);

describe('request_callback (local dialogue engine)', () => {
  it('reads back the caller ID, queues the callback once confirmed, then ends the call', async () => {
    const queuer = new RecordingQueuer();
    const session = await startSession(
      readCallContext(attrs(CALLER), useCases),
      queuer,
      new CallKeypad(),
    );
    await session.run({ userInput: 'can I talk to a person' }).wait();
    const asked = await session.run({ userInput: 'please call me back' }).wait();
    expect(said(asked.events)).toEqual([
      'I can have someone call you back at the number ending in 0 1 0 0. Is that right? ' +
        'To use another number, key it in now and press the pound key.',
    ]);
    expect(queuer.requests).toEqual([]);
    const confirmed = await session.run({ userInput: 'yes' }).wait();
    expect(outputs(confirmed.events)[0]).toMatch(/^callback_queued/);
    expect(queuer.requests).toEqual([
      expect.objectContaining({
        transactionId: TX,
        number: CALLER,
        numberFrom: 'caller_id',
        queue: 'general',
        attributes: {
          callbridgeTransactionId: TX,
          callbridgeUseCase: 'city-311',
          callbridgeQueue: 'general',
        },
      }),
    ]);
    expect(updates()).toEqual(['hangup']);
  });

  it('keeps the offer open while the caller is asked to say it again', async () => {
    const queuer = new RecordingQueuer();
    const session = await startSession(
      readCallContext(attrs(CALLER), useCases),
      queuer,
      new CallKeypad(),
    );
    await session.run({ userInput: 'can I talk to a person' }).wait();
    const misheard = await session.run({ userInput: 'crawl me back' }).wait();
    expect(said(misheard.events)).toEqual([Lines.notUnderstood]);
    const again = await session.run({ userInput: 'please call me back' }).wait();
    expect(said(again.events)[0]).toMatch(/^I can have someone call you back at the number/);
    await session.run({ userInput: 'yes' }).wait();
    expect(queuer.requests).toEqual([expect.objectContaining({ number: CALLER })]);
  });

  it('takes a number keyed in instead, and reads it back before queuing it', async () => {
    const queuer = new RecordingQueuer();
    const keypad = new CallKeypad();
    const session = await startSession(readCallContext(attrs(CALLER), useCases), queuer, keypad);
    await session.run({ userInput: 'can I talk to a person' }).wait();
    await session.run({ userInput: 'call me back' }).wait();
    for (const d of '2065550123#') keypad.press(d);
    await new Promise((r) => setTimeout(r, 200));
    expect(
      said(session.history.items.map((item) => ({ type: 'message', item })) as Json[]).at(-1),
    ).toContain('ending in 0 1 2 3');
    await session.run({ userInput: 'yes that is right' }).wait();
    expect(queuer.requests.map((r) => [r.number, r.numberFrom])).toEqual([
      ['+12065550123', 'keypad'],
    ]);
  });

  it('refuses a premium number keyed in, and queues nothing', async () => {
    const queuer = new RecordingQueuer();
    const keypad = new CallKeypad();
    const session = await startSession(readCallContext(attrs(CALLER), useCases), queuer, keypad);
    await session.run({ userInput: 'can I talk to a person' }).wait();
    await session.run({ userInput: 'call me back' }).wait();
    for (const d of '9005550123#') keypad.press(d);
    await new Promise((r) => setTimeout(r, 200));
    // The agent asked for another number: a yes to that confirms nothing.
    const yes = await session.run({ userInput: 'yes' }).wait();
    expect(yes.events.filter((e) => e.type === 'function_call')).toEqual([]);
    expect(queuer.requests).toEqual([]);
  });

  it('asks for a number to be keyed in when the caller ID may not be called back', async () => {
    const queuer = new RecordingQueuer();
    const session = await startSession(
      readCallContext(attrs('+442079460000'), useCases),
      queuer,
      new CallKeypad(),
    );
    await session.run({ userInput: 'can I talk to a person' }).wait();
    const asked = await session.run({ userInput: 'call me back' }).wait();
    expect(outputs(asked.events)[0]).toMatch(/^callback_refused/);
    const yes = await session.run({ userInput: 'yes' }).wait();
    expect(queuer.requests).toEqual([]);
    expect(yes.events.filter((e) => e.type === 'function_call')).toEqual([]);
  });

  it('never takes a number the caller says', async () => {
    const queuer = new RecordingQueuer();
    const session = await startSession(
      readCallContext(attrs(CALLER), useCases),
      queuer,
      new CallKeypad(),
    );
    await session.run({ userInput: 'can I talk to a person' }).wait();
    await session.run({ userInput: 'call me back at 900 555 0123' }).wait();
    await session.run({ userInput: 'yes' }).wait();
    expect(queuer.requests.map((r) => r.number)).toEqual([CALLER]);
  });
});

describe('ConnectCallbacks (the SDK against the stand-in)', () => {
  it('queues the callback with StartOutboundVoiceContact, the flow, queue and attributes', async () => {
    const callbacks = new ConnectCallbacks({ client: ConnectQueueSource.clientFor('us-east-1') });
    const contactId = await callbacks.queue({
      policy,
      transactionId: TX,
      number: CALLER,
      numberFrom: 'caller_id',
      queue: 'general',
      attributes: { callbridgeUseCase: 'city-311' },
    });
    expect(connect.callbacks).toEqual([
      expect.objectContaining({
        contactId,
        contactFlowId: policy.contactFlowId,
        queueId: policy.queueId,
        destination: CALLER,
        source: policy.sourceNumber,
        attributes: { callbridgeUseCase: 'city-311' },
      }),
    ]);
  });

  it('fails clearly when Connect fails', async () => {
    connect.failNext(1, 500);
    const callbacks = new ConnectCallbacks({ client: ConnectQueueSource.clientFor('us-east-1') });
    await expect(
      callbacks.queue({
        policy,
        transactionId: TX,
        number: CALLER,
        numberFrom: 'caller_id',
        queue: 'general',
        attributes: {},
      }),
    ).rejects.toMatchObject({ name: 'CallbackError' });
  });
});
