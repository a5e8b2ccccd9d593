// The console in the browser, on livekit-client. Supervisors see the live calls, listen in
// (hidden, publishing nothing) and barge in (their microphone only); developers talk to the agent
// in a dev room. Every token comes from the console's server for one room and one action; this
// code never sees a LiveKit key. What the page measures (audio levels, the greeting's delay, each
// turn's latency as heard here) is also on `window.callbridgeConsole`, for the end-to-end tests.
import {
  ParticipantKind,
  Room,
  RoomEvent,
  Track,
  type RemoteParticipant,
  type TextStreamReader,
} from 'livekit-client';

const TOPIC_TRANSCRIPTION = 'lk.transcription';
const ATTR_FINAL = 'lk.transcription_final';
const ATTR_SEGMENT = 'lk.segment_id';
/** A frame at or above this level is sound (speech), below it silence. */
const LOUD_DBFS = -45;
/** Silence this long ends a stretch of speech. */
const QUIET_MS = 500;

interface Me {
  user: { name: string; roles: string[] };
  livekitUrl: string;
  /** `outbound`: the use case's settings allow "Call me". */
  useCases: { id: string; name: string; outbound: boolean }[];
  /** Whether this console places outbound calls at all (SMA_APPLICATION_ID). */
  outboundCalls: boolean;
}
interface LiveCall {
  room: string;
  useCase?: string;
  language?: string;
  phase?: string;
  durationMs: number;
  agentPresent: boolean;
  ttfaMs?: number;
  turns?: number;
  lastTurnMs?: number;
  medianTurnMs?: number;
  supervisorsSpeaking: number;
}
interface Minted {
  token: string;
  url: string;
  room: string;
  identity: string;
}

/** What the page heard and measured, read by the tests. */
const measured = {
  /** ms from "Talk to the agent" to the agent's first audible frame in this tab. */
  greetingMs: null as number | null,
  /** Each turn: the end of your speech → the agent's first audible frame of its reply (ms). */
  turnsMs: [] as number[],
  /** ms of audible sound heard: in a live call from its caller and its agent; in the dev room. */
  heardMs: { caller: 0, agent: 0, dev: 0 },
  /** The greeting's way, in ms from the click: the dev room's token, the room joined, the agent
   * joined, its audio subscribed. */
  phasesMs: {} as Record<string, number>,
  /** The last error shown, if any. */
  error: null as string | null,
};
(window as unknown as { callbridgeConsole: typeof measured }).callbridgeConsole = measured;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

async function api<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 401) {
    location.href = '/signin';
    throw new Error('signed out');
  }
  const data = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(data.error ?? `HTTP ${res.status}`);
  return data;
}

function fail(where: HTMLElement, e: unknown): void {
  measured.error = (e as Error).message;
  where.textContent = `Error: ${measured.error}`;
}

const fmtDuration = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

// ---- audio levels ----------------------------------------------------------------------------

let audioContext: AudioContext | undefined;
const audio = () => (audioContext ??= new AudioContext());

/** Calls `onLevel(dBFS)` every 20 ms with a track's level, until the returned stop is called. */
function watchLevel(track: MediaStreamTrack, onLevel: (db: number) => void): () => void {
  const ctx = audio();
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    onLevel(10 * Math.log10(sum / buf.length + 1e-12));
  }, 20);
  return () => {
    clearInterval(timer);
    source.disconnect();
  };
}

/** Turns levels into stretches of speech: `onStart` when sound follows QUIET_MS of silence. */
class Speech {
  lastLoudAt = -Infinity;
  loudMs = 0;
  constructor(private readonly onStart: (at: number) => void = () => {}) {}
  level(db: number, meter?: HTMLElement): void {
    const now = performance.now();
    if (meter) meter.style.width = `${Math.max(0, Math.min(100, (db + 70) * 1.6))}%`;
    if (db < LOUD_DBFS) return;
    if (now - this.lastLoudAt >= QUIET_MS) this.onStart(now);
    this.lastLoudAt = now;
    this.loudMs += 20;
  }
}

// ---- transcripts -----------------------------------------------------------------------------

