// Use cases and callers in the calls table, on the whole lab (offline speech): an operator's
// change put with `npm run use-case` is heard on the next call; a returning caller is greeted by
// name; each call leaves its conversation record, which `npm run call -- show` prints; a use case
// the offline set cannot serve is said so and handed to a person.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { expect, it } from 'vitest';
import bundled from '../../contracts/use-cases.json' with { type: 'json' };
import { callerKey } from '../../contracts/callers.js';
import { PROFILE_SK, profilePk } from '../../contracts/conversations.js';
import { LOCAL_SMA_ENV } from '../../lab/chime/local-sma-env.js';
import { runScriptedCall, type CallResult } from '../../lab/caller/scripted-caller.js';
import { parseScenario } from '../../lab/caller/scenario.js';
import { LOCAL_AWS_ENV } from '../../lab/stack/local-dynamodb.js';
import { ROOT } from '../../lab/stack/local-stack.js';
import { SHARED_LINES } from '../../agent/lines.js';
import { conversationRecord, labForSuite } from '../helpers/lab.js';
import { waitFor } from '../helpers/wait.js';

// One call at the start; the others come after a use-case change is live, the spares loaded by then.
const lab = labForSuite({ prewarmed: 1, idleProcesses: 3 });
const dir = mkdtempSync(join(tmpdir(), 'use-cases-live-'));
const city = bundled.useCases[0]!;
/** The registered callers' line: its callers confirm their number first (`registers`). */
const residents = bundled.useCases[1]!;

/**
 * An operator's command, as they run it, against the lab's table. Not spawnSync: the lab's calls
 * (their audio, the SMA) run in this process, and a call may be in progress beside it.
 */
async function operator(script: 'use-case' | 'call', ...args: string[]): Promise<string> {
  const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'scripts', `${script}.ts`), ...args],
        {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 60_000,
          env: {
            ...process.env,
            ...LOCAL_AWS_ENV,
            CALLS_TABLE: LOCAL_SMA_ENV.CALLS_TABLE,
            AWS_ENDPOINT_URL_DYNAMODB: lab().sma.dynamoEndpoint,
          },
        },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
          resolve({ status: code, stdout, stderr: stderr || (err?.message ?? '') });
        },
      );
    },
  );
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

function put(name: string, body: unknown): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(body));
  return operator('use-case', 'put', path);
}

/** The lab's SMA and workers read the table every 5 s: two intervals and the change is live. */
const live = () => new Promise((r) => setTimeout(r, 11_000));

const agentSaid = (r: CallResult) =>
  r.timeline
    .filter((e) => e.source === 'agent')
    .map((e) => e.text)
    .join(' | ');

const timelineOf = (r: CallResult) => r.timeline.map((e) => `${e.source}: ${e.text}`).join('\n');

const scenario = (caller: string, steps: string) =>
  parseScenario(
    `name: use-cases-live\ndescription: e2e\ncaller: "${caller}"\nsteps:\n${steps}`,
    'use-cases-live',
  );

// The three run together (three calls at a time at most, the first on warm job processes): each
// asserts on its own calls, and the use cases they change are apart. The greeting changes on
// city-311, whose returning caller's calls hold whatever the greeting; the language the offline
// set cannot serve is put on the registered callers' line, whose calls it hands to a person.
it.concurrent(
  'an operator puts a changed greeting; the next call hears it; the record is kept',
  async ({ expect }) => {
    const greeting = 'Hello, this is the Springfield 311 test line, version two. How can I help?';
    expect(await put('greeting.json', { ...city, greeting })).toContain(
      'city-311: version 2 is current',
    );
    await live();
    const r = await runScriptedCall(
      lab(),
      scenario(
        '+12065550171',
        `  - greeting: { withinMs: 30000 }
  - say: No thanks, that is all. Goodbye.
    then: { callEnds: true, withinMs: 20000 }`,
      ),
    );
    // The caller's ear heard the agent from the answer; what it said is the call's record (the
    // observer's transcript of a line can miss when the caller speaks right after it).
    expect(r.ttfaMs).toBeGreaterThan(0);
    const record = await conversationRecord(lab(), r.tx);
    expect(record.UseCase).toBe('city-311');
    expect(record.Transcript[0], timelineOf(r)).toEqual(
      expect.objectContaining({ role: 'agent', text: greeting }),
    );
    const shown = await operator('call', 'show', r.tx);
    expect(shown).toContain('events:');
    expect(shown).toContain(`agent   ${greeting}`);
    expect(shown).toMatch(/summary: .*caller turn/);
    expect(await operator('use-case', 'rollback', 'city-311', '1')).toContain('version 3');
  },
  180_000,
);

