// An operator's change to a use case applies to the agent's next call, never to one in progress:
// a call reads the use cases once, when it is admitted (agent/call-session.ts), and everything in
// it (instructions, answers, queues, lines) comes from that read. The SMA's side of the same rule
// is test/unit/sma/use-case-pinning.test.ts.
import type { JobContext } from '@livekit/agents';
import { initializeLogger, voice } from '@livekit/agents';
import { ParticipantKind } from '@livekit/rtc-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createCallAgent } from '../../../agent/call-agent.js';
import { admitCall, type CallTrust } from '../../../agent/call-context.js';
import { runCall, type CallDeps } from '../../../agent/call-session.js';
import type { AgentConfig } from '../../../agent/config.js';
import { DialogueLLM } from '../../../agent/dialogue/dialogue-llm.js';
import { GreetingCache } from '../../../agent/greeting-cache.js';
import type { SpeechProviders } from '../../../agent/providers/index.js';
import { signCallToken } from '../../../contracts/call-token.js';
import { parseUseCases, type UseCaseCatalog } from '../../../contracts/use-cases.js';
import type { AgentInstruments } from '../../../otel/instruments.js';
import type { UseCaseSource } from '../../../store/use-case-cache.js';
import { USE_CASES_JSON, type Json } from '../../helpers/sma.js';

initializeLogger({ pretty: false, level: 'warn' });

const SECRET = 'unit-test-call-token-secret-of-at-least-32-bytes';
const TX = '6f1c2d3e-1111-4222-8333-944455566677';
const trust: CallTrust = { secret: SECRET, applicationId: 'sma-1', region: 'us-east-1' };
const OLD_ANSWER =
  'City Hall is open Monday to Friday from eight thirty to five, at 100 Main Street.';
const NEW_ANSWER = 'City Hall is open Monday to Saturday from nine to six.';

/** Version 2 of city-311, as an operator puts it: a new answer, and its queue renamed. */
function version2(): UseCaseCatalog {
  const file = structuredClone(USE_CASES_JSON) as Json;
  const city = file.useCases.find((u: Json) => u.id === 'city-311');
  city.faq.find((f: Json) => f.id === 'office_hours').answer = NEW_ANSWER;
  city.queues = { team: city.queues.general };
  city.defaultQueue = 'team';
  delete city.callbacks;
  return parseUseCases(file);
}

/** A use-case source an operator changes: what the cache would serve after a refresh. */
function operatorSource() {
  let catalog = parseUseCases(USE_CASES_JSON);
  const reads = { n: 0 };
  const source: UseCaseSource = {
    current: () => {
      reads.n += 1;
      return catalog;
    },
  };
  return { source, reads, put: (c: UseCaseCatalog) => void (catalog = c) };
}

const participant = () => ({
  kind: ParticipantKind.SIP,
  identity: 'sip_caller',
  attributes: {
    'sma.transactionId': TX,
    'sma.applicationId': 'sma-1',
    'sma.region': 'us-east-1',
    'call.useCase': 'city-311',
    'sip.trunkPhoneNumber': '+12025550132',
    'sma.callToken': signCallToken(
      { transactionId: TX, applicationId: 'sma-1' },
      Date.now() + 600_000,
      SECRET,
    ),
  },
});

const sessions: voice.AgentSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

const said = (events: Json[]) =>
  events
    .filter((e) => e.type === 'message' && e.item.role === 'assistant')
    .map((e) => e.item.textContent as string)
    .join(' ');

describe("an operator's change", () => {
  it('is not seen by the call in progress; the next call has it', async () => {
    const op = operatorSource();
    const admitted = admitCall(participant(), op.source.current(), trust, Date.now());
    if (!admitted.accepted) throw new Error('not admitted');
    const call = admitted.call;
    const agent = createCallAgent({
      call,
      control: undefined,
      logger: pino({ level: 'silent' }),
      leave: () => undefined,
    });
    const session = new voice.AgentSession({ llm: new DialogueLLM(call.useCase) });
    sessions.push(session);
    await session.start({ agent });
    op.put(version2()); // the change, live while the call goes on
    const answer = await session.run({ userInput: 'when is city hall open' }).wait();
    expect(said(answer.events)).toContain(OLD_ANSWER);
    // Its queue is still the one the call started with: the transfer tool takes it.
    const transfer = await session.run({ userInput: 'let me talk to a person' }).wait();
    const tool = transfer.events.find((e: Json) => e.type === 'function_call') as Json;
    expect(JSON.parse(tool.item.args)).toMatchObject({ queue: 'general' });
    expect(call.useCase.queues).toHaveProperty('general');
    // The next call reads the change.
    const next = admitCall(participant(), op.source.current(), trust, Date.now());
    expect(next.call.useCase.queues).toEqual({ team: expect.anything() });
    expect(next.call.useCase.faq.find((f) => f.id === 'office_hours')?.answer).toBe(NEW_ANSWER);
  });

  it('is read by a call once, at admission, before its session is assembled', async () => {
    const op = operatorSource();
    class Assembled extends Error {}
    const assembled: string[] = [];
    const job = {
      room: { name: 'call_+12025550132_abc', on: () => undefined, off: () => undefined },
      connect: async () => undefined,
      waitForParticipant: async () => participant(),
      deleteRoom: async () => undefined,
      shutdown: () => undefined,
    };
    const deps: CallDeps = {
      config: {
        useCases: parseUseCases(USE_CASES_JSON),
        calls: trust,
        transferRetryBudgetMs: 3000,
        lineWatch: { lostAfterMs: 1500, outageAfterMs: 2000 },
      } as AgentConfig,
      useCases: op.source,
      providers: {
        components: (uc: { id: string }) => {
          // The session is assembled from the admitted use case: the change comes too late.
          op.put(version2());
          assembled.push(uc.id);
          throw new Assembled();
        },
      } as unknown as SpeechProviders,
      greetings: new GreetingCache(),
      instruments: { refusedCalls: { add: () => undefined } } as unknown as AgentInstruments,
      logger: pino({ level: 'silent' }),
    };
    await expect(runCall(job as unknown as JobContext, deps)).rejects.toBeInstanceOf(Assembled);
    expect(assembled).toEqual(['city-311']);
    expect(op.reads.n).toBe(1);
  });
});
