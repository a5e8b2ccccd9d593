// Amazon Connect flows as typed blocks, written out in Connect's flow language (version
// 2019-10-30) and read back to be checked as a graph: every block reachable from the start, every
// transition to a block that exists, and every error an action can raise handled. Only the actions
// callbridge uses are typed; each block lists the errors its action documents.
// https://docs.aws.amazon.com/connect/latest/APIReference/flow-language.html
import * as z from 'zod';

/** Errors each action can raise (the action's "Errors" in the flow language reference). */
export const ACTION_ERRORS = {
  MessageParticipant: ['NoMatchingError'],
  TransferParticipantToThirdParty: ['CallFailed', 'ConnectionTimeLimitExceeded', 'NoMatchingError'],
  UpdateContactTargetQueue: ['NoMatchingError'],
  TransferContactToQueue: ['QueueAtCapacity', 'NoMatchingError'],
  DisconnectParticipant: [],
  InvokeLambdaFunction: ['NoMatchingError'],
  UpdateContactAttributes: ['NoMatchingError'],
  UpdateContactEventHooks: ['NoMatchingError'],
  Compare: ['NoMatchingCondition'],
  EndFlowExecution: [],
} as const;

/** Actions that end a flow: they have no next block. */
const TERMINAL: readonly ActionType[] = ['DisconnectParticipant', 'EndFlowExecution'];
export type ActionType = keyof typeof ACTION_ERRORS;
type ErrorsOf<T extends ActionType> = (typeof ACTION_ERRORS)[T][number];

/** A block: its action, parameters, the next block and a target for every error it can raise. */
export type Block =
  | {
      id: string;
      type: 'MessageParticipant';
      text: string;
      next: string;
      errors: Record<ErrorsOf<'MessageParticipant'>, string>;
    }
  | {
      id: string;
      type: 'TransferParticipantToThirdParty';
      phoneNumber: string;
      /**
       * True: Connect resumes this flow when the third party hangs up while the caller is still
       * on the line ("Resume flow after disconnect"); false: the flow ends once the call is up.
       */
      resumeAfterDisconnect: boolean;
      timeoutSeconds: number;
      next: string;
      errors: Record<ErrorsOf<'TransferParticipantToThirdParty'>, string>;
    }
  | {
      id: string;
      type: 'UpdateContactTargetQueue';
      queueArn: string;
      next: string;
      errors: Record<ErrorsOf<'UpdateContactTargetQueue'>, string>;
    }
  | {
      id: string;
      type: 'TransferContactToQueue';
      next: string;
      errors: Record<ErrorsOf<'TransferContactToQueue'>, string>;
    }
  | {
      id: string;
      type: 'InvokeLambdaFunction';
      functionArn: string;
      /** Connect waits at most 8 s. */
      timeoutSeconds: number;
      next: string;
      errors: Record<ErrorsOf<'InvokeLambdaFunction'>, string>;
    }
  | {
      id: string;
      type: 'UpdateContactAttributes';
      /** Attribute name → value: a literal or a reference such as `$.External.<key>`. */
      attributes: Record<string, string>;
      next: string;
      errors: Record<ErrorsOf<'UpdateContactAttributes'>, string>;
    }
  | {
      id: string;
      type: 'UpdateContactEventHooks';
      /** The agent whisper flow the person hears before the caller is connected. */
      agentWhisperFlowArn: string;
      next: string;
      errors: Record<ErrorsOf<'UpdateContactEventHooks'>, string>;
    }
  | {
      id: string;
      type: 'Compare';
      /** The value compared, e.g. `$.Attributes.<key>`. */
      value: string;
      /** Where each value equal to the key goes; any other goes to NoMatchingCondition. */
      equals: Record<string, string>;
      errors: Record<ErrorsOf<'Compare'>, string>;
    }
  | { id: string; type: 'DisconnectParticipant' }
  | { id: string; type: 'EndFlowExecution' };

const FlowAction = z.object({
  Identifier: z.string().regex(/^[^%:(\\/)=$,;[\]{}]{1,50}$/, 'is not a valid Identifier'),
  Type: z.enum(Object.keys(ACTION_ERRORS) as [ActionType, ...ActionType[]]),
  Parameters: z.record(z.string(), z.unknown()),
  Transitions: z.object({
    NextAction: z.string().optional(),
    Errors: z.array(z.object({ NextAction: z.string(), ErrorType: z.string() })).optional(),
    Conditions: z
      .array(
        z.object({
          NextAction: z.string(),
          Condition: z.object({ Operator: z.string(), Operands: z.array(z.string()) }),
        }),
      )
      .optional(),
  }),
});
export const FlowContent = z.object({
  Version: z.literal('2019-10-30'),
  StartAction: z.string(),
  Metadata: z.record(z.string(), z.unknown()).optional(),
  Actions: z.array(FlowAction).min(1).max(250),
});
export type FlowContent = z.infer<typeof FlowContent>;
export type FlowAction = z.infer<typeof FlowAction>;

