// A whole call with SPEECH_PROVIDERS=cloud: the agent's real Deepgram and OpenAI plugins, reached
// through their base URLs, carry the conversation and the transfer to a person. Without keys they
// talk to the local stand-ins (lab/cloud/), which speak the vendors' protocols; with both
// DEEPGRAM_API_KEY and OPENAI_API_KEY set, the same test runs against the real services, and its
// name says which. Then every cloud provider fails (the stand-ins' fault switch) and the offline
// ones carry the next call to the same end.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { type CallResult, runScriptedCall } from '../../lab/caller/scripted-caller.js';
import { loadScenario } from '../../lab/caller/scenario.js';
import { haveCloudKeys } from '../../lab/cloud/cloud-speech.js';
import { labForSuite } from '../helpers/lab.js';

const real = haveCloudKeys();
const against = real
  ? 'against the real Deepgram and OpenAI services (keys set)'
  : 'against the local Deepgram and OpenAI stand-ins (no keys set)';

const lab = labForSuite({ prewarmed: 1, speech: 'cloud' });

function expectHeld(r: CallResult): void {
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.what} (${c.detail ?? ''})`);
  expect(failed, `${r.scenario}: ${failed.join('; ')}`).toEqual([]);
  expect(r.ok).toBe(true);
}

const updatesOf = (tx: string) =>
  lab()
    .voiceApi.requests.filter((r) => r.path.endsWith(`/calls/${tx}`) && r.status === 202)
    .map((r) => (r.body as { Arguments: Record<string, string> }).Arguments);

it(`ask-then-transfer with cloud speech ${against}: answered, then handed to a person`, async () => {
  expect(lab().cloud?.target).toBe(real ? 'real services' : 'stand-ins');
  const r = await runScriptedCall(lab(), loadScenario('ask-then-transfer'));
  expectHeld(r);
  // The model's transfer_to_human reached the Voice API stand-in with the contract's arguments.
  expect(updatesOf(r.tx)).toEqual([expect.objectContaining({ action: 'transfer' })]);
  expect(r.timeline.some((e) => e.source === 'heard')).toBe(true);
  const log = readFileSync(lab().livekit.worker!.logFile, 'utf8');
  expect(log).toContain('"msg":"speech providers: cloud"');
  // The cloud providers carried the call: no fallback to the offline ones was needed.
  expect(log).not.toContain('speech provider failed');
  if (!real) {
    const served = lab().cloud!.served();
    expect(served['/v1/listen']).toBeGreaterThan(0);
    expect(served['/v1/speak']).toBeGreaterThan(0);
    expect(served['/v1/chat/completions']).toBeGreaterThanOrEqual(2);
    expect(updatesOf(r.tx)).toEqual([
      expect.objectContaining({ action: 'transfer', queue: 'general', reason: 'caller_asked' }),
    ]);
  }
}, 180_000);

const ALL_CLOUD_ROUTES = ['/v1/listen', '/v1/speak', '/v1/chat/completions', '/v1/audio/speech'];

// The real services cannot be switched off: with keys, this one is skipped, and says why.
it.skipIf(real)(
  'every cloud provider failing (stand-ins switched off; not with real keys): the offline ones carry the call to a person, without the failure hand-off',
  async () => {
    const log = () => readFileSync(lab().livekit.worker!.logFile, 'utf8');
    const linesBefore = log().split('\n').length;
    lab().cloud!.fail(ALL_CLOUD_ROUTES);
    try {
      const r = await runScriptedCall(lab(), loadScenario('ask-then-transfer'));
      expectHeld(r);
      // The dialogue engine's transfer (caller_asked), not the failure policy's (agent_error).
      expect(updatesOf(r.tx)).toEqual([
        expect.objectContaining({ action: 'transfer', queue: 'general', reason: 'caller_asked' }),
      ]);
      const lines = log().split('\n').slice(linesBefore).join('\n');
      for (const kind of ['stt', 'llm', 'tts']) {
        expect(lines).toMatch(new RegExp(`"kind":"${kind}"[^\n]*speech provider failed`));
      }
      // Each failure the fallback covered reached the session as recoverable: no trouble line.
      expect(lines).not.toMatch(/"recoverable":false[^\n]*"msg":"provider error"/);
    } finally {
      lab().cloud!.fail([]);
    }
  },
  180_000,
);
