// The verification API as callers reach it: HTTP requests turned into function-URL events for the
// real handler, which reaches the real DynamoDB API (dynalite) and the SMS stand-in through the
// real AWS SDK clients and their standard endpoint variables.
import { Writable } from 'node:stream';
import {
  PinpointSMSVoiceV2Client,
  SendTextMessageCommand,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerKey, callerPk } from '../../contracts/callers.js';
import { startLocalSms, type LocalSms } from '../../lab/sms/local-sms.js';
import { startLocalDynamo, type LocalDynamo } from '../../lab/stack/local-dynamodb.js';
import {
  DEVELOPMENT_CALLER_KEY_SECRET,
  startLocalVerification,
  type LocalVerification,
} from '../../lab/verify/local-verification.js';

const TABLE = 'callbridge-verify-it';
// Fixed, a minute into a 15-minute window: sends of one test share their window.
let clock = Date.UTC(2030, 0, 1, 0, 1);
const logLines: string[] = [];
const codesSeen: string[] = [];
let db: LocalDynamo;
let sms: LocalSms;
let api: LocalVerification;

beforeAll(async () => {
  db = await startLocalDynamo({ table: TABLE });
  sms = await startLocalSms();
  api = await startLocalVerification({
    dynamoEndpoint: db.endpoint,
    table: TABLE,
    smsEndpoint: sms.endpoint,
    env: { VERIFY_SENDS_PER_SOURCE: '1000', LOG_LEVEL: 'debug' },
    logDestination: new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
    now: () => clock,
  });
});

afterAll(async () => {
  await api?.stop();
  await sms?.stop();
  await db?.stop();
});

