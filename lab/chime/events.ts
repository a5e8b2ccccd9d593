// Builds invocation events shaped as Chime sends them to an SMA Lambda
// (https://docs.aws.amazon.com/chime-sdk/latest/dg/pstn-invocations.html): used by the local
// stand-in for Chime, the replay tooling and the tests.

export interface ChimeLeg {
  CallId: string;
  ParticipantTag: 'LEG-A' | 'LEG-B';
  To: string;
  From: string;
  Direction: 'Inbound' | 'Outbound';
  /** Chime sends this as a string. */
  StartTimeInMilliseconds: string;
  Status: 'Connected' | 'Disconnected';
}

export interface ChimeCallIdentity {
  transactionId: string;
  smaId: string;
  region: string;
  accountId: string;
  sipRuleId?: string;
}

export interface ChimeEventInput {
  call: ChimeCallIdentity;
  sequence: number;
  type: string;
  legs: ChimeLeg[];
  attributes?: Record<string, string>;
  actionData?: Record<string, unknown>;
}

export function chimeEvent(input: ChimeEventInput): Record<string, unknown> {
  const { call } = input;
  const details: Record<string, unknown> = {
    TransactionId: call.transactionId,
    ...(input.attributes && Object.keys(input.attributes).length > 0
      ? { TransactionAttributes: { ...input.attributes } }
      : {}),
    AwsAccountId: call.accountId,
    AwsRegion: call.region,
    ...(call.sipRuleId ? { SipRuleId: call.sipRuleId } : {}),
    SipMediaApplicationId: call.smaId,
    Participants: input.legs.map((l) => ({ ...l })),
  };
  return {
    SchemaVersion: '1.0',
    Sequence: input.sequence,
    InvocationEventType: input.type,
    ...(input.actionData ? { ActionData: input.actionData } : {}),
    CallDetails: details,
  };
}
