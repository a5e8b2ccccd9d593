// Bundles the verification API (lambdas/verify) for the Lambda Node.js 20 runtime, as
// scripts/build-sma.ts bundles the SMA and for the same reasons: ESM with its dependencies, the
// AWS SDK's ESM builds preferred, and the credential providers Lambda never loads split off.
//   npm run build:verify  ->  dist/verify/index.mjs + chunks (handler: index.handler)
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describeSize, type BundleSize } from './build-sma.js';

const root = join(import.meta.dirname, '..');
export const VERIFY_DIST = join(root, 'dist', 'verify');
export const VERIFY_BUNDLE = join(VERIFY_DIST, 'index.mjs');

export async function buildVerify(): Promise<BundleSize> {
  rmSync(VERIFY_DIST, { recursive: true, force: true });
  await build({
    entryPoints: { index: join(root, 'lambdas', 'verify', 'index.ts') },
    outdir: VERIFY_DIST,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunk-[hash]',
    bundle: true,
    platform: 'node',
    mainFields: ['module', 'main'],
    target: 'node20',
    format: 'esm',
    minify: true,
    sourcemap: 'external',
    legalComments: 'none',
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  const files = readdirSync(VERIFY_DIST).filter((f) => f.endsWith('.mjs'));
  const contents = files.map((f) => readFileSync(join(VERIFY_DIST, f)));
  return {
    entryBytes: statSync(VERIFY_BUNDLE).size,
    totalBytes: contents.reduce((n, b) => n + b.length, 0),
    totalGzipBytes: contents.reduce((n, b) => n + gzipSync(b).length, 0),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`dist/verify: ${describeSize(await buildVerify())}`);
}
