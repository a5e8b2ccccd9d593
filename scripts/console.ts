// `npm run console`: the operator console (docs/console.md), until Ctrl-C.
//
//   npm run console                 against the local stack of `npm start -- --keep` (livekit.yaml)
//   LIVEKIT_URL=wss://… LIVEKIT_API_KEY=… LIVEKIT_API_SECRET=… CONSOLE_AUTH=oidc … npm run console
//
// With local sign-in (the default, loopback only) it prints a one-time link that signs the browser
// in as a developer and a supervisor. The development keys are public, so they are refused for a
// server off this machine (sip/livekit/server-target.ts).
import { parseArgs } from 'node:util';
import { startConsole } from '../console/console.js';
import { ConsoleConfigError } from '../console/config.js';
import { accessProblems, serverFromEnv } from '../sip/livekit/server-target.js';
import { localStackCredentials } from '../lab/stack/local-stack.js';

const USAGE = 'usage: npm run console [-- --links N]   (configuration: docs/console.md)';

async function main(): Promise<number> {
  let links: number;
  try {
    const { values } = parseArgs({
      options: { links: { type: 'string', default: '1' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    links = Number(values.links);
    if (!Number.isInteger(links) || links < 1 || links > 20) throw new Error('--links is 1 to 20');
  } catch (e) {
    process.stderr.write(`console: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const local = localStackCredentials();
  const fromEnv = serverFromEnv(process.env);
  if (fromEnv && 'missing' in fromEnv) {
    process.stderr.write(
      `console: the LIVEKIT_* variables go together; ${fromEnv.missing.join(', ')} unset\n`,
    );
    return 2;
  }
  const livekit = fromEnv ?? local;
  const refused = accessProblems(livekit, local);
  if (refused.length > 0) {
    process.stderr.write(`console: refused: ${refused.join('; ')}\n`);
    return 2;
  }
  let console_;
  try {
    console_ = await startConsole({ env: process.env, livekit });
  } catch (e) {
    if (e instanceof ConsoleConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`callbridge console: ${console_.url} (LiveKit ${livekit.url})`);
  say(`  page weight: ${(console_.pageWeightGzipped / 1024).toFixed(0)} KB gzipped`);
  if (console_.auth === 'local') {
    say('  sign in (each link works once, for 10 minutes, on this machine):');
    for (let i = 0; i < links; i++) say(`    ${console_.signInLink()}`);
  }
  say('  Stop: Ctrl-C');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await console_.close();
  return 0;
}

process.exit(await main());
