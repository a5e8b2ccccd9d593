// The SMA handler's environment in the lab: what `npm start`, `sma:replay`, the SMA benchmark and
// the tests run the real handler with (lambdas/sma/config.ts reads and validates it).

export const LOCAL_SMA_ENV = {
  CALLS_TABLE: 'callbridge-calls',
  VOICE_CONNECTOR_ARN: 'arn:aws:chime:us-east-1:000000000000:vc/callbridgelocal',
  AWS_REGION: 'us-east-1',
  LOG_PII: 'true',
} as const;
