// remember_name and forget_me: what a caller chooses to share about themselves, and their right to
// have it deleted (agent/call-memory.ts). The name is kept in the caller's profile at the call's
// end; forgetting deletes the profile at once and keeps nothing of the call.
import { llm } from '@livekit/agents';
import * as z from 'zod';
import type { Logger } from 'pino';
import type { CallMemory } from '../call-memory.js';
import { outcome, ToolOutcome } from './outcome.js';

export function rememberNameTool(memory: CallMemory, logger: Logger) {
  return llm.tool({
    name: 'remember_name',
    description:
      'Remember the name the caller asks to be called, for their next calls. Only when they say it themselves.',
    parameters: z.object({ name: z.string().describe('The name, as the caller said it') }),
    execute: async ({ name }) => {
      const kept = memory.rememberName(name);
      logger.info({ kept: kept !== undefined, pii: { name } }, 'caller shared a name');
      return kept
        ? outcome(ToolOutcome.nameRemembered, `Remembered. Greet them as ${kept}.`)
        : outcome(ToolOutcome.nameNotRemembered, 'That is not a name that can be kept.');
    },
  });
}

export function forgetMeTool(memory: CallMemory) {
  return llm.tool({
    name: 'forget_me',
    description:
      'Delete everything remembered about the caller (their name and past calls) when they ask to be forgotten.',
    execute: async () => {
      const done = await memory.forget();
      return done
        ? outcome(ToolOutcome.forgotten, 'Deleted. Tell the caller nothing about them is kept.')
        : outcome(ToolOutcome.notForgotten, 'Could not delete now; apologise and offer a person.');
    },
  });
}
