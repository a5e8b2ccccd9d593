// `npm run twilio`: the Twilio gateway (docs/twilio.md): the TwiML webhook and the Media Streams
// WebSocket on one port, handing each Twilio call to livekit-sip, where the agent takes it.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { pino } from 'pino';
import bundledUseCases from '../contracts/use-cases.json' with { type: 'json' };
import { loadUseCases } from '../contracts/use-cases.js';
import { piiRedaction } from '../otel/logging.js';
import { startTwilioGateway } from './gateway.js';
import { loadGatewayConfig } from './config.js';
import { gatewayParts } from './parts.js';

const config = loadGatewayConfig(process.env);
const logger = pino({
  name: 'twilio-gateway',
  level: config.logLevel,
  redact: piiRedaction(config.logPii),
});
const fallback = loadUseCases(config.useCasesFile, bundledUseCases);
const dynamo = config.table ? new DynamoDBClient({ maxAttempts: 2 }) : undefined;
const parts = await gatewayParts(config, { fallback, dynamo, logger });
const gateway = await startTwilioGateway({
  host: config.host,
  port: config.port,
  webhook: parts.webhook,
  session: parts.session,
  logger,
});
logger.info(
  {
    url: gateway.url,
    webhook: `${config.rest.TWILIO_PUBLIC_URL}/twilio/voice`,
    stream: config.streamUrl,
  },
  'Twilio gateway listening',
);
const stop = async () => {
  await gateway.close();
  parts.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
