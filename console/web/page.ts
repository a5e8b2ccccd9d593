// The console's HTML: one page, three panels (live calls for supervisors, the agent in a tab for
// developers, "Call me" for dialers), filled in by app.ts. No inline script: the page's CSP allows only /app.js.

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f7f9; }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1rem; background: #1b1f24; color: #fff; }
header h1 { font-size: 1rem; margin: 0; flex: 1; }
header button { background: transparent; color: #fff; border: 1px solid #fff6; }
main { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; padding: 1rem; }
section { background: #fff; border: 1px solid #d8dce1; border-radius: 6px; padding: .8rem 1rem; }
section[hidden] { display: none; }
h2 { font-size: 1rem; margin: 0 0 .6rem; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .25rem .4rem; border-bottom: 1px solid #eceef1; }
button { font: inherit; padding: .25rem .7rem; border-radius: 4px; border: 1px solid #8a94a0; background: #fff; cursor: pointer; }
button.primary { background: #0b62d6; border-color: #0b62d6; color: #fff; }
button:disabled { opacity: .5; cursor: default; }
.status { color: #5b6470; margin: .4rem 0; }
.transcript { height: 16rem; overflow-y: auto; border: 1px solid #eceef1; padding: .4rem; background: #fbfbfc; }
.line { margin: .15rem 0; }
.line .who { font-weight: 600; margin-right: .4rem; }
.line.agent .who { color: #0b62d6; }
.line.caller .who, .line.you .who { color: #8a3ffc; }
.line.interim { color: #8a94a0; }
input { font: inherit; padding: .2rem .4rem; }
.figures { font-variant-numeric: tabular-nums; color: #33404d; }
.meter { height: 6px; background: #eceef1; border-radius: 3px; overflow: hidden; margin: .3rem 0; }
.meter div { height: 100%; width: 0; background: #24a148; transition: width 80ms linear; }
`;

/** The signed-in page: app.ts fills it from /api/me. */
export function pageHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>callbridge console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style></head>
<body>
<header><h1>callbridge console</h1><span id="user"></span><button id="signout">Sign out</button></header>
<main>
<section id="calls-panel" hidden>
  <h2>Live calls</h2>
  <table><thead><tr><th>use case</th><th title="the language the caller switched to; – the use case's own">language</th><th>phase</th><th>duration</th><th>agent</th><th title="time to first audio: the answer → the agent's first audio">TTFA</th><th title="the caller's end of speech → the agent's reply, median so far">turn</th><th></th></tr></thead>
  <tbody id="calls"></tbody></table>
  <p class="status" id="calls-status">Loading…</p>
  <div id="call-view" hidden>
    <h2 id="call-title"></h2>
    <p class="status" id="call-status"></p>
    <div class="meter"><div id="call-level"></div></div>
    <p><button id="call-speak">Barge in (speak)</button> <button id="call-listen" hidden>Back to listening</button> <button id="call-leave">Leave</button></p>
    <div class="transcript" id="call-transcript"></div>
  </div>
</section>
<section id="dial-panel" hidden>
  <h2>Call me</h2>
  <p>The agent calls the number you enter, for a use case whose settings allow outbound calls.</p>
  <p><label>Use case <select id="dial-use-case"></select></label>
  <label>Number <input id="dial-number" type="tel" placeholder="+12025550123" autocomplete="tel" size="16"></label>
  <button class="primary" id="dial-start">Call me</button></p>
  <p class="status" id="dial-status"></p>
</section>
<section id="dev-panel" hidden>
  <h2>Talk to the agent</h2>
  <p><label>Use case <select id="dev-use-case"></select></label>
  <button class="primary" id="dev-start">Talk to the agent</button> <button id="dev-stop" disabled>Hang up</button></p>
  <p class="status" id="dev-status">Your microphone is used once you start.</p>
  <div class="meter"><div id="dev-level"></div></div>
  <p class="figures" id="dev-figures"></p>
  <div class="transcript" id="dev-transcript"></div>
</section>
</main>
<script type="module" src="/app.js"></script>
</body></html>`;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/`([^`]+)`/g, '<code>$1</code>');

/** The page of a request without a session: what to do to sign in. */
export function signInHtml(message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>callbridge console: sign in</title>
<style>${STYLE}</style></head>
<body><header><h1>callbridge console</h1></header>
<main><section><h2>Sign in</h2><p id="signin-message">${escapeHtml(message)}</p></section></main>
</body></html>`;
}
