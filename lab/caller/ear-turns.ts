// Turn latency where the caller is: from the moment a line of the scripted caller ends (the last
// audible frame its phone sent) to the first audible frame of the agent's reply at its ear. The
// agent measures its own part (agent/latency.ts: end of speech as its VAD saw it → first frame
// sent); this adds the media path both ways and the agent's VAD's view of the end of speech.
// Times are performance.now() milliseconds.
import * as z from 'zod';

export interface Frame {
  at: number;
  rms: number;
  /** The frame's length. */
  ms: number;
}

export interface EarTurn {
  /** When the caller's line ended: the last audible frame of it that was sent. */
  lineEndAt: number;
  /** The first audible frame of the reply at the ear, if one came before the caller spoke again. */
  replyAt: number | undefined;
  /** replyAt − lineEndAt, rounded; null without a reply. */
  ms: number | null;
}

export interface EarTurnOptions {
  /** RMS from which a frame is audible. */
  threshold: number;
  /** Frames sent further apart than this belong to different lines (default 200 ms). */
  lineGapMs?: number;
  /** A reply starts with an audible frame after at least this much quiet (default 200 ms). */
  onsetQuietMs?: number;
}

/** The caller's lines, each as its frames sent back to back (a line's pauses are frames too). */
export function linesOf(said: readonly Frame[], lineGapMs = 200): Frame[][] {
  const lines: Frame[][] = [];
  for (const f of said) {
    const line = lines.at(-1);
    const last = line?.at(-1);
    if (line && last && f.at - last.at <= lineGapMs) line.push(f);
    else lines.push([f]);
  }
  return lines;
}

/** One turn per audible line the caller said: when it ended and when the reply reached the ear. */
export function earTurns(
  said: readonly Frame[],
  heard: readonly Frame[],
  o: EarTurnOptions,
): EarTurn[] {
  const audible = (f: Frame) => f.rms >= o.threshold;
  const ends = linesOf(said, o.lineGapMs)
    .map((line) => ({ start: line.find(audible)?.at, end: line.findLast(audible)?.at }))
    .filter((l): l is { start: number; end: number } => l.start !== undefined);
  const onsets = onsetsOf(heard, audible, o.onsetQuietMs ?? 200);
  return ends.map(({ end }, i) => {
    const nextLine = ends[i + 1]?.start ?? Infinity;
    const replyAt = onsets.find((at) => at > end && at < nextLine);
    return {
      lineEndAt: end,
      replyAt,
      ms: replyAt === undefined ? null : Math.round(replyAt - end),
    };
  });
}

/** The audible frames that follow at least `quietMs` without one: where speech starts. */
function onsetsOf(frames: readonly Frame[], audible: (f: Frame) => boolean, quietMs: number) {
  const onsets: number[] = [];
  let lastAudible = -Infinity;
  for (const f of frames) {
    if (!audible(f)) continue;
    if (f.at - lastAudible >= quietMs) onsets.push(f.at);
    lastAudible = f.at;
  }
  return onsets;
}

/** A turn as the agent logged it: when its reply's first frame went out (epoch ms), its latency. */
export interface AgentTurn {
  /** When the reply's first frame went out (epoch ms; the log line's time when not logged). */
  at: number;
  ms: number;
  /** The caller's last speech as the agent's VAD placed it (epoch ms), when logged. */
  speechEndedAt?: number;
}

/**
 * One line the caller said: its turn latency at the ear and the agent's own, where known, and what
 * lies outside the agent's own: its way in (the caller's line ends at the phone → the agent's VAD
 * places the end of speech) and its way out (the reply's first frame sent → audible at the ear).
 */
export interface TurnResult {
  earMs: number | null;
  agentMs: number | null;
  inMs: number | null;
  outMs: number | null;
}

const AgentTurnLine = z.object({
  msg: z.literal('turn'),
  time: z.number(),
  transactionId: z.string(),
  turnMs: z.number(),
  speechEndedAt: z.number().optional(),
  sentAt: z.number().optional(),
});

/**
 * The lines of one call in an agent worker's log (pino JSON, one object a line) with `msg`, as
 * `schema` reads them; lines it does not read are skipped.
 */
