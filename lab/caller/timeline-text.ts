// How the scripted caller's timeline words what it saw: an SMA invocation (the event and the
// actions answered) and an UpdateSipMediaApplicationCall, its Arguments read as the SMA handler
// reads them (contracts/call-update.ts).
import { parseCallUpdateArguments, type ReceivedCallUpdate } from '../../contracts/call-update.js';
import type { TimelineStep } from '../chime/simulated-call.js';
import type { TurnResult } from './ear-turns.js';

/** The Arguments of an UpdateSipMediaApplicationCall body, as the SMA handler reads them. */
export function updateOf(body: unknown): ReceivedCallUpdate | undefined {
  const args = typeof body === 'object' && body !== null && 'Arguments' in body;
  return parseCallUpdateArguments(args ? body.Arguments : undefined);
}

export function describeUpdate(update: ReceivedCallUpdate | undefined): string {
  if (!update) return '(arguments the handler cannot read)';
  if (update.action === 'hangup') return `action=hangup reason=${update.reason}`;
  if (update.action === 'voicemail') return `action=voicemail reason=${update.reason}`;
  if (update.action === 'language') return `action=language language=${update.language ?? '?'}`;
  const queue = update.queue ? ` queue=${update.queue}` : '';
  // The summary is the person's (lab/connect/contact-flows.ts notes it where Connect reads it).
  const context = update.summary
    ? ` + context (${update.summary.length}-char summary, ${update.verification ?? 'unverified'})`
    : '';
  return `action=transfer reason=${update.reason}${queue}${context}`;
}

/** One SMA invocation: the event (with what matters of its ActionData) → the actions answered. */
export function describeStep(step: TimelineStep): string {
  const d = step.actionData as
    { Type?: string; Parameters?: Record<string, unknown>; ErrorType?: string } | undefined;
  let event = step.type;
  if (step.type === 'CALL_UPDATE_REQUESTED')
    event += ` ${describeUpdate(parseCallUpdateArguments(d?.Parameters?.['Arguments']))}`;
  else if (step.type === 'HANGUP') event += ` ${String(d?.Parameters?.['ParticipantTag'])}`;
  else if (d?.Type) event += ` ${d.Type}${d.ErrorType ? ` (${d.ErrorType})` : ''}`;
  if (step.attempts) event += ` [invoked ${step.attempts} times]`;
  if (step.reason) event += `: ${step.reason}`;
  const actions = step.actions.map(describeAction).join(', ');
  return `#${step.sequence} ${event} → ${actions || '(nothing)'}`;
}

function describeAction(a: TimelineStep['actions'][number]): string {
  const p = a.Parameters ?? {};
  if (a.Type === 'CallAndBridge') {
    const ep = (p['Endpoints'] as { BridgeEndpointType: string; Uri: string }[] | undefined)?.[0];
    return `CallAndBridge ${ep?.BridgeEndpointType ?? '?'} ${ep?.Uri ?? ''}`.trim();
  }
  if (a.Type === 'Hangup') return `Hangup ${String(p['ParticipantTag'] ?? p['CallId'])}`;
  if (a.Type === 'Speak') {
    // Polly's language and voice: what Chime says follows a caller's language switch.
    const voice = `${String(p['LanguageCode'] ?? '?')}, ${String(p['VoiceId'] ?? '?')}`;
    return `Speak "${String(p['Text'])}" (${voice})`;
  }
  return a.Type;
}

/** A turn at the caller's ear: the reply's delay after the caller's line, beside the agent's own. */
export function describeTurn(t: TurnResult): string {
  if (t.earMs === null) return "no reply before the caller's next line or the end of the call";
  const ways = t.inMs === null ? '' : `; in ${t.inMs} ms, out ${t.outMs} ms`;
  const own = t.agentMs === null ? '' : ` (the agent's own: ${t.agentMs} ms${ways})`;
  return `the reply, ${t.earMs} ms after the caller's line ended${own}`;
}
