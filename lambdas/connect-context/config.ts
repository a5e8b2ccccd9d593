// The connect-context function's configuration (docs/configuration.md), read once at cold start.
import * as z from 'zod';
import { loggingEnv } from '../../otel/logging.js';

/** The variables the function reads. */
export const connectContextEnv = z.object({
  CALLS_TABLE: z.string().min(3).max(255),
  // The table's region when it is not the function's (Connect's instance in another region than
  // the SMA's): the claims are read where the SMA writes them.
  CALLS_TABLE_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
    .optional(),
  // Connect waits at most 8 s for the function; the lookup is one DynamoDB request.
  CONTEXT_TIMEOUT_MS: z.coerce.number().int().min(50).max(7000).default(1000),
  USE_CASES_FILE: z.string().min(1).optional(),
  ...loggingEnv,
});
export type ConnectContextConfig = z.output<typeof connectContextEnv>;

/** The configuration, or an error naming each variable that is missing or malformed. */
export function loadConnectContextConfig(
  env: Record<string, string | undefined>,
): ConnectContextConfig {
  const res = connectContextEnv.safeParse(env);
  if (res.success) return res.data;
  const lines = res.error.issues.map((i) => {
    const name = String(i.path[0] ?? '?');
    return env[name] === undefined ? `  ${name}: missing` : `  ${name}: ${i.message}`;
  });
  throw new Error(`connect-context configuration is invalid:\n${lines.join('\n')}`);
}
