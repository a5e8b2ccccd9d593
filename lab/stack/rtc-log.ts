// rtc-node logs to the lab's standard output, among the timeline's lines: at debug level unless
// NODE_ENV=production ("Connect callback received" for every room the lab joins), and an error
// for every data stream cut by leaving a room, which the lab's observer does by design when a
// caller hangs up while the agent speaks. Whatever goes wrong for the lab's participants reaches
// the lab as a rejected promise and then a failed check, so the lab keeps only rtc-node's fatal
// lines. The package does not export its logger; CommonJS modules load once per file, so
// requiring that file reaches the same instance.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function quietRtcLogs(): void {
  const require = createRequire(import.meta.url);
  try {
    const mod = require(join(dirname(require.resolve('@livekit/rtc-node')), 'log.cjs')) as {
      log?: { level: string };
    };
    if (mod.log) mod.log.level = 'fatal';
  } catch {
    // Another layout of the package: its lines stay, nothing else changes.
  }
}
