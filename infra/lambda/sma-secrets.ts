// The deployed SMA function's entry (`secrets.handler`): at cold start it reads the handler's two
// secrets from Secrets Manager through the AWS Parameters and Secrets Lambda Extension (a layer
// the call-control stack adds; it answers on localhost, cached, with the function's own role), sets
// them as the variables lambdas/sma/config.ts reads, then loads the handler that `npm run
// build:sma` built (./index.mjs) unchanged. The values never reach the function's configuration,
// where anyone allowed GetFunctionConfiguration could read them, nor a log line.
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda.html

/** Environment variable → the variable holding its secret's ARN. */
export const SECRET_VARIABLES = {
  CALL_TOKEN_SECRET: 'CALL_TOKEN_SECRET_ARN',
  CALLER_KEY_SECRET: 'CALLER_KEY_SECRET_ARN',
} as const;

export class SecretLoadError extends Error {
  override name = 'SecretLoadError';
}

type Fetch = (url: string, init: { headers: Record<string, string> }) => Promise<Response>;

/** Reads one secret's string from the extension. */
export async function readSecret(
  arn: string,
  env: Record<string, string | undefined>,
  fetchFn: Fetch = fetch,
): Promise<string> {
  const port = env['PARAMETERS_SECRETS_EXTENSION_HTTP_PORT'] ?? '2773';
  const url = `http://localhost:${port}/secretsmanager/get?secretId=${encodeURIComponent(arn)}`;
  const res = await fetchFn(url, {
    headers: { 'X-Aws-Parameters-Secrets-Token': env['AWS_SESSION_TOKEN'] ?? '' },
  });
  if (!res.ok) throw new SecretLoadError(`secret ${arn}: the extension answered ${res.status}`);
  const body = (await res.json()) as { SecretString?: unknown };
  if (typeof body.SecretString !== 'string' || body.SecretString === '') {
    throw new SecretLoadError(`secret ${arn} has no SecretString`);
  }
  return body.SecretString;
}

/** Puts every secret into `env`; a variable already set (a test, a local run) is kept. */
export async function loadSecrets(
  env: Record<string, string | undefined>,
  fetchFn: Fetch = fetch,
): Promise<void> {
  for (const [name, arnVariable] of Object.entries(SECRET_VARIABLES)) {
    if (env[name]) continue;
    const arn = env[arnVariable];
    if (!arn) throw new SecretLoadError(`${arnVariable} is not set`);
    env[name] = await readSecret(arn, env, fetchFn);
  }
}
