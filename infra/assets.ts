// The code the stacks deploy, built before synthesis (esbuild, as `npm run build:sma`):
//   dist/infra/sma/               the SMA bundle of `npm run build:sma` (index.mjs and its chunks)
//                                 plus secrets.mjs, the entry that loads its secrets first
//   dist/infra/custom-resources/  the Voice Connector routing and SIP rule handlers
//   dist/infra/connect-context/   the bundle of `npm run build:connect-context` (index.mjs, chunks)
// Source maps stay out of the assets: they are for local debugging, not for the function.
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { buildConnectContext } from '../scripts/build-connect-context.js';
import { SMA_DIST, buildSma } from '../scripts/build-sma.js';

const root = join(import.meta.dirname, '..');
export const ASSETS_DIR = join(root, 'dist', 'infra');

export interface BuiltAssets {
  /** The SMA function's code directory; handler `secrets.handler`. */
  sma: string;
  /** The custom resources' code directory; handler `index.handler`. */
  customResources: string;
  /** The connect-context function's code directory; handler `index.handler`. */
  connectContext: string;
  /** Every .mjs file of the SMA asset, in bytes. */
  smaBytes: number;
}

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
};

/** A fresh asset directory holding a bundle's .mjs files (not its source maps). */
function copyBundle(from: string, name: string): string {
  const to = join(ASSETS_DIR, name);
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from).filter((n) => n.endsWith('.mjs'))) {
    copyFileSync(join(from, f), join(to, f));
  }
  return to;
}

export async function buildAssets(): Promise<BuiltAssets> {
  await Promise.all([buildSma(), buildConnectContext()]);
  const sma = copyBundle(SMA_DIST, 'sma');
  const connectContext = copyBundle(join(root, 'dist', 'connect-context'), 'connect-context');
  await build({
    ...common,
    entryPoints: [join(root, 'infra', 'lambda', 'sma-entry.ts')],
    outfile: join(sma, 'secrets.mjs'),
    external: ['./index.mjs'],
  });
  const customResources = join(ASSETS_DIR, 'custom-resources');
  rmSync(customResources, { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: [join(root, 'infra', 'custom-resources', 'index.ts')],
    outfile: join(customResources, 'index.mjs'),
  });
  const smaBytes = readdirSync(sma).reduce((n, f) => n + statSync(join(sma, f)).size, 0);
  return { sma, customResources, connectContext, smaBytes };
}
