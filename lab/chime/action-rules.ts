// What Chime checks in the actions an SMA handler returns, and the ErrorType/ErrorMessage it reports
// in ACTION_FAILED when a check fails. The names and messages are the ones Chime's developer guide
// documents; where it documents none, the comment says what was chosen instead.
//   https://docs.aws.amazon.com/chime-sdk/latest/dg/unexpected-action-fail.html (CallAndBridge,
//     PlayAudio: InvalidActionParameter / InvalidAudioSource with their messages)
//   https://docs.aws.amazon.com/chime-sdk/latest/dg/speak.html (MissingRequiredActionParameter)
//   https://docs.aws.amazon.com/chime-sdk/latest/dg/play-audio.html (InvalidAudioSource,
//     InvalidActionParameter for a CallId or ParticipantTag that names no leg)
//   https://docs.aws.amazon.com/chime-sdk/latest/dg/pause.html, hangup.html (required parameters)
//   https://docs.aws.amazon.com/chime-sdk/latest/dg/invoke-on-call-leg.html (10 actions per answer)
import type { ChimeLeg } from './events.js';
import { AudioSourceError } from './media.js';

export interface Action {
  Type: string;
  Parameters?: Record<string, unknown>;
}

export interface ActionFailure {
  ok: false;
  errorType: string;
  errorMessage: string;
}

export const MAX_ACTIONS_PER_ANSWER = 10;

const fail = (errorType: string, errorMessage: string): ActionFailure => ({
  ok: false,
  errorType,
  errorMessage,
});

/** Every action type Chime's PSTN audio service knows; the lab carries out only some of them. */
const CHIME_ACTIONS = new Set([
  'CallAndBridge',
  'Hangup',
  'JoinChimeMeeting',
  'ModifyChimeMeetingAttendees',
  'Pause',
  'PauseCallRecording',
  'PlayAudio',
  'PlayAudioAndGetDigits',
  'ReceiveDigits',
  'RecordAudio',
  'ResumeCallRecording',
  'SendDigits',
  'Speak',
  'SpeakAndGetDigits',
  'StartBotConversation',
  'StartCallRecording',
  'StopCallRecording',
  'VoiceFocus',
]);

// The guide documents no outcome for an answer with more than 10 actions or for an action type it
// does not know. Its INVALID_LAMBDA_RESPONSE event ("the response … caused a problem") would also
// fit; the lab reports ACTION_FAILED with InvalidActionParameter, the guide's general name for an
// action that fails validation, so the handler's ACTION_FAILED path is what gets exercised.
export const tooManyActions = (count: number): ActionFailure =>
  fail(
    'InvalidActionParameter',
    `Invalid number of actions provided: ${count}; at most ${MAX_ACTIONS_PER_ANSWER} per response.`,
  );

/** The lab's answer for an action type it knows from Chime but does not carry out. */
export const unsupportedAction = (type: string): ActionFailure =>
  fail('InvalidActionParameter', `Unsupported action ${type}`);

const INVALID_LEG = fail(
  'InvalidActionParameter',
  'CallId or ParticipantTag parameter for action is invalid.',
);
const INVALID_AUDIO_SOURCE = fail('InvalidAudioSource', 'Audio Source parameter value is invalid.');

/** PlayAudio's object is missing or cannot be read (unexpected-action-fail.html). */
export const AUDIO_NOT_ACCESSIBLE = fail(
  'InvalidAudioSource',
  'Cannot access S3 bucket or audio file.',
);
/** Any other failure while an action runs (the error tables of speak.html and play-audio.html). */
export const SYSTEM_ERROR = fail('SystemException', 'System error while executing action.');

/** PlayAudio's ACTION_FAILED for an error the media layer threw. */
export function playAudioFailure(err: unknown): ActionFailure {
  if (!(err instanceof AudioSourceError)) return SYSTEM_ERROR;
  return err.reason === 'format' ? INVALID_AUDIO_SOURCE : AUDIO_NOT_ACCESSIBLE;
}

const present = (v: unknown) => v !== undefined && v !== null && v !== '';
const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const isIntIn = (v: unknown, min: number, max = Infinity) => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
};

/**
 * The connected leg an action is for: `CallId` if given (then ParticipantTag is ignored), else
 * `ParticipantTag`, else the "invoked call leg", which for this executor's calls is always LEG-A
 * (Chime invokes the SMA for LEG-A's transaction). `undefined` when the named leg is not up.
 */
