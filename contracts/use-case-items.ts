// Use cases in the calls table (docs/architecture.md, "DynamoDB"): every change a new version, the
// current version named by a pointer. The SMA handler and the agent read the pointers (one query:
// the whole catalog); `npm run use-case` writes versions and moves pointers.
//
//   pk usecases        sk default              DefaultUseCase: the use case of an unclaimed number
//   pk usecases        sk current#<id>         Version: the current version, and its Body
//   pk usecase#<id>    sk version#<000001>     Body, CreatedAt, Change (put, rollback, seed), From
//
// A pointer carries a copy of its version's body so one query reads the catalog; it is written
// with the version's number, and only if the number it replaces is the one the writer read, so two
// operators' changes cannot interleave. Bodies are JSON text of the use case as written (before
// defaults): a later schema's defaults apply to it when it is read.
import * as z from 'zod';

export const USE_CASES_PK = 'usecases';
export const DEFAULT_SK = 'default';
export const CURRENT_PREFIX = 'current#';
export const currentSk = (useCaseId: string) => `${CURRENT_PREFIX}${useCaseId}`;
export const useCasePk = (useCaseId: string) => `usecase#${useCaseId}`;
export const VERSION_PREFIX = 'version#';
/** Six digits, so versions sort by number. */
export const versionSk = (version: number) =>
  `${VERSION_PREFIX}${String(version).padStart(6, '0')}`;
/**
 * The catalog's partition holds only the pointers and the default, and `current#…` sorts before
 * `default`: a query `sk BETWEEN 'current#' AND 'default'` reads exactly them.
 */
export const CATALOG_SK_RANGE = [CURRENT_PREFIX, DEFAULT_SK] as const;

export const MAX_VERSION = 999_999;

export const UseCaseChange = z.enum(['seed', 'put', 'rollback']);
export type UseCaseChange = z.infer<typeof UseCaseChange>;

/** A pointer as stored. */
export const currentItem = z.object({
  pk: z.literal(USE_CASES_PK),
  sk: z.string().startsWith(CURRENT_PREFIX),
  Version: z.number().int().min(1).max(MAX_VERSION),
  Body: z.string().min(2),
  UpdatedAt: z.number().int(),
});
export type CurrentItem = z.infer<typeof currentItem>;

/** A version as stored. */
export const versionItem = z.object({
  pk: z.string().startsWith('usecase#'),
  sk: z.string().startsWith(VERSION_PREFIX),
  Version: z.number().int().min(1).max(MAX_VERSION),
  Body: z.string().min(2),
  CreatedAt: z.number().int(),
  Change: UseCaseChange,
  /** A rollback's source version. */
  From: z.number().int().optional(),
});
export type VersionItem = z.infer<typeof versionItem>;

export const defaultItem = z.object({
  pk: z.literal(USE_CASES_PK),
  sk: z.literal(DEFAULT_SK),
  DefaultUseCase: z.string().min(1),
});
