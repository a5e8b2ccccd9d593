// What the operator console (console/) tells the rest of the product about the people it lets into
// rooms: each participant it mints a token for carries its role as an attribute. The agent never
// takes a supervisor (listening in, or speaking to the caller and the agent) for the caller it
// serves; a developer in a dev room is a participant like any other. docs/console.md.

export const ConsoleAttribute = {
  /** `developer` (dev rooms) or `supervisor` (live calls). */
  role: 'console.role',
} as const;

export const CONSOLE_ROLES = ['developer', 'supervisor'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

/** A participant the console let into a call to listen or to speak: never the call's caller. */
export function isConsoleSupervisor(attributes: Readonly<Record<string, string>>): boolean {
  return attributes[ConsoleAttribute.role] === 'supervisor';
}
