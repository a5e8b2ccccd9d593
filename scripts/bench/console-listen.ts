// What a supervisor listening in costs the call's agent: lab calls of one scenario, alternately
// with and without a hidden listener holding the console's listen token (subscribed to every audio
// track, as the browser is), each call's agent CPU read from the agent's "call ended" log line
// (`cpuMs`: the job process serves that call alone). Figures only, no assertions.
//
//   npx tsx scripts/bench/console-listen.ts [--pairs 3] [--scenario goodbye]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Room } from '@livekit/rtc-node';
import { mintToken } from '../../console/grants.js';
import { isLiveCallRoom } from '../../console/calls.js';
import { runScriptedCall } from '../../lab/caller/scripted-caller.js';
import { loadScenario } from '../../lab/caller/scenario.js';
import { startLab } from '../../lab/lab.js';
import { ROOT } from '../../lab/stack/local-stack.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npx tsx scripts/bench/console-listen.ts', {
  pairs: { type: 'string', default: '3' },
  scenario: { type: 'string', default: 'goodbye' },
});
const pairs = Number(values.pairs);
if (!Number.isInteger(pairs) || pairs < 1 || pairs > 20) {
  process.stderr.write('--pairs is a whole number from 1 to 20\n');
  process.exit(2);
}
const scenario = loadScenario(values.scenario);
const say = (line: string) => process.stdout.write(`${line}\n`);
const logDir = join(ROOT, '.lab', 'bench-console-listen');
const lab = await startLab({ logDir, maxCalls: 4, idleProcesses: 1 });
const s = lab.livekit.stack;

/** Joins the one call in progress hidden, with the console's listen token, once it is live. */
async function listenIn(): Promise<Room> {
  for (;;) {
    for (const r of await lab.livekit.rooms.listRooms()) {
      if (!(await isLiveCallRoom(lab.livekit.rooms, r.name))) continue;
      const minted = await mintToken(
        s,
        { action: 'listen', room: r.name, userId: 'bench', userName: 'bench' },
        120,
      );
      const room = new Room();
      await room.connect(s.url, minted.token, { autoSubscribe: true, dynacast: false });
      return room;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The agent's CPU for the call, from its "call ended" line in agent.log. */
function agentCpuMs(tx: string): number | undefined {
  for (const line of readFileSync(join(logDir, 'agent.log'), 'utf8').split('\n')) {
    if (!line.includes('"call ended"') || !line.includes(tx)) continue;
    return (JSON.parse(line) as { cpuMs?: number }).cpuMs;
  }
  return undefined;
}

const cpu: Record<'alone' | 'listened', number[]> = { alone: [], listened: [] };
try {
  say(`listen-in's cost to the agent: ${pairs} pair(s) of "${scenario.name}" calls`);
  for (let i = 0; i < pairs * 2; i++) {
    const listened = i % 2 === 1;
    await lab.livekit.worker!.waitPrewarmed(1);
    const call = runScriptedCall(lab, scenario, { observe: false });
    const listener = listened ? await listenIn() : undefined;
    const r = await call;
    await listener?.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the job logs its end
    const ms = agentCpuMs(r.tx);
    const kind = listened ? 'listened' : 'alone';
    if (ms !== undefined && r.ok) cpu[kind].push(ms);
    say(
      `  call ${i + 1} (${kind}): ${r.ok ? 'ok' : 'EXPECTATIONS FAILED'}, agent CPU ${ms ?? '?'} ms`,
    );
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  say(
    `agent CPU per call: alone median ${median(cpu.alone)} ms (${cpu.alone.join(', ')}), ` +
      `listened in median ${median(cpu.listened)} ms (${cpu.listened.join(', ')})`,
  );
} finally {
  await lab.stop();
}
process.exit(0);