export function targetLeg(p: Record<string, unknown>, legs: ChimeLeg[]): ChimeLeg | undefined {
  const up = legs.filter((l) => l.Status === 'Connected');
  if (present(p['CallId'])) return up.find((l) => l.CallId === p['CallId']);
  const tag = present(p['ParticipantTag']) ? str(p['ParticipantTag']).toUpperCase() : 'LEG-A';
  return up.find((l) => l.ParticipantTag === tag);
}

/** The first rule an action breaks, or undefined when Chime would run it. */
export function checkAction(action: Action, legs: ChimeLeg[]): ActionFailure | undefined {
  const p = action.Parameters ?? {};
  switch (action.Type) {
    case 'CallAndBridge':
      return checkBridge(p);
    case 'Hangup':
      if (present(p['SipResponseCode']) && !['0', '480', '486'].includes(str(p['SipResponseCode'])))
        return fail('InvalidActionParameter', 'Invalid SipResponseCode.');
      return targetLeg(p, legs) ? undefined : INVALID_LEG;
    case 'Speak':
      if (!present(p['CallId']))
        return fail('MissingRequiredActionParameter', 'CallId is a required parameter.');
      if (!present(p['Text']))
        return fail('MissingRequiredActionParameter', 'Text is a required parameter.');
      if (str(p['Text']).length > 1000)
        return fail('MissingRequiredActionParameter', 'Text is limited to 1,000 characters');
      return targetLeg(p, legs) ? undefined : INVALID_LEG;
    case 'Pause':
      if (!present(p['DurationInMilliseconds']))
        return fail(
          'MissingRequiredActionParameter',
          'DurationInMilliseconds is a required parameter.',
        );
      if (!isIntIn(p['DurationInMilliseconds'], 1))
        return fail('InvalidActionParameter', 'DurationInMilliseconds must be an integer > 0.');
      return targetLeg(p, legs) ? undefined : INVALID_LEG;
    case 'PlayAudio':
      return checkPlayAudio(p, legs);
    case 'RecordAudio':
      return checkRecordAudio(p, legs);
    case 'StartCallRecording':
      return checkStartCallRecording(p, legs);
    default:
      return CHIME_ACTIONS.has(action.Type)
        ? undefined
        : fail('InvalidActionParameter', `Invalid action type: ${action.Type}`);
  }
}

function checkBridge(p: Record<string, unknown>): ActionFailure | undefined {
  // unexpected-action-fail.html names all of these InvalidActionParameter, even a missing caller ID.
  if (!present(p['CallerIdNumber']))
    return fail('InvalidActionParameter', 'Caller ID not defined.');
  const endpoints = p['Endpoints'];
  if (!Array.isArray(endpoints) || endpoints.length !== 1)
    return fail('InvalidActionParameter', 'Invalid number of endpoints provided.');
  const ep = (endpoints[0] ?? {}) as Record<string, unknown>;
  const type = ep['BridgeEndpointType'];
  const valid = present(ep['Uri']) && (type === 'PSTN' || (type === 'AWS' && present(ep['Arn'])));
  if (!valid) return fail('InvalidActionParameter', 'Endpoint parameter is invalid.');
  if (present(p['CallTimeoutSeconds']) && !isIntIn(p['CallTimeoutSeconds'], 1, 120))
    return fail(
      'InvalidActionParameter',
      'The MaxCallTimeout parameter is invalid. Timeout must be between 0 and 120 seconds.',
    );
  return undefined;
}

function checkPlayAudio(p: Record<string, unknown>, legs: ChimeLeg[]): ActionFailure | undefined {
  const src = (p['AudioSource'] ?? {}) as Record<string, unknown>;
  if (src['Type'] !== 'S3' || !present(src['BucketName']) || !present(src['Key']))
    return INVALID_AUDIO_SOURCE;
  if (present(p['Repeat']) && !isIntIn(p['Repeat'], 1))
    return fail('InvalidActionParameter', 'Repeat must be an integer > 0.');
  return targetLeg(p, legs) ? undefined : INVALID_LEG;
}

