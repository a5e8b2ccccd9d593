// Shared arrangements for the SimulatedChimeCall suites: a call, handlers under the test's
// control, fake media, the actions they answer with, and WAV files built in memory.
import { vi } from 'vitest';
import type { ChimeLeg } from '../../lab/chime/events.js';
import type { ChimeMedia } from '../../lab/chime/simulated-call.js';
import { simulateCall } from './sma.js';

const CALL = {
  transactionId: 'c0ffee00-5a1e-4c4b-9d2a-7e1f00c0ffee',
  smaId: 'sma-lab',
  region: 'us-east-1',
  accountId: '111122223333',
};
export const LEG_A = 'c0ffee00-leg1';

export interface Action {
  Type: string;
  Parameters?: Record<string, unknown>;
}
interface Ev {
  Sequence: number;
  InvocationEventType: string;
  ActionData?: Record<string, unknown>;
  CallDetails: { Participants: ChimeLeg[] };
}

/** A handler under the test's control that keeps every event it is given. */
export function handlerOf(answer: (ev: Ev, attempt: number) => unknown) {
  const events: Ev[] = [];
  const handler = async (e: unknown) => {
    const ev = e as Ev;
    events.push(ev);
    return answer(ev, events.filter((x) => x.Sequence === ev.Sequence).length);
  };
  return {
    handler,
    events,
    ofType: (t: string) => events.filter((e) => e.InvocationEventType === t),
  };
}

export function fakeMedia(playAudio?: ChimeMedia['playAudio']) {
  return {
    bridge: vi.fn(async () => true),
    hangup: vi.fn(async (_leg: ChimeLeg) => {}),
    speak: vi.fn(async (_text: string) => {}),
    ...(playAudio ? { playAudio: vi.fn(playAudio) } : {}),
  };
}

export const simulate = (
  handler: (e: unknown) => Promise<unknown>,
  opts: Parameters<typeof simulateCall>[2] = {},
) => simulateCall(CALL, handler, opts);

/** A RIFF/WAVE file: a `fmt ` chunk (PCM16 mono 8 kHz unless told), optional chunks, `data`. */
export function wavBytes(
  samples: number[],
  fmt: { format?: number; channels?: number; rate?: number; bits?: number } = {},
  extra: { id: string; body: Buffer }[] = [],
): Buffer {
  const { format = 1, channels = 1, rate = 8000, bits = 16 } = fmt;
  const chunk = (id: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'ascii');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body, Buffer.alloc(body.length % 2)]);
  };
  const f = Buffer.alloc(16);
  f.writeUInt16LE(format, 0);
  f.writeUInt16LE(channels, 2);
  f.writeUInt32LE(rate, 4);
  f.writeUInt32LE((rate * channels * bits) / 8, 8);
  f.writeUInt16LE((channels * bits) / 8, 12);
  f.writeUInt16LE(bits, 14);
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16LE(v, i * 2));
  const body = Buffer.concat([
    Buffer.from('WAVE'),
    ...extra.map((c) => chunk(c.id, c.body)),
    chunk('fmt ', f),
    chunk('data', data),
  ]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

export const speak = (text: string): Action => ({
  Type: 'Speak',
  Parameters: { CallId: LEG_A, Text: text },
});
export const bridgeToAgent: Action = {
  Type: 'CallAndBridge',
  Parameters: {
    CallTimeoutSeconds: 30,
    CallerIdNumber: '+12065550100',
    Endpoints: [
      {
        BridgeEndpointType: 'AWS',
        Arn: 'arn:aws:chime:us-east-1:111122223333:vc/lab',
        Uri: '+12025550131',
      },
    ],
  },
};
