// Values that must never become metric or span attributes (phone numbers, call ids, room names),
// and finders of them in what the telemetry set-ups export.
import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * Seven or more digits, with or without +, spaces, dots, dashes or brackets (E.164 and local), not
 * the random part of an id (speech_65793409-288, speech_5d035081-8bd): random ids follow a `_` or
 * sit among letters. A phone number inside a room name is caught after its `+` or by ROOM.
 */
const PHONE = /(?<![A-Za-z0-9_])\+?\d(?:[\s().-]*\d){6,}(?![A-Za-z0-9])/;
/** A UUID: Chime TransactionIds and leg CallIds. */
const UUID = /[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}/i;
/**
 * LiveKit room names of SIP calls (dispatch rule prefix `call`, then the caller, then a random
 * part: `call_+12065550100_AbCd1234`) and LiveKit room or SIP call ids (RM_..., SCL_...).
 */
const ROOM = /\bcall[_-][^_\s"]+_[A-Za-z0-9]{4,}|\b(?:RM|SCL)_[A-Za-z0-9]{6,}/;
/** ISO 8601 times (the framework's langfuse.* attributes): digits, but no phone number. */
const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g;
/**
 * Ids of model requests and responses, assigned per request by the speech or language model
 * (a UUID for the local dialogue engine, `chatcmpl-...` for OpenAI): never derived from the call,
 * the caller or the room, and what matches a span to the provider's own logs. As attribute keys
 * (gen_ai.response.id) and as keys inside the framework's JSON metric attributes (lk.llm_metrics).
 */
const MODEL_ID_KEYS = new Set(['gen_ai.response.id', 'requestId', 'request_id']);

function sensitiveString(raw: string): string | undefined {
  const v = raw.replace(ISO_TIME, '');
  if (UUID.test(v)) return 'call id';
  if (PHONE.test(v)) return 'phone number';
  if (ROOM.test(v)) return 'room name';
  return undefined;
}

/** Strings anywhere in a JSON value (numbers are measurements: timestamps, durations). */
function jsonStrings(v: unknown, key = ''): string[] {
  if (typeof v === 'string') return MODEL_ID_KEYS.has(key) ? [] : [v];
  if (Array.isArray(v)) return v.flatMap((x) => jsonStrings(x));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => jsonStrings(x, k));
  return [];
}

/** Why `value` (the value of attribute `key`) must not be exported, if it must not. */
export function sensitive(value: unknown, key = ''): string | undefined {
  if (MODEL_ID_KEYS.has(key)) return undefined;
  const values = Array.isArray(value) ? value : [value];
  for (const v of values) {
    if (typeof v !== 'string') continue;
    let parsed: unknown;
    if (/^\s*[[{]/.test(v)) {
      try {
        parsed = JSON.parse(v);
      } catch {
        parsed = undefined;
      }
    }
    const strings = parsed === undefined ? [v] : jsonStrings(parsed);
    for (const str of strings) {
      const why = sensitiveString(str);
      if (why) return why;
    }
  }
  return undefined;
}

/** Every attribute of every data point, as `instrument key=value` lines that are sensitive. */
export function sensitiveMetricAttributes(metrics: MetricData[]): string[] {
  const found: string[] = [];
  for (const m of metrics) {
    for (const p of m.dataPoints) {
      for (const [k, v] of Object.entries(p.attributes)) {
        const why = sensitive(v, k);
        if (why) found.push(`${m.descriptor.name} ${k}=${String(v)} (${why})`);
      }
    }
  }
  return found;
}

/** Span names and every attribute of spans, their events and links that are sensitive. */
export function sensitiveSpanAttributes(spans: ReadableSpan[]): string[] {
  const found: string[] = [];
  const check = (where: string, attrs: Record<string, unknown> | undefined) => {
    for (const [k, v] of Object.entries(attrs ?? {})) {
      const why = sensitive(v, k);
      if (why) found.push(`${where} ${k}=${String(v)} (${why})`);
    }
  };
  for (const s of spans) {
    const why = sensitive(s.name);
    if (why) found.push(`span name ${s.name} (${why})`);
    check(`span ${s.name}`, s.attributes);
    for (const e of s.events) check(`span ${s.name} event ${e.name}`, e.attributes);
    for (const l of s.links) check(`span ${s.name} link`, l.attributes);
  }
  return found;
}