function callLinesIn<T extends { transactionId: string }>(
  log: string,
  transactionId: string,
  msg: string,
  schema: z.ZodType<T>,
): T[] {
  const found: T[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes(`"msg":"${msg}"`) || !line.includes(transactionId)) continue;
    let parsed;
    try {
      parsed = schema.safeParse(JSON.parse(line));
    } catch {
      continue;
    }
    if (parsed.success && parsed.data.transactionId === transactionId) found.push(parsed.data);
  }
  return found;
}

/** The `turn` lines of one call in an agent worker's log. */
export function agentTurnsIn(log: string, transactionId: string): AgentTurn[] {
  return callLinesIn(log, transactionId, 'turn', AgentTurnLine).map(
    ({ time, turnMs, speechEndedAt, sentAt }) => ({
      at: sentAt ?? time,
      ms: turnMs,
      ...(speechEndedAt ? { speechEndedAt } : {}),
    }),
  );
}

/**
 * The agent's turn for each of the ear's: the one whose reply went out after the caller's line
 * ended and before it reached the ear (`timeOrigin` turns the ear's times into epoch ms; `slackMs`
 * allows for the two clocks and the log line being written just after the frame).
 */
export function pairTurns(
  ear: readonly EarTurn[],
  agent: readonly AgentTurn[],
  timeOrigin: number,
  slackMs = 50,
): TurnResult[] {
  const left = [...agent].sort((a, b) => a.at - b.at);
  return ear.map((t) => {
    if (t.replyAt === undefined) return { earMs: null, agentMs: null, inMs: null, outMs: null };
    const from = timeOrigin + t.lineEndAt;
    const heardAt = timeOrigin + t.replyAt;
    const i = left.findIndex((a) => a.at > from && a.at <= heardAt + slackMs);
    const match = i >= 0 ? left.splice(i, 1)[0] : undefined;
    const ended = match?.speechEndedAt;
    return {
      earMs: t.ms,
      agentMs: match?.ms ?? null,
      inMs: ended === undefined ? null : Math.round(ended - from),
      outMs: ended === undefined || !match ? null : Math.round(heardAt - match.at),
    };
  });
}

/**
 * The greeting at the ear, split as the turns are: the answer's way to the agent (the call answered
 * at the phone → the agent learns it), the agent's own part (→ its first frame sent) and the way
 * out (→ audible at the ear).
 */
export interface FirstAudioWays {
  answerMs: number;
  agentMs: number;
  outMs: number;
}

const FirstAudioLine = z.object({
  msg: z.literal('first audio'),
  transactionId: z.string(),
  answeredAt: z.number(),
  sentAt: z.number(),
});

/** The agent's `first audio` line of one call in a worker's log, when it carries both moments. */
export function agentFirstAudioIn(
  log: string,
  transactionId: string,
): { answeredAt: number; sentAt: number } | undefined {
  const [first] = callLinesIn(log, transactionId, 'first audio', FirstAudioLine);
  return first && { answeredAt: first.answeredAt, sentAt: first.sentAt };
}

const CallEndedLine = z.object({
  msg: z.literal('call ended'),
  transactionId: z.string(),
  cpuMs: z.number(),
  ms: z.number(),
});

/**
 * The agent's `call ended` line of one call: its job process's CPU (every thread, the room's media
 * included) over the job's time, both in ms.
 */
export function agentCallCpuIn(
  log: string,
  transactionId: string,
): { cpuMs: number; ms: number } | undefined {
  const [ended] = callLinesIn(log, transactionId, 'call ended', CallEndedLine);
  return ended && { cpuMs: ended.cpuMs, ms: ended.ms };
}

/**
 * The greeting's ways from the phone's answer and first audible frame (performance.now() ms, made
 * epoch ms by `timeOrigin`) and the agent's two moments; undefined when a part is missing.
 */
export function firstAudioWays(
  phone: { answeredAt: number | undefined; firstAudioAt: number | undefined },
  agent: { answeredAt: number; sentAt: number } | undefined,
  timeOrigin: number,
): FirstAudioWays | undefined {
  if (!agent || phone.answeredAt === undefined || phone.firstAudioAt === undefined)
    return undefined;
  return {
    answerMs: Math.round(agent.answeredAt - (timeOrigin + phone.answeredAt)),
    agentMs: Math.round(agent.sentAt - agent.answeredAt),
    outMs: Math.round(timeOrigin + phone.firstAudioAt - agent.sentAt),
  };
}
