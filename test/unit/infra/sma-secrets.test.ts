// The deployed SMA entry's secrets: read through the Parameters and Secrets extension's local
// endpoint, with the function's session token, into the variables the handler's configuration reads.
import { describe, expect, it } from 'vitest';
import { SecretLoadError, loadSecrets } from '../../../infra/lambda/sma-secrets.js';

const TOKEN_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:callbridge/call-token-AbCdEf';
const KEY_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:callbridge/caller-key-GhIjKl';

function extension(values: Record<string, string>, status = 200) {
  const requests: { url: string; headers: Record<string, string> }[] = [];
  const fetchFn = async (url: string, init: { headers: Record<string, string> }) => {
    requests.push({ url, headers: init.headers });
    const id = decodeURIComponent(new URL(url).searchParams.get('secretId') ?? '');
    return new Response(JSON.stringify({ SecretString: values[id] }), { status });
  };
  return { fetchFn, requests };
}

describe('SMA secrets entry', () => {
  it('reads each secret by ARN with the session token and sets its variable', async () => {
    const env: Record<string, string | undefined> = {
      CALL_TOKEN_SECRET_ARN: TOKEN_ARN,
      CALLER_KEY_SECRET_ARN: KEY_ARN,
      AWS_SESSION_TOKEN: 'session',
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2773',
    };
    const ext = extension({ [TOKEN_ARN]: 'token-secret', [KEY_ARN]: 'key-secret' });
    await loadSecrets(env, ext.fetchFn);
    expect(env['CALL_TOKEN_SECRET']).toBe('token-secret');
    expect(env['CALLER_KEY_SECRET']).toBe('key-secret');
    expect(ext.requests.map((r) => r.url)).toEqual([
      `http://localhost:2773/secretsmanager/get?secretId=${encodeURIComponent(TOKEN_ARN)}`,
      `http://localhost:2773/secretsmanager/get?secretId=${encodeURIComponent(KEY_ARN)}`,
    ]);
    expect(ext.requests[0]!.headers).toEqual({ 'X-Aws-Parameters-Secrets-Token': 'session' });
  });

  it('keeps a variable already set and reads nothing for it', async () => {
    const env: Record<string, string | undefined> = {
      CALL_TOKEN_SECRET: 'set',
      CALLER_KEY_SECRET_ARN: KEY_ARN,
    };
    const ext = extension({ [KEY_ARN]: 'key-secret' });
    await loadSecrets(env, ext.fetchFn);
    expect(env['CALL_TOKEN_SECRET']).toBe('set');
    expect(ext.requests).toHaveLength(1);
  });

  it('stops the cold start naming the variable or secret that failed, never a value', async () => {
    await expect(
      loadSecrets({ CALLER_KEY_SECRET_ARN: KEY_ARN }, extension({}).fetchFn),
    ).rejects.toThrow(new SecretLoadError('CALL_TOKEN_SECRET_ARN is not set'));
    const env = { CALL_TOKEN_SECRET_ARN: TOKEN_ARN, CALLER_KEY_SECRET_ARN: KEY_ARN };
    await expect(loadSecrets(env, extension({}, 403).fetchFn)).rejects.toThrow(
      `secret ${TOKEN_ARN}: the extension answered 403`,
    );
    await expect(loadSecrets(env, extension({}).fetchFn)).rejects.toThrow('has no SecretString');
  });
});
