// The SMA handler's environment in the lab: what `npm start`, `sma:replay`, the SMA benchmark and
// the tests run the real handler with (lambdas/sma/config.ts reads and validates it).

/**
 * The call-token secret of the lab and the tests, shared by the SMA and the agent there. Public,
 * so worthless anywhere else: a deployment sets its own CALL_TOKEN_SECRET (docs/configuration.md).
 */
export const DEVELOPMENT_CALL_TOKEN_SECRET =
  'callbridge-development-call-token-secret-not-for-production';

/**
 * The caller-key secret of the lab and the tests (contracts/callers.ts). Public, so worthless
 * anywhere else: a deployment sets its own CALLER_KEY_SECRET (docs/configuration.md).
 */
export const DEVELOPMENT_CALLER_KEY_SECRET =
  'callbridge-development-caller-key-secret-not-for-production';

export const LOCAL_SMA_ENV = {
  CALLS_TABLE: 'callbridge-calls',
  VOICE_CONNECTOR_ARN: 'arn:aws:chime:us-east-1:000000000000:vc/callbridgelocal',
  AWS_REGION: 'us-east-1',
  LOG_PII: 'true',
  CALL_TOKEN_SECRET: DEVELOPMENT_CALL_TOKEN_SECRET,
  CALLER_KEY_SECRET: DEVELOPMENT_CALLER_KEY_SECRET,
  // The lab's profile: a small deployment's cap, so a test can reach it.
  MAX_CONCURRENT_CALLS: '10',
} as const;
