// Switching a call's language (agent/language-switch.ts) in the framework's own session (text
// only: no server, no keys): what a switch changes (the recognizer, the model and the voice made
// for the language, the model's instructions, the call's fixed lines, the record's language), what
// it leaves (the conversation, the tools, the queues: a transfer still goes through Chime), and
// what it refuses (a language the use case does not list, a speech set that cannot speak it).
import { initializeLogger, llm, stt, tts, voice } from '@livekit/agents';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createCallAgent } from '../../../agent/call-agent.js';
import { readCallContext, type CallContext } from '../../../agent/call-context.js';
import { DialogueLLM } from '../../../agent/dialogue/dialogue-llm.js';
import { Lines, nextReply, normalise, toolText } from '../../../agent/dialogue/engine.js';
import { askedLanguage } from '../../../agent/dialogue/language-request.js';
import { CallLines } from '../../../agent/greeting-cache.js';
import {
  inLanguage,
  languageOptionOf,
  languageVariants,
  switchParameters,
} from '../../../agent/language-switch.js';
import { fixedLines, SHARED_LINES } from '../../../agent/lines.js';
import { CallVad } from '../../../agent/providers/call-vad.js';
import {
  servingOf,
  type SessionComponents,
  type SpeechProviders,
} from '../../../agent/providers/index.js';
import { parseUseCases, useCaseFileProblems, type UseCase } from '../../../contracts/use-cases.js';
import { agentSessions } from '../../helpers/agent-session.js';
import { calls, said } from '../../helpers/session-events.js';
import { USE_CASES_JSON, type Json } from '../../helpers/sma.js';
import spanishExample from '../../../contracts/examples/city-311-es.json' with { type: 'json' };

initializeLogger({ pretty: false, level: 'warn' });

const TX = '6f1c2d3e-1111-4222-8333-944455566677';
const CONFIRMATION = 'Claro, seguimos en español. ¿En qué le puedo ayudar?';
const HANDOFF_ES = 'Claro. Le comunico con una persona de nuestro equipo. Espere, por favor.';
const SPANISH = {
  language: 'es-US',
  confirmation: CONFIRMATION,
  voice: { cloud: 'aura-2-celeste-es' },
  lines: { handoff: HANDOFF_ES },
};
const ENGLISH = {
  language: 'en-US',
  confirmation: "Sure, let's go on in English. How can I help?",
};

/** The bundled file with city-311 offering `languages`. */
function fileWith(languages: unknown): Json {
  const file = structuredClone(USE_CASES_JSON) as Json;
  const city = file.useCases.find((u: Json) => u.id === 'city-311');
  city.languages = languages;
  return file;
}

const useCases = parseUseCases(fileWith([SPANISH, ENGLISH]));
const city = useCases.byIdOrUndefined('city-311')!;
const PHONE_ATTRS = {
  'sma.transactionId': TX,
  'sma.callToken': 'v1.1900000000.the-call-token-as-the-sma-signed-it',
  'sma.applicationId': 'sma-test',
  'sma.region': 'us-east-1',
  'call.useCase': 'city-311',
  'sip.trunkPhoneNumber': '+12025550132',
};

describe('use case languages (contracts/use-cases.ts)', () => {
  it('lists none by default; takes languages with a confirmation, voices and lines', () => {
    expect(parseUseCases(USE_CASES_JSON).defaultUseCase.languages).toEqual([]);
    expect(city.languages.map((l) => l.language)).toEqual(['es-US', 'en-US']);
  });

  it('refuses a language listed twice, a bad tag, a missing confirmation, an unknown line', () => {
    expect(useCaseFileProblems(fileWith([SPANISH, { ...SPANISH, language: 'es-us' }]))).toEqual([
      expect.stringMatching(/languages: lists a language twice/),
    ]);
    expect(useCaseFileProblems(fileWith([{ ...SPANISH, language: 'Spanish' }]))).toEqual([
      expect.stringMatching(/languages\.0\.language: must be a language tag/),
    ]);
    expect(useCaseFileProblems(fileWith([{ language: 'es-US' }]))).toEqual([
      expect.stringMatching(/languages\.0\.confirmation/),
    ]);
    expect(useCaseFileProblems(fileWith([{ ...SPANISH, lines: { greet: 'Hola' } }]))).toEqual([
      expect.stringMatching(/languages\.0\.lines/),
    ]);
  });
});

