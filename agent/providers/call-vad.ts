// One voice activity detector per call, shared by the session and the speech recognizer. The
// framework's session runs a VAD stream over the caller's audio (turns, interruptions), and a
// recognizer that streams by VAD would run a second one over the same audio: Silero inference on
// the event loop, twice, for every 32 ms of every call. A CallVad hands the session its stream and
// lets the recognizer follow that stream's events instead.
import { VAD, type VADEvent, type VADStream } from '@livekit/agents';

export class CallVad extends VAD {
  label: string;
  private readonly followers = new Set<(ev: VADEvent) => void>();

  constructor(private readonly inner: VAD) {
    super(inner.capabilities);
    this.label = `${inner.label} (shared)`;
    inner.on('metrics_collected', (m) => this.emit('metrics_collected', m));
  }

  override get minSilenceDuration(): number | null {
    return this.inner.minSilenceDuration;
  }

  /** The session's stream: each event it reads is also given to the followers, in order. */
  stream(): VADStream {
    const s = this.inner.stream();
    const next = s.next.bind(s);
    s.next = async () => {
      const r = await next();
      if (!r.done) for (const f of this.followers) f(r.value);
      return r;
    };
    return s;
  }

  /**
   * The events of the session's stream from now on, until `signal` aborts. Nothing is dropped: a
   * follower that reads slowly gets every event, later.
   */
  async *follow(signal: AbortSignal): AsyncGenerator<VADEvent> {
    const queue: VADEvent[] = [];
    let wake: (() => void) | undefined;
    const push = (ev: VADEvent) => {
      queue.push(ev);
      wake?.();
    };
    const onAbort = () => wake?.();
    this.followers.add(push);
    signal.addEventListener('abort', onAbort);
    try {
      while (!signal.aborted) {
        const ev = queue.shift();
        if (ev) yield ev;
        else await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      this.followers.delete(push);
      signal.removeEventListener('abort', onAbort);
    }
  }
}
