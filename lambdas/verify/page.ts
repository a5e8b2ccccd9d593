// The registration page (GET /): one HTML document, no framework, its script and style inline and
// allowed by hash in the Content-Security-Policy, so nothing else can run or load on it.
import { createHash } from 'node:crypto';

const STYLE = `
body{font:1.125rem/1.5 system-ui,sans-serif;margin:0 auto;max-width:32rem;padding:1rem;color:#111;background:#fff}
h1{font-size:1.5rem}
label{display:block;font-weight:600;margin-top:1rem}
input{font:inherit;width:100%;box-sizing:border-box;padding:.6rem;margin:.25rem 0 .75rem;border:2px solid #555;border-radius:.25rem}
button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:.25rem;background:#0b57d0;color:#fff;cursor:pointer}
button:disabled{background:#777}
:focus-visible{outline:3px solid #e37400;outline-offset:2px}
.hint{color:#444;font-size:1rem;margin:0}
#status{min-height:1.5em;font-weight:600}
`;

// Relative URLs: the page works wherever the function URL (or a proxy in front of it) serves it.
const SCRIPT = `
const $ = (id) => document.getElementById(id);
const status = $('status');
async function post(path, body, button) {
  button.disabled = true;
  status.textContent = 'Please wait…';
  try {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const data = await res.json().catch(() => ({}));
    return { status: res.status, message: data.message || data.error || 'Something went wrong. Please try again.' };
  } catch {
    return { status: 0, message: 'Could not reach the service. Check your connection and try again.' };
  } finally {
    button.disabled = false;
  }
}
const number = () => $('number').value.replace(/[\\s().-]/g, '');
$('send').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await post('codes', { number: number() }, $('send-button'));
  status.textContent = r.message;
  if (r.status === 202) { $('confirm').hidden = false; $('code').focus(); }
});
$('confirm').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await post('codes/confirm', { number: number(), code: $('code').value.trim() }, $('confirm-button'));
  status.textContent = r.message;
});
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The page for a service name that config.ts allows (letters, digits and plain punctuation). */
export function registrationPage(serviceName: string): string {
  const name = serviceName.replace(/&/g, '&amp;').replace(/'/g, '&#39;');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Register your phone number: ${name}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Register your phone number</h1>
<p>To call ${name}, confirm the number you will call from. We send it a 6-digit code by text message.</p>
<form id="send">
<label for="number">Phone number, with country code</label>
<p class="hint" id="number-hint">For example +15550100311</p>
<input id="number" name="number" type="tel" inputmode="tel" autocomplete="tel" required aria-describedby="number-hint" placeholder="+15550100311">
<button id="send-button" type="submit">Send code</button>
</form>
<form id="confirm" hidden>
<label for="code">Code from the text message</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>
<button id="confirm-button" type="submit">Confirm</button>
</form>
<p id="status" role="status" aria-live="polite"></p>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