it.concurrent(
  'a caller who gave their name is welcomed back by it on the next call',
  async ({ expect }) => {
    const caller = '+12065550172';
    const first = await runScriptedCall(
      lab(),
      scenario(
        caller,
        `  - greeting: { withinMs: 30000 }
  - say: My name is Jordan.
    then: { hears: agent, atLeastMs: 1000, withinMs: 15000 }
  - say: No thanks, that is all. Goodbye.
    then: { callEnds: true, withinMs: 20000 }`,
      ),
    );
    expect(agentSaid(first), timelineOf(first)).toContain("I'll remember that");
    const doc = DynamoDBDocumentClient.from(lab().sma.db.client);
    const key = {
      pk: profilePk(callerKey(caller, LOCAL_SMA_ENV.CALLER_KEY_SECRET)),
      sk: PROFILE_SK,
    };
    await waitFor('the caller profile', async () => {
      const res = await doc.send(
        new GetCommand({ TableName: LOCAL_SMA_ENV.CALLS_TABLE, Key: key }),
      );
      return res.Item?.['Name'] === 'Jordan' ? res.Item : undefined;
    });
    const second = await runScriptedCall(
      lab(),
      scenario(
        caller,
        `  - greeting: { withinMs: 30000 }
  - say: No thanks, that is all. Goodbye.
    then: { callEnds: true, withinMs: 20000 }`,
      ),
    );
    // What the agent said is in the call's record (the caller's ear hears it as one utterance).
    const said = (await conversationRecord(lab(), second.tx)).Transcript.filter(
      (l) => l.role === 'agent',
    ).map((l) => l.text);
    // Before the greeting when the profile came in before the answer, else right after it.
    expect(
      said.slice(0, 2).some((t) => t.startsWith('Welcome back, Jordan.')),
      timelineOf(second),
    ).toBe(true);
    const third = await runScriptedCall(
      lab(),
      scenario(
        caller,
        `  - greeting: { withinMs: 30000 }
  - say: Please forget me.
    then: { hears: agent, atLeastMs: 1000, withinMs: 15000 }
  - say: No thanks, that is all. Goodbye.
    then: { callEnds: true, withinMs: 20000 }`,
      ),
    );
    expect(agentSaid(third), timelineOf(third)).toContain(
      "I've deleted what I remembered about you",
    );
    const gone = await doc.send(new GetCommand({ TableName: LOCAL_SMA_ENV.CALLS_TABLE, Key: key }));
    expect(gone.Item).toBeUndefined();
  },
  240_000,
);

it.concurrent(
  'a use case in a language the offline set does not hear is said so and handed to a person',
  async ({ expect }) => {
    await put('spanish.json', { ...residents, language: 'es-US', speech: { providers: 'cloud' } });
    await live();
    try {
      const r = await runScriptedCall(
        lab(),
        parseScenario(
          `name: use-cases-live
description: e2e
caller: "+12065550173"
dialed: "${residents.dialedNumbers[0]}"
registers: true
steps:
  - greeting: { withinMs: 30000 }
  - listen: { hears: person, atLeastMs: 1000, withinMs: 30000 }`,
          'use-cases-live',
        ),
      );
      // The line is the agent's first words, said as the caller's ear hears the agent: the
      // observer joins only then and can miss it; the call's record has it.
      const { Transcript } = await conversationRecord(lab(), r.tx);
      const said = Transcript.filter((l) => l.role === 'agent');
      expect(said[0]?.text, timelineOf(r)).toBe(SHARED_LINES.notServed);
      const updates = lab()
        .voiceApi.requests.filter((q) => q.path.endsWith(`/calls/${r.tx}`) && q.status === 202)
        .map((q) => (q.body as { Arguments: Record<string, string> }).Arguments);
      expect(updates).toEqual([
        expect.objectContaining({ action: 'transfer', queue: 'general', reason: 'out_of_scope' }),
      ]);
    } finally {
      await operator('use-case', 'rollback', residents.id, '1');
    }
  },
  180_000,
);
