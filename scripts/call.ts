// Calls, for operators: one call as the calls table holds it (its state, its events in order, and
// the conversation record the agent wrote at its end), or a call placed to a person and bridged to
// the agent, as the console's "Call me" places it (console/outbound.ts).
//
//   npm run call -- show TRANSACTION_ID
//   npm run call -- dial NUMBER --use-case ID
//
// `show` reads CALLS_TABLE, and AWS_ENDPOINT_URL_DYNAMODB for a local table (the lab prints both).
// The state holds phone numbers and the record a transcript: both personal data, printed only
// here, to the operator's terminal. `dial` places the call through SMA_APPLICATION_ID with
// CreateSipMediaApplicationCall (AWS_ENDPOINT_URL_CHIME_SDK_VOICE for the lab's stand-in), only for
// a use case whose `outbound` settings allow it and to a number they allow (USE_CASES_FILE, else
// the bundled use cases), and prints the call's TransactionId.
import { parseArgs } from 'node:util';
import { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CONVERSATION_SK, conversationItem } from '../contracts/conversations.js';
import {
  RECORDING_SK,
  recordingItem,
  VOICEMAIL_SK,
  voicemailItem,
} from '../contracts/recordings.js';
import { loadUseCases } from '../contracts/use-cases.js';
import bundledUseCases from '../contracts/use-cases.json' with { type: 'json' };
import { OutboundRefused, checkOutboundCall, placeOutboundCall } from '../console/outbound.js';

const USAGE = [
  'usage: npm run call -- show TRANSACTION_ID',
  '       npm run call -- dial NUMBER --use-case ID',
].join('\n');

const time = (ms: unknown) =>
  typeof ms === 'number' ? new Date(ms).toISOString().replace(/^.*T|Z$/g, '') : '?';

/** The call's items as lines for a terminal: state, events, conversation. */
export function describeCall(items: Record<string, unknown>[]): string[] {
  if (items.length === 0) return ['no items for this call (unknown, or expired)'];
  const out: string[] = [];
  const state = items.find((i) => i.sk === 'state');
  if (state) {
    out.push('state:');
    const { pk: _pk, sk: _sk, ...fields } = state;
    for (const [k, v] of Object.entries(fields).sort(([a], [b]) => a.localeCompare(b))) {
      out.push(`  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    }
  }
  const events = items.filter((i) => String(i.sk).startsWith('event#'));
  if (events.length) {
    out.push('events:');
    for (const e of events) {
      const actions = Array.isArray(e.Actions) ? e.Actions.join(',') : '';
      const detail = [e.ActionDataType, e.ErrorType].filter(Boolean).join(' ');
      out.push(
        `  ${String(e.sk).slice('event#'.length)}  ${time(e.ReceivedAt)}  ${String(e.EventType)}${detail ? ` (${detail})` : ''}  -> ${actions || '-'}  ${String(e.Phase ?? '')}`,
      );
    }
  }
  const recording = items.find((i) => i.sk === RECORDING_SK);
  const rec = recording ? recordingItem.safeParse(recording) : undefined;
  if (rec?.success) {
    const r = rec.data;
    const length = r.Seconds === undefined ? 'length not yet known' : `${r.Seconds} s`;
    out.push(`recording (${r.Source}, ${r.Format}, ${length}): s3://${r.Bucket}/${r.Key}`);
  } else if (rec) out.push('recording: an item that does not parse');
  const message = items.find((i) => i.sk === VOICEMAIL_SK);
  const vm = message ? voicemailItem.safeParse(message) : undefined;
  if (vm?.success) {
    const m = vm.data;
    out.push(
      `voicemail (${time(m.RecordedAt)}, queue ${m.Queue ?? '?'}): s3://${m.Bucket}/${m.Key}`,
    );
  } else if (vm) out.push('voicemail: an item that does not parse');
  const record = items.find((i) => i.sk === CONVERSATION_SK);
  const parsed = record ? conversationItem.safeParse(record) : undefined;
  if (!parsed) out.push('conversation: none recorded');
  else if (!parsed.success) out.push('conversation: a record that does not parse');
  else {
    const c = parsed.data;
    out.push(
      `conversation (${c.UseCase}, ${c.Language}, ${time(c.StartedAt)}–${time(c.EndedAt)}):`,
    );
    for (const l of c.Transcript) out.push(`  ${time(l.at)}  ${l.role.padEnd(6)}  ${l.text}`);
    out.push(`summary: ${c.Summary}`);
  }
  return out;
}

/** `dial`: places the call; the exit code says how it went (0 placed, 1 refused or failed). */
export async function dial(
  args: string[],
  env: Record<string, string | undefined>,
  out: { log(line: string): void; error(line: string): void },
  voice?: Pick<ChimeSDKVoiceClient, 'send'>,
): Promise<number> {
  let number: string;
  let useCase: string;
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { 'use-case': { type: 'string' } },
    });
    if (positionals.length !== 1 || !values['use-case'])
      throw new Error('one NUMBER and --use-case');
    [number, useCase] = [positionals[0]!, values['use-case']];
  } catch (e) {
    out.error(`call: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const smaId = env.SMA_APPLICATION_ID;
  if (!smaId) {
    out.error('call: set SMA_APPLICATION_ID, the SMA application that places the call');
    return 2;
  }
  let placed: string;
  const own = voice ? undefined : new ChimeSDKVoiceClient({});
  const client = voice ?? own!;
  try {
    const call = checkOutboundCall(
      loadUseCases(env.USE_CASES_FILE, bundledUseCases),
      useCase,
      number,
    );
    placed = await placeOutboundCall(client, smaId, call);
  } catch (e) {
    const why = e instanceof OutboundRefused ? 'refused' : (e as Error).name;
    out.error(`call: ${why}: ${(e as Error).message}`);
    return 1;
  } finally {
    own?.destroy();
  }
  out.log(`placed: ${placed} (the phone rings; the agent greets the callee when they answer)`);
  out.log(`follow it: npm run call -- show ${placed}`);
  return 0;
}

async function main(): Promise<number> {
  const [op, tx, ...extra] = process.argv.slice(2);
  if (op === 'dial') return dial(process.argv.slice(3), process.env, console);
  if (op !== 'show' || !tx || extra.length) {
    console.error(`call: ${USAGE}`);
    return 2;
  }
  const table = process.env.CALLS_TABLE;
  if (!table) {
    console.error('call: set CALLS_TABLE (docs/configuration.md)');
    return 2;
  }
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  try {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await doc.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `call#${tx}` },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(res.Items ?? []));
      start = res.LastEvaluatedKey;
    } while (start);
    for (const line of describeCall(items)) console.log(line);
    return 0;
  } catch (err) {
    console.error(`call: ${(err as Error).name}: ${(err as Error).message}`);
    return 1;
  } finally {
    doc.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
