// One call as the calls table holds it, for operators: its state, its events in order, and the
// conversation record (transcript and summary) the agent wrote at its end.
//
//   npm run call -- show TRANSACTION_ID
//
// Reads CALLS_TABLE, and AWS_ENDPOINT_URL_DYNAMODB for a local table (the lab prints both). The
// state holds phone numbers and the record a transcript: both personal data, printed only here, to
// the operator's terminal.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CONVERSATION_SK, conversationItem } from '../contracts/conversations.js';

const USAGE = 'usage: npm run call -- show TRANSACTION_ID';

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

async function main(): Promise<number> {
  const [op, tx, ...extra] = process.argv.slice(2);
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
