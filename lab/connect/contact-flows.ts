// The lab's Connect contact flows (docs/handoff.md): when the SMA bridges a transferred caller to a
// queue's rolling number, the stand-in runs the queue-entry flow (infra/connect/context-flows.ts)
// as Connect would: it invokes the connect-context Lambda entry (lambdas/connect-context/index.ts,
// on the lab's DynamoDB) with Connect's documented invocation event, keeps the attributes it
// returns, and the stand-in person hears the agent whisper before greeting the caller with what
// they learned. A call to a queue's plain number gets the plain greeting.
import { randomUUID } from 'node:crypto';
import {
  ConnectContextAttribute as A,
  type HandoffContext,
} from '../../contracts/handoff-context.js';
import type { UseCaseCatalog } from '../../contracts/use-cases.js';

/** What the person says when the flow found no context (or the number is a queue's own). */
export const PLAIN_GREETING = 'Hello, this is the 311 team. How can I help you today?';

export type ContextHandler = (event: unknown) => Promise<Record<string, string>>;

/** What the stand-in tells the call's timeline: the flow's lookup and the whisper the person hears. */
export type FlowNote = (source: 'connect' | 'person', text: string) => void;

/** Connect's Lambda invocation event for a voice contact that reached `dialed`. */
export function connectInvocationEvent(dialed: string, caller: string): Record<string, unknown> {
  const contactId = randomUUID();
  return {
    Details: {
      ContactData: {
        Attributes: {},
        Channel: 'VOICE',
        ContactId: contactId,
        CustomerEndpoint: { Address: caller, Type: 'TELEPHONE_NUMBER' },
        InitialContactId: contactId,
        InitiationMethod: 'INBOUND',
        InstanceARN: 'arn:aws:connect:us-east-1:000000000000:instance/lab-instance',
        PreviousContactId: contactId,
        Queue: null,
        SystemEndpoint: { Address: dialed, Type: 'TELEPHONE_NUMBER' },
      },
      Parameters: {},
    },
    Name: 'ContactFlowEvent',
  };
}

/** How the person greets a caller whose context they heard in the whisper. */
export function greetingFor(attributes: Record<string, string>): string {
  if (attributes[A.found] !== 'true') return PLAIN_GREETING;
  const topic = attributes[A.topic]?.replace(/[.?!]+$/, '').trim();
  if (!topic) return 'Hello, this is the 311 team. I have the assistant’s notes. How can I help?';
  const about = topic.charAt(0).toLowerCase() + topic.slice(1);
  return `Hello, this is the 311 team. I see you're calling about: ${about}. Let me help you with that.`;
}

/** One run of the queue-entry flow: what the Lambda returned and what the person said. */
export interface FlowRun {
  /** The attributes the flow set on the contact (empty: no context). */
  attributes: Record<string, string>;
  greeting: string;
}

export class LabContactFlows {
  private handler: Promise<ContextHandler> | undefined;
  /** Every run of the queue-entry flow, in order (tests find a call's by its trace id). */
  readonly runs: FlowRun[] = [];

  constructor(
    private readonly useCases: () => UseCaseCatalog,
    /** The connect-context Lambda; by default its entry, loaded on the first rolling number. */
    private readonly load: () => Promise<ContextHandler> = async () =>
      (await import('../../lambdas/connect-context/index.js')).handler,
  ) {}

  /** Whether `number` is one of a queue's rolling numbers (the queue-entry flow's numbers). */
  isRollingNumber(number: string): boolean {
    return this.useCases().all.some((uc) =>
      Object.values(uc.queues).some((q) => q.rollingNumbers?.includes(number)),
    );
  }

  /**
   * Runs the queue-entry flow for a call that reached `dialed`, then the whisper: the person's
   * greeting comes back. Never rejects: a failing Lambda is Connect's error branch, a plain queue.
   */
  async answer(dialed: string, caller: string, note?: FlowNote): Promise<string> {
    if (!this.isRollingNumber(dialed)) return PLAIN_GREETING;
    const started = performance.now();
    let attributes: Record<string, string> = {};
    try {
      this.handler ??= this.load();
      attributes = await (await this.handler)(connectInvocationEvent(dialed, caller));
    } catch (err) {
      note?.('connect', `context Lambda failed (${(err as Error).name}): queued without context`);
      this.runs.push({ attributes, greeting: PLAIN_GREETING });
      return PLAIN_GREETING;
    }
    const greeting = greetingFor(attributes);
    this.runs.push({ attributes, greeting });
    const ms = Math.round(performance.now() - started);
    if (attributes[A.found] !== 'true') {
      note?.('connect', `queue-entry flow: no context for this number (${ms} ms)`);
      return PLAIN_GREETING;
    }
    note?.(
      'connect',
      `queue-entry flow: context found in ${ms} ms · reason ${attributes[A.reason]} · ` +
        `${attributes[A.verification]} · summary "${attributes[A.summary]}"`,
    );
    note?.('person', `hears the whisper: "${attributes[A.whisper]}"`);
    note?.('person', `greets the caller: "${greeting}"`);
    return greeting;
  }
}

export type { HandoffContext };
