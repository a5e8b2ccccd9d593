// rtc-node logs at debug level unless NODE_ENV=production: "Connect callback received" for every
// room the lab joins, as JSON lines on the lab's standard output, among the timeline's. The lab
// sets its logger to the level production runs it at (info). The package does not export its
// logger; CommonJS modules load once per file, so requiring that file reaches the same instance.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function rtcLogsAtInfo(): void {
  const require = createRequire(import.meta.url);
  try {
    const mod = require(join(dirname(require.resolve('@livekit/rtc-node')), 'log.cjs')) as {
      log?: { level: string };
    };
    if (mod.log) mod.log.level = 'info';
  } catch {
    // Another layout of the package: its debug lines stay, nothing else changes.
  }
}
