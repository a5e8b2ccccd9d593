// A failing model: the caller hears a short line first, then is handed to a person; never silence.
import {
  APIError,
  DEFAULT_API_CONNECT_OPTIONS,
  initializeLogger,
  llm,
  voice,
  type APIConnectOptions,
} from '@livekit/agents';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { watchProviderErrors } from '../../../agent/provider-failures.js';

initializeLogger({ pretty: false, level: 'fatal' });

class BrokenLLM extends llm.LLM {
  label(): string {
    return 'broken';
  }
  chat({
    chatCtx,
    toolCtx,
    connOptions = DEFAULT_API_CONNECT_OPTIONS,
  }: {
    chatCtx: llm.ChatContext;
    toolCtx?: llm.ToolContextLike;
    connOptions?: APIConnectOptions;
  }): llm.LLMStream {
    return new BrokenStream(this, {
      chatCtx,
      toolCtx,
      connOptions: { ...connOptions, maxRetry: 0 },
    });
  }
}
class BrokenStream extends llm.LLMStream {
  protected async run(): Promise<void> {
    throw new APIError('model unavailable', { retryable: false });
  }
}

const sessions: voice.AgentSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

describe('watchProviderErrors', () => {
  it('says a line on the first model failure and hands off on the second', async () => {
    const session = new voice.AgentSession({ llm: new BrokenLLM() });
    sessions.push(session);
    const calls: string[] = [];
    watchProviderErrors(session, {
      logger: pino({ level: 'silent' }),
      sayTrouble: () => calls.push('trouble'),
      handOff: async () => void calls.push('handoff'),
    });
    await session.start({ agent: new voice.Agent({ instructions: 'x' }) });
    const waitFor = async (n: number) => {
      const deadline = Date.now() + 10_000;
      while (calls.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    };
    session.generateReply({ userInput: 'hello' });
    await waitFor(1);
    session.generateReply({ userInput: 'hello again' });
    await waitFor(2);
    expect(calls).toEqual(['trouble', 'handoff']);
  });
});
