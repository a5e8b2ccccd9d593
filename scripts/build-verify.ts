// Bundles the verification API (lambdas/verify) for the Lambda Node.js 20 runtime, as
// scripts/build-sma.ts bundles the SMA and for the same reasons: ESM with its dependencies, the
// AWS SDK's ESM builds preferred, and the credential providers Lambda never loads split off.
//   npm run build:verify  ->  dist/verify/index.mjs + chunks (handler: index.handler)
import { join } from 'node:path';
import { buildLambda, describeSize } from './build-sma.js';

export const VERIFY_BUNDLE = join(import.meta.dirname, '..', 'dist', 'verify', 'index.mjs');
export const buildVerify = () => buildLambda('verify');

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`dist/verify: ${describeSize(await buildVerify())}`);
}
