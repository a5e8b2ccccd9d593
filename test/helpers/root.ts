// Tests that need root (CAP_SYS_NICE, for instance) run only as root, and say so when they skip:
// the skip is printed with its reason, so a run as another user shows what it left out.
export const isRoot = process.getuid?.() === 0;

/** True as root; otherwise prints that `what` is skipped because it needs root. */
export function rootOnly(what: string): boolean {
  if (!isRoot) console.warn(`skipped (needs root): ${what}`);
  return isRoot;
}
