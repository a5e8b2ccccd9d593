// The image's HEALTHCHECK (deploy/Dockerfile): GET HEALTHCHECK_URL; healthy on any answer below
// 500. The agent worker answers 200 once registered with LiveKit and 503 while it is not; the
// guard's /healthz 503 when its sweep fails; the Twilio gateway has no health path, so its 404
// still shows it listening. Kubernetes ignores this and uses the manifests' probes.
/* global fetch, AbortSignal -- Node's own (18 and newer) */
const url = process.env.HEALTHCHECK_URL ?? 'http://127.0.0.1:8081/';
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2500) });
  process.exit(res.status < 500 ? 0 : 1);
} catch {
  process.exit(1);
}
