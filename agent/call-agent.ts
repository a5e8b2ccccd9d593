// The agent callers talk to: the use case's instructions and the two call-control tools. The same
// agent serves phone calls and dev rooms; the call context says which.
import { voice, type llm } from '@livekit/agents';
import type { Logger } from 'pino';
import type { AgentTransferReason } from '../contracts/reasons.js';
import { isEnglish } from '../contracts/use-cases.js';
import type { CallContext } from './call-context.js';
import type { CallControl } from './call-control.js';
import type { CallLines } from './greeting-cache.js';
import type { HandoffServices } from './handoff.js';
import { requestCallbackTool } from './tools/request-callback.js';
import type { CallMemory } from './call-memory.js';
import { forgetMeTool, rememberNameTool } from './tools/caller-memory.js';
import { endCallTool } from './tools/end-call.js';
import { leaveMessageTool, offersMessage } from './tools/leave-message.js';
import { transferToHumanTool } from './tools/transfer-to-human.js';
import { switchLanguageTools } from './language-switch.js';
import { followReplies, joinLineGoneOn } from './line-goes-on.js';
import type { SpeechProviders } from './providers/index.js';

export interface CallAgentDeps {
  call: CallContext;
  control: CallControl | undefined;
  logger: Logger;
  /** The call's fixed lines, played from the cache; without them, live TTS says them. */
  lines?: CallLines;
  leave: () => Promise<void> | void;
  onTransferStarted?: (queue: string, reason: AgentTransferReason) => void;
  /** What the agent remembers of the caller (agent/call-memory.ts); undefined: nothing. */
  memory?: CallMemory;
  /** Queue status, callbacks, the keypad (agent/handoff.ts); undefined: a plain transfer. */
  handoff?: HandoffServices;
  /** The call's speech set: with it, a use case that lists languages gets switch_language. */
  providers?: SpeechProviders;
  /** Told of each language switch (agent/language-switch.ts). */
  onLanguageSwitched?: (language: string) => void;
}

export function instructionsFor(call: CallContext): string {
  const uc = call.useCase;
  const faq = uc.faq.map((f) => `- ${f.question} ${f.answer}`).join('\n');
  return [
    uc.instructions,
    'You are speaking on a phone line: plain spoken sentences, no lists, no markdown, no emojis.',
    `Frequent questions and their answers:\n${faq}`,
    `Queues you can transfer to: ${Object.keys(uc.queues).join(', ')}.`,
    // The use case's language reaches the model too (the recognizer and the voice take it as well).
    ...(isEnglish(uc.language) ? [] : [`The caller speaks ${uc.language}: always answer in it.`]),
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
      queues: deps.handoff?.queues,
    }),
    ...callbackTools(deps),
    // Where the use case takes messages (the SMA records them: its `voicemail`).
    ...(offersMessage(call.useCase) ? [leaveMessageTool({ call, control, logger, lines })] : []),
    endCallTool({ call, control, logger, lines, leave: deps.leave }),
    // Only where something is remembered: a phone call with the calls table.
    ...(deps.memory ? [rememberNameTool(deps.memory, logger), forgetMeTool(deps.memory)] : []),
    ...(deps.providers
      ? switchLanguageTools({
          call,
          providers: deps.providers,
          lines,
          logger,
          instructionsFor,
          onSwitched: deps.onLanguageSwitched,
          control,
        })
      : []),
  ];
  return new CallAgent({
    instructions: instructionsFor(deps.call),
    tools,
    ...(model ? { llm: model } : {}),
  });
}

/** The agent, hearing a caller's line that goes on past a reply it cut off as one line. */
class CallAgent extends voice.Agent {
  override async onEnter(): Promise<void> {
    followReplies(this.session);
  }

  override async onUserTurnCompleted(
    turnCtx: llm.ChatContext,
    newMessage: llm.ChatMessage,
  ): Promise<void> {
    if (joinLineGoneOn(this.session, turnCtx, newMessage)) await this.updateChatCtx(turnCtx);
  }
}

/** request_callback, on a phone call of a use case that offers callbacks, with Connect at hand. */
function callbackTools(deps: CallAgentDeps) {
  const callbacks = deps.handoff?.callbacks;
  if (!deps.call.useCase.callbacks || !callbacks || !deps.control) return [];
  const { call, control, logger, leave } = deps;
  return [
    requestCallbackTool({ call, control, logger, leave, callbacks, keypad: deps.handoff?.keypad }),
  ];
}
