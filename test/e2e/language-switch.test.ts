// A caller switches a cloud call to Spanish, on the whole lab with SPEECH_PROVIDERS=cloud against
// the local Deepgram and OpenAI stand-ins (lab/cloud/): the model's switch_language reopens the
// recognizer with the new language (the Deepgram stand-in records each stream's `language`), the
// caller hears the use case's Spanish confirmation next, in the Spanish voice, and a transfer
// still goes through, after the Spanish hand-off line. The call's record keeps the language, and
// so does the SMA (told of the switch, and by the transfer): when no one in the queue answers, the
// apology Chime says itself is the Spanish one, in the Spanish Polly voice.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import bundled from '../../contracts/use-cases.json' with { type: 'json' };
import { runScriptedCall, type CallResult } from '../../lab/caller/scripted-caller.js';
import { parseScenario } from '../../lab/caller/scenario.js';
import { haveCloudKeys } from '../../lab/cloud/cloud-speech.js';
import { conversationRecord, labForSuite } from '../helpers/lab.js';

const CONFIRMATION = 'Claro, seguimos en español. ¿En qué le puedo ayudar?';
const HANDOFF_ES = 'Claro. Le comunico con una persona de nuestro equipo. Espere, por favor.';
const SPANISH_VOICE = 'aura-2-celeste-es';
const APOLOGY_ES =
  'Lo sentimos, nadie del equipo del 311 puede atenderle ahora. Llame de nuevo más tarde. Adiós.';
const CHIME_VOICE_ES = 'Lupe';

// The lab's use cases: the bundled ones, city-311 offering Spanish (and English back). The SMA,
// the workers and the stand-ins read the file (USE_CASES_FILE) from the lab's start.
const file = structuredClone(bundled) as { useCases: Record<string, unknown>[] };
file.useCases[0]!.languages = [
  {
    language: 'es-US',
    confirmation: CONFIRMATION,
    voice: { cloud: SPANISH_VOICE, chime: CHIME_VOICE_ES },
    lines: { handoff: HANDOFF_ES },
    messages: { apology: APOLOGY_ES },
  },
  { language: 'en-US', confirmation: "Sure, let's go on in English. How can I help?" },
];
const path = join(mkdtempSync(join(tmpdir(), 'language-switch-')), 'use-cases.json');
writeFileSync(path, JSON.stringify(file));
const before = process.env.USE_CASES_FILE;
process.env.USE_CASES_FILE = path;
afterAll(() => {
  if (before === undefined) delete process.env.USE_CASES_FILE;
  else process.env.USE_CASES_FILE = before;
});

const real = haveCloudKeys();
const lab = labForSuite({ prewarmed: 1, speech: 'cloud' });

const timelineOf = (r: CallResult) => r.timeline.map((e) => `${e.source}: ${e.text}`).join('\n');

/** The call's UpdateSipMediaApplicationCall Arguments the Voice API stand-in accepted. */
const updatesOf = (tx: string) =>
  lab()
    .voiceApi.requests.filter((q) => q.path.endsWith(`/calls/${tx}`) && q.status === 202)
    .map((q) => (q.body as { Arguments: Record<string, string> }).Arguments);

