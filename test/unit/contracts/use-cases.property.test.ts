// Property tests of the use-case schema (contracts/use-cases.ts): any valid use case survives the
// store's JSON round trip unchanged, and any set of independent mistakes is refused with each one
// named at its path.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseUseCases, useCaseFileProblems, useCaseSchema } from '../../../contracts/use-cases.js';

const e164 = fc
  .tuple(fc.integer({ min: 1, max: 9 }), fc.stringMatching(/^\d{9,13}$/))
  .map(([a, b]) => `+${a}${b}`);
const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/);
const text = fc.string({ minLength: 1, maxLength: 60 }).filter((s) => s.trim().length > 0);

/** A valid use case, as an operator might write it (optional blocks present or not). */
const validUseCase = fc
  .record(
    {
      id: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
      name: text,
      dialed: fc.uniqueArray(e164, { minLength: 2, maxLength: 4 }),
      greeting: text,
      instructions: text,
      queueKeys: fc.uniqueArray(key, { minLength: 1, maxLength: 3 }),
      queueNumber: e164,
      language: fc.constantFrom('en-US', 'es', 'es-US', 'fr-CA', 'pt-BR'),
      providers: fc.option(fc.constantFrom('worker', 'local', 'cloud'), { nil: undefined }),
      temperature: fc.option(fc.double({ min: 0, max: 2, noNaN: true }), { nil: undefined }),
      endpointing: fc.option(
        fc
          .tuple(fc.integer({ min: 100, max: 3000 }), fc.integer({ min: 1, max: 7000 }))
          .map(([min, more]) => ({ min, max: Math.min(10_000, Math.max(500, min + more)) }))
          .filter((e) => e.max > e.min),
        { nil: undefined },
      ),
      storeTranscripts: fc.option(fc.boolean(), { nil: undefined }),
      maxCallSeconds: fc.option(fc.integer({ min: 120, max: 14_400 }), { nil: undefined }),
    },
    {
      requiredKeys: [
        'id',
        'name',
        'dialed',
        'greeting',
        'instructions',
        'queueKeys',
        'queueNumber',
      ],
    },
  )
  .map((r) => {
    const [livekit, ...dialed] = r.dialed as [string, ...string[]];
    const queueKeys = r.queueKeys as [string, ...string[]];
    return {
      id: r.id,
      name: r.name,
      dialedNumbers: dialed,
      livekitNumber: livekit,
      greeting: r.greeting,
      instructions: r.instructions,
      queues: Object.fromEntries(queueKeys.map((k) => [k, { number: r.queueNumber }])),
      defaultQueue: queueKeys[0],
      ...(r.language ? { language: r.language } : {}),
      ...(r.providers || r.temperature !== undefined
        ? {
            speech: {
              ...(r.providers ? { providers: r.providers } : {}),
              ...(r.temperature !== undefined ? { temperature: r.temperature } : {}),
            },
          }
        : {}),
      ...(r.endpointing
        ? {
            turnTaking: {
              endpointingMinMs: r.endpointing.min,
              endpointingMaxMs: r.endpointing.max,
            },
          }
        : {}),
      ...(r.storeTranscripts !== undefined
        ? { memory: { storeTranscripts: r.storeTranscripts } }
        : {}),
      ...(r.maxCallSeconds ? { limits: { maxCallSeconds: r.maxCallSeconds } } : {}),
    };
  });

/** Mistakes that are independent of each other, each with the path it must be named at. */
const MISTAKES: { path: string; apply: (uc: Record<string, unknown>) => void }[] = [
  { path: 'greeting', apply: (uc) => void (uc.greeting = '') },
  { path: 'livekitNumber', apply: (uc) => void (uc.livekitNumber = '555-0100') },
  { path: 'language', apply: (uc) => void (uc.language = 'English') },
  { path: 'speech.providers', apply: (uc) => void (uc.speech = { providers: 'both' }) },
  {
    path: 'turnTaking.endpointingMinMs',
    apply: (uc) => void (uc.turnTaking = { endpointingMinMs: 5 }),
  },
  { path: 'limits.maxCallSeconds', apply: (uc) => void (uc.limits = { maxCallSeconds: 1 }) },
  { path: 'memory.storeTranscripts', apply: (uc) => void (uc.memory = { storeTranscripts: 'no' }) },
  { path: 'instructions', apply: (uc) => void delete uc.instructions },
];

describe('use-case schema (properties)', () => {
  it('accepts every valid use case, and its JSON round trip parses to the same value', () => {
    fc.assert(
      fc.property(validUseCase, (uc) => {
        const parsed = useCaseSchema.parse(uc);
        expect(useCaseSchema.parse(JSON.parse(JSON.stringify(uc)))).toEqual(parsed);
        // Defaults are stable: a parsed use case parses to itself.
        expect(useCaseSchema.parse(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
        const file = { defaultUseCase: uc.id, useCases: [uc] };
        expect(useCaseFileProblems(file)).toEqual([]);
        expect(parseUseCases(file).defaultUseCase.id).toBe(uc.id);
      }),
      { numRuns: 300 },
    );
  });

  it('names every mistake of a use case at its path', () => {
    fc.assert(
      fc.property(validUseCase, fc.subarray(MISTAKES, { minLength: 1 }), (uc, mistakes) => {
        const bad = structuredClone(uc) as Record<string, unknown>;
        for (const m of mistakes) m.apply(bad);
        const problems = useCaseFileProblems({ defaultUseCase: uc.id, useCases: [bad] });
        for (const m of mistakes) {
          expect(problems.some((p) => p.startsWith(`useCases.0.${m.path}:`))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses two use cases that claim one number, naming the number', () => {
    fc.assert(
      fc.property(validUseCase, validUseCase, (a, b) => {
        fc.pre(a.id !== b.id);
        const shared = a.dialedNumbers[0]!;
        const other = { ...b, dialedNumbers: [shared] };
        const problems = useCaseFileProblems({ defaultUseCase: a.id, useCases: [a, other] });
        expect(problems).toContain(
          `useCases.1.dialedNumbers.0: ${shared} is already used by ${a.id}`,
        );
      }),
      { numRuns: 100 },
    );
  });
});
