// The verification API put together from the environment: configuration, logger and the two AWS
// clients. The clients find their endpoints as every AWS SDK client does (AWS_ENDPOINT_URL_DYNAMODB,
// AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2 move them to local stand-ins), never through a variable
// of callbridge's own.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type { DestinationStream } from 'pino';
import { createLogger } from '../sma/logger.js';
import { loadVerifyConfig } from './config.js';
import { createVerifyHandler, type VerifyHandler } from './handler.js';
import { EndUserMessagingSms } from './sms.js';
import { DynamoVerificationStore } from './store.js';

export interface VerifyService {
  handler: VerifyHandler;
  /** Closes the clients' connections (tests and the lab; Lambda just freezes). */
  close(): void;
}

export function createVerifyService(
  env: Record<string, string | undefined>,
  opts: { destination?: DestinationStream; now?: () => number } = {},
): VerifyService {
  const config = loadVerifyConfig(env);
  const logger = createLogger(
    { level: config.logLevel, pii: config.logPii, name: 'verify' },
    opts.destination,
  );
  const dynamo = new DynamoDBClient({});
  const sms = new PinpointSMSVoiceV2Client({});
  const handler = createVerifyHandler({
    config,
    store: new DynamoVerificationStore(dynamo, config.callsTable),
    sms: new EndUserMessagingSms(sms, config.originationIdentity),
    logger,
    now: opts.now ?? Date.now,
  });
  return {
    handler,
    close() {
      dynamo.destroy();
      sms.destroy();
    },
  };
}
