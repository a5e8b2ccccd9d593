// The console in the browser, on livekit-client. Supervisors see the live calls, listen in
// (hidden, publishing nothing) and barge in (their microphone only); developers talk to the agent
// in a dev room. Every token comes from the console's server for one room and one action; this
// code never sees a LiveKit key. What the page measures (audio levels, the greeting's delay, each
// turn's latency as heard here) is also on `window.callbridgeConsole`, for the end-to-end tests.
import { ParticipantKind, Room, RoomEvent, Track } from 'livekit-client';
import { Speech, audio, playAudio, showTranscripts, watchLevel } from './media.js';

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
