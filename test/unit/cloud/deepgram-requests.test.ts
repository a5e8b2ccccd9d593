// What the Deepgram stand-in notes of each stream and request it accepts, as the query parameters
// of Deepgram's documented protocol say it: a recognizer's `language` (Deepgram's default `en` when
// a stream names none) and model, a voice's model. A refused handshake is not noted.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type DeepgramStandIn, startDeepgramStandIn } from '../../../lab/cloud/deepgram-server.js';

const KEY = 'test-deepgram-key';
let standIn: DeepgramStandIn;
beforeAll(async () => {
  // The recognizer is never asked: these streams carry no audio.
  standIn = await startDeepgramStandIn({ apiKey: KEY, recognizer: { transcribe: async () => '' } });
});
afterAll(async () => {
  await standIn?.stop();
});

/** Opens a WebSocket to `path?query` and closes it: whether the handshake was accepted. */
async function open(path: string, key = KEY): Promise<boolean> {
  const ws = new WebSocket(`${standIn.url.replace(/^http/, 'ws')}${path}`, {
    headers: { Authorization: `Token ${key}` },
  });
  return new Promise((resolve) => {
    ws.once('open', () => {
      ws.close();
      resolve(true);
    });
    ws.once('error', () => resolve(false));
    ws.once('unexpected-response', () => resolve(false));
  });
}

it("notes each listen stream's language and model, and each speak stream's voice", async () => {
  const audio = 'encoding=linear16&sample_rate=16000';
  expect(await open(`/v1/listen?${audio}&model=nova-3&language=en-US`)).toBe(true);
  expect(await open(`/v1/listen?${audio}&model=nova-3&language=es-US`)).toBe(true);
  expect(await open(`/v1/listen?${audio}`)).toBe(true);
  expect(await open('/v1/speak?model=aura-2-celeste-es&encoding=linear16&sample_rate=16000')).toBe(
    true,
  );
  // Refused (a wrong key, a missing encoding): not streams, not noted.
  expect(await open(`/v1/listen?${audio}&language=fr`, 'wrong')).toBe(false);
  expect(await open('/v1/listen?language=fr')).toBe(false);
  expect(standIn.requests).toEqual([
    { route: '/v1/listen', model: 'nova-3', language: 'en-US' },
    { route: '/v1/listen', model: 'nova-3', language: 'es-US' },
    { route: '/v1/listen', model: 'base', language: 'en' },
    { route: '/v1/speak', model: 'aura-2-celeste-es' },
  ]);
});
