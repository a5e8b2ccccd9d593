// ActionData of an invocation, parsed once into a union keyed by the action's Type, holding only
// what the decisions read. Shapes: https://docs.aws.amazon.com/chime-sdk/latest/dg/pstn-invocations.html
// and the action pages (call-and-bridge.html, hangup.html, speak.html). Lenient where the
// documentation varies (a missing or odd value reads as undefined, never a refusal), strict where a
// decision depends on the value (the bridge's endpoint type, the leg, the update's arguments).
import * as z from 'zod';
import { parseCallUpdateArguments, type ReceivedCallUpdate } from '../../contracts/call-update.js';

export type LegTag = 'LEG-A' | 'LEG-B';

/** The leg an action names. Most actions carry CallId and/or ParticipantTag. */
export interface ActionLeg {
  callId: string | undefined;
  tag: LegTag | undefined;
}

export type ActionParameters =
  | {
      type: 'CallAndBridge';
      /** The first endpoint: AWS is the agent (Voice Connector), PSTN a queue's number. */
      endpoint: { kind: 'AWS' | 'PSTN' | undefined; uri: string | undefined };
    }
  | { type: 'Hangup' }
  | { type: 'Speak' }
  /** StartCallRecording: where Chime puts the recording (`<bucket>/<key>`), on ACTION_SUCCESSFUL. */
  | { type: 'StartCallRecording'; location: string | undefined }
  /** RecordAudio: the message's object, on ACTION_SUCCESSFUL. */
  | { type: 'RecordAudio'; bucket: string | undefined; key: string | undefined }
  /** CALL_UPDATE_REQUESTED: UpdateSipMediaApplicationCall's Arguments; undefined if malformed. */
  | { type: 'CallUpdateRequest'; update: ReceivedCallUpdate | undefined }
  /** NEW_OUTBOUND_CALL: CreateSipMediaApplicationCall's ArgumentsMap, string values only. */
  | { type: 'CallCreateRequest'; arguments: Record<string, string> }
  /** An action no decision reads: its Parameters as sent. */
  | { type: 'unknown'; raw: Record<string, unknown> };

export interface ActionData {
  /** ActionData.Type as sent (journaled, and named in a note when an action fails). */
  type: string | undefined;
  leg: ActionLeg;
  params: ActionParameters;
}

const text = z.string().min(1).optional().catch(undefined);

/** DG case-5 writes `Leg-A`; everything else writes `LEG-A`. */
export const participantTag = z
  .string()
  .transform((s) => s.toUpperCase())
  .pipe(z.enum(['LEG-A', 'LEG-B']))
  .optional()
  .catch(undefined);

const leg = z.object({ CallId: text, ParticipantTag: participantTag });

const bridge = z.object({
  Endpoints: z
    .array(
      z.object({
        BridgeEndpointType: z.enum(['AWS', 'PSTN']).optional().catch(undefined),
        Uri: text,
      }),
    )
    .min(1)
    .optional()
    .catch(undefined),
});

const stringMap = z.record(z.string(), z.unknown()).optional().catch(undefined);

function stringsOf(map: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

function argumentsOf(params: Record<string, unknown>): Record<string, unknown> | undefined {
  return z.object({ Arguments: stringMap }).parse(params).Arguments;
}

/**
 * The typed Parameters. An update or a new outbound call carries its request's Arguments whatever
 * Type says (the DG's samples name it differently), so the event type decides for those two.
 */
function parametersOf(
  eventType: string,
  type: string | undefined,
  params: Record<string, unknown>,
  extra: ActionDataExtra,
): ActionParameters {
  if (eventType === 'CALL_UPDATE_REQUESTED' || type === 'CallUpdateRequest') {
    return { type: 'CallUpdateRequest', update: parseCallUpdateArguments(argumentsOf(params)) };
  }
  if (eventType === 'NEW_OUTBOUND_CALL' || type === 'CallCreateRequest') {
    return { type: 'CallCreateRequest', arguments: stringsOf(argumentsOf(params)) };
  }
  switch (type) {
    case 'CallAndBridge': {
      const first = bridge.parse(params).Endpoints?.[0];
      return {
        type,
        endpoint: { kind: first?.BridgeEndpointType, uri: first?.Uri },
      };
    }
    case 'Hangup':
    case 'Speak':
      return { type };
    case 'StartCallRecording':
      return { type, location: extra.recordingLocation };
    case 'RecordAudio':
      return { type, bucket: extra.recorded?.BucketName, key: extra.recorded?.Key };
    default:
      return { type: 'unknown', raw: params };
  }
}

/** What ActionData carries beside its Parameters that a decision reads. */
export interface ActionDataExtra {
  /** StartCallRecording's `CallRecordingDestination.Location`. */
  recordingLocation?: string | undefined;
  /** RecordAudio's `RecordingDestination` (bucket and key). */
  recorded?: { BucketName?: string | undefined; Key?: string | undefined } | undefined;
}

/** ActionData's Type and Parameters (already an object or absent: the event schema saw to it). */
export function parseActionData(
  eventType: string,
  type: string | undefined,
  parameters: Record<string, unknown> | undefined,
  extra: ActionDataExtra = {},
): ActionData {
  const params = parameters ?? {};
  const named = leg.parse(params);
  return {
    type,
    leg: { callId: named.CallId, tag: named.ParticipantTag },
    params: parametersOf(eventType, type, params, extra),
  };
}
