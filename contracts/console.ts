// What the operator console (console/) tells the rest of the product about the people it lets into
// rooms: each participant it mints a token for carries its role as an attribute. The agent never
// takes a supervisor (listening in, or speaking to the caller and the agent) for the caller it
// serves; a developer in a dev room is a participant like any other. docs/console.md.

export const ConsoleAttribute = {
  /** `developer` (dev rooms) or `supervisor` (live calls); a `dialer` joins no room. */
  role: 'console.role',
} as const;

/**
 * developer: dev rooms; supervisor: live calls (listen in, barge in); dialer: places outbound calls
 * to a person ("Call me"), which cost money and ring real phones, so it is a role of its own.
 */
export const CONSOLE_ROLES = ['developer', 'supervisor', 'dialer'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

/** A participant the console let into a call to listen or to speak: never the call's caller. */
export function isConsoleSupervisor(attributes: Readonly<Record<string, string>>): boolean {
  return attributes[ConsoleAttribute.role] === 'supervisor';
}

/**
 * What the agent publishes on its own participant as a call goes on (participant attributes, all
 * milliseconds as decimal strings), for the console's list of live calls: the time to first audio
 * (the caller's answer → the agent's first audio frame out), and the turns so far (the caller's
 * end of speech → the agent's first audio frame of the reply), as the agent measures them for its
 * metrics. No words, no numbers: only figures.
 */
export const AgentFigureAttribute = {
  ttfaMs: 'callbridge.ttfaMs',
  turns: 'callbridge.turns',
  lastTurnMs: 'callbridge.lastTurnMs',
  medianTurnMs: 'callbridge.medianTurnMs',
} as const;

/** The attributes for the figures so far. */
export function agentFigureAttributes(
  ttfaMs: number | undefined,
  turnsMs: readonly number[],
): Record<string, string> {
  const out: Record<string, string> = {};
  if (ttfaMs !== undefined) out[AgentFigureAttribute.ttfaMs] = String(Math.round(ttfaMs));
  if (turnsMs.length > 0) {
    const sorted = [...turnsMs].sort((a, b) => a - b);
    out[AgentFigureAttribute.turns] = String(turnsMs.length);
    out[AgentFigureAttribute.lastTurnMs] = String(Math.round(turnsMs.at(-1)!));
    out[AgentFigureAttribute.medianTurnMs] = String(
      Math.round(sorted[Math.floor((sorted.length - 1) / 2)]!),
    );
  }
  return out;
}

/** The figures an agent participant published, as numbers (absent or malformed: undefined). */
export function agentFiguresOf(attributes: Readonly<Record<string, string>>): {
  ttfaMs?: number;
  turns?: number;
  lastTurnMs?: number;
  medianTurnMs?: number;
} {
  const num = (key: string) => {
    const v = attributes[key];
    return v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : undefined;
  };
  return {
    ttfaMs: num(AgentFigureAttribute.ttfaMs),
    turns: num(AgentFigureAttribute.turns),
    lastTurnMs: num(AgentFigureAttribute.lastTurnMs),
    medianTurnMs: num(AgentFigureAttribute.medianTurnMs),
  };
}
