// Outbound calls to a person, bridged to the agent when answered: the console's "Call me" and
// `npm run call -- dial`. A call is placed only for a use case whose `outbound` settings allow it,
// to a number those settings allow (contracts/phone-numbers.ts, the rule callbacks follow too),
// with CreateSipMediaApplicationCall naming the use case in its ArgumentsMap: the SMA answers
// CALL_ANSWERED by bridging the callee to the agent with the call's token, exactly as it bridges an
// inbound caller (docs/architecture.md, "Outbound calls"). The number is personal data: it goes to
// Chime and to `pii` log fields only.
import {
  type ChimeSDKVoiceClient,
  CreateSipMediaApplicationCallCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import { dialNumberProblem, dialProblemText } from '../contracts/phone-numbers.js';
import type { UseCaseCatalog } from '../contracts/use-cases.js';

/** Why a call was not placed: `status` is the HTTP status the console answers with. */
export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
  constructor(
    readonly status: 400 | 403 | 404,
    readonly reason:
      | 'unknown_use_case'
      | 'outbound_not_allowed'
      | 'not_e164'
      | 'foreign'
      | 'premium'
      | 'not_a_subscriber',
    message: string,
  ) {
    super(message);
  }
}

export interface OutboundCall {
  useCase: string;
  /** One of the use case's numbers: what the callee sees. */
  from: string;
  /** The callee (personal data). */
  to: string;
}

/** The call to place for `useCase` to `to`, or an OutboundRefused saying why not. Pure. */
export function checkOutboundCall(
  useCases: UseCaseCatalog,
  useCaseId: string,
  to: string,
): OutboundCall {
  const uc = useCases.byIdOrUndefined(useCaseId);
  if (!uc) throw new OutboundRefused(404, 'unknown_use_case', `no use case ${useCaseId}`);
  const policy = uc.outbound;
  if (!policy?.allowed) {
    throw new OutboundRefused(
      403,
      'outbound_not_allowed',
      `the use case ${uc.id} does not place outbound calls (its outbound.allowed setting is off)`,
    );
  }
  const problem = dialNumberProblem(to, policy);
  if (problem) {
    const status = problem === 'not_e164' ? 400 : 403;
    throw new OutboundRefused(status, problem, dialProblemText(problem, policy));
  }
  return { useCase: uc.id, from: policy.fromNumber ?? uc.dialedNumbers[0]!, to };
}

/** Asks Chime to place the call through the SMA; resolves with its TransactionId. */
export async function placeOutboundCall(
  voice: Pick<ChimeSDKVoiceClient, 'send'>,
  sipMediaApplicationId: string,
  call: OutboundCall,
): Promise<string> {
  const res = await voice.send(
    new CreateSipMediaApplicationCallCommand({
      SipMediaApplicationId: sipMediaApplicationId,
      FromPhoneNumber: call.from,
      ToPhoneNumber: call.to,
      ArgumentsMap: { useCase: call.useCase },
    }),
  );
  const tx = res.SipMediaApplicationCall?.TransactionId;
  if (!tx) throw new Error('CreateSipMediaApplicationCall gave no TransactionId');
  return tx;
}