describe('the use case in a language', () => {
  const es = inLanguage(city, languageOptionOf(city, 'es-US')!);

  it('takes the language, its voice, its lines and its confirmation; keeps the rest', () => {
    expect(es.language).toBe('es-US');
    expect(es.voice).toEqual({ ...city.voice, cloud: 'aura-2-celeste-es' });
    expect(es.greeting).toBe(CONFIRMATION);
    expect(fixedLines(es)).toEqual({
      ...SHARED_LINES,
      greeting: CONFIRMATION,
      handoff: HANDOFF_ES,
    });
    for (const same of ['id', 'queues', 'defaultQueue', 'instructions', 'limits', 'faq'] as const)
      expect(es[same]).toEqual(city[same]);
  });

  it("keeps a use case's own lines in its own language, the English ones in another", () => {
    const file = structuredClone(USE_CASES_JSON) as Json;
    file.useCases.push(spanishExample);
    const es = parseUseCases(file).byIdOrUndefined('city-311-es')!;
    const back = inLanguage(es, languageOptionOf(es, 'es-US')!);
    expect(fixedLines(back).handoff).toBe(es.lines?.handoff);
    expect(fixedLines(back).handoff).toMatch(/^Claro/);
    const english = inLanguage(es, languageOptionOf(es, 'en-US')!);
    expect(fixedLines(english)).toEqual({ ...SHARED_LINES, greeting: english.greeting });
    expect(english.voice.cloud).toBe('aura-2-thalia-en');
  });

  it('finds only a listed tag (case aside), nothing near it', () => {
    expect(languageOptionOf(city, 'ES-us')?.language).toBe('es-US');
    for (const tag of ['es', 'es-MX', 'fr-FR', 'spanish', 'es-US; also fr', ''])
      expect(languageOptionOf(city, tag)).toBeUndefined();
    expect(switchParameters(city).shape.language.description).toContain('es-US, en-US');
  });

  it('renders the lines of the languages a speech set can speak, none offline', () => {
    const cloud = fakeProviders('cloud').providers;
    expect(languageVariants(useCases.all, cloud).map((v) => [v.id, v.language])).toEqual([
      ['city-311', 'es-US'],
      ['city-311', 'en-US'],
    ]);
    // The offline set keeps English only: its English confirmation is rendered, not the Spanish.
    const local = fakeProviders('local').providers;
    expect(languageVariants(useCases.all, local).map((v) => v.language)).toEqual(['en-US']);
  });
});

describe('the local dialogue engine hears a request for a language', () => {
  it.each([
    ['Spanish please', 'es'],
    ['¿Habla español?', 'es'],
    ['Can we speak in Spanish', 'es'],
    ['español por favor', 'es'],
    ['English please', 'en'],
  ])('%s', (said, base) => expect(askedLanguage(normalise(said))).toBe(base));

  it.each(['I had Spanish rice before my trash was not picked up', 'When is city hall open'])(
    'not in: %s',
    (said) => expect(askedLanguage(normalise(said))).toBeUndefined(),
  );

  it("asks for the use case's own tag, says a language it does not offer cannot be spoken", () => {
    expect(nextReply(city, [{ role: 'user', text: '¿Habla español?' }])).toEqual({
      kind: 'tool',
      name: 'switch_language',
      args: { language: 'es-US' },
    });
    expect(nextReply(city, [{ role: 'user', text: 'French please' }])).toEqual({
      kind: 'say',
      text: Lines.languageUnavailable,
    });
    // A line that offers none: the same, and never a tool call.
    const plain = parseUseCases(USE_CASES_JSON).defaultUseCase;
    expect(nextReply(plain, [{ role: 'user', text: 'Spanish please' }])).toEqual({
      kind: 'say',
      text: Lines.languageUnavailable,
    });
    // Its own language changes nothing: the words go on to the other rules.
    expect(nextReply(plain, [{ role: 'user', text: 'English please' }])).toEqual({
      kind: 'say',
      text: Lines.notUnderstood,
    });
    // The offer of a person that follows: a yes transfers.
    const yes = nextReply(city, [
      { role: 'user', text: 'French please' },
      { role: 'assistant', text: Lines.languageUnavailable },
      { role: 'user', text: 'yes please' },
    ]);
    expect(yes).toMatchObject({ kind: 'tool', name: 'transfer_to_human' });
  });
});

/** An STT that is never streamed in a text session: it only names what it was made for. */
class MadeSTT extends stt.STT {
  label = 'test.MadeSTT';
  constructor(readonly language: string) {
    super({ streaming: true, interimResults: false });
  }
  protected async _recognize(): Promise<stt.SpeechEvent> {
    throw new Error('not used in a text session');
  }
  stream(): stt.SpeechStream {
    throw new Error('not used in a text session');
  }
}

/** A voice that is never asked to speak in a text session. */
class MadeTTS extends tts.TTS {
  label = 'test.MadeTTS';
  constructor() {
    super(16000, 1, { streaming: false });
  }
  synthesize(): tts.ChunkedStream {
    throw new Error('not used in a text session');
  }
  stream(): tts.SynthesizeStream {
    throw new Error('not used in a text session');
  }
}

