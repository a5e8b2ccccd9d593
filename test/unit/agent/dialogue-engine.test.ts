import { describe, expect, it } from 'vitest';
import { Lines, nextReply, normalise, type Turn } from '../../../agent/dialogue/engine.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

const useCase = parseUseCases(USE_CASES_JSON).defaultUseCase;
const user = (text: string): Turn => ({ role: 'user', text });

describe('dialogue engine', () => {
  it.each([
    ['i would like to report a pot hole', 'pothole'],
    ['my garbage was not picked up this week', 'trash_pickup'],
    ['what time does city hall close', 'office_hours'],
    ['where is the office located', 'locations'],
  ])('answers %j with the %s answer (unpunctuated, as recognized)', (text, id) => {
    const answer = useCase.faq.find((f) => f.id === id)!.answer;
    expect(nextReply(useCase, [user(text)])).toEqual({
      kind: 'say',
      text: `${answer} ${Lines.anythingElse}`,
    });
  });

  it.each([
    ['can i talk to a person', 'general'],
    ['I want a REAL PEOPLE, now!', 'general'],
    ['put me through to someone in sanitation', 'sanitation'],
  ])('transfers %j to queue %s', (text, queue) => {
    expect(nextReply(useCase, [user(text)])).toEqual({
      kind: 'tool',
      name: 'transfer_to_human',
      args: { queue, reason: 'caller_asked' },
    });
  });

  it('puts an emergency before everything else', () => {
    expect(nextReply(useCase, [user('there is a fire, get me a person')])).toEqual({
      kind: 'say',
      text: Lines.emergency,
    });
  });

  it('ends the call when the caller is done', () => {
    expect(nextReply(useCase, [user("no thanks that's all")])).toMatchObject({
      kind: 'tool',
      name: 'end_call',
    });
  });

  it('asks again once, then transfers when still not understood', () => {
    const first = nextReply(useCase, [user('blue sky thinking')]);
    expect(first).toEqual({ kind: 'say', text: Lines.notUnderstood });
    const second = nextReply(useCase, [
      user('blue sky thinking'),
      { role: 'assistant', text: Lines.notUnderstood },
      user('hmm'),
    ]);
    expect(second).toMatchObject({ name: 'transfer_to_human', args: { reason: 'not_understood' } });
  });

  it('does not count a misunderstanding from before an understood turn', () => {
    const history: Turn[] = [
      user('blah'),
      { role: 'assistant', text: Lines.notUnderstood },
      user('potholes'),
      { role: 'assistant', text: 'Potholes are repaired…' },
      user('blah again'),
    ];
    expect(nextReply(useCase, history)).toEqual({ kind: 'say', text: Lines.notUnderstood });
  });

  it('accepts the offer of a person after a refused transfer', () => {
    const history: Turn[] = [
      { role: 'tool', text: '"transfer_refused: no such queue"' },
      { role: 'assistant', text: Lines.transferRefused },
      user('yes please'),
    ];
    expect(nextReply(useCase, history)).toMatchObject({
      name: 'transfer_to_human',
      args: { queue: 'general' },
    });
  });

  it('stays silent after a transfer started', () => {
    expect(
      nextReply(useCase, [user('person'), { role: 'tool', text: '"transfer_started: ok"' }]),
    ).toEqual({ kind: 'silent' });
  });

  it('normalises punctuation and case', () => {
    expect(normalise("  What's   THE time?! ")).toBe("what's the time");
  });
});
