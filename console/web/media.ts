// The console's media in the browser: audio levels and stretches of speech, the agent's
// transcription streams shown as lines, and every subscribed audio track played and measured.
import {
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

// ---- audio levels ----------------------------------------------------------------------------

let audioContext: AudioContext | undefined;
export const audio = () => (audioContext ??= new AudioContext());

/** Calls `onLevel(dBFS)` every 20 ms with a track's level, until the returned stop is called. */
export function watchLevel(track: MediaStreamTrack, onLevel: (db: number) => void): () => void {
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
export class Speech {
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
export function showTranscripts(
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
export function playAudio(
  room: Room,
  onLevel: (from: RemoteParticipant, db: number) => void,
): () => void {
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
