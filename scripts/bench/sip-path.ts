// The SIP path on the real local stack, timed at the calling side: INVITE → answer (agent dispatch,
// job start and subscription included: livekit-sip answers only once the agent has subscribed)
// and answer → first greeting audio heard, then where that time goes, hop by hop, from the
// phone's packets and the agent's and livekit-sip's logs (same machine, same clock):
//   answer → livekit-sip's first RTP packet (its mixer's output, silence until the agent speaks);
//   answer → livekit-sip subscribed to the agent's track (its log's "track subscribed");
//   answer → the agent sees it (`sip.callStatus=active`) → its first frame sent (`ttfaMs`);
//   the agent's first frame → heard: WebRTC out of the agent, livekit-server, livekit-sip's
//   Opus decoding and mixer (which holds each new input until 60 ms of it are buffered), G.711;
//   first sound at the phone (rms ≥ 16) → first audible frame (rms ≥ 64, what TTFA counts).
//
//   npm run bench:sip -- [--phone rtp|livekit] [--calls 20] [--concurrent 1] [--gap-ms 2000]
//                        [--idle 3]
//
// Who calls (`--phone`):
// - `rtp` (default): lab/phone/rtp-phone.ts sends the INVITE straight to livekit-sip and plays and
//   hears RTP itself, as Chime's Voice Connector does in production: RTP from the 200 OK on, the
//   greeting timed where it arrives. These are the figures the product is judged by.
// - `livekit`: the lab's SipLeg, a call placed through the lab's outbound trunk (a second call
//   leg in the same livekit-sip) with a WebRTC ear in the calling room. Its own leg adds the
//   mixer's 60 ms before its first RTP packet (livekit-sip marks the inbound call active only at
//   the first packet) and two WebRTC hops back to the ear; kept to compare with earlier figures.
//
// Calls start `--gap-ms` apart (per concurrent line): back to back (0) measures how fast the
// worker replaces its loaded job processes, one at a time, rather than how fast a call connects.
// Starts its own stack (free ports) and agent worker, provisions the lab definitions, places the
// calls (K at a time), prints figures, and stops everything.
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { buildCallHeaders } from '../../contracts/headers.js';
import { LAB_OUTBOUND_TRUNK } from '../../lab/stack/lab-sip.js';
import { RtpPhone } from '../../lab/phone/rtp-phone.js';
import { SipLeg } from '../../lab/phone/sip-leg.js';
import { LAB_SMA, labCallToken } from '../../lab/stack/lab-sma.js';
import { startLiveKitLab } from '../../lab/stack/livekit-lab.js';
import { summary } from '../../lab/stats.js';
import { parseCli } from '../lib/cli.js';

const values = parseCli('npm run bench:sip --', {
  calls: { type: 'string', default: '20' },
  concurrent: { type: 'string', default: '1' },
  'gap-ms': { type: 'string', default: '2000' },
  idle: { type: 'string', default: '3' },
  phone: { type: 'string', default: 'rtp' },
});
if (values.phone !== 'rtp' && values.phone !== 'livekit') {
  console.error(`--phone must be rtp or livekit, not "${values.phone}"`);
  process.exit(2);
}
const PHONE = values.phone;
const CALLS = Number(values.calls);
const CONCURRENT = Number(values.concurrent);
const GAP_MS = Number(values['gap-ms']);
const IDLE = Number(values.idle);

const lab = await startLiveKitLab({
  worker: true,
  maxCalls: Math.max(4, CONCURRENT + 2),
  idleProcesses: IDLE,
});
const access = { url: lab.stack.url, apiKey: lab.stack.apiKey, apiSecret: lab.stack.apiSecret };
const useCase = lab.useCases.defaultUseCase;
const inviteToAnswer: number[] = [];
const answerToAudio: number[] = [];
/** Per call: when the caller side saw the answer and first audio (epoch ms), by transaction id. */
const seen = new Map<string, { answered: number; audio: number }>();
/** Per call (rtp phone): answer → first packet, and first sound → first audible frame. */
const firstPacket: number[] = [];
const soundToAudible: number[] = [];
/** The loudness from which a frame counts as sound on the line (the line's own floor is ~3). */
const SOUND_RMS = 16;
let failures = 0;
let floor = 0;

/** What the benchmark needs of either calling side. */
interface Caller {
  invitedAt: number;
  heard: readonly { at: number; rms: number }[];
  waitAnswered(timeoutMs: number): Promise<number>;
  waitFirstAudio(timeoutMs: number): Promise<number>;
  hangUp(): Promise<void>;
}

function dial(headers: Record<string, string>): Promise<Caller> {
  const call = { to: useCase.livekitNumber, from: '+15550100999', headers };
  if (PHONE === 'rtp') return RtpPhone.call({ sipAddress: lab.stack.sipAddress, ...call });
  return SipLeg.dial(access, {
    outboundTrunkId: lab.provisioned.ids[LAB_OUTBOUND_TRUNK]!,
    ...call,
  });
}

