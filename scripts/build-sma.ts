// Bundles the SMA handler for the Lambda Node.js 20 runtime: ESM with its dependencies (the AWS
// SDK included, so the deployed code runs the versions it was tested with).
// Size is start-up time: the project imports zod as a namespace (`import * as z`), which esbuild
// can tree-shake (90 KiB instead of 453 KiB); the ESM builds of the AWS SDK are preferred so unused
// commands are dropped; and code the SDK loads with dynamic import() only when needed (SSO, STS,
// profile credential providers, unused in Lambda where credentials come from the environment) is
// split into chunks that a cold start never parses.
//   npm run build:sma   ->  dist/sma/index.mjs + dist/sma/chunk-*.mjs (handler: index.handler)
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
export const SMA_DIST = join(root, 'dist', 'sma');
export const SMA_BUNDLE = join(SMA_DIST, 'index.mjs');

export interface BundleSize {
  /** The entry file: what a cold start parses. */
  entryBytes: number;
  /** Every .mjs file of the bundle, entry and lazily loaded chunks. */
  totalBytes: number;
  totalGzipBytes: number;
}

/** Bundles one Lambda handler (`lambdas/<name>/index.ts`) into `dist/<name>/`. */
export async function buildLambda(name: string): Promise<BundleSize> {
  const dist = join(root, 'dist', name);
  rmSync(dist, { recursive: true, force: true });
  await build({
    entryPoints: { index: join(root, 'lambdas', name, 'index.ts') },
    outdir: dist,
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
    // ESM output still meets CommonJS dependencies that call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  const files = readdirSync(dist).filter((f) => f.endsWith('.mjs'));
  const contents = files.map((f) => readFileSync(join(dist, f)));
  return {
    entryBytes: statSync(join(dist, 'index.mjs')).size,
    totalBytes: contents.reduce((n, b) => n + b.length, 0),
    totalGzipBytes: contents.reduce((n, b) => n + gzipSync(b).length, 0),
  };
}

export const buildSma = () => buildLambda('sma');

export function describeSize(s: BundleSize): string {
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  return `${kib(s.totalBytes)} in all (${kib(s.totalGzipBytes)} gzipped), entry ${kib(s.entryBytes)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`dist/sma: ${describeSize(await buildSma())}; limit 1.5 MB`);
}
