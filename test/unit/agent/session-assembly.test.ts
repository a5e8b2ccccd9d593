// A call's session, assembled from either provider set: the set supplies the components, and the
// turn taking, the audio rate and recording are the same for both, set explicitly so the framework
// picks nothing of its own (its defaults would use LiveKit Cloud).
import { inference, initializeLogger, llm, stt, VAD, voice, type VADStream } from '@livekit/agents';
import type { Room } from '@livekit/rtc-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { readCallContext } from '../../../agent/call-context.js';
import { FliteTTS } from '../../../agent/providers/flite-tts.js';
import type { SessionComponents, SpeechProviders } from '../../../agent/providers/index.js';
import {
  assembleSession,
  CALL_AUDIO_RATE,
  roomStartOptions,
} from '../../../agent/session-assembly.js';
import { TURN_TIMING } from '../../../agent/turn-timing.js';
import { parseUseCases } from '../../../contracts/use-cases.js';
import { USE_CASES_JSON } from '../../helpers/sma.js';

initializeLogger({ pretty: false, level: 'error' });

const useCases = parseUseCases(USE_CASES_JSON);
const logger = pino({ level: 'silent' });

/** A VAD the session holds but, never started, does not run. */
class IdleVAD extends VAD {
  label = 'idle';
  constructor() {
    super({ updateInterval: 32 });
  }
  stream(): VADStream {
    throw new Error('not started in these tests');
  }
}

/** A provider set of the given kind whose components are recorded as they are made. */
function providerSet(kind: 'local' | 'cloud') {
  const made: SessionComponents[] = [];
  const providers: SpeechProviders = {
    kind,
    components: (uc) => {
      const c = {
        vad: new IdleVAD(),
        stt: new stt.testing.FakeSTT(),
        llm: new voice.testing.FakeLLM(),
        tts: new FliteTTS({ voice: uc.voice.local }),
      };
      made.push(c);
      return c;
    },
    renderSpeech: async () => [],
  };
  return { providers, made };
}

const sessions: voice.AgentSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

function assemble(kind: 'local' | 'cloud') {
  const { providers, made } = providerSet(kind);
  const call = readCallContext({}, useCases);
  const { session, agent } = assembleSession(call, {
    providers,
    control: undefined,
    logger,
    leave: () => undefined,
  });
  sessions.push(session);
  return { session, agent, made };
}

/** What the session decides beyond its components. */
function settings(session: voice.AgentSession) {
  const { turnHandling } = session.sessionOptions;
  const detector = session.turnDetection as inference.TurnDetector;
  return {
    detector: detector instanceof inference.TurnDetector ? detector.model : detector,
    interruption: turnHandling.interruption,
    endpointing: turnHandling.endpointing,
    preemptiveGeneration: turnHandling.preemptiveGeneration,
  };
}

describe('assembleSession', () => {
  it('builds the session from the components the set made for the call', () => {
    const { session, agent, made } = assemble('local');
    expect(made).toHaveLength(1);
    expect(session.vad).toBe(made[0]!.vad);
    expect(session.stt).toBe(made[0]!.stt);
    expect(session.llm).toBe(made[0]!.llm);
    expect(session.tts).toBe(made[0]!.tts);
    expect(llm.sortedToolNames(agent.toolCtx)).toEqual(['end_call', 'transfer_to_human']);
  });

  it('uses the bundled v1-mini turn detector and VAD interruptions, timed for a phone line', () => {
    const s = settings(assemble('local').session);
    expect(s.detector).toBe('turn-detector-v1-mini');
    expect(s.interruption).toMatchObject({ enabled: true, mode: 'vad' });
    expect(s.endpointing).toMatchObject({
      minDelay: TURN_TIMING.endpointingMinMs,
      maxDelay: TURN_TIMING.endpointingMaxMs,
    });
  });

  it('sets up the cloud set exactly as the local one', () => {
    expect(settings(assemble('cloud').session)).toEqual(settings(assemble('local').session));
  });

  it('gives each call a turn detector of its own, made in its job', () => {
    expect(assemble('local').session.turnDetection).not.toBe(
      assemble('local').session.turnDetection,
    );
  });
});

describe('roomStartOptions', () => {
  it('never records the session, and takes the caller audio from the call input at 16 kHz', () => {
    const room = {} as Room;
    expect(roomStartOptions(room, 'sip_caller')).toEqual({
      room,
      inputOptions: {
        participantIdentity: 'sip_caller',
        closeOnDisconnect: true,
        audioEnabled: false,
      },
      outputOptions: { audioSampleRate: CALL_AUDIO_RATE },
      record: false,
    });
    expect(CALL_AUDIO_RATE).toBe(16000);
  });
});