interface Made {
  useCase: UseCase;
  vad: CallVad | undefined;
  parts: SessionComponents;
}

/**
 * A speech set that makes components for each use case it is asked for and remembers them. Its
 * model answers in the use case's language: the dialogue engine in English, a fixed Spanish line
 * otherwise (what a cloud model told to answer in Spanish would do).
 */
function fakeProviders(kind: 'local' | 'cloud') {
  const made: Made[] = [];
  const spanish = new voice.testing.FakeLLM([
    {
      input: '¿Cuándo abre el ayuntamiento?',
      content: 'El Ayuntamiento abre de lunes a viernes.',
    },
    {
      input: 'Quiero hablar con una persona',
      toolCalls: [
        { name: 'transfer_to_human', args: { queue: 'general', reason: 'caller_asked' } },
      ],
    },
    {
      input: 'English please',
      toolCalls: [{ name: 'switch_language', args: { language: 'en-US' } }],
    },
  ]);
  const providers: SpeechProviders = {
    kind,
    serves: (uc) => {
      const s = servingOf(kind, uc);
      return s.ok && kind === 'local' && !uc.language.startsWith('en')
        ? { ok: false, why: 'language' }
        : s;
    },
    components: (uc, vad) => {
      const parts = {
        vad: vad as CallVad,
        stt: new MadeSTT(uc.language),
        llm: uc.language.startsWith('en') ? new DialogueLLM(uc) : spanish,
        tts: new MadeTTS(),
      };
      made.push({ useCase: uc, vad, parts });
      return parts;
    },
    renderSpeech: async () => [],
  };
  return { providers, made };
}

const harness = agentSessions(() => true);

async function startCall(kind: 'local' | 'cloud', model?: llm.LLM) {
  const call: CallContext = readCallContext(PHONE_ATTRS, useCases);
  const { providers, made } = fakeProviders(kind);
  const lines = new CallLines(call.useCase);
  const switched: string[] = [];
  const { session, agent } = await harness.start(call, {
    llm: model,
    control: { sleep: async () => {} },
    lines,
    providers,
    onLanguageSwitched: (l) => switched.push(l),
  });
  return { session, agent, made, lines, switched };
}
/** What the agent has said in the call so far (the session's history). */
const agentLines = (session: voice.AgentSession) =>
  session.history.items.flatMap((i) =>
    i.type === 'message' && i.role === 'assistant' ? [i.textContent ?? ''] : [],
  );
const outputs = (events: Json[]) =>
  events.filter((e) => e.type === 'function_call_output').map((e) => toolText(e.item.output));

