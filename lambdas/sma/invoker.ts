// Who invokes the handler. Chime names the SMA application and the AWS account of every invocation
// (CallDetails); a handler configured with its own refuses events from any other, whoever managed
// to invoke it (docs/sma.md, "Lambda permission", is the first line of defence).
import type { SmaEvent } from './events.js';

/** The SMA application and AWS account this handler serves; an unset one is not checked. */
export interface Owner {
  applicationId: string | undefined;
  accountId: string | undefined;
}

export const anyOwner: Owner = { applicationId: undefined, accountId: undefined };

/** Which of the event's ids is not the owner's (a missing id counts as different), if any. */
export function foreignId(
  ev: Pick<SmaEvent, 'applicationId' | 'accountId'>,
  owner: Owner,
): 'application' | 'account' | undefined {
  if (owner.applicationId !== undefined && ev.applicationId !== owner.applicationId) {
    return 'application';
  }
  if (owner.accountId !== undefined && ev.accountId !== owner.accountId) return 'account';
  return undefined;
}
