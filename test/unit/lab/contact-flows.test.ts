// The Connect stand-in's flows of the rolling numbers (lab/connect/contact-flows.ts): the Lambda
// invoked with Connect's documented event, the person's greeting from what the flow found, and a
// plain greeting whenever there is nothing (or the Lambda fails).
import { describe, expect, it } from 'vitest';
import bundled from '../../../contracts/use-cases.json' with { type: 'json' };
import { ConnectContextAttribute as A } from '../../../contracts/handoff-context.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { ConnectEvent } from '../../../lambdas/connect-context/handler.js';
import {
  connectInvocationEvent,
  greetingFor,
  LabContactFlows,
  PLAIN_GREETING,
} from '../../../lab/connect/contact-flows.js';

const useCases = parseUseCases(bundled);
const general = useCases.defaultUseCase.queues['general']!;
const rolling = general.rollingNumbers![0]!;

describe('the lab’s queue-entry flow', () => {
  it('builds the event the Lambda reads, as Connect documents it', () => {
    const event = connectInvocationEvent(rolling, '+12065550100');
    const parsed = ConnectEvent.parse(event);
    expect(parsed.Details.ContactData.SystemEndpoint?.Address).toBe(rolling);
    expect(event).toMatchObject({ Name: 'ContactFlowEvent', Details: { Parameters: {} } });
  });

  it('invokes the Lambda only for a rolling number, and greets with the topic it returns', async () => {
    const seen: unknown[] = [];
    const notes: string[] = [];
    const flows = new LabContactFlows(
      () => useCases,
      async () => async (event) => {
        seen.push(event);
        return {
          [A.found]: 'true',
          [A.topic]: 'My trash was not picked up.',
          [A.summary]: 'Topic: My trash was not picked up.',
          [A.whisper]: 'From the assistant: the caller asked for a person.',
        };
      },
    );
    expect(await flows.answer(general.number, '+12065550100')).toBe(PLAIN_GREETING);
    expect(seen).toHaveLength(0);
    const greeting = await flows.answer(rolling, '+12065550100', (s, t) =>
      notes.push(`${s}: ${t}`),
    );
    expect(greeting).toBe(
      "Hello, this is the 311 team. I see you're calling about: my trash was not picked up. Let me help you with that.",
    );
    expect(seen).toHaveLength(1);
    expect(notes.some((n) => n.startsWith('person: hears the whisper'))).toBe(true);
    expect(flows.runs).toHaveLength(1);
  });

  it('a failing Lambda or an empty answer: the plain greeting, never a failure', async () => {
    const failing = new LabContactFlows(
      () => useCases,
      async () => async () => {
        throw new Error('boom');
      },
    );
    await expect(failing.answer(rolling, '+12065550100')).resolves.toBe(PLAIN_GREETING);
    const empty = new LabContactFlows(
      () => useCases,
      async () => async () => ({}),
    );
    await expect(empty.answer(rolling, '+12065550100')).resolves.toBe(PLAIN_GREETING);
    expect(greetingFor({ [A.found]: 'true' })).toMatch(/assistant’s notes/);
  });
});
