// Admission: whether a new call may reach the agent (docs/architecture.md, "Access and limits").
// The handler asks before deciding a NEW_INBOUND_CALL and tells when the call leaves the agent;
// the DynamoDB adapter answers within a budget. decide() only reads the verdict.
import type { RefusedReason } from '../../../contracts/reasons.js';
import type { UseCase } from '../../../contracts/use-cases.js';

/** The checks admission makes, in order. */
export type AdmissionCheck = 'access' | 'rate' | 'capacity';

export interface AdmissionRequest {
  transactionId: string;
  useCase: UseCase;
  /** The caller's number when it is E.164; withheld or malformed numbers are undefined. */
  callerNumber: string | undefined;
  /** When the handler received the event (epoch ms): the hour of the rate, the lease's start. */
  nowMs: number;
}

/** What every verdict carries: `errors` are short codes for the log (`rate:timeout`), never PII. */
interface AdmissionNotes {
  unchecked: AdmissionCheck[];
  errors?: string[];
}

export type Admission =
  /**
   * The call may reach the agent. `leaseExpiresAtMs` is set when it holds (or, DynamoDB not having
   * answered, may hold) a slot to release.
   */
  | ({ verdict: 'admit'; leaseExpiresAtMs?: number } & AdmissionNotes)
  /** The call may not: the use case's `access.refused` or `limits.overLimit` says what happens. */
  | ({
      verdict: 'refuse';
      reason: Exclude<RefusedReason, 'forged' | 'foreign_sma'>;
    } & AdmissionNotes)
  /**
   * The caller's access could not be read in time for a use case that needs it: the call goes to
   * people, never to the agent unchecked and never to a dead line.
   */
  | ({ verdict: 'unknown' } & AdmissionNotes);

export interface LeaseRelease {
  transactionId: string;
  useCaseId: string;
  leaseExpiresAtMs: number;
}

export interface CallAdmission {
  /** Never rejects: DynamoDB slow or down admits (and lists the check as unchecked). */
  admit(req: AdmissionRequest): Promise<Admission>;
  /** Frees the call's slots; never rejects. Returns short codes of what failed, if anything. */
  release(lease: LeaseRelease): Promise<string[]>;
}

/** For runs without a table (benchmarks, pure tests) and open use cases without limits. */
export const admitAll: CallAdmission = {
  admit: async () => ({ verdict: 'admit', unchecked: [] }),
  release: async () => [],
};
