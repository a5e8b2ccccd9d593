// Access: who may reach the agent (docs/architecture.md, "Access and limits"), decided from the
// caller's items in the calls table (contracts/callers.ts), read with one Query.
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { AccessList, VERIFIED_SK, accessSk, callerPk } from '../../../contracts/callers.js';
import type { UseCaseAccess } from '../../../contracts/use-cases.js';

const DAY_MS = 86_400_000;

/** The fields access reads of a caller's item; anything malformed reads as absent. */
const CallerItem = z.object({
  sk: z.string(),
  List: AccessList.optional().catch(undefined),
  VerifiedAt: z.number().optional().catch(undefined),
});
type CallerItem = z.infer<typeof CallerItem>;

export type AccessVerdict = 'admit' | 'blocked' | 'unverified';

/**
 * The verdict for a known number, from its items. The block list wins in every mode; an allow
 * item (for this use case or all) admits in every mode; `verified` also admits a number confirmed
 * within `verifiedForDays`.
 */
export function accessVerdict(
  rawItems: readonly unknown[],
  useCaseId: string,
  access: UseCaseAccess,
  nowMs: number,
): AccessVerdict {
  const items = rawItems.flatMap((raw) => {
    const parsed = CallerItem.safeParse(raw);
    return parsed.success ? [parsed.data] : [];
  });
  const lists = items.filter((i) => i.sk === accessSk(useCaseId) || i.sk === accessSk('*'));
  if (lists.some((i) => i.List === 'block')) return 'blocked';
  if (access.mode === 'open' || lists.some((i) => i.List === 'allow')) return 'admit';
  if (access.mode === 'verified' && isVerified(items, access.verifiedForDays, nowMs)) {
    return 'admit';
  }
  return 'unverified';
}

function isVerified(items: CallerItem[], verifiedForDays: number, nowMs: number): boolean {
  const verifiedAt = items.find((i) => i.sk === VERIFIED_SK)?.VerifiedAt;
  return verifiedAt !== undefined && verifiedAt + verifiedForDays * DAY_MS > nowMs;
}

/** Every item of the caller, only the fields access reads (one page: a caller has a handful). */
export function queryCaller(doc: DynamoDBDocumentClient, table: string, key: string) {
  return async (abortSignal: AbortSignal): Promise<unknown[]> => {
    const res = await doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ProjectionExpression: 'sk, #list, VerifiedAt',
        ExpressionAttributeNames: { '#list': 'List' },
        ExpressionAttributeValues: { ':pk': callerPk(key) },
      }),
      { abortSignal },
    );
    return res.Items ?? [];
  };
}