describe('switch_language in a call', () => {
  it('switches the recognizer, the model, the voice, the instructions and the lines; the call goes on', async () => {
    const { session, agent, made, lines, switched } = await startCall('cloud');
    const instructionsBefore = agent.instructions;
    const result = await session.run({ userInput: 'Spanish please' }).wait();
    expect(calls(result.events)).toEqual([
      { name: 'switch_language', args: { language: 'es-US' } },
    ]);
    // The components of the language, following the call's own VAD.
    expect(made).toHaveLength(1);
    const [{ useCase, parts }] = made as [Made];
    expect(useCase).toMatchObject({ language: 'es-US', voice: { cloud: 'aura-2-celeste-es' } });
    expect(agent.stt).toBe(parts.stt);
    expect((agent.stt as MadeSTT).language).toBe('es-US');
    expect(agent.llm).toBe(parts.llm);
    expect(agent.tts).toBe(parts.tts);
    // The model is told the language; its use case's instructions stay first.
    expect(agent.instructions).not.toBe(instructionsBefore);
    expect(String(agent.instructions).startsWith(city.instructions)).toBe(true);
    expect(String(agent.instructions)).toContain('answer only in Spanish');
    // The caller hears the confirmation, and only it: the model is not asked for another reply.
    expect(agentLines(session).slice(-1)).toEqual([CONFIRMATION]);
    expect(said(result.events)).toEqual([]);
    expect(lines.lines.handoff).toBe(HANDOFF_ES);
    expect(switched).toEqual(['es-US']);
    // The next turn goes to the model made for the language, which answers in it.
    const next = await session.run({ userInput: '¿Cuándo abre el ayuntamiento?' }).wait();
    expect(said(next.events)).toEqual(['El Ayuntamiento abre de lunes a viernes.']);
    // The tools carry on: a transfer still reaches Chime, after the hand-off line in Spanish.
    const transfer = await session.run({ userInput: 'Quiero hablar con una persona' }).wait();
    expect(calls(transfer.events)).toEqual([
      { name: 'transfer_to_human', args: { queue: 'general', reason: 'caller_asked' } },
    ]);
    expect(outputs(transfer.events)[0]).toMatch(/^transfer_started/);
    // The SMA was told of the switch, and the transfer carries the language again (with the
    // call's token): what Chime says itself from then on is in Spanish.
    const sent = harness.api.requests.map((r) => (r.body as Json).Arguments);
    expect(sent).toEqual([
      expect.objectContaining({
        action: 'language',
        language: 'es-US',
        token: PHONE_ATTRS['sma.callToken'],
      }),
      expect.objectContaining({ action: 'transfer', queue: 'general', language: 'es-US' }),
    ]);
    expect(sent[0]).not.toHaveProperty('reason');
    expect(agentLines(session)).toContain(HANDOFF_ES);
  });

  it('a call that never switched sends its updates without a language', async () => {
    const { session } = await startCall('cloud');
    await session.run({ userInput: 'I would like to talk to a person please' }).wait();
    const sent = harness.api.requests.map((r) => (r.body as Json).Arguments);
    expect(sent.map((a) => a.action)).toEqual(['transfer']);
    expect(sent[0]).not.toHaveProperty('language');
  });

  it('switches back to a listed language with its own confirmation', async () => {
    const { session, made, switched } = await startCall('cloud');
    await session.run({ userInput: 'Spanish please' }).wait();
    const again = await session.run({ userInput: 'English please' }).wait();
    expect(made.map((m) => m.useCase.language)).toEqual(['es-US', 'en-US']);
    expect(said(again.events)).toEqual([]);
    expect(agentLines(session).slice(-1)).toEqual([ENGLISH.confirmation]);
    expect(switched).toEqual(['es-US', 'en-US']);
    // The SMA is told of each switch, back to the use case's own language too.
    await expect
      .poll(() => harness.api.requests.map((r) => (r.body as Json).Arguments.language))
      .toEqual(['es-US', 'en-US']);
  });

  it('refuses a language the use case does not list: nothing changes', async () => {
    const fake = new voice.testing.FakeLLM([
      {
        input: 'French please',
        toolCalls: [{ name: 'switch_language', args: { language: 'fr-FR' } }],
      },
      {
        input: 'anything you like',
        toolCalls: [{ name: 'switch_language', args: { language: 'es-US, fr-FR' } }],
      },
      {
        input: 'same again',
        toolCalls: [{ name: 'switch_language', args: { language: 'en-US' } }],
      },
    ]);
    const { session, agent, made, lines, switched } = await startCall('cloud', fake);
    const instructions = agent.instructions;
    for (const input of ['French please', 'anything you like']) {
      const r = await session.run({ userInput: input }).wait();
      expect(outputs(r.events)[0]).toMatch(/^language_refused/);
    }
    const same = await session.run({ userInput: 'same again' }).wait();
    expect(outputs(same.events)[0]).toMatch(/^language_current/);
    expect(made).toEqual([]);
    expect(agent.instructions).toBe(instructions);
    expect(agent.stt).toBeUndefined();
    expect(lines.lines.handoff).toBe(SHARED_LINES.handoff);
    expect(switched).toEqual([]);
    // Nothing reaches the SMA: the call is still in its use case's language.
    expect(harness.api.requests).toEqual([]);
  });

  it('offline, it cannot speak Spanish: says so and offers a person, changing nothing', async () => {
    const { session, agent, made, switched } = await startCall('local');
    const instructions = agent.instructions;
    const r = await session.run({ userInput: '¿Habla español?' }).wait();
    expect(calls(r.events)).toEqual([{ name: 'switch_language', args: { language: 'es-US' } }]);
    expect(outputs(r.events)[0]).toMatch(/^language_unavailable/);
    expect(said(r.events)).toEqual([Lines.languageUnavailable]);
    expect(made).toEqual([]);
    expect(agent.instructions).toBe(instructions);
    expect(switched).toEqual([]);
    const yes = await session.run({ userInput: 'yes please' }).wait();
    expect(calls(yes.events)).toEqual([
      { name: 'transfer_to_human', args: { queue: 'general', reason: 'caller_asked' } },
    ]);
  });

  it('is not offered on a use case that lists no language', () => {
    const plain = readCallContext(PHONE_ATTRS, parseUseCases(USE_CASES_JSON));
    const agent = createCallAgent({
      call: plain,
      control: undefined,
      logger: pino({ level: 'silent' }),
      leave: () => undefined,
      providers: fakeProviders('cloud').providers,
    });
    expect(Object.keys(agent.toolCtx)).not.toContain('switch_language');
  });
});
