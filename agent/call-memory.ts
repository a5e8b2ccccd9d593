// What the agent remembers of a phone call (contracts/conversations.ts): the caller's profile, read
// at the call's start within a small budget and used only if it is there in time ("Welcome back,
// Jordan"), and at the end the conversation record (transcript and summary, beside the call's
// items) and the profile's update. The caller can share a name, or ask to be forgotten (the
// profile is deleted at once, and nothing is written of them at the end). Nothing here is on the
// caller's path: a slow or absent table means no welcome and no record, never a wait.
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Logger } from 'pino';
import {
  CONVERSATION_SK,
  PROFILE_CALLS,
  PROFILE_SK,
  SUMMARY_MAX,
  profileItem,
  profilePk,
  type ConversationItem,
  type ProfileItem,
  type TranscriptLine,
} from '../contracts/conversations.js';
import { HANDOFF_SUMMARY_MAX } from '../contracts/handoff-context.js';
import type { CallUpdateRequest } from './call-control.js';
import type { CallContext } from './call-context.js';
import type { CallControl } from './call-control.js';
import { timeBudget } from '../store/time-budget.js';

/**
 * How long the profile read may take. It overlaps the ring and the greeting never waits for it; a
 * welcome ready after the greeting has ended is not said (agent/welcome.ts), so the budget only
 * bounds the request. It covers a job process's first request (a new connection) on a busy host.
 */
export const PROFILE_READ_BUDGET_MS = 2000;

export interface MemoryTable {
  client: DynamoDBClient;
  name: string;
  profileTtlSeconds: number;
  recordTtlSeconds: number;
}

/** A history item as the session keeps it (ChatMessage): role, text, time. */
export interface SaidItem {
  type: string;
  role?: string;
  textContent?: string | undefined;
  createdAt?: number;
}