async function oneCall(i: number): Promise<void> {
  const tx = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const leg = await dial(
    buildCallHeaders({
      transactionId: tx,
      applicationId: LAB_SMA.applicationId,
      region: LAB_SMA.region,
      useCase: useCase.id,
      traceparent: `00-${tx.replaceAll('-', '')}-${'1'.repeat(16)}-01`,
      callToken: labCallToken(tx),
    }),
  );
  try {
    const answered = await leg.waitAnswered(20_000);
    const audio = await leg.waitFirstAudio(10_000);
    // The line's own level until 100 ms before the greeting: what "silence" is on this path.
    for (const h of leg.heard) if (h.at < audio - 100) floor = Math.max(floor, h.rms);
    inviteToAnswer.push(answered - leg.invitedAt);
    answerToAudio.push(audio - answered);
    const first = leg.heard.find((h) => h.at >= answered);
    const sound = leg.heard.find((h) => h.at >= answered && h.rms >= SOUND_RMS);
    if (i >= 0 && first) firstPacket.push(first.at - answered);
    if (i >= 0 && sound) soundToAudible.push(audio - sound.at);
    if (i >= 0) {
      const epoch = (t: number) => performance.timeOrigin + t;
      seen.set(tx, { answered: epoch(answered), audio: epoch(audio) });
    }
    // Let the greeting play a moment, as a caller would, before hanging up.
    await new Promise((r) => setTimeout(r, 1000));
  } catch (e) {
    failures++;
    process.stderr.write(`call ${i}: ${(e as Error).message}\n`);
  } finally {
    await leg.hangUp();
  }
}

try {
  // One call to warm the worker's idle processes, not counted.
  await oneCall(-1);
  inviteToAnswer.length = 0;
  answerToAudio.length = 0;
  failures = 0;
  await new Promise((r) => setTimeout(r, 3000)); // the pool refills after the warm-up call
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      while (next < CALLS) {
        await oneCall(next++);
        await new Promise((r) => setTimeout(r, GAP_MS));
      }
    }),
  );
  console.log(
    `SIP path on the local stack: ${CALLS} calls, ${CONCURRENT} at a time, ${GAP_MS} ms apart, ${IDLE} idle job processes`,
  );
  console.log(
    PHONE === 'rtp'
      ? '  phone: rtp (SIP/RTP straight at livekit-sip, as a Voice Connector calls)'
      : "  phone: livekit (the lab's outbound trunk through livekit-sip, WebRTC ear)",
  );
  console.log(`  INVITE → answer (calling side):        ${summary(inviteToAnswer)}`);
  console.log(`  answer → first greeting audio (heard): ${summary(answerToAudio)}`);
  // Where the time goes: the agent logs when it sent its first frame ("first audio", with its own
  // answer → frame time); the rest is the media path back to the calling side.
  const agentSeesAnswer: number[] = [];
  const agentOwn: number[] = [];
  const mediaPath: number[] = [];
  for (const line of readFileSync(lab.worker!.logFile, 'utf8').split('\n')) {
    if (!line.includes('"msg":"first audio"')) continue;
    const j = JSON.parse(line) as { time: number; transactionId: string; ttfaMs: number };
    const s = seen.get(j.transactionId);
    if (!s) continue;
    agentSeesAnswer.push(j.time - j.ttfaMs - s.answered);
    agentOwn.push(j.ttfaMs);
    mediaPath.push(s.audio - j.time);
  }
  const sipSubscribed = subscribedAfterAnswer([...seen.values()].map((s) => s.answered));
  console.log(`    answer → livekit-sip's first RTP packet: ${summary(firstPacket)}`);
  console.log(`    answer → livekit-sip has the agent's track: ${summary(sipSubscribed)}`);
  console.log(`    of which: answer → agent sees it:       ${summary(agentSeesAnswer)}`);
  console.log(`              agent sees it → first frame:  ${summary(agentOwn)}`);
  console.log(`              agent's first frame → heard:   ${summary(mediaPath)}`);
  console.log(`    first sound → first audible frame:      ${summary(soundToAudible)}`);
  console.log(`  loudest frame on the line before the greeting: rms ${floor.toFixed(1)}`);
  console.log(`  failed calls: ${failures}`);
} finally {
  await lab.stop();
}
process.exit(failures > 0 ? 1 : 0);

/**
 * For each answer (epoch ms): how long after it livekit-sip subscribed to the agent's track. Its
 * log names each call by its own id: the call is the one it accepted within 50 ms of the answer.
 */
function subscribedAfterAnswer(answers: number[]): number[] {
  const lines = readFileSync(`${lab.stack.logDir}/livekit-sip.log`, 'utf8').split('\n');
  const SipLine = z.object({ ts: z.number(), msg: z.string(), callID: z.string().optional() });
  const events = lines.flatMap((l) => {
    if (!l.includes('"Accepting the call"') && !l.includes('"track subscribed"')) return [];
    const parsed = SipLine.safeParse(JSON.parse(l));
    return parsed.success ? [{ ...parsed.data, at: parsed.data.ts * 1000 }] : [];
  });
  return answers.flatMap((answered) => {
    const accepted = events.find(
      (e) => e.msg === 'Accepting the call' && Math.abs(e.at - answered) <= 50,
    );
    if (!accepted) return [];
    const subscribed = events.find(
      (e) => e.msg === 'track subscribed' && e.callID === accepted.callID && e.at >= accepted.at,
    );
    return subscribed ? [subscribed.at - answered] : [];
  });
}
