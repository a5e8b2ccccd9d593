// The gateway's parts from its configuration: the use cases (the calls table's, refreshed; the
// file's until then), admission, connection items, the SIP leg to livekit-sip and the failover to
// people.
// `npm run twilio` (./main.ts) and the lab (lab/twilio/) assemble the gateway the same way.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import type { UseCaseCatalog } from '../contracts/use-cases.js';
import { DynamoCallAdmission } from '../lambdas/sma/admission/dynamo-admission.js';
import { admitAll } from '../lambdas/sma/admission/types.js';
import { fixedUseCases, UseCaseCache, type UseCaseSource } from '../store/use-case-cache.js';
import { UseCaseStore } from '../store/use-case-store.js';
import { callsOf } from './call-control.js';
import type { GatewayConfig } from './config.js';
import { ConnectionStore } from './connections.js';
import { ParkedLegs } from './parked-legs.js';
import { streamRecording, type RecordingsOptions } from './recording.js';
import { placeSipCall, trunkNumberFor, type LegCall } from './sip-leg.js';
import { twilioClient } from './rest.js';
import type { StreamCall, StreamSessionDeps } from './stream-session.js';
import { dialQueueTwiml } from './twiml.js';
import { DIAL_STATUS_PATH, signedUrl, type WebhookDeps } from './webhook.js';

/** How long the webhook waits for livekit-sip's answer (the agent in the room) before it answers. */
const AGENT_WAIT_MS = 3000;

export interface GatewayParts {
  webhook: WebhookDeps;
  session: StreamSessionDeps;
  useCases: UseCaseSource;
  stop(): void;
}

export async function gatewayParts(
  config: GatewayConfig,
  o: { fallback: UseCaseCatalog; dynamo: DynamoDBClient | undefined; logger: Logger },
): Promise<GatewayParts> {
  const { logger, dynamo } = o;
  const table = config.table && dynamo ? config.table : undefined;
  let useCases: UseCaseSource = fixedUseCases(o.fallback);
  let cache: UseCaseCache | undefined;
  if (table && dynamo) {
    const store = new UseCaseStore(dynamo, table.name);
    cache = new UseCaseCache({
      read: (abortSignal) => store.readCatalog({ abortSignal }),
      fallback: o.fallback,
      refreshMs: table.useCasesRefreshMs,
      timeoutMs: 2000,
      onError: (code) =>
        logger.warn(
          { reason: 'use_cases_unread', code },
          'use cases not read; the last good ones serve',
        ),
    });
    await cache.refresh();
    cache.startTimer();
    useCases = cache;
  }
  const admission =
    table && dynamo
      ? new DynamoCallAdmission(dynamo, table.name, {
          timeoutMs: table.admissionTimeoutMs,
          callerKeySecret: table.callerKeySecret,
          maxConcurrentCalls: table.maxConcurrentCalls,
        })
      : admitAll;
  const connections =
    table && dynamo
      ? new ConnectionStore(dynamo, { table: table.name, ttlDays: table.ttlDays, logger })
      : undefined;
  const calls = twilioClient(config.rest).then(callsOf);
  calls.catch(() => {});
  const dialStatusUrl = signedUrl(config.rest.TWILIO_PUBLIC_URL, DIAL_STATUS_PATH);
  const parked = new ParkedLegs(logger);

  /** The agent's leg failed with the caller on the line: the `connecting` notice, then people. */
  const failOver = async (call: StreamCall) => {
    const catalog = useCases.current();
    const useCase = catalog.byIdOrUndefined(call.useCase) ?? catalog.defaultUseCase;
    const twiml = dialQueueTwiml({
      useCase,
      queue: useCase.defaultQueue,
      target: 'primary',
      statusUrl: dialStatusUrl,
      say: useCase.messages.connecting,
    });
    if (!twiml) return;
    try {
      await (await calls).update(call.callSid, { twiml });
      logger.info({ callSid: call.callSid, reason: 'agent_error' }, 'caller sent to people');
    } catch (err) {
      const e = err as { status?: number; name?: string };
      logger.warn({ callSid: call.callSid, status: e.status, err: e.name }, 'failover not sent');
    }
  };

  const bucket = config.recordingsBucket;
  const recordings: RecordingsOptions | undefined = bucket
    ? {
        s3: new S3Client({}),
        bucket,
        table: table && dynamo ? { dynamo, name: table.name, ttlDays: table.ttlDays } : undefined,
        records: (call) => {
          const catalog = useCases.current();
          const useCase = catalog.byIdOrUndefined(call.useCase) ?? catalog.defaultUseCase;
          return useCase.recording?.enabled === true;
        },
        logger,
      }
    : undefined;

  /** The webhook's call, or the stream's, as the INVITE carries it. */
  const legCall = (call: {
    callSid: string;
    accountSid: string;
    callToken: string;
    useCase?: string | undefined;
    traceparent?: string | undefined;
    dialed?: string | undefined;
  }): LegCall => {
    const catalog = useCases.current();
    const useCase = catalog.byIdOrUndefined(call.useCase) ?? catalog.defaultUseCase;
    return {
      callSid: call.callSid,
      accountSid: call.accountSid,
      callToken: call.callToken,
      ...(call.useCase ? { useCase: call.useCase } : {}),
      ...(call.traceparent ? { traceparent: call.traceparent } : {}),
      trunkNumber: trunkNumberFor(useCase, call.dialed),
    };
  };

  return {
    useCases,
    webhook: {
      accountSid: config.rest.TWILIO_ACCOUNT_SID,
      authToken: config.rest.TWILIO_AUTH_TOKEN,
      publicUrl: config.rest.TWILIO_PUBLIC_URL,
      streamUrl: config.streamUrl,
      useCases,
      admission,
      callToken: config.callToken,
      prepareLeg: async (call) => {
        const leg = placeSipCall(config.sip, legCall(call), logger, AGENT_WAIT_MS);
        parked.park(call.callSid, leg);
        await leg;
      },
      recordingsBucket: bucket,
      logger,
    },
    session: {
      secret: config.callToken.secret,
      openLeg: async (call, events) => {
        // The leg the webhook joined while the call rang, else one now (its token is the same
        // call's: the stream's start verified it).
        const ready = await parked.take(call.callSid)?.catch(() => undefined);
        const leg = ready?.usable ? ready : await placeSipCall(config.sip, legCall(call), logger);
        if (ready && leg !== ready) void ready.close();
        leg.attach(events);
        return leg;
      },
      connections,
      releaseLease: async (call) => {
        if (call.leaseExpiresAtMs === undefined || !call.useCase) return;
        const failed = await admission.release({
          transactionId: call.callSid,
          useCaseId: call.useCase,
          leaseExpiresAtMs: call.leaseExpiresAtMs,
        });
        if (failed.length > 0) logger.warn({ callSid: call.callSid, failed }, 'lease not released');
      },
      failOver,
      ...(recordings
        ? { recording: (call, startMs) => streamRecording(recordings, call, startMs) }
        : {}),
      logger,
    },
    stop: () => {
      cache?.stop();
      void parked.close();
    },
  };
}
