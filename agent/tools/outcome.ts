// What the tools return to the model: a fixed code first (the local dialogue engine reads it), then
// a plain sentence for a cloud model.
export const ToolOutcome = {
  transferStarted: 'transfer_started',
  transferRefused: 'transfer_refused',
  transferFailed: 'transfer_failed',
  hangupStarted: 'hangup_started',
  devRoom: 'needs_phone_call',
  nameRemembered: 'name_remembered',
  nameNotRemembered: 'name_not_remembered',
  forgotten: 'caller_forgotten',
  notForgotten: 'caller_not_forgotten',
  /** The queue is busy: the tool's sentence tells the wait and offers the choices. */
  queueBusy: 'queue_busy',
  /** The queue is closed: the tool's sentence says so and offers what is left. */
  queueClosed: 'queue_closed',
  /** A callback number to confirm: the tool's sentence asks the caller. */
  callbackConfirm: 'callback_confirm',
  callbackQueued: 'callback_queued',
  callbackRefused: 'callback_refused',
  callbackFailed: 'callback_failed',
  /** The SMA took the request for a message: the caller is leaving it, the agent is done. */
  messageStarted: 'message_started',
  /** No message can be taken (the SMA refused, or could not be reached). */
  messageFailed: 'message_failed',
  /** A language the use case does not offer: nothing changed (agent/language-switch.ts). */
  languageRefused: 'language_refused',
  /** An offered language this worker's speech set cannot speak (offline): nothing changed. */
  languageUnavailable: 'language_unavailable',
  /** The call is in that language already. */
  languageCurrent: 'language_current',
} as const;

export function outcome(
  code: (typeof ToolOutcome)[keyof typeof ToolOutcome],
  sentence: string,
): string {
  return `${code}: ${sentence}`;
}

/**
 * An outcome whose sentence the agent says as it is: `code: queue=<key>. Say: "<sentence>" <then>`.
 * The local dialogue engine reads the queue and the sentence back ({@link saidOutcome}).
 */
export function sayOutcome(
  code: (typeof ToolOutcome)[keyof typeof ToolOutcome],
  queue: string,
  sentence: string,
  then: string,
): string {
  return outcome(code, `queue=${queue}. Say: "${sentence}" ${then}`.trim());
}

/** The code, queue and sentence of a {@link sayOutcome}, if `output` is one. */
export function saidOutcome(
  output: string,
): { code: string; queue: string; sentence: string } | undefined {
  const m = /^([a-z_]+): queue=([a-z][a-z0-9_]*)\. Say: "([^"]*)"/.exec(output);
  return m ? { code: m[1]!, queue: m[2]!, sentence: m[3]! } : undefined;
}
