// The TwiML callbridge answers Twilio with, built with Twilio's own VoiceResponse (the `twilio`
// package's TwiML module alone: it loads in tens of milliseconds). Numbers only ever come from the
// use case's queues, by key: nothing a caller says reaches a <Dial>.
import VoiceResponse from 'twilio/lib/twiml/VoiceResponse.js';
import type { ChimeSpeech, UseCase } from '../contracts/use-cases.js';
import { StreamParameter } from '../contracts/twilio-call.js';

/** What the webhook's answer needs to connect the call to the gateway. */
export interface StreamTwiml {
  /** wss:// address of the gateway's stream endpoint. */
  streamUrl: string;
  useCase: string;
  dialed: string;
  callToken: string;
  traceparent: string | undefined;
  /** Said before the stream starts (e.g. the recording notice); none by default. */
  notice?: string;
  /** The notice's language (Twilio's <Say language>). */
  noticeLanguage?: string;
  /** The admission lease's expiry (epoch ms), released by the gateway when the stream ends. */
  leaseExpiresAtMs?: number;
}

/** `<Connect><Stream>`: a bidirectional stream to the gateway, the call's context as parameters. */
export function connectStreamTwiml(s: StreamTwiml): string {
  const r = new VoiceResponse();
  if (s.notice) {
    // A language Twilio does not know is its problem to say so; the use case's tag is passed on.
    const attributes = (s.noticeLanguage ? { language: s.noticeLanguage } : {}) as SayAttributes;
    r.say(attributes, s.notice);
  }
  const stream = r.connect().stream({ url: s.streamUrl });
  const params: Record<string, string | undefined> = {
    [StreamParameter.useCase]: s.useCase,
    [StreamParameter.dialed]: s.dialed,
    [StreamParameter.callToken]: s.callToken,
    [StreamParameter.traceparent]: s.traceparent,
    [StreamParameter.lease]: s.leaseExpiresAtMs?.toString(),
  };
  for (const [name, value] of Object.entries(params)) {
    if (value) stream.parameter({ name, value });
  }
  return r.toString();
}

/** Where a `<Dial>` reports how it ended: the webhook's dial-status endpoint for the queue. */
export interface DialTarget {
  useCase: UseCase;
  queue: string;
  /** `primary` or `fallback`: which of the queue's numbers is dialled. */
  target: 'primary' | 'fallback';
  /** The webhook's dial-status URL, without its query (TWILIO_PUBLIC_URL + /twilio/dial-status). */
  statusUrl: string;
  /** Said before the dial (the use case's `connecting` notice when the caller is sent to people). */
  say?: string;
  /**
   * Dialled instead of the queue's primary number: one of its rolling numbers, claimed for the call
   * with its context (store/handoff-claims.ts). Ignored unless it is one of the queue's own.
   */
  rollingNumber?: string;
  /**
   * The language the caller switched to (a tag of the use case's `languages`), carried in the
   * status URL so what Twilio says if nobody answers is in it (the webhook checks it again).
   */
  language?: string;
}

/** Seconds a queue's number rings before the dial counts as unanswered. */
export const QUEUE_RING_SECONDS = 30;

/**
 * A `<Dial>` to the queue's number (the fallback's, for `fallback`), reporting to the webhook,
 * which tries the fallback or apologises when the dial fails. Undefined: the queue has no such
 * number (the caller then hears the apology).
 */
export function dialQueueTwiml(t: DialTarget): string | undefined {
  const q = t.useCase.queues[t.queue];
  const rolling =
    t.target === 'primary' && t.rollingNumber && q?.rollingNumbers?.includes(t.rollingNumber)
      ? t.rollingNumber
      : undefined;
  const number = t.target === 'primary' ? (rolling ?? q?.number) : q?.fallbackNumber;
  if (!number) return undefined;
  const action = new URL(t.statusUrl);
  action.searchParams.set('useCase', t.useCase.id);
  action.searchParams.set('queue', t.queue);
  action.searchParams.set('target', t.target);
  if (t.language) action.searchParams.set('language', t.language);
  const r = new VoiceResponse();
  if (t.say) r.say(t.say);
  r.dial({ action: action.toString(), timeout: QUEUE_RING_SECONDS }, number);
  return r.toString();
}

/**
 * A message, then the end of the call. Given as a line in another language than the use case's
 * (after the caller switched), it is said in that language by the same Amazon Polly voice Chime
 * uses (Twilio's `Polly.<VoiceId>`); the use case's own line keeps Twilio's default voice.
 */
export function sayAndHangUpTwiml(message: string | ChimeSpeech, useCase?: UseCase): string {
  const r = new VoiceResponse();
  if (typeof message === 'string' || message.language === useCase?.language) {
    r.say(typeof message === 'string' ? message : message.text);
  } else {
    r.say(
      { language: message.language, voice: `Polly.${message.voice}` } as SayAttributes,
      message.text,
    );
  }
  r.hangup();
  return r.toString();
}

type SayAttributes = Exclude<Parameters<VoiceResponse['say']>[0], string>;

export function hangUpTwiml(): string {
  const r = new VoiceResponse();
  r.hangup();
  return r.toString();
}
