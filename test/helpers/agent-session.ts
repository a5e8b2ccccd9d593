// Shared arrangements for the agent's tool suites: the framework's own session (text only: no
// server, no keys) with the local dialogue engine, call control through the real AWS SDK client to
// the lab's Voice API stand-in, a call as the SMA hands it over, and the queue status it is given.
// What the session did is read with ./session-events.ts.
import { initializeLogger, voice, type llm } from '@livekit/agents';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createCallAgent, type CallAgentDeps } from '../../agent/call-agent.js';
import type { CallContext } from '../../agent/call-context.js';
import { ChimeCallControl } from '../../agent/call-control.js';
import { DialogueLLM } from '../../agent/dialogue/dialogue-llm.js';
import type { QueueStatusLookup } from '../../agent/queue-status/index.js';
import type { ConnectQueueRef, QueueStatus } from '../../agent/queue-status/status.js';
import { startVoiceApiServer, type VoiceApiServer } from '../../lab/chime/voice-api-server.js';
import { silentLogger, type Json } from './sma.js';

initializeLogger({ pretty: false, level: 'warn' });

/** The call's token as the SMA signed it (the agent returns it unchanged; it does not check it here). */
export const CALL_TOKEN = 'v1.1900000000.the-call-token-as-the-sma-signed-it';

/** The room attributes of a city-311 call the SMA handed over as `transactionId`, with `more`. */
export function smaCallAttrs(
  transactionId: string,
  more: Record<string, string> = {},
): Record<string, string> {
  return {
    'sma.transactionId': transactionId,
    'sma.callToken': CALL_TOKEN,
    'sma.applicationId': 'sma-test',
    'sma.region': 'us-east-1',
    'call.useCase': 'city-311',
    'sip.phoneNumber': '+12065550100',
    'sip.trunkPhoneNumber': '+12025550132',
    ...more,
  };
}

export interface SessionOptions extends Partial<Omit<CallAgentDeps, 'call' | 'control'>> {
  /** The model: the local dialogue engine of the call's use case unless given. */
  llm?: llm.LLM;
  /** Call control's own options (its sleep between retries, say). */
  control?: Parameters<typeof ChimeCallControl.forCall>[1];
}

/**
 * The suite's Voice API stand-in (started before its tests; an update succeeds for the calls
 * `inProgress` names, the rest are answered 404 as Chime answers a call that has ended), and agent
 * sessions on it, closed after each test with the stand-in's requests forgotten.
 */
export function agentSessions(inProgress: (transactionId: string) => boolean) {
  let server: VoiceApiServer | undefined;
  const sessions: voice.AgentSession[] = [];
  beforeAll(async () => {
    server = await startVoiceApiServer(
      { onUpdate: (_sma, tx) => inProgress(tx) },
      { ratePerSecond: 100 },
    );
    process.env.AWS_ENDPOINT_URL_CHIME_SDK_VOICE = server.endpoint;
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.close();
    if (server) server.requests.length = 0;
  });
  const api = () => {
    if (!server) throw new Error('the Voice API stand-in starts before the suite’s tests');
    return server;
  };
  return {
    get api(): VoiceApiServer {
      return api();
    },
    /** The call's agent in a started session; call control only for a call the SMA handed over. */
    async start(call: CallContext, opts: SessionOptions = {}) {
      const { llm: model, control: controlOptions, ...deps } = opts;
      const control = call.sma ? ChimeCallControl.forCall(call.sma, controlOptions) : undefined;
      const agent = createCallAgent({
        ...deps,
        call,
        control,
        logger: deps.logger ?? silentLogger,
        leave: deps.leave ?? (() => undefined),
      });
      const session = new voice.AgentSession({ llm: model ?? new DialogueLLM(call.useCase) });
      sessions.push(session);
      await session.start({ agent });
      return { session, agent, control };
    },
    /** The arguments of each call update the stand-in was sent, in order. */
    updates: (): Record<string, string>[] =>
      api().requests.map((r) => (r.body as Json).Arguments as Record<string, string>),
  };
}

/**
 * A lookup answering every queue with a status of `figures` (open, nobody free or waiting, unless
 * told; undefined: Connect gives none), recording what was watched and asked.
 */
export function queueLookup(figures: Partial<QueueStatus> | undefined) {
  const status: QueueStatus | undefined = figures && {
    agentsAvailable: 0,
    contactsInQueue: 0,
    oldestContactAgeS: 0,
    open: true,
    readAt: Date.now(),
    ...figures,
  };
  const asked: ConnectQueueRef[] = [];
  const watched: ConnectQueueRef[] = [];
  const queues: QueueStatusLookup = {
    watch: (refs) => void watched.push(...refs),
    status: (ref) => {
      asked.push(ref);
      return Promise.resolve(status);
    },
  };
  return { queues, asked, watched };
}
