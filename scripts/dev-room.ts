// Creates a dev room with the agent dispatched into it, and prints how to join it.
//
//   npm run dev-room -- [--use-case ID] [--room NAME] [--identity NAME] [--with-lk]
//
// The server is LIVEKIT_URL with LIVEKIT_API_KEY / LIVEKIT_API_SECRET (LiveKit Cloud or your own);
// without them, the local stack of `npm start -- --keep` (livekit.yaml). The development keys are
// public, so they are refused for a server off this machine (sip/livekit/server-target.ts). An
// agent worker must be running for that server (`npm run agent -- dev`, or the lab's): the
// dispatch waits for one.
// The terminal join line needs the lk CLI, which setup does not build (about 15 minutes on 2
// cores): `--with-lk` builds it first (scripts/setup/livekit-tools.sh --lk).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_AGENT_NAME } from '../contracts/ids.js';
import { loadUseCases } from '../contracts/use-cases.js';
import bundledUseCases from '../contracts/use-cases.json' with { type: 'json' };
import { type DevRoom, type DevRoomAccess, createDevRoom } from '../sip/livekit/dev-room.js';
import { type LiveKitEnv, accessProblems, serverFromEnv } from '../sip/livekit/server-target.js';
import { ROOT, TOOLS_BIN, localStackCredentials } from '../lab/stack/local-stack.js';

const LK = join(TOOLS_BIN, 'lk');

function options() {
  return parseArgs({
    options: {
      'use-case': { type: 'string' },
      room: { type: 'string' },
      identity: { type: 'string', default: 'developer' },
      'with-lk': { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
}

/** Builds lk into .tools/bin; its build log goes to stderr, keeping stdout for the join lines. */
function buildLk(): void {
  process.stderr.write('dev-room: building the lk CLI (about 15 minutes on 2 cores)…\n');
  const res = spawnSync('bash', [join(ROOT, 'scripts', 'setup', 'livekit-tools.sh'), '--lk'], {
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (res.status !== 0) throw new Error('building lk failed (see the output above)');
}

function joinLines(access: DevRoomAccess, dev: DevRoom, fromEnv: boolean): string[] {
  const meet = `https://meet.livekit.io/custom?liveKitUrl=${encodeURIComponent(access.url)}&token=${dev.token}`;
  if (!existsSync(LK)) {
    return [
      'Talk with mic and speakers in a browser on this machine:',
      `  ${meet}`,
      'To join from a terminal instead, `npm run dev-room -- --with-lk` builds lk first.',
    ];
  }
  // Keys are printed only for the local stack, whose development keys are in livekit.yaml;
  // otherwise the command reads them from the environment.
  const keys = fromEnv
    ? '--api-key "$LIVEKIT_API_KEY" --api-secret "$LIVEKIT_API_SECRET"'
    : `--api-key ${access.apiKey} --api-secret ${access.apiSecret}`;
  return [
    'Join from a terminal (publish an .ogg file as your voice; the agent answers in the room):',
    `  .tools/bin/lk room join --url ${access.url} ${keys} --identity ${dev.identity} --auto-subscribe --publish caller.ogg ${dev.room}`,
    'Or talk with mic and speakers in a browser on this machine:',
    `  ${meet}`,
  ];
}

/** LIVEKIT_* (all three) or the local stack; the development keys only on this machine. */
function server(env: LiveKitEnv): { access: DevRoomAccess; fromEnv: boolean } {
  const local = localStackCredentials();
  const fromEnv = serverFromEnv(env);
  if (fromEnv && 'missing' in fromEnv) {
    throw new Error(`the LIVEKIT_* variables go together; ${fromEnv.missing.join(', ')} unset`);
  }
  const access = fromEnv ?? local;
  const refused = accessProblems(access, local);
  if (refused.length > 0) throw new Error(`refused, no room was created: ${refused.join('; ')}`);
  return { access, fromEnv: fromEnv !== undefined };
}

async function main(): Promise<void> {
  const values = options();
  const env = process.env;
  const { access, fromEnv } = server(env);
  const useCases = loadUseCases(env.USE_CASES_FILE, bundledUseCases);
  const useCase = values['use-case'] ?? useCases.defaultUseCase.id;
  if (!useCases.byIdOrUndefined(useCase)) {
    throw new Error(
      `unknown use case "${useCase}" (known: ${useCases.all.map((u) => u.id).join(', ')})`,
    );
  }
  // Before the room: a room nobody joins closes after 10 minutes, less than the build takes.
  if (values['with-lk']) buildLk();
  const dev = await createDevRoom(access, {
    agentName: env.AGENT_NAME ?? DEFAULT_AGENT_NAME,
    useCase,
    room: values.room,
    identity: values.identity,
  });
  const lines = [
    `room:      ${dev.room} (agent dispatched: ${dev.dispatchId}, use case ${useCase})`,
    `server:    ${access.url}`,
    `identity:  ${dev.identity}`,
    `token:     ${dev.token}`,
    '',
    ...joinLines(access, dev, fromEnv),
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((e: unknown) => {
  process.stderr.write(`dev-room: ${(e as Error).message}\n`);
  process.exit(1);
});
