// Bundles the connect-context function (lambdas/connect-context) for the Lambda Node.js 20
// runtime, as scripts/build-sma.ts bundles the SMA and for the same reasons.
//   npm run build:connect-context  ->  dist/connect-context/index.mjs + chunks (handler: index.handler)
import { join } from 'node:path';
import { buildLambda, describeSize } from './build-sma.js';

export const CONNECT_CONTEXT_BUNDLE = join(
  import.meta.dirname,
  '..',
  'dist',
  'connect-context',
  'index.mjs',
);
export const buildConnectContext = () => buildLambda('connect-context');

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`dist/connect-context: ${describeSize(await buildConnectContext())}`);
}