/** Shows the agent's transcription streams in `box`, a line per segment, updated as it arrives. */
function showTranscripts(
  room: Room,
  box: HTMLElement,
  whoIs: (identity: string) => 'agent' | 'caller' | 'you',
): void {
  const lines = new Map<string, HTMLElement>();
  const lineFor = (key: string, who: string) => {
    let el = lines.get(key);
    if (!el) {
      el = document.createElement('div');
      el.className = `line ${who}`;
      el.innerHTML = `<span class="who"></span><span class="text"></span>`;
      el.querySelector('.who')!.textContent = who;
      box.append(el);
      lines.set(key, el);
    }
    return el;
  };
  room.registerTextStreamHandler(TOPIC_TRANSCRIPTION, (reader: TextStreamReader, from) => {
    const who = whoIs(from.identity);
    const attrs = reader.info.attributes ?? {};
    const el = lineFor(attrs[ATTR_SEGMENT] ?? reader.info.id, who);
    const text = el.querySelector<HTMLElement>('.text')!;
    void (async () => {
      if (who === 'agent') {
        // The agent's words arrive as they are spoken: appended chunk by chunk.
        for await (const chunk of reader) {
          text.textContent += chunk;
          box.scrollTop = box.scrollHeight;
        }
      } else {
        // The caller's, as recognized: each stream is the segment's whole text so far.
        text.textContent = await reader.readAll();
        el.classList.toggle('interim', attrs[ATTR_FINAL] !== 'true');
        box.scrollTop = box.scrollHeight;
      }
    })().catch(() => {});
  });
}

/** Plays every audio track subscribed in `room`, and watches its level. */
function playAudio(room: Room, onLevel: (from: RemoteParticipant, db: number) => void): () => void {
  const stops: (() => void)[] = [];
  room.on(RoomEvent.TrackSubscribed, (track, _publication, participant) => {
    if (track.kind !== Track.Kind.Audio) return;
    const el = track.attach();
    el.dataset.callbridge = 'remote-audio';
    document.body.append(el);
    stops.push(watchLevel(track.mediaStreamTrack, (db) => onLevel(participant, db)));
  });
  room.on(RoomEvent.TrackUnsubscribed, (track) => track.detach().forEach((el) => el.remove()));
  return () => stops.splice(0).forEach((s) => s());
}

// ---- live calls (supervisor) -----------------------------------------------------------------

let callRoom: Room | undefined;
let stopCallAudio: (() => void) | undefined;
let watchedCall: string | undefined;

