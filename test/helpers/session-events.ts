// Readers of what an agent session did in a turn (its run's events), for the suites that drive the
// framework's own session with text.
import { toolText } from '../../agent/dialogue/engine.js';
import type { Json } from './sma.js';

/** What the agent said, turn by turn. */
export const said = (events: Json[]) =>
  events
    .filter((e) => e.type === 'message' && e.item.role === 'assistant')
    .map((e) => e.item.textContent as string);

/** The tools the model called, with their arguments. */
export const calls = (events: Json[]) =>
  events
    .filter((e) => e.type === 'function_call')
    .map((e) => ({ name: e.item.name as string, args: JSON.parse(e.item.args) }));

/** What each tool answered the model, as text. */
export const outputs = (events: Json[]) =>
  events.filter((e) => e.type === 'function_call_output').map((e) => toolText(e.item.output));
