// The two flows that give the person in Connect what the AI agent learned (docs/handoff.md):
//
// - The queue-entry flow, claimed by a queue's rolling numbers: it invokes the connect-context
//   Lambda (lambdas/connect-context/) with Connect's own event, copies the attributes it returns onto
//   the contact, sets the agent whisper, and queues the caller. If the Lambda fails or returns
//   nothing, the caller is queued all the same, without context; if the queue is full or cannot be
//   set, an apology and a hang-up (the SMA then bridges no one: Chime sees the call end).
// - The agent whisper flow: before the caller is connected, the person hears the whisper sentence
//   (the summary, the reason, whether the number is verified). A contact without context gets no
//   whisper.
import { ConnectContextAttribute as A } from '../../contracts/handoff-context.js';
import { flowContent, queueOrApology, type Block, type FlowContent } from './flow.js';

export interface ContextFlowsConfig {
  /** The connect-context Lambda function (added to the instance). */
  contextFunctionArn: string;
  /** The queue the rolling numbers lead to (a queue ARN of the instance). */
  queueArn: string;
  /** The agent whisper flow below, once created. */
  whisperFlowArn: string;
  /** Said when the caller cannot be queued, before hanging up. */
  apology: string;
  /** How long the flow waits for the Lambda (Connect allows 1-8 s). */
  lambdaTimeoutSeconds?: number;
}

export const QUEUE_FLOW_BLOCKS = {
  lookup: 'lookup-context',
  keep: 'keep-context',
  whisper: 'set-whisper',
  setQueue: 'set-queue',
  toQueue: 'to-queue',
  apology: 'apology',
  end: 'end',
} as const;

/** The attributes the flow copies from the Lambda's answer: exactly the contract's. */
export const CONTEXT_ATTRIBUTES: Record<string, string> = Object.fromEntries(
  Object.values(A).map((key) => [key, `$.External.${key}`]),
);

export function queueEntryFlow(c: ContextFlowsConfig): FlowContent {
  const b = QUEUE_FLOW_BLOCKS;
  const blocks: Block[] = [
    {
      id: b.lookup,
      type: 'InvokeLambdaFunction',
      functionArn: c.contextFunctionArn,
      timeoutSeconds: c.lambdaTimeoutSeconds ?? 3,
      next: b.keep,
      // No context is no reason to keep the caller from a person.
      errors: { NoMatchingError: b.setQueue },
    },
    {
      id: b.keep,
      type: 'UpdateContactAttributes',
      attributes: CONTEXT_ATTRIBUTES,
      next: b.whisper,
      errors: { NoMatchingError: b.setQueue },
    },
    {
      id: b.whisper,
      type: 'UpdateContactEventHooks',
      agentWhisperFlowArn: c.whisperFlowArn,
      next: b.setQueue,
      errors: { NoMatchingError: b.setQueue },
    },
    ...queueOrApology(b, c.queueArn, c.apology),
  ];
  return flowContent(b.lookup, blocks);
}

export const WHISPER_FLOW_BLOCKS = {
  check: 'has-context',
  say: 'say-context',
  end: 'end',
} as const;

/** The agent whisper flow (type AGENT_WHISPER): the whisper sentence, when there is one. */
export function agentWhisperFlow(): FlowContent {
  const b = WHISPER_FLOW_BLOCKS;
  const blocks: Block[] = [
    {
      id: b.check,
      type: 'Compare',
      value: `$.Attributes.${A.found}`,
      equals: { true: b.say },
      errors: { NoMatchingCondition: b.end },
    },
    {
      id: b.say,
      type: 'MessageParticipant',
      text: `$.Attributes.${A.whisper}`,
      next: b.end,
      errors: { NoMatchingError: b.end },
    },
    { id: b.end, type: 'EndFlowExecution' },
  ];
  return flowContent(b.check, blocks);
}
