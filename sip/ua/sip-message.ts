// SIP messages (RFC 3261 §7) as the SIP user agent (./sip-uac.ts) reads and writes them: parsed into
// lower-case full header names, values in order; header look-up, name-addr and CSeq values,
// formatting with a correct Content-Length, and a response's headers copied from its request.

interface SipBase {
  /** Lower-case full names (compact forms expanded); list headers split at their commas. */
  headers: Map<string, string[]>;
  body: string;
}
export interface SipRequest extends SipBase {
  kind: 'request';
  method: string;
  uri: string;
}
export interface SipResponse extends SipBase {
  kind: 'response';
  status: number;
  reason: string;
}
export type SipMessage = SipRequest | SipResponse;

// RFC 3261 §7.3.3 and the IANA registry's compact forms.
const COMPACT: Record<string, string> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};
/** Headers whose comma-separated values are separate entries (§7.3.1). */
const LIST_HEADERS = new Set(['via', 'contact', 'route', 'record-route']);

/** Splits at commas outside quotes and angle brackets. */
function splitList(value: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let angle = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && ch === '<') angle = true;
    else if (!quoted && ch === '>') angle = false;
    else if (!quoted && !angle && ch === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((v) => v !== '');
}

/** A SIP message from one UDP datagram, or undefined if it is not one (keep-alives, junk). */
export function parseSipMessage(data: Buffer | string): SipMessage | undefined {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let end = buf.indexOf('\r\n\r\n');
  let sep = 4;
  if (end < 0) {
    end = buf.indexOf('\n\n');
    sep = 2;
  }
  if (end < 0) return undefined;
  // Folded lines (a line starting with white space continues the previous one, §7.3.1).
  const lines = buf
    .subarray(0, end)
    .toString('utf8')
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/);
  const start = lines.shift() ?? '';
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const raw = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT[raw] ?? raw;
    const value = line.slice(colon + 1).trim();
    const values = LIST_HEADERS.has(name) ? splitList(value) : [value];
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  const declared = Number(headers.get('content-length')?.[0]);
  const rest = buf.subarray(end + sep);
  const body = (Number.isInteger(declared) ? rest.subarray(0, declared) : rest).toString('utf8');
  const response = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start);
  if (response) {
    const [, status, reason] = response;
    return { kind: 'response', status: Number(status), reason: reason ?? '', headers, body };
  }
  const request = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(start);
  if (request) return { kind: 'request', method: request[1]!, uri: request[2]!, headers, body };
  return undefined;
}

/** The first value of a header, by full or compact name. */
export function sipHeader(msg: SipMessage, name: string): string | undefined {
  const n = name.toLowerCase();
  return msg.headers.get(COMPACT[n] ?? n)?.[0];
}

/** A name-addr or addr-spec (`"Bob" <sip:bob@host>;tag=1`): its URI and header parameters. */
export function parseNameAddr(value: string): { uri: string; params: Record<string, string> } {
  const lt = value.indexOf('<');
  const gt = value.indexOf('>', lt);
  const uri = lt >= 0 && gt > lt ? value.slice(lt + 1, gt) : value.split(';')[0]!.trim();
  const tail =
    lt >= 0 && gt > lt ? value.slice(gt + 1) : value.slice(value.indexOf(';') + 1 || value.length);
  const params: Record<string, string> = {};
  for (const p of tail.split(';')) {
    const [k, v] = p.split('=');
    if (k?.trim()) params[k.trim().toLowerCase()] = v?.trim() ?? '';
  }
  return { uri, params };
}

export function parseCSeq(value: string | undefined): { seq: number; method: string } | undefined {
  const m = /^(\d+)\s+([A-Z]+)$/.exec(value?.trim() ?? '');
  return m ? { seq: Number(m[1]), method: m[2]! } : undefined;
}

/** Start line, headers and body with a correct Content-Length (bytes, not characters). */
export function formatSipMessage(start: string, headers: [string, string][], body = ''): Buffer {
  const lines = [start, ...headers.map(([k, v]) => `${k}: ${v}`)];
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * A response to `req` (§8.2.6): its Via, From, Call-ID and CSeq, and its To with `toTag` added
 * when the request's To has no tag yet.
 */
export function formatSipResponse(
  req: SipRequest,
  status: number,
  reason: string,
  opts: { toTag: string; headers?: [string, string][]; body?: string },
): Buffer {
  let to = sipHeader(req, 'to') ?? '';
  if (!parseNameAddr(to).params.tag) to += `;tag=${opts.toTag}`;
  const headers: [string, string][] = [
    ...(req.headers.get('via') ?? []).map((v): [string, string] => ['Via', v]),
    ['From', sipHeader(req, 'from') ?? ''],
    ['To', to],
    ['Call-ID', sipHeader(req, 'call-id') ?? ''],
    ['CSeq', sipHeader(req, 'cseq') ?? ''],
    ...(opts.headers ?? []),
  ];
  return formatSipMessage(`SIP/2.0 ${status} ${reason}`, headers, opts.body);
}
