// docs/configuration.md against the code: the variables it documents are exactly the ones the
// processes' environment schemas read, and .env.example lists every one of them.
//
// How the document is read (keep its format so):
// - the "## Variables" section runs from that heading to the next "## " heading; each of its
//   "### " subsections names, in backticks, the module whose schema it documents
//   (### SMA handler (`lambdas/sma/config.ts`));
// - a variable is the first cell of a table row, in backticks (| `CALLS_TABLE` | ...);
// - the "## Other variables" section (read by the SDKs and command-line scripts, not by a schema)
//   is read the same way, and is checked only against .env.example.
// The schemas are found in the code, not listed here: every module under the product's and the
// lab's folders that declares a z.object whose first key is an upper-case variable name, and
// exports it.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as z from 'zod';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
const ENV_EXAMPLE = readFileSync(join(ROOT, '.env.example'), 'utf8');
const SEARCHED = [
  'agent',
  'console',
  'contracts',
  'lambdas',
  'otel',
  'sip',
  'guard',
  'lab',
  'scripts',
  'store',
  'twilio',
];
const VARIABLE = /^[A-Z][A-Z0-9_]*$/;
/** A z.object literal whose first key (after any comments) is a variable name. */
const ENV_OBJECT =
  /z\.(?:object|strictObject|looseObject)\(\{\s*(?:\/\/[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*[A-Z][A-Z0-9_]*\s*:/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Modules (paths from the repository's root) that declare a schema of environment variables. */
const MODULES = SEARCHED.flatMap((d) => sourceFiles(join(ROOT, d)))
  .filter((f) => ENV_OBJECT.test(readFileSync(f, 'utf8')))
  .map((f) => relative(ROOT, f).split('\\').join('/'))
  .sort();

/** The keys of every environment schema a module exports (undefined: it exports none). */
async function exportedSchemaKeys(module: string): Promise<string[] | undefined> {
  const exports = (await import(pathToFileURL(join(ROOT, module)).href)) as Record<string, unknown>;
  const schemas = Object.values(exports).filter(
    (v): v is z.ZodObject =>
      v instanceof z.ZodObject &&
      Object.keys(v.shape).length > 0 &&
      Object.keys(v.shape).every((k) => VARIABLE.test(k)),
  );
  if (schemas.length === 0) return undefined;
  return [...new Set(schemas.flatMap((s) => Object.keys(s.shape)))].sort();
}

/** The text of a "## " section, up to the next one. */
function section(title: string): string {
  const start = DOC.indexOf(`\n## ${title}\n`);
  expect(start, `docs/configuration.md has no "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = DOC.indexOf('\n## ', start + 1);
  return DOC.slice(start, end === -1 ? undefined : end);
}

function variablesIn(text: string): string[] {
  return [...text.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/gm)].map((m) => m[1]!);
}

/** The "### " subsections of "## Variables": the module each names, and its variables. */
function documentedBySchema(): { heading: string; module: string | undefined; vars: string[] }[] {
  const [before, ...parts] = section('Variables').split(/^### /m);
  expect(variablesIn(before!), 'variables outside a "### <module>" subsection').toEqual([]);
  return parts.map((part) => {
    const heading = part.slice(0, part.indexOf('\n'));
    const module = /`([^`]+\.ts)`/.exec(heading)?.[1];
    return { heading, module, vars: variablesIn(part) };
  });
}

describe('docs/configuration.md', () => {
  it('finds the SMA, verification, agent and telemetry schemas when it searches the code', () => {
    expect(MODULES).toEqual(
      expect.arrayContaining([
        'agent/config.ts',
        'lambdas/sma/config.ts',
        'lambdas/verify/config.ts',
        'otel/config.ts',
      ]),
    );
  });

  it.each(MODULES)(
    'documents exactly the variables %s reads when its schema is exported',
    async (module) => {
      const keys = await exportedSchemaKeys(module);
      expect(keys, `${module} declares an environment schema but does not export it`).toBeDefined();
      const documented = documentedBySchema().filter((s) => s.module === module);
      expect(
        documented,
        `no "### ... (\`${module}\`)" subsection under "## Variables"`,
      ).toHaveLength(1);
      expect([...new Set(documented[0]!.vars)].sort()).toEqual(keys);
    },
  );

  it('documents only modules that declare a schema when "Variables" names a module', () => {
    for (const s of documentedBySchema()) {
      expect(s.module, `"### ${s.heading}" names no module in backticks`).toBeDefined();
      expect(MODULES, `"### ${s.heading}"`).toContain(s.module);
      expect(s.vars.length, `"### ${s.heading}" documents no variable`).toBeGreaterThan(0);
    }
  });

  it('lists every documented variable in .env.example when it is set or commented out', () => {
    const documented = new Set([
      ...variablesIn(section('Variables')),
      ...variablesIn(section('Other variables')),
    ]);
    const missing = [...documented].filter(
      (v) => !new RegExp(`^(?:#\\s*)?${v}=`, 'm').test(ENV_EXAMPLE),
    );
    expect(missing).toEqual([]);
  });
});
