// The options of the project's commands (the benchmarks, `npm run stack`): node:util's parseArgs,
// strict, with `--help` and a usage made from the options themselves. An unknown option or a
// missing value is named on stderr with the usage (exit 2), never a stack trace.
import { parseArgs } from 'node:util';

type OptionSpec =
  | { type: 'string'; short?: string; default?: string }
  | { type: 'boolean'; short?: string; default?: boolean };
type Options = Record<string, OptionSpec>;

/** Where a command reads its arguments and writes its answers: the process, or a test's. */
export interface CliIo {
  args?: string[];
  out?: (text: string) => void;
  err?: (text: string) => void;
  exit?: (code: number) => never;
}

/** `<command> [options]` (`npm run bench:lab --`), each option with its default. */
export function usageOf(command: string, options: Options, about?: string): string {
  const lines = Object.entries(options).map(([name, o]) => {
    const flag = `--${name}${o.type === 'string' ? ' <value>' : ''}`;
    const def = o.default === undefined || o.default === false ? '' : ` (default ${o.default})`;
    return `  ${flag}${def}`;
  });
  return [
    `usage: ${command} [options]`,
    ...(about ? ['', about] : []),
    '',
    'options:',
    ...lines,
    '  --help, -h (this text)',
  ].join('\n');
}

/** The command's option values; exits on `--help` (0) or on a bad command line (2). */
export function parseCli<const T extends Options>(
  command: string,
  options: T,
  io: CliIo & { about?: string } = {},
) {
  const args = io.args ?? process.argv.slice(2);
  const exit = io.exit ?? ((code: number) => process.exit(code));
  const usage = usageOf(command, options, io.about);
  if (args.includes('--help') || args.includes('-h')) {
    (io.out ?? ((t) => process.stdout.write(t)))(`${usage}\n`);
    return exit(0);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) throw err;
    (io.err ?? ((t) => process.stderr.write(t)))(`${(err as Error).message}\n\n${usage}\n`);
    return exit(2);
  }
}
