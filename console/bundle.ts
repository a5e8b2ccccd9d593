// The console's browser code (console/web/), bundled by esbuild when the server starts: one
// minified ES module with livekit-client inside, kept in memory and served with its gzipped size
// known, so the page's weight is printed rather than guessed (docs/console.md).
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { build } from 'esbuild';

export interface WebBundle {
  js: Buffer;
  /** The same, gzipped: what is sent to a browser that accepts it. */
  gzipped: Buffer;
}

export async function bundleWeb(): Promise<WebBundle> {
  const out = await build({
    entryPoints: [join(import.meta.dirname, 'web', 'app.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    platform: 'browser',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = Buffer.from(out.outputFiles[0]!.contents);
  return { js, gzipped: gzipSync(js, { level: 9 }) };
}
