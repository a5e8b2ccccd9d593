// The local dialogue engine behind the framework's LLM interface, so the session runs the same
// way, and the same tools, with it as with a cloud model: it streams text chunks and emits real
// tool calls (FunctionCall) that the framework executes.
import { randomUUID } from 'node:crypto';
import { llm, DEFAULT_API_CONNECT_OPTIONS, type APIConnectOptions } from '@livekit/agents';
import type { UseCase } from '../../contracts/use-cases.js';
import { nextReply, type Reply, type Turn } from './engine.js';

export function turnsOf(chatCtx: llm.ChatContext): Turn[] {
  const turns: Turn[] = [];
  for (const item of chatCtx.items) {
    if (item.type === 'message' && (item.role === 'user' || item.role === 'assistant')) {
      turns.push({ role: item.role, text: item.textContent ?? '' });
    } else if (item.type === 'function_call_output') {
      turns.push({ role: 'tool', text: item.output });
    }
  }
  return turns;
}

export class DialogueLLM extends llm.LLM {
  /** `useCase`: what the engine answers from (read too by the turn's end, agent/turn-end.ts). */
  constructor(readonly useCase: UseCase) {
    super();
  }

  label(): string {
    return 'callbridge.DialogueLLM';
  }

  override get model(): string {
    return 'rules-v1';
  }

  override get provider(): string {
    return 'callbridge';
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
    return new DialogueStream(this, this.useCase, { chatCtx, toolCtx, connOptions });
  }
}

class DialogueStream extends llm.LLMStream {
  constructor(
    owner: DialogueLLM,
    private readonly useCase: UseCase,
    params: {
      chatCtx: llm.ChatContext;
      toolCtx?: llm.ToolContextLike;
      connOptions: APIConnectOptions;
    },
  ) {
    super(owner, params);
  }

  protected async run(): Promise<void> {
    const id = randomUUID();
    const reply: Reply = nextReply(this.useCase, turnsOf(this.chatCtx));
    if (reply.kind === 'say') {
      // A few words per chunk, as a model streams, so TTS can start on the first sentence.
      const words = reply.text.split(' ');
      for (let i = 0; i < words.length; i += 4) {
        const piece = words.slice(i, i + 4).join(' ') + (i + 4 < words.length ? ' ' : '');
        this.queue.put({ id, delta: { role: 'assistant', content: piece } });
      }
    } else if (reply.kind === 'tool' && this.hasTool(reply.name)) {
      const call = llm.FunctionCall.create({
        callId: `call_${randomUUID().slice(0, 8)}`,
        name: reply.name,
        args: JSON.stringify(reply.args),
      });
      this.queue.put({ id, delta: { role: 'assistant', toolCalls: [call] } });
    }
    this.queue.put({
      id,
      usage: { completionTokens: 0, promptTokens: 0, promptCachedTokens: 0, totalTokens: 0 },
    });
  }

  private hasTool(name: string): boolean {
    return llm.sortedToolNames(this.toolCtx).includes(name);
  }
}
