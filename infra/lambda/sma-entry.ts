// Bundled as secrets.mjs beside the SMA bundle (infra/assets.ts); `./index.mjs` stays external, so
// the handler's module initialisation runs after the secrets are in the environment.
import { loadSecrets } from './sma-secrets.js';

await loadSecrets(process.env);

type SmaHandler = (event: unknown) => Promise<unknown>;
// @ts-expect-error: resolved at run time beside this file, in the deployed bundle
const sma = (await import('./index.mjs')) as { handler: SmaHandler };

export const handler: SmaHandler = (event) => sma.handler(event);
