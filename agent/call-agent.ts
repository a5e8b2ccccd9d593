// The agent callers talk to: the use case's instructions and the two call-control tools. The same
// agent serves phone calls and dev rooms; the call context says which.
import { voice, type llm } from '@livekit/agents';
import type { Logger } from 'pino';
import type { AgentTransferReason } from '../contracts/reasons.js';
import type { CallContext } from './call-context.js';
import type { CallControl } from './call-control.js';
import type { CallLines } from './greeting-cache.js';
import { endCallTool } from './tools/end-call.js';
import { transferToHumanTool } from './tools/transfer-to-human.js';

export interface CallAgentDeps {
  call: CallContext;
  control: CallControl | undefined;
  logger: Logger;
  /** The call's fixed lines, played from the cache; without them, live TTS says them. */
  lines?: CallLines;
  leave: () => Promise<void> | void;
  onTransferStarted?: (queue: string, reason: AgentTransferReason) => void;
}

export function instructionsFor(call: CallContext): string {
  const uc = call.useCase;
  const faq = uc.faq.map((f) => `- ${f.question} ${f.answer}`).join('\n');
  return [
    uc.instructions,
    'You are speaking on a phone line: plain spoken sentences, no lists, no markdown, no emojis.',
    `Frequent questions and their answers:\n${faq}`,
    `Queues you can transfer to: ${Object.keys(uc.queues).join(', ')}.`,
  ].join('\n\n');
}

export function createCallAgent(deps: CallAgentDeps, model?: llm.LLM): voice.Agent {
  const { call, control, logger, lines } = deps;
  const tools = [
    transferToHumanTool({
      call,
      control,
      logger,
      lines,
      onTransferStarted: deps.onTransferStarted,
    }),
    endCallTool({ call, control, logger, lines, leave: deps.leave }),
  ];
  return new voice.Agent({
    instructions: instructionsFor(deps.call),
    tools,
    ...(model ? { llm: model } : {}),
  });
}
