// Callbacks: which numbers may be called back, digits keyed in as numbers, the request_callback
// tool in the framework's session with the local dialogue engine (the number only ever the
// caller ID or keyed digits, always confirmed), and the Connect adapter through the real AWS SDK
// client against the lab's Connect stand-in.
import { describe, expect, it } from 'vitest';
import { readCallContext } from '../../../agent/call-context.js';
import { callbackNumberProblem, keyedNumber } from '../../../agent/callbacks/callback-number.js';
import {
  ConnectCallbacks,
  type CallbackQueuer,
  type CallbackRequest,
} from '../../../agent/callbacks/connect-callbacks.js';
import { Lines } from '../../../agent/dialogue/engine.js';
import { CallKeypad } from '../../../agent/keypad.js';
import { ConnectQueueSource } from '../../../agent/queue-status/connect-queues.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { agentSessions, queueLookup, smaCallAttrs } from '../../helpers/agent-session.js';
import { outputs, said } from '../../helpers/session-events.js';
import { connectStandIn } from '../../helpers/connect.js';
import { USE_CASES_JSON, type Json } from '../../helpers/sma.js';

const useCases = parseUseCases(USE_CASES_JSON);
const policy = useCases.defaultUseCase.callbacks!;
const TX = '6f1c2d3e-1111-4222-8333-944455566679';
const CALLER = '+12065550100';

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

const agents = agentSessions((tx) => tx === TX);
const lab = connectStandIn({ instanceId: policy.instanceId, queueIds: [policy.queueId] });
const busy = queueLookup({ contactsInQueue: 5, oldestContactAgeS: 400 }).queues;

class RecordingQueuer implements CallbackQueuer {
  requests: CallbackRequest[] = [];
  queue(req: CallbackRequest): Promise<string> {
    this.requests.push(req);
    return Promise.resolve('contact-1');
  }
}

/** A call from `caller` to a busy team, the caller having asked for a person. */
async function askedForAPerson(caller = CALLER) {
  const queuer = new RecordingQueuer();
  const keypad = new CallKeypad();
  const { session } = await agents.start(
    readCallContext(smaCallAttrs(TX, { 'sip.phoneNumber': caller }), useCases),
    { handoff: { queues: busy, callbacks: queuer, keypad } },
  );
  await session.run({ userInput: 'can I talk to a person' }).wait();
  return { session, queuer, keypad };
}

/** Keys `digits` in as the caller would, and gives the agent time to answer them. */
async function keyIn(keypad: CallKeypad, digits: string) {
  for (const d of digits) keypad.press(d);
  await new Promise((r) => setTimeout(r, 200));
}

describe('request_callback (local dialogue engine)', () => {
  it('reads back the caller ID, queues the callback once confirmed, then ends the call', async () => {
    const { session, queuer } = await askedForAPerson();
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
    expect(agents.updates().map((u) => u.action)).toEqual(['hangup']);
  });

  it('keeps the offer open while the caller is asked to say it again', async () => {
    const { session, queuer } = await askedForAPerson();
    // "Please" and more is not a yes to holding: the agent asks again.
    const misheard = await session.run({ userInput: 'please all my bag' }).wait();
    expect(said(misheard.events)).toEqual([Lines.notUnderstood]);
    expect(agents.updates()).toEqual([]);
    const again = await session.run({ userInput: 'please call me back' }).wait();
    expect(said(again.events)[0]).toMatch(/^I can have someone call you back at the number/);
    await session.run({ userInput: 'yes' }).wait();
    expect(queuer.requests).toEqual([expect.objectContaining({ number: CALLER })]);
  });

  it('takes a number keyed in instead, and reads it back before queuing it', async () => {
    const { session, queuer, keypad } = await askedForAPerson();
    await session.run({ userInput: 'call me back' }).wait();
    await keyIn(keypad, '2065550123#');
    expect(
      said(session.history.items.map((item) => ({ type: 'message', item })) as Json[]).at(-1),
    ).toContain('ending in 0 1 2 3');
    await session.run({ userInput: 'yes that is right' }).wait();
    expect(queuer.requests.map((r) => [r.number, r.numberFrom])).toEqual([
      ['+12065550123', 'keypad'],
    ]);
  });

  it('refuses a premium number keyed in, and queues nothing', async () => {
    const { session, queuer, keypad } = await askedForAPerson();
    await session.run({ userInput: 'call me back' }).wait();
    await keyIn(keypad, '9005550123#');
    // The agent asked for another number: a yes to that confirms nothing.
    const yes = await session.run({ userInput: 'yes' }).wait();
    expect(yes.events.filter((e) => e.type === 'function_call')).toEqual([]);
    expect(queuer.requests).toEqual([]);
  });

  it('asks for a number to be keyed in when the caller ID may not be called back', async () => {
    const { session, queuer } = await askedForAPerson('+442079460000');
    const asked = await session.run({ userInput: 'call me back' }).wait();
    expect(outputs(asked.events)[0]).toMatch(/^callback_refused/);
    const yes = await session.run({ userInput: 'yes' }).wait();
    expect(queuer.requests).toEqual([]);
    expect(yes.events.filter((e) => e.type === 'function_call')).toEqual([]);
  });

  it('never takes a number the caller says', async () => {
    const { session, queuer } = await askedForAPerson();
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
    expect(lab.connect.callbacks).toEqual([
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
    lab.connect.failNext(1, 500);
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
