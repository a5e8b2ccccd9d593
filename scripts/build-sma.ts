// Bundles the SMA handler for the Lambda Node.js 20 runtime: one ESM file with its dependencies
// (the AWS SDK included, so the deployed code runs the versions it was tested with).
// Size is start-up time: the project imports zod as a namespace (`import * as z`), which esbuild
// can tree-shake (90 KiB instead of 453 KiB), and prefers the ESM builds of the AWS SDK.
//   npm run build:sma   ->  dist/sma/index.mjs (handler: index.handler)
import { statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
export const SMA_BUNDLE = join(root, 'dist', 'sma', 'index.mjs');

export async function buildSma(): Promise<{ bytes: number; gzipBytes: number }> {
  await build({
    entryPoints: [join(root, 'lambdas', 'sma', 'index.ts')],
    outfile: SMA_BUNDLE,
    bundle: true,
    platform: 'node',
    // Prefer the ESM builds so unused AWS SDK commands are tree-shaken away (smaller, faster init).
    mainFields: ['module', 'main'],
    target: 'node20',
    format: 'esm',
    minify: true,
    sourcemap: 'external',
    legalComments: 'none',
    logLevel: 'warning',
    // ESM output still meets CommonJS dependencies that call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  const bytes = statSync(SMA_BUNDLE).size;
  return { bytes, gzipBytes: gzipSync(readFileSync(SMA_BUNDLE)).length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { bytes, gzipBytes } = await buildSma();
  console.log(
    `dist/sma/index.mjs: ${(bytes / 1024).toFixed(0)} KiB (${(gzipBytes / 1024).toFixed(0)} KiB gzipped; limit 1.5 MB)`,
  );
}
