// What the lab phone's suites share: CRLF-joined lines, and an SDP answer as livekit-sip writes
// it.

export const crlf = (lines: string[]) => lines.join('\r\n');

export const ANSWER_SDP = crlf([
  'v=0',
  'o=LiveKit 1700000000 1700000001 IN IP4 127.0.0.1',
  's=LiveKit',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 20452 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  '',
]);
