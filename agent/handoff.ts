// What a call's hand-off to people can use beyond the transfer itself (docs/agent.md, "Queue status,
// callbacks and the keypad"): the worker's queue status, callbacks queued in Connect, and the
// caller's keypad (0 for a person at any moment). Each is optional: without them the agent
// transfers as it always did.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { voice } from '@livekit/agents';
import type { Logger } from 'pino';
import type { CallbackQueuer } from './callbacks/connect-callbacks.js';
import { ConnectCallbacks } from './callbacks/connect-callbacks.js';
import type { CallContext } from './call-context.js';
import type { CallControl } from './call-control.js';
import type { CallLines } from './greeting-cache.js';
import type { CallKeypad } from './keypad.js';
import { loadQueueStatusConfig } from './queue-status/config.js';
import { ConnectQueueSource } from './queue-status/connect-queues.js';
import { queueStatusClient, type QueueStatusLookup } from './queue-status/index.js';
import { handoffContextOf, requestTransfer } from './tools/transfer-to-human.js';

export interface HandoffServices {
  /** The worker's queue status; undefined: transfers are not checked. */
  queues?: QueueStatusLookup;
  /** Callbacks in Connect; undefined: none are offered. */
  callbacks?: CallbackQueuer;
  /** The caller's keypad (one per call). */
  keypad?: CallKeypad;
}

/**
 * A job process's services, from the environment its worker gave it: the queue status through the
 * worker's poller, and callbacks through Connect (with CONNECT_REGION), kept in the calls table.
 */
export function handoffServices(
  env: Record<string, string | undefined>,
  table?: { client: DynamoDBClient; name: string; ttlSeconds?: number },
): HandoffServices {
  const config = loadQueueStatusConfig(env);
  return {
    queues: queueStatusClient(env),
    callbacks: config
      ? new ConnectCallbacks({ client: ConnectQueueSource.clientFor(config.region), table })
      : undefined,
  };
}

export interface PressZeroDeps {
  call: CallContext;
  control: CallControl | undefined;
  lines: CallLines;
  logger: Logger;
}

/**
 * 0 on the keypad: the caller goes to the use case's default queue at once. What the agent was
 * saying stops, the hand-off line plays from memory, and the transfer is asked for without the
 * model and without the queue check (the caller asked for a person, whatever the wait). Once only.
 */
export function pressZeroTransfers(session: voice.AgentSession, deps: PressZeroDeps): () => void {
  let pressed = false;
  return () => {
    if (pressed || !deps.control) return;
    pressed = true;
    const log = deps.logger.child({ keypad: '0' });
    log.info('caller pressed 0: transferring');
    void (async () => {
      try {
        session.interrupt();
      } catch {
        // A line that may not be cut (a hand-off, a goodbye) plays to its end; the hand-off follows.
      }
      // The person is told what was said before the hand-off line.
      const context = handoffContextOf(deps.call, session.history.items);
      const handoff = deps.lines.say(session, 'handoff', { allowInterruptions: false });
      await handoff.waitForPlayout();
      await requestTransfer(
        { call: deps.call, control: deps.control, logger: log },
        deps.control!,
        deps.call.useCase.defaultQueue,
        'caller_asked',
        context,
      );
    })().catch((err: unknown) => log.error({ err }, 'press 0 transfer failed'));
  };
}
