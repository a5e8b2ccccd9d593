// Creates a dev room with the agent dispatched into it, and prints how to join it.
//
//   npm run dev-room -- [--use-case ID] [--room NAME] [--identity NAME]
//
// The server is LIVEKIT_URL with LIVEKIT_API_KEY / LIVEKIT_API_SECRET (LiveKit Cloud or your own);
// without them, the local stack of `npm start -- --keep` (livekit.yaml). An agent worker must be
// running for that server (`npm run agent -- dev`, or the lab's): the dispatch waits for one.
import { parseArgs } from 'node:util';
import { loadUseCases } from '../contracts/use-cases.js';
import bundledUseCases from '../contracts/use-cases.json' with { type: 'json' };
import { createDevRoom } from '../sip/livekit/dev-room.js';
import { localStackCredentials } from '../lab/stack/local-stack.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'use-case': { type: 'string' },
      room: { type: 'string' },
      identity: { type: 'string', default: 'developer' },
    },
    strict: true,
  });
  const env = process.env;
  const fromEnv = Boolean(env.LIVEKIT_URL && env.LIVEKIT_API_KEY && env.LIVEKIT_API_SECRET);
  const access = fromEnv
    ? { url: env.LIVEKIT_URL!, apiKey: env.LIVEKIT_API_KEY!, apiSecret: env.LIVEKIT_API_SECRET! }
    : localStackCredentials();
  const useCases = loadUseCases(env.USE_CASES_FILE, bundledUseCases);
  const useCase = values['use-case'] ?? useCases.defaultUseCase.id;
  if (!useCases.byIdOrUndefined(useCase)) {
    throw new Error(
      `unknown use case "${useCase}" (known: ${useCases.all.map((u) => u.id).join(', ')})`,
    );
  }
  const dev = await createDevRoom(access, {
    agentName: env.AGENT_NAME ?? 'callbridge-agent',
    useCase,
    room: values.room,
    identity: values.identity,
  });
  // Keys are printed only for the local stack, whose development keys are in livekit.yaml;
  // otherwise the command reads them from the environment.
  const keys = fromEnv
    ? '--api-key "$LIVEKIT_API_KEY" --api-secret "$LIVEKIT_API_SECRET"'
    : `--api-key ${access.apiKey} --api-secret ${access.apiSecret}`;
  const meet = `https://meet.livekit.io/custom?liveKitUrl=${encodeURIComponent(access.url)}&token=${dev.token}`;
  process.stdout.write(
    [
      `room:      ${dev.room} (agent dispatched: ${dev.dispatchId}, use case ${useCase})`,
      `server:    ${access.url}`,
      `identity:  ${dev.identity}`,
      `token:     ${dev.token}`,
      '',
      'Join from a terminal (publish an .ogg file as your voice; the agent answers in the room):',
      `  .tools/bin/lk room join --url ${access.url} ${keys} --identity ${dev.identity} --auto-subscribe --publish caller.ogg ${dev.room}`,
      'Or talk with mic and speakers in a browser on this machine:',
      `  ${meet}`,
      '',
    ].join('\n'),
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`dev-room: ${(e as Error).message}\n`);
  process.exit(1);
});