function parameters(b: Block): Record<string, unknown> {
  switch (b.type) {
    case 'MessageParticipant':
      return { Text: b.text };
    case 'TransferParticipantToThirdParty':
      return {
        ThirdPartyPhoneNumber: b.phoneNumber,
        ContinueFlowExecution: b.resumeAfterDisconnect ? 'True' : 'False',
        // Connect reads the timeout only when the flow continues; it is kept for the error branch.
        ThirdPartyConnectionTimeoutSeconds: String(b.timeoutSeconds),
      };
    case 'UpdateContactTargetQueue':
      return { QueueId: b.queueArn };
    case 'InvokeLambdaFunction':
      return {
        LambdaFunctionARN: b.functionArn,
        InvocationTimeLimitSeconds: String(b.timeoutSeconds),
        ResponseValidation: { ResponseType: 'STRING_MAP' },
      };
    case 'UpdateContactAttributes':
      return { Attributes: b.attributes, TargetContact: 'Current' };
    case 'UpdateContactEventHooks':
      return { EventHooks: { AgentWhisper: b.agentWhisperFlowArn } };
    case 'Compare':
      return { ComparisonValue: b.value };
    case 'TransferContactToQueue':
    case 'DisconnectParticipant':
    case 'EndFlowExecution':
      return {};
  }
}

function transitions(b: Block): FlowAction['Transitions'] {
  if (b.type === 'DisconnectParticipant' || b.type === 'EndFlowExecution') return {};
  const errors = Object.entries(b.errors as Record<string, string>).map(([ErrorType, next]) => ({
    NextAction: next,
    ErrorType,
  }));
  if (b.type === 'Compare') {
    const conditions = Object.entries(b.equals).map(([value, next]) => ({
      NextAction: next,
      Condition: { Operator: 'Equals', Operands: [value] },
    }));
    return { Conditions: conditions, Errors: errors };
  }
  return { NextAction: b.next, Errors: errors };
}

/** The ids of a caller flow's last blocks (`queueOrApology`). */
export interface QueueTailIds {
  setQueue: string;
  toQueue: string;
  apology: string;
  end: string;
}

/**
 * How every caller flow ends: the caller is queued in `queueArn`; if the queue cannot be set or is
 * full, an apology and a hang-up. Nobody is left in silence.
 */
export function queueOrApology(ids: QueueTailIds, queueArn: string, apology: string): Block[] {
  return [
    {
      id: ids.setQueue,
      type: 'UpdateContactTargetQueue',
      queueArn,
      next: ids.toQueue,
      errors: { NoMatchingError: ids.apology },
    },
    {
      id: ids.toQueue,
      type: 'TransferContactToQueue',
      next: ids.end,
      errors: { QueueAtCapacity: ids.apology, NoMatchingError: ids.apology },
    },
    {
      id: ids.apology,
      type: 'MessageParticipant',
      text: apology,
      next: ids.end,
      errors: { NoMatchingError: ids.end },
    },
    { id: ids.end, type: 'DisconnectParticipant' },
  ];
}

/** The flow language JSON of a flow that starts at `start`. */
export function flowContent(start: string, blocks: Block[]): FlowContent {
  return {
    Version: '2019-10-30',
    StartAction: start,
    Metadata: {
      EntryPointPosition: { x: 40, y: 40 },
      ActionMetadata: Object.fromEntries(
        blocks.map((b, i) => [b.id, { position: { x: 240 + 260 * i, y: 40 } }]),
      ),
    },
    Actions: blocks.map((b) => ({
      Identifier: b.id,
      Type: b.type,
      Parameters: parameters(b),
      Transitions: transitions(b),
    })),
  };
}

/** Every block an action may go to next: its next, its conditions' and its errors'. */
function targetsOf(a: FlowAction): (string | undefined)[] {
  return [
    a.Transitions.NextAction,
    ...(a.Transitions.Conditions ?? []).map((c) => c.NextAction),
    ...(a.Transitions.Errors ?? []).map((e) => e.NextAction),
  ];
}

/** Every problem of a flow as a graph (none: an empty list). */
export function flowProblems(content: FlowContent): string[] {
  const problems: string[] = [];
  const byId = new Map<string, FlowAction>();
  for (const a of content.Actions) {
    if (byId.has(a.Identifier)) problems.push(`${a.Identifier}: Identifier used twice`);
    byId.set(a.Identifier, a);
  }
  if (!byId.has(content.StartAction))
    problems.push(`StartAction ${content.StartAction} is no action`);
  for (const a of content.Actions) {
    const targets = targetsOf(a);
    for (const t of targets) {
      if (t !== undefined && !byId.has(t)) problems.push(`${a.Identifier}: goes to unknown ${t}`);
    }
    const handled = new Set((a.Transitions.Errors ?? []).map((e) => e.ErrorType));
    for (const e of ACTION_ERRORS[a.Type]) {
      if (!handled.has(e)) problems.push(`${a.Identifier}: error ${e} is not handled`);
    }
    if (a.Type === 'Compare') {
      if (!a.Transitions.Conditions?.length) problems.push(`${a.Identifier}: has no Conditions`);
    } else if (!TERMINAL.includes(a.Type) && !a.Transitions.NextAction) {
      problems.push(`${a.Identifier}: has no NextAction`);
    }
  }
  const seen = new Set<string>();
  const stack = [content.StartAction];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    const a = byId.get(id);
    if (!a || seen.has(id)) continue;
    seen.add(id);
    stack.push(...targetsOf(a).filter((t): t is string => t !== undefined));
  }
  for (const id of byId.keys()) if (!seen.has(id)) problems.push(`${id}: unreachable`);
  return problems;
}
