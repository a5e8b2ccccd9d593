// The code the stacks deploy, built before synthesis (esbuild, as `npm run build:sma`):
//   dist/infra/sma/               the SMA bundle of `npm run build:sma` (index.mjs and its chunks)
//                                 plus secrets.mjs, the entry that loads its secrets first
//   dist/infra/custom-resources/  the Voice Connector routing and SIP rule handlers
// Source maps stay out of the assets: they are for local debugging, not for the function.
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { SMA_DIST, buildSma } from '../scripts/build-sma.js';

const root = join(import.meta.dirname, '..');
export const ASSETS_DIR = join(root, 'dist', 'infra');

export interface BuiltAssets {
  /** The SMA function's code directory; handler `secrets.handler`. */
  sma: string;
  /** The custom resources' code directory; handler `index.handler`. */
  customResources: string;
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

export async function buildAssets(): Promise<BuiltAssets> {
  await buildSma();
  const sma = join(ASSETS_DIR, 'sma');
  rmSync(sma, { recursive: true, force: true });
  mkdirSync(sma, { recursive: true });
  for (const f of readdirSync(SMA_DIST).filter((n) => n.endsWith('.mjs'))) {
    copyFileSync(join(SMA_DIST, f), join(sma, f));
  }
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
  return { sma, customResources, smaBytes };
}