// https://docs.aws.amazon.com/chime-sdk/latest/dg/record-audio.html: the destination must be S3
// with a bucket; the guide gives no bounds for the durations: the lab takes whole seconds from 1
// (DurationInSeconds at most 3600) and terminators among the keypad's keys.
function checkRecordAudio(p: Record<string, unknown>, legs: ChimeLeg[]): ActionFailure | undefined {
  const dest = (p['RecordingDestination'] ?? {}) as Record<string, unknown>;
  if (dest['Type'] !== 'S3' || !present(dest['BucketName']))
    return fail('InvalidActionParameter', 'RecordingDestination parameter is invalid.');
  if (present(p['DurationInSeconds']) && !isIntIn(p['DurationInSeconds'], 1, 3600))
    return fail('InvalidActionParameter', 'DurationInSeconds parameter is invalid.');
  if (present(p['SilenceDurationInSeconds']) && !isIntIn(p['SilenceDurationInSeconds'], 1, 1000))
    return fail('InvalidActionParameter', 'SilenceDurationInSeconds parameter is invalid.');
  const terms = p['RecordingTerminators'];
  if (
    terms !== undefined &&
    (!Array.isArray(terms) || terms.some((t) => typeof t !== 'string' || !/^[0-9*#]$/.test(t)))
  )
    return fail('InvalidActionParameter', 'RecordingTerminators parameter is invalid.');
  return targetLeg(p, legs) ? undefined : INVALID_LEG;
}

// https://docs.aws.amazon.com/chime-sdk/latest/dg/start-call-recording.html: CallId, Track and an
// S3 Destination with a Location are required; its error table names InvalidActionParameter.
function checkStartCallRecording(
  p: Record<string, unknown>,
  legs: ChimeLeg[],
): ActionFailure | undefined {
  if (!present(p['CallId'])) return INVALID_RECORDING_CALL;
  if (!['BOTH', 'INCOMING', 'OUTGOING'].includes(str(p['Track'])))
    return fail('InvalidActionParameter', 'Track parameter for action is invalid.');
  const dest = (p['Destination'] ?? {}) as Record<string, unknown>;
  if (dest['Type'] !== 'S3' || !present(dest['Location']))
    return fail('InvalidActionParameter', 'Destination parameter for action is invalid.');
  return targetLeg(p, legs) ? undefined : INVALID_RECORDING_CALL;
}

const INVALID_RECORDING_CALL = fail(
  'InvalidActionParameter',
  'CallId parameter for action is invalid',
);

/** Chime's prefix when Location names the bucket alone (start-call-recording.html). */
export const CHIME_RECORDINGS_PREFIX = 'Amazon-Chime-SMA-Call-Recordings';

/** StartCallRecording's bucket, key prefix and track, once checkAction has passed it. */
export function callRecordingOf(p: Record<string, unknown>): {
  bucket: string;
  prefix: string;
  track: 'BOTH' | 'INCOMING' | 'OUTGOING';
} {
  const location = str((p['Destination'] as Record<string, unknown>)['Location']);
  const at = location.indexOf('/');
  const bucket = at < 0 ? location : location.slice(0, at);
  const prefix = at < 0 ? '' : location.slice(at + 1).replace(/\/+$/, '');
  return {
    bucket,
    prefix: prefix || CHIME_RECORDINGS_PREFIX,
    track: str(p['Track']) as 'BOTH' | 'INCOMING' | 'OUTGOING',
  };
}

/** RecordAudio's destination and limits, once checkAction has passed it (Chime's defaults). */
export function recordingOf(p: Record<string, unknown>): {
  bucket: string;
  prefix: string;
  durationS: number;
  silenceS: number;
  terminators: string[];
} {
  const dest = p['RecordingDestination'] as Record<string, unknown>;
  return {
    bucket: str(dest['BucketName']),
    prefix: str(dest['Prefix']),
    durationS: present(p['DurationInSeconds']) ? Number(p['DurationInSeconds']) : 30,
    silenceS: present(p['SilenceDurationInSeconds']) ? Number(p['SilenceDurationInSeconds']) : 3,
    terminators: Array.isArray(p['RecordingTerminators'])
      ? (p['RecordingTerminators'] as string[])
      : ['#'],
  };
}

/** PlayAudio's object and repeat count, once checkAction has passed it. */
export function audioOf(p: Record<string, unknown>): {
  source: { bucket: string; key: string };
  repeat: number;
} {
  const src = p['AudioSource'] as Record<string, unknown>;
  return {
    source: { bucket: str(src['BucketName']), key: str(src['Key']) },
    repeat: present(p['Repeat']) ? Number(p['Repeat']) : 1,
  };
}
