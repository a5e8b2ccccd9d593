// Which speech set can hold which use case (agent/providers: servingOf), with the shipped
// non-English example, and what reaches the session from a use case's settings.
import { describe, expect, it } from 'vitest';
import bundled from '../../../contracts/use-cases.json' with { type: 'json' };
import spanish from '../../../contracts/examples/city-311-es.json' with { type: 'json' };
import { parseUseCases, useCaseFileProblems, useCaseSchema } from '../../../contracts/use-cases.js';
import { instructionsFor } from '../../../agent/call-agent.js';
import type { CallContext } from '../../../agent/call-context.js';
import { servingOf } from '../../../agent/providers/index.js';
import { DEFAULT_TURN_TAKING, turnHandling } from '../../../agent/session-assembly.js';

const english = parseUseCases(bundled).defaultUseCase;
const es = useCaseSchema.parse(spanish);

describe('the non-English example use case', () => {
  it('fits beside the bundled use cases (put with npm run use-case)', () => {
    const file = { ...bundled, useCases: [...bundled.useCases, spanish] };
    expect(useCaseFileProblems(file)).toEqual([]);
  });

  it('is served by the cloud set, and refused by the offline one', () => {
    expect(servingOf('cloud', es)).toEqual({ ok: true });
    expect(servingOf('local', es)).toEqual({ ok: false, why: 'needs_cloud' });
  });

  it('tells the model its language; an English use case is told nothing more', () => {
    const text = instructionsFor({ useCase: es } as CallContext);
    expect(text).toContain('The caller speaks es-US: always answer in it.');
    expect(instructionsFor({ useCase: english } as CallContext)).not.toContain('The caller speaks');
  });
});

describe('servingOf', () => {
  it('serves an English use case with either set, as the worker chooses', () => {
    expect(servingOf('local', english)).toEqual({ ok: true });
    expect(servingOf('cloud', english)).toEqual({ ok: true });
  });

  it('refuses a non-English use case that asks for the offline set, on any worker', () => {
    const offlineSpanish = { ...es, speech: { ...es.speech, providers: 'local' as const } };
    expect(servingOf('cloud', offlineSpanish)).toEqual({ ok: false, why: 'language' });
  });
});

describe('turn-taking per use case', () => {
  it('reaches the session: endpointing and interruptions', () => {
    const t = turnHandling(undefined, {
      endpointingMinMs: 500,
      endpointingMaxMs: 3000,
      interruptions: false,
    });
    expect(t.endpointing).toEqual({ minDelay: 500, maxDelay: 3000 });
    expect(t.interruption).toEqual({ enabled: false, mode: 'vad' });
  });

  it('defaults to the measured turn timing', () => {
    expect(english.turnTaking).toEqual(DEFAULT_TURN_TAKING);
  });
});