it.skipIf(real)(
  'a caller asks for Spanish: the recognizer reopens in Spanish, the next reply is the Spanish confirmation, and the transfer still goes through',
  async () => {
    const seen = lab().cloud!.deepgramRequests().length;
    const r = await runScriptedCall(
      lab(),
      parseScenario(
        `name: language-switch
description: e2e
caller: "+12065550181"
steps:
  - greeting: { withinMs: 30000 }
  - say: Can we speak Spanish please?
    then: { hears: agent, atLeastMs: 1000, withinMs: 20000 }
  - say: I would like to talk to a person please.
    then: { transferred: true, withinMs: 30000 }
  - listen: { hears: person, atLeastMs: 1000, withinMs: 15000 }
  - hangUp: { afterMs: 500 }
expect:
  disposition: transferred
`,
        'language-switch',
      ),
    );
    const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.what} (${c.detail ?? ''})`);
    expect(failed, timelineOf(r)).toEqual([]);

    // The record: the request, then the confirmation; the hand-off line in Spanish; the language.
    const record = await conversationRecord(lab(), r.tx);
    const lines = record.Transcript;
    const asked = lines.findIndex((l) => l.role === 'caller' && /spanish/i.test(l.text));
    expect(asked, JSON.stringify(lines)).toBeGreaterThan(0);
    expect(lines.slice(asked + 1).find((l) => l.role === 'agent')?.text).toBe(CONFIRMATION);
    expect(lines.map((l) => l.text)).toContain(HANDOFF_ES);
    expect(record.Language).toBe('es-US');

    // The recognizer: this call's streams opened in English, then one opened in Spanish.
    const streams = lab()
      .cloud!.deepgramRequests()
      .slice(seen)
      .filter((q) => q.route === '/v1/listen')
      .map((q) => q.language);
    expect(streams[0]).toBe('en-US');
    expect(streams.at(-1)).toBe('es-US');
    // The Spanish voice rendered the Spanish lines (at prewarm: they play from memory).
    expect(lab().cloud!.deepgramRequests()).toContainEqual({
      route: '/v1/speak',
      model: SPANISH_VOICE,
    });

    // The SMA was told of the switch; the transfer went through it as any other, in Spanish.
    expect(updatesOf(r.tx)).toEqual([
      expect.objectContaining({ action: 'language', language: 'es-US' }),
      expect.objectContaining({
        action: 'transfer',
        queue: 'general',
        reason: 'caller_asked',
        language: 'es-US',
      }),
    ]);
    const state = (await lab().sma.journal(r.tx)).find((i) => i['sk'] === 'state')!;
    expect(state['Language']).toBe('es-US');
    const log = readFileSync(lab().livekit.worker!.logFile, 'utf8');
    expect(log).toMatch(/"from":"en-US","to":"es-US"[^\n]*"msg":"language switched"/);

    // Figures, not assertions: the timeline at the caller's ear (the request's end → the
    // confirmation heard), the switch itself in the agent (new components, instructions), and
    // when the Voice API took the language update (the SMA had the language from then on).
    const switchMs = /"switchMs":(\d+)[^\n]*"msg":"language switched"/.exec(log)?.[1];
    const t0 = r.timeline[0]?.at ?? 0;
    const told = lab().voiceApi.requests.find(
      (q) =>
        q.path.endsWith(`/calls/${r.tx}`) &&
        (q.body as { Arguments: Record<string, string> }).Arguments['action'] === 'language',
    );
    const shown = [
      ...r.timeline.filter((e) => ['caller', 'agent', 'ear'].includes(e.source)),
      ...(told
        ? [{ at: told.at, source: 'voice-api', text: `language update → ${told.status}` }]
        : []),
    ]
      .sort((a, b) => a.at - b.at)
      .map((e) => `${((e.at - t0) / 1000).toFixed(3)} s  ${e.source}  ${e.text}`);
    console.log(`language switch: switchMs ${switchMs}\n${shown.join('\n')}`);
  },
  240_000,
);

it.skipIf(real)(
  'after a switch to Spanish, what Chime says itself is Spanish: no one answers, the apology is the Spanish one in the Spanish voice',
  async () => {
    const r = await runScriptedCall(
      lab(),
      parseScenario(
        `name: language-switch-apology
description: e2e
caller: "+12065550182"
queueAnswers: false
steps:
  - greeting: { withinMs: 30000 }
  - say: Can we speak Spanish please?
    then: { hears: agent, atLeastMs: 1000, withinMs: 20000 }
  - say: I would like to talk to a person please.
    then: { hears: chime, atLeastMs: 1000, withinMs: 60000 }
  - listen: { callEnds: true, withinMs: 60000 }
expect:
  disposition: failed
`,
        'language-switch-apology',
      ),
    );
    const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.what} (${c.detail ?? ''})`);
    expect(failed, timelineOf(r)).toEqual([]);
    // The SMA's own words after the switch: the Spanish apology, in es-US with the Polly voice
    // the language names (the lab's Chime stand-in records each Speak in the timeline).
    const spoken = r.timeline.filter((e) => e.source === 'sma' && e.text.includes('Speak "'));
    expect(spoken.map((e) => e.text).join('\n'), timelineOf(r)).toContain(
      `Speak "${APOLOGY_ES}" (es-US, ${CHIME_VOICE_ES})`,
    );
    expect(
      spoken.some((e) => e.text.includes('(en-US,')),
      timelineOf(r),
    ).toBe(false);
    expect(updatesOf(r.tx).map((a) => [a.action, a.language])).toEqual([
      ['language', 'es-US'],
      ['transfer', 'es-US'],
    ]);
  },
  240_000,
);