async function refreshCalls(): Promise<void> {
  const { calls } = await api<{ calls: LiveCall[] }>('/api/calls');
  const body = $('calls');
  body.replaceChildren(
    ...calls.map((c) => {
      const tr = document.createElement('tr');
      tr.dataset.room = c.room;
      for (const text of [
        c.useCase ?? '?',
        c.language ?? '–',
        c.phase ?? '?',
        fmtDuration(c.durationMs),
        c.agentPresent ? 'yes' : 'no',
        c.ttfaMs === undefined ? '–' : `${c.ttfaMs} ms`,
        c.medianTurnMs === undefined
          ? '–'
          : `${c.medianTurnMs} ms (last ${c.lastTurnMs} ms, ${c.turns} turn${c.turns === 1 ? '' : 's'})`,
      ]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      const td = document.createElement('td');
      const listen = document.createElement('button');
      listen.textContent = 'Listen';
      listen.className = 'listen';
      listen.disabled = watchedCall === c.room;
      listen.onclick = () => void joinCall(c.room, 'listen');
      td.append(listen);
      tr.append(td);
      return tr;
    }),
  );
  $('calls-status').textContent =
    calls.length === 0 ? 'No calls in progress.' : `${calls.length} call(s) in progress.`;
}

async function joinCall(room: string, action: 'listen' | 'barge'): Promise<void> {
  const status = $('call-status');
  try {
    await audio().resume();
    const sameCall = watchedCall === room; // listening ↔ speaking: the transcript goes on
    await leaveCall();
    const minted = await api<Minted>('/api/calls/token', { room, action });
    const r = new Room({ adaptiveStream: false, dynacast: false });
    callRoom = r; // left by leaveCall, joined or not
    const caller = new Speech();
    const agent = new Speech();
    const level = new Speech();
    stopCallAudio = playAudio(r, (from, db) => {
      const side = from.isAgent ? agent : from.kind === ParticipantKind.SIP ? caller : undefined;
      side?.level(db);
      if (from.isAgent || from.kind === ParticipantKind.SIP) level.level(db, $('call-level'));
      measured.heardMs.caller = caller.loudMs;
      measured.heardMs.agent = agent.loudMs;
    });
    const whoIs = (identity: string) => {
      const p = r.getParticipantByIdentity(identity);
      if (p?.isAgent) return 'agent';
      return identity === r.localParticipant.identity ? 'you' : 'caller';
    };
    if (!sameCall) $('call-transcript').replaceChildren();
    showTranscripts(r, $('call-transcript'), whoIs);
    await r.connect(minted.url, minted.token, { autoSubscribe: true });
    await r.startAudio();
    if (action === 'barge') await r.localParticipant.setMicrophoneEnabled(true);
    watchedCall = room;
    $('call-view').hidden = false;
    $('call-title').textContent = `Call ${room}`;
    $('call-speak').hidden = action === 'barge';
    $('call-listen').hidden = action === 'listen';
    status.textContent =
      action === 'listen'
        ? 'Listening: hidden, nobody in the call hears you.'
        : 'Speaking: the caller hears you (the agent still serves the caller).';
    r.on(RoomEvent.Disconnected, () => {
      if (callRoom === r) status.textContent = 'The call has ended.';
    });
  } catch (e) {
    await leaveCall();
    fail(status, e);
  }
}

async function leaveCall(): Promise<void> {
  stopCallAudio?.();
  const r = callRoom;
  callRoom = undefined;
  watchedCall = undefined;
  await r?.disconnect();
}

// ---- the agent in a tab (developer) ----------------------------------------------------------

let devRoom: Room | undefined;
let stopDevAudio: (() => void) | undefined;

function showFigures(): void {
  const parts = [];
  if (measured.greetingMs !== null) parts.push(`greeting heard after ${measured.greetingMs} ms`);
  if (measured.turnsMs.length > 0) {
    parts.push(`turns: ${measured.turnsMs.map((t) => `${t} ms`).join(', ')}`);
  }
  $('dev-figures').textContent = parts.join(' · ');
}

async function startDev(): Promise<void> {
  const status = $('dev-status');
  const clickedAt = performance.now();
  $<HTMLButtonElement>('dev-start').disabled = true;
  let r: Room | undefined;
  try {
    await audio().resume();
    measured.greetingMs = null;
    measured.turnsMs = [];
    measured.phasesMs = {};
    const phase = (name: string) => {
      measured.phasesMs[name] ??= Math.round(performance.now() - clickedAt);
    };
    const useCase = $<HTMLSelectElement>('dev-use-case').value;
    status.textContent = 'Starting a dev room with the agent…';
    const minted = await api<Minted>('/api/dev-rooms', { useCase });
    phase('token');
    r = new Room({ adaptiveStream: false, dynacast: false });
    const room = r;
    r.on(RoomEvent.ParticipantConnected, (p) => p.isAgent && phase('agentJoined'));
    r.on(RoomEvent.TrackSubscribed, (t) => t.kind === Track.Kind.Audio && phase('agentAudio'));
    const you = new Speech();
    let agentLastWordsAt = -Infinity;
    const agent = new Speech((at) => {
      if (measured.greetingMs === null) measured.greetingMs = Math.round(at - clickedAt);
      // A reply: the agent starts after you spoke, since its last words.
      else if (you.lastLoudAt > agentLastWordsAt) {
        measured.turnsMs.push(Math.round(at - you.lastLoudAt));
      }
      showFigures();
    });
    stopDevAudio = playAudio(r, (_t, db) => {
      agent.level(db, $('dev-level'));
      agentLastWordsAt = agent.lastLoudAt;
      measured.heardMs.dev = agent.loudMs;
    });
    $('dev-transcript').replaceChildren();
    showTranscripts(r, $('dev-transcript'), (identity) =>
      identity === room.localParticipant.identity ? 'you' : 'agent',
    );
    await r.connect(minted.url, minted.token, { autoSubscribe: true });
    phase('joined');
    await r.startAudio();
    await r.localParticipant.setMicrophoneEnabled(true);
    phase('microphone');
    const mic = r.localParticipant.getTrackPublication(Track.Source.Microphone)?.track;
    if (mic) {
      const stop = watchLevel(mic.mediaStreamTrack, (db) => you.level(db));
      const prev = stopDevAudio;
      stopDevAudio = () => {
        stop();
        prev();
      };
    }
    devRoom = r;
    $<HTMLButtonElement>('dev-stop').disabled = false;
    status.textContent = `In ${minted.room} with the agent (${useCase}): speak.`;
    r.on(RoomEvent.Disconnected, () => void stopDev());
  } catch (e) {
    // Nothing half-joined stays behind: the room is left, the audio watchers stopped.
    stopDevAudio?.();
    stopDevAudio = undefined;
    await r?.disconnect();
    fail(status, e);
    $<HTMLButtonElement>('dev-start').disabled = false;
  }
}

async function stopDev(): Promise<void> {
  stopDevAudio?.();
  stopDevAudio = undefined;
  const r = devRoom;
  devRoom = undefined;
  await r?.disconnect();
  $<HTMLButtonElement>('dev-start').disabled = false;
  $<HTMLButtonElement>('dev-stop').disabled = true;
  if (r) $('dev-status').textContent = 'Left the room; the agent leaves it too.';
}

// ---- "Call me" (dialer) ----------------------------------------------------------------------

async function dial(): Promise<void> {
  const status = $('dial-status');
  const button = $<HTMLButtonElement>('dial-start');
  button.disabled = true;
  try {
    const useCase = $<HTMLSelectElement>('dial-use-case').value;
    const to = $<HTMLInputElement>('dial-number').value.trim();
    status.textContent = 'Placing the call…';
    const placed = await api<{ transactionId: string }>('/api/outbound-calls', { useCase, to });
    status.textContent = `Calling: your phone rings, and the agent greets you when you answer (call ${placed.transactionId}).`;
  } catch (e) {
    fail(status, e);
  } finally {
    button.disabled = false;
  }
}

// ---- start -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const me = await api<Me>('/api/me');
  $('user').textContent = `${me.user.name} (${me.user.roles.join(', ')})`;
  $('signout').onclick = () => void api('/signout', {}).finally(() => (location.href = '/signin'));
  if (me.user.roles.includes('supervisor')) {
    $('calls-panel').hidden = false;
    $('call-speak').onclick = () => watchedCall && void joinCall(watchedCall, 'barge');
    $('call-listen').onclick = () => watchedCall && void joinCall(watchedCall, 'listen');
    $('call-leave').onclick = () => {
      void leaveCall();
      $('call-view').hidden = true;
    };
    const tick = () =>
      refreshCalls()
        .catch((e: unknown) => fail($('calls-status'), e))
        .finally(() => setTimeout(tick, 2000));
    tick();
  }
  if (me.user.roles.includes('dialer')) {
    $('dial-panel').hidden = false;
    const select = $<HTMLSelectElement>('dial-use-case');
    for (const u of me.useCases.filter((u) => u.outbound)) {
      const o = document.createElement('option');
      o.value = u.id;
      o.textContent = `${u.name} (${u.id})`;
      select.append(o);
    }
    const why = !me.outboundCalls
      ? 'This console places no outbound calls (SMA_APPLICATION_ID is unset).'
      : select.options.length === 0
        ? 'No use case allows outbound calls (its outbound.allowed setting).'
        : '';
    $('dial-status').textContent = why;
    $<HTMLButtonElement>('dial-start').disabled = why !== '';
    $('dial-start').onclick = () => void dial();
  }
  if (me.user.roles.includes('developer')) {
    $('dev-panel').hidden = false;
    const select = $<HTMLSelectElement>('dev-use-case');
    for (const u of me.useCases) {
      const o = document.createElement('option');
      o.value = u.id;
      o.textContent = `${u.name} (${u.id})`;
      select.append(o);
    }
    $('dev-start').onclick = () => void startDev();
    $('dev-stop').onclick = () => void stopDev();
  }
}

void main();
