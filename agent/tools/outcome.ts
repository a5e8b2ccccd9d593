// What the tools return to the model: a fixed code first (the local dialogue engine reads it), then
// a plain sentence for a cloud model.
export const ToolOutcome = {
  transferStarted: 'transfer_started',
  transferRefused: 'transfer_refused',
  transferFailed: 'transfer_failed',
  hangupStarted: 'hangup_started',
  devRoom: 'needs_phone_call',
} as const;

export function outcome(
  code: (typeof ToolOutcome)[keyof typeof ToolOutcome],
  sentence: string,
): string {
  return `${code}: ${sentence}`;
}
