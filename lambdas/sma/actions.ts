// The SMA response and the few actions callbridge returns, with Chime's limits.
// https://docs.aws.amazon.com/chime-sdk/latest/dg/invoke-on-call-leg.html (10 actions per response)
// https://docs.aws.amazon.com/chime-sdk/latest/dg/transaction-attributes.html (string map, 100 pairs, 20 KB)
import * as z from 'zod';
import { e164 } from '../../contracts/ids.js';

export const MAX_ACTIONS = 10;
export const MAX_ATTRIBUTE_PAIRS = 100;
export const MAX_ATTRIBUTES_BYTES = 20 * 1024;

const callAndBridge = z.object({
  Type: z.literal('CallAndBridge'),
  Parameters: z.object({
    CallTimeoutSeconds: z.number().int().min(1).max(120),
    CallerIdNumber: e164,
    Endpoints: z
      .array(
        z.union([
          z.object({ BridgeEndpointType: z.literal('PSTN'), Uri: e164 }),
          z.object({
            BridgeEndpointType: z.literal('AWS'),
            Arn: z.string().min(1),
            Uri: z.string().regex(/^[a-zA-Z0-9&=+$/%\-_!~*().]{1,36}$/),
          }),
        ]),
      )
      .length(1),
    SipHeaders: z.record(z.string().regex(/^X-(?!AMZN)/i), z.string().max(2048)).optional(),
  }),
});

const hangup = z.object({
  Type: z.literal('Hangup'),
  Parameters: z.object({ CallId: z.string().min(1), SipResponseCode: z.enum(['0', '480', '486']) }),
});

const speak = z.object({
  Type: z.literal('Speak'),
  Parameters: z.object({
    CallId: z.string().min(1),
    Text: z.string().min(1).max(1000),
    Engine: z.enum(['standard', 'neural']),
    LanguageCode: z.string(),
    TextType: z.literal('text'),
    VoiceId: z.string(),
  }),
});

// https://docs.aws.amazon.com/chime-sdk/latest/dg/start-call-recording.html
const startCallRecording = z.object({
  Type: z.literal('StartCallRecording'),
  Parameters: z.object({
    CallId: z.string().min(1),
    Track: z.enum(['BOTH', 'INCOMING', 'OUTGOING']),
    Destination: z.object({ Type: z.literal('S3'), Location: z.string().min(3) }),
  }),
});

// https://docs.aws.amazon.com/chime-sdk/latest/dg/record-audio.html
const recordAudio = z.object({
  Type: z.literal('RecordAudio'),
  Parameters: z.object({
    CallId: z.string().min(1),
    DurationInSeconds: z.number().int().min(1),
    SilenceDurationInSeconds: z.number().int().min(1),
    RecordingTerminators: z.array(z.string().regex(/^[0-9*#]$/)),
    RecordingDestination: z.object({
      Type: z.literal('S3'),
      BucketName: z.string().min(3),
      Prefix: z.string().optional(),
    }),
  }),
});

export const action = z.discriminatedUnion('Type', [
  callAndBridge,
  hangup,
  speak,
  startCallRecording,
  recordAudio,
]);
export type Action = z.infer<typeof action>;
export type CallAndBridge = z.infer<typeof callAndBridge>;

export const smaResponse = z
  .object({
    SchemaVersion: z.literal('1.0'),
    Actions: z.array(action).max(MAX_ACTIONS),
    TransactionAttributes: z.record(z.string(), z.string()),
  })
  .refine((r) => Object.keys(r.TransactionAttributes).length <= MAX_ATTRIBUTE_PAIRS, {
    message: 'too many TransactionAttributes',
  })
  .refine((r) => attributesBytes(r.TransactionAttributes) <= MAX_ATTRIBUTES_BYTES, {
    message: 'TransactionAttributes too large',
  });
export type SmaResponse = z.infer<typeof smaResponse>;

export function attributesBytes(attrs: Record<string, string>): number {
  return Buffer.byteLength(JSON.stringify(attrs), 'utf8');
}

export function bridgeToAgent(p: {
  arn: string;
  uri: string;
  callerId: string;
  timeoutS: number;
  headers: Record<string, string>;
}): Action {
  return {
    Type: 'CallAndBridge',
    Parameters: {
      CallTimeoutSeconds: p.timeoutS,
      CallerIdNumber: p.callerId,
      Endpoints: [{ BridgeEndpointType: 'AWS', Arn: p.arn, Uri: p.uri }],
      SipHeaders: p.headers,
    },
  };
}

export function bridgeToNumber(p: { number: string; callerId: string; timeoutS: number }): Action {
  return {
    Type: 'CallAndBridge',
    Parameters: {
      CallTimeoutSeconds: p.timeoutS,
      CallerIdNumber: p.callerId,
      Endpoints: [{ BridgeEndpointType: 'PSTN', Uri: p.number }],
    },
  };
}

export function hangupLeg(callId: string): Action {
  return { Type: 'Hangup', Parameters: { CallId: callId, SipResponseCode: '0' } };
}

/** Records both directions of a leg (the caller's: LEG-A) to `<bucket>/<prefix>`. */
export function startRecording(callId: string, location: string): Action {
  return {
    Type: 'StartCallRecording',
    Parameters: { CallId: callId, Track: 'BOTH', Destination: { Type: 'S3', Location: location } },
  };
}

/** Records what the caller says (a message) until `#`, 3 s of silence or `maxSeconds`. */
export function recordMessage(
  callId: string,
  bucket: string,
  prefix: string,
  maxSeconds: number,
): Action {
  return {
    Type: 'RecordAudio',
    Parameters: {
      CallId: callId,
      DurationInSeconds: maxSeconds,
      SilenceDurationInSeconds: 3,
      RecordingTerminators: ['#'],
      RecordingDestination: { Type: 'S3', BucketName: bucket, Prefix: prefix },
    },
  };
}

export function speakTo(callId: string, text: string, language: string, voiceId: string): Action {
  return {
    Type: 'Speak',
    Parameters: {
      CallId: callId,
      Text: text.slice(0, 1000),
      Engine: 'neural',
      LanguageCode: language,
      TextType: 'text',
      VoiceId: voiceId,
    },
  };
}