function post(path: string, body: unknown, contentType = 'application/json') {
  return fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Asks for a code for `number` and reads it from the SMS that arrives. */
async function requestCode(number: string): Promise<string> {
  const res = await post('/codes', { number });
  expect(res.status).toBe(202);
  const message = await sms.nextMessage(number);
  const code = /\b(\d{6})\b/.exec(message.body)![1]!;
  codesSeen.push(code);
  return code;
}

const confirm = (number: string, code: string) => post('/codes/confirm', { number, code });
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

async function tableItems(): Promise<Record<string, unknown>[]> {
  const res = await db.client.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
  return (res.Items ?? []).map((i) => unmarshall(i));
}

describe('verification API (function URL, dynalite, SMS stand-in)', () => {
  it('verifies a number when the code sent by SMS is confirmed, keeping neither in the table', async () => {
    const number = '+15550100401';
    const code = await requestCode(number);
    const [message] = sms.messages.filter((m) => m.to === number);
    expect(message).toMatchObject({ from: '+15550100999', messageType: 'TRANSACTIONAL' });
    expect(message!.body).toContain('callbridge lab');

    const res = await confirm(number, code);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'verified' });

    const key = callerKey(number, DEVELOPMENT_CALLER_KEY_SECRET);
    expect(key).not.toContain('5550100401');
    const got = await db.client.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { pk: { S: callerPk(key) }, sk: { S: 'verified' } },
      }),
    );
    const verified = unmarshall(got.Item!);
    expect(verified.VerifiedAt).toBe(clock);
    expect(verified.ExpiresAt).toBe(Math.ceil((clock + 365 * 86_400_000) / 1000));

    const values = (await tableItems()).flatMap((item) => Object.values(item));
    expect(JSON.stringify(values)).not.toContain('5550100401');
    for (const c of codesSeen) {
      expect(values.filter((v) => typeof v === 'string' && v.includes(c))).toEqual([]);
      expect(values).not.toContain(Number(c));
    }
    // The code is used up.
    expect((await confirm(number, code)).status).toBe(400);
  });

  it('locks a code after 5 wrong attempts, refusing even the right one and new sends', async () => {
    const number = '+15550100402';
    const code = await requestCode(number);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await confirm(number, wrong(code))).status);
    expect(answers).toEqual([400, 400, 400, 400, 400]);
    expect((await confirm(number, code)).status).toBe(429);
    expect((await post('/codes', { number })).status).toBe(429);
  });

  it('answers an expired code as it answers a wrong one', async () => {
    const number = '+15550100403';
    const code = await requestCode(number);
    const wrongAnswer = await (await confirm(number, wrong(code))).text();
    clock += 10 * 60_000 + 1000;
    try {
      const res = await confirm(number, code);
      expect(res.status).toBe(400);
      expect(await res.text()).toBe(wrongAnswer);
    } finally {
      clock -= 10 * 60_000 + 1000;
    }
  });

  it('answers the 4th send to a number within the window with 429 and Retry-After', async () => {
    const number = '+15550100404';
    for (let i = 0; i < 3; i++) await requestCode(number);
    const res = await post('/codes', { number });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBe(14 * 60);
    expect(sms.messages.filter((m) => m.to === number)).toHaveLength(3);
  });

  it('answers 400 with a clear error, never a stack, when the request is malformed', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['/codes', '{"number": +1555', /not valid JSON/],
      ['/codes', { number: '555 0100' }, /^number: must be an E\.164 number/],
      ['/codes', { number: '+15550100405', extra: true }, /unexpected field: extra/],
      ['/codes/confirm', { number: '+15550100405' }, /^code: required/],
      ['/codes/confirm', { number: '+15550100405', code: '12 345' }, /^code: must be the 6 digits/],
    ];
    for (const [path, body, error] of cases) {
      const res = await post(path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const answer = (await res.json()) as { error: string };
      expect(answer.error).toMatch(error);
      expect(answer.error).not.toMatch(/\n\s+at |Error:/);
    }
    expect((await post('/codes', { number: '+15550100405' }, 'text/plain')).status).toBe(415);
  });

  it('serves the registration page with its CSP on GET /', async () => {
    const res = await fetch(`${api.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(await res.text()).toContain('<form id="send">');
  });

  it('answers 429 when one source address asks for more codes than its limit', async () => {
    const other = await startLocalVerification({
      dynamoEndpoint: db.endpoint,
      table: TABLE,
      smsEndpoint: sms.endpoint,
      // Another secret: another source key than the main instance's, whose sends it must not share.
      callerKeySecret: 'another-caller-key-secret-for-the-source-limit-test',
      env: { VERIFY_SENDS_PER_SOURCE: '2', LOG_LEVEL: 'silent' },
      now: () => clock,
    });
    try {
      const send = (n: string) =>
        fetch(`${other.url}/codes`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ number: n }),
        });
      expect((await send('+15550100406')).status).toBe(202);
      expect((await send('+15550100407')).status).toBe(202);
      expect((await send('+15550100408')).status).toBe(429);
    } finally {
      await other.stop();
    }
  });

  it('answers a malformed SendTextMessage as the service does, through the real SDK', async () => {
    const client = new PinpointSMSVoiceV2Client({ endpoint: sms.endpoint });
    try {
      const err = await client
        .send(new SendTextMessageCommand({ DestinationPhoneNumber: 'not-a-number' }))
        .catch((e: unknown) => e as Error & { $metadata: { httpStatusCode: number } });
      expect(err).toMatchObject({ name: 'ValidationException' });
      expect(err.$metadata.httpStatusCode).toBe(400);
    } finally {
      client.destroy();
    }
  });

  it('logs no code, and the number only under pii, in any line of the runs above', () => {
    expect(codesSeen.length).toBeGreaterThan(5);
    expect(logLines.length).toBeGreaterThan(10);
    for (const line of logLines) {
      // `time` is the wall clock in ms: six digits of it may equal a code by chance.
      const { pii: _pii, time: _time, ...rest } = JSON.parse(line) as Record<string, unknown>;
      const text = JSON.stringify({ ...rest, pii: _pii });
      for (const code of codesSeen) expect(text).not.toContain(code);
      expect(JSON.stringify(rest)).not.toMatch(/55501004\d\d/);
    }
  });
});