/** The transcript of a session's history: the caller's and the agent's lines, with their times. */
export function transcriptOf(items: readonly SaidItem[]): TranscriptLine[] {
  return items.flatMap((i): TranscriptLine[] => {
    if (i.type !== 'message' || (i.role !== 'user' && i.role !== 'assistant')) return [];
    const text = (i.textContent ?? '').trim();
    if (!text) return [];
    return [{ role: i.role === 'user' ? 'caller' : 'agent', text, at: i.createdAt ?? 0 }];
  });
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * A short summary, made without a model so it costs nothing and reads the same offline and in the
 * cloud: what the caller first asked, how many turns, how it ended.
 */
export function summaryOf(transcript: readonly TranscriptLine[], outcome: string): string {
  const caller = transcript.filter((l) => l.role === 'caller');
  const first = caller[0]?.text;
  const asked = first ? `Caller asked: "${clip(first, 160)}". ` : 'The caller said nothing. ';
  return clip(`${asked}${caller.length} caller turn(s). ${outcome}.`, SUMMARY_MAX);
}

/** How the call ended from the agent's side, as the summary and the record say it. */
function outcomeOf(update: CallUpdateRequest | undefined): string {
  if (!update) return 'The caller hung up';
  if (update.action === 'transfer') {
    return `Transferred to ${update.queue} (${update.reason})`;
  }
  if (update.action === 'voicemail') return 'The caller left a message';
  return `The agent ended the call (${update.reason})`;
}

/** A name a caller gives: letters, spaces, hyphens and apostrophes, at most 60 characters. */
export function cleanName(name: string): string | undefined {
  const n = name
    .replace(/[^\p{L}\p{M}' -]/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
  return n.length > 0 && n.length <= 60 ? n : undefined;
}

export class CallMemory {
  private readonly doc: DynamoDBDocumentClient;
  private readonly key: string | undefined;
  private profile: ProfileItem | undefined;
  private profileRead: Promise<void> | undefined;
  private sharedName: string | undefined;
  private forgotten = false;
  private lastUpdate: CallUpdateRequest | undefined;
  private readonly startedAt: number;
  /** The language the caller switched the call to (agent/language-switch.ts), if they did. */
  private language: string | undefined;

  constructor(
    private readonly call: CallContext,
    private readonly table: MemoryTable,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.doc = DynamoDBDocumentClient.from(table.client);
    // The SMA's key of the caller's number (the agent never sees the number: the dispatch rule
    // hides it).
    this.key = call.useCase.memory.callerProfiles ? call.callerKey : undefined;
    this.startedAt = now();
  }

  /** Starts the profile read; never rejects, and gives up after the budget. */
  readProfile(budgetMs = PROFILE_READ_BUDGET_MS): Promise<void> {
    if (!this.key) return Promise.resolve();
    this.profileRead ??= this.doc
      .send(
        new GetCommand({
          TableName: this.table.name,
          Key: { pk: profilePk(this.key), sk: PROFILE_SK },
        }),
        { abortSignal: timeBudget(budgetMs).signal },
      )
      .then((res) => {
        const parsed = profileItem.safeParse(res.Item);
        if (parsed.success && !this.forgotten) this.profile = parsed.data;
      })
      .catch((err: unknown) => {
        this.logger.info(
          { reason: 'profile_unread', code: (err as Error).name },
          'no profile read',
        );
      });
    return this.profileRead;
  }

  /** The caller switched the call to `language`: the record and the profile keep it. */
  languageChanged(language: string): void {
    this.language = language;
  }

  /** The returning caller's name, if the profile came in time and holds one. */
  knownName(): string | undefined {
    return this.forgotten ? undefined : this.profile?.Name;
  }

  /** The caller said what to call them: kept in the profile at the call's end. */
  rememberName(name: string): string | undefined {
    const clean = cleanName(name);
    if (clean && this.key) this.sharedName = clean;
    return clean;
  }

  /** The caller asked to be forgotten: their profile is deleted now, and not written again. */
  async forget(): Promise<boolean> {
    this.forgotten = true;
    this.profile = undefined;
    this.sharedName = undefined;
    if (!this.key) return true;
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table.name,
          Key: { pk: profilePk(this.key), sk: PROFILE_SK },
        }),
      );
      this.logger.info({ reason: 'caller_forgotten' }, 'caller profile deleted');
      return true;
    } catch (err) {
      this.logger.error({ err, reason: 'forget_failed' }, 'caller profile not deleted');
      return false;
    }
  }

  /** The call's control, with each update it sends noted (how the call ended). */
  watch(control: CallControl | undefined): CallControl | undefined {
    if (!control) return undefined;
    return {
      update: async (update) => {
        this.lastUpdate = update;
        await control.update(update);
      },
      // Not how the call ended: the record learns the language from the switch itself.
      ...(control.languageChanged ? { languageChanged: (l) => control.languageChanged!(l) } : {}),
    };
  }

  /**
   * At the call's end: the conversation record (unless the use case keeps none, or the caller
   * asked to be forgotten) and the profile's update. Failures are logged, never thrown.
   */
  async finish(history: readonly SaidItem[]): Promise<void> {
    const transcript = transcriptOf(history);
    const outcome = outcomeOf(this.lastUpdate);
    const summary = summaryOf(transcript, outcome);
    await Promise.all([this.writeRecord(transcript, summary, outcome), this.writeProfile(summary)]);
  }

  private async writeRecord(transcript: TranscriptLine[], summary: string, outcome: string) {
    const tx = this.call.sma?.transactionId;
    if (!tx || !this.call.useCase.memory.storeTranscripts || this.forgotten) return;
    const endedAt = this.now();
    const item: ConversationItem = {
      pk: `call#${tx}`,
      sk: CONVERSATION_SK,
      UseCase: this.call.useCase.id,
      Language: this.language ?? this.call.useCase.language,
      StartedAt: this.startedAt,
      EndedAt: endedAt,
      Transcript: transcript,
      Summary: summary,
      Outcome: outcome,
      ExpiresAt: Math.floor(endedAt / 1000) + this.table.recordTtlSeconds,
    };
    try {
      await this.doc.send(new PutCommand({ TableName: this.table.name, Item: item }));
      this.logger.info({ lines: transcript.length }, 'conversation recorded');
    } catch (err) {
      this.logger.error({ err, reason: 'record_failed' }, 'conversation not recorded');
    }
  }

  private async writeProfile(summary: string) {
    if (!this.key || this.forgotten) return;
    // A profile that could not be read is not overwritten: its earlier calls would be lost.
    if (!this.profile && this.profileRead === undefined) return;
    await this.profileRead;
    const at = this.now();
    const calls = [
      { at, useCase: this.call.useCase.id, summary },
      ...(this.profile?.Calls ?? []),
    ].slice(0, PROFILE_CALLS);
    const name = this.sharedName ?? this.profile?.Name;
    const item: ProfileItem = {
      pk: profilePk(this.key),
      sk: PROFILE_SK,
      ...(name ? { Name: name } : {}),
      Language: this.language ?? this.call.useCase.language,
      Calls: calls,
      UpdatedAt: at,
      ExpiresAt: Math.floor(at / 1000) + this.table.profileTtlSeconds,
    };
    try {
      // Written only if no other call changed it since it was read (a caller on two lines at once).
      await this.doc.send(
        new PutCommand({
          TableName: this.table.name,
          Item: item,
          ConditionExpression: this.profile ? 'UpdatedAt = :read' : 'attribute_not_exists(pk)',
          ...(this.profile
            ? { ExpressionAttributeValues: { ':read': this.profile.UpdatedAt } }
            : {}),
        }),
      );
    } catch (err) {
      const reason =
        err instanceof ConditionalCheckFailedException ? 'profile_changed' : 'profile_failed';
      this.logger.warn({ err, reason }, 'caller profile not updated');
    }
  }
}

/** A phone call's memory, when the worker has the calls table; undefined otherwise. */
export function callMemoryFor(
  call: CallContext,
  client: DynamoDBClient | undefined,
  table: Omit<MemoryTable, 'client'> | undefined,
  logger: Logger,
): CallMemory | undefined {
  if (!client || !table || call.kind !== 'phone') return undefined;
  const memory = new CallMemory(call, { ...table, client }, logger);
  void memory.readProfile(); // overlaps the ring; the greeting never waits for it
  return memory;
}

/**
 * The summary handed to the person a caller is transferred to (contracts/handoff-context.ts),
 * made without a model like summaryOf: the topic (the frequent question the caller's words match,
 * if any), what the caller first said, what the agent last answered, and how many turns. Personal
 * data: it goes to the SMA with the transfer and is never logged.
 */
export function handoffSummaryOf(
  transcript: readonly TranscriptLine[],
  topic: string | undefined,
): string {
  const caller = transcript.filter((l) => l.role === 'caller');
  if (caller.length === 0) return 'The caller said nothing to the assistant.';
  const first = caller[0]!.text;
  const lastAnswer = transcript.filter((l) => l.role === 'agent').at(-1)?.text;
  const parts = [
    topic ? `Topic: ${topic.replace(/[.?!]+$/, '')}.` : '',
    `Caller said: "${clip(first, 140)}".`,
    lastAnswer ? `Assistant answered: "${clip(lastAnswer, 140)}".` : '',
    `${caller.length} caller turn(s).`,
  ];
  return clip(parts.filter(Boolean).join(' '), HANDOFF_SUMMARY_MAX);
}
