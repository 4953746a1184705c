// SPDX-License-Identifier: MIT
/**
 * The /ingest page: one plain HTML document with its script inline, no build step and no
 * external resources. It makes or opens a pairing code (`?code=`), shows it big with the
 * exact worker command, listens on `/ws/remote/{code}/ui` for state, log and progress, polls
 * the status API for workers, queue, throughput and ETA, queues pasted lines, an uploaded
 * text/CSV file, one URL or a genre, and links the exports. Kept as a string module so it
 * ships with the compiled package; the script uses no backticks.
 */
export const INGEST_HTML = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ChaarFM ingest</title>
<style>
  :root { --fg: #1b1b1f; --muted: #666; --line: #ddd; --accent: #2b6cb0; --ok: #2f855a; --warn: #b7791f; --err: #c53030; }
  * { box-sizing: border-box; }
  body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); margin: 0 auto; max-width: 1100px; padding: 16px; }
  h1 { font-size: 20px; margin: 0 0 12px; }
  h2 { font-size: 15px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
  section { border: 1px solid var(--line); border-radius: 8px; padding: 12px; margin-bottom: 12px; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
  @media (max-width: 800px) { .grid { grid-template-columns: 1fr; } }
  #code { font: 700 44px/1.1 ui-monospace, monospace; letter-spacing: .06em; }
  code, pre, textarea, input { font-family: ui-monospace, monospace; }
  pre#cmd { background: #f4f4f6; padding: 8px; border-radius: 6px; white-space: pre-wrap; word-break: break-all; margin: 8px 0; }
  button { font: inherit; padding: 5px 12px; border: 1px solid var(--line); border-radius: 6px; background: #fff; cursor: pointer; }
  button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
  textarea { width: 100%; min-height: 110px; }
  input[type=text], input[type=number] { padding: 4px 6px; }
  table { border-collapse: collapse; width: 100%; font-size: 14px; }
  td, th { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
  .bar { height: 8px; background: #eee; border-radius: 4px; overflow: hidden; min-width: 80px; }
  .bar > div { height: 100%; background: var(--accent); width: 0; transition: width .3s; }
  #log { height: 220px; overflow: auto; font: 13px/1.4 ui-monospace, monospace; background: #fafafa; padding: 6px; border-radius: 6px; }
  .success { color: var(--ok); } .warning { color: var(--warn); } .error { color: var(--err); }
  .muted { color: var(--muted); }
  .row { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin: 6px 0; }
  #status { font-weight: 700; }
</style>
</head>
<body>
<h1>ChaarFM ingest</h1>
<section id="start" hidden>
  <p>Make a pairing code, then start workers with it. Anyone who knows the code can use this session.</p>
  <button class="primary" id="make">Make a pairing code</button>
  <span class="row">or open one: <input type="text" id="open-code" placeholder="XXXXX-XXXXX" size="14"> <button id="open">Open</button></span>
</section>
<div id="main" hidden>
<section>
  <div class="row"><span id="code" data-testid="code"></span> <button id="copy-code">Copy code</button></div>
  <div>Start a worker with:</div>
  <pre id="cmd" data-testid="command"></pre>
  <button id="copy-cmd">Copy command</button>
</section>
<div class="grid">
<section>
  <h2>State</h2>
  <div class="row"><span id="status" data-testid="status">connecting</span> <span id="message" class="muted"></span></div>
  <table><tbody>
    <tr><td>Workers</td><td id="worker-count" data-testid="worker-count">0</td></tr>
    <tr><td>Queued / running</td><td><span id="q-queued">0</span> / <span id="q-active">0</span></td></tr>
    <tr><td>Done / failed</td><td><span id="q-done" data-testid="done">0</span> / <span id="q-failed">0</span></td></tr>
    <tr><td>Throughput</td><td id="rate">-</td></tr>
    <tr><td>ETA</td><td id="eta">-</td></tr>
  </tbody></table>
  <div class="row">
    <button id="start-queue" class="primary">Start</button>
    <button id="pause">Pause</button>
    <button id="resume">Resume</button>
    <button id="stop">Stop</button>
  </div>
</section>
<section>
  <h2>Queue tracks</h2>
  <textarea id="lines" data-testid="lines" placeholder="One per line: a YouTube (or any http) URL, or Artist - Title"></textarea>
  <div class="row">
    <button id="queue" class="primary">Queue and start</button>
    <label>or a text/CSV file: <input type="file" id="file" accept=".txt,.csv,text/plain,text/csv"></label>
  </div>
  <div class="row">Genre: <input type="text" id="genre" size="14"> count <input type="number" id="genre-count" min="1" max="10000" value="20" style="width:6em"> <button id="start-genre">Fetch genre</button></div>
  <div id="queue-result" class="muted"></div>
</section>
</div>
<section>
  <h2>Workers</h2>
  <table><thead><tr><th>Worker</th><th>Backend</th><th>Version</th><th>Job</th><th>Progress</th><th>Done</th></tr></thead><tbody id="workers"></tbody></table>
</section>
<section>
  <h2>Results</h2>
  <div class="row">Export: <a id="x-jsonl" href="#">JSONL</a> <a id="x-csv" href="#">CSV</a> <a id="x-npy" href="#">.npy</a></div>
  <table><thead><tr><th>Artist</th><th>Title</th><th>Worker</th><th>Seconds</th></tr></thead><tbody id="results" data-testid="results"></tbody></table>
</section>
<section>
  <h2>Log</h2>
  <div id="log" data-testid="log"></div>
</section>
</div>
<script>
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var params = new URLSearchParams(location.search);
  var code = params.get('code');
  var api = function (path, opts) {
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (t) {
        var body = null;
        try { body = JSON.parse(t); } catch (e) { body = { error: t }; }
        if (!r.ok && !(body && body.message)) throw new Error((body && body.error) || ('HTTP ' + r.status));
        return body;
      });
    });
  };
  function log(message, level) {
    var d = document.createElement('div');
    d.className = level || 'info';
    d.textContent = new Date().toLocaleTimeString() + '  ' + message;
    var box = $('log');
    box.appendChild(d);
    while (box.childNodes.length > 500) box.removeChild(box.firstChild);
    box.scrollTop = box.scrollHeight;
  }
  function copy(text) { if (navigator.clipboard) navigator.clipboard.writeText(text).catch(function () {}); }
  function cell(tr, text) { var td = document.createElement('td'); td.textContent = text; tr.appendChild(td); return td; }

  if (!code) {
    $('start').hidden = false;
    $('make').onclick = function () {
      api('/api/sessions', { method: 'POST' }).then(function (r) { location.search = '?code=' + encodeURIComponent(r.code); })
        .catch(function (e) { alert('Could not make a code: ' + e.message); });
    };
    $('open').onclick = function () { var c = $('open-code').value.trim(); if (c) location.search = '?code=' + encodeURIComponent(c); };
    return;
  }
  $('main').hidden = false;
  var base = location.origin;
  var enc = encodeURIComponent(code);
  var sessionPath = '/api/sessions/' + enc;
  $('code').textContent = code;
  $('cmd').textContent = 'npx chaarfm-worker --url ' + base + ' --code ' + code;
  $('copy-code').onclick = function () { copy(code); };
  $('copy-cmd').onclick = function () { copy($('cmd').textContent); };
  $('x-jsonl').href = sessionPath + '/export.jsonl';
  $('x-csv').href = sessionPath + '/export.csv';
  $('x-npy').href = sessionPath + '/export.npy';

  var progress = {};
  function control(msg) {
    api(sessionPath + '/control', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(msg) })
      .then(function (r) { if (r && r.ok === false) log(r.message, 'warning'); })
      .catch(function (e) { log(e.message, 'error'); });
  }
  $('start-queue').onclick = function () { control({ type: 'start', mode: 'queue' }); };
  $('pause').onclick = function () { control({ type: 'pause' }); };
  $('resume').onclick = function () { control({ type: 'resume' }); };
  $('stop').onclick = function () { control({ type: 'stop' }); };
  $('start-genre').onclick = function () {
    var g = $('genre').value.trim();
    if (!g) return;
    control({ type: 'start', mode: 'genre', genre: g, requestedCount: Number($('genre-count').value) || null, useMax: false });
  };
  function queued(r) {
    var text = r.added + ' queued, ' + r.duplicates + ' duplicate(s) skipped';
    if (r.invalid && r.invalid.length) text += ', ' + r.invalid.length + ' line(s) not understood (first: line ' + r.invalid[0].line + ': ' + r.invalid[0].reason + ')';
    $('queue-result').textContent = text;
    refresh();
  }
  $('queue').onclick = function () {
    var text = $('lines').value;
    if (!text.trim()) return;
    api(sessionPath + '/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: text }) })
      .then(function (r) { $('lines').value = ''; queued(r); })
      .catch(function (e) { $('queue-result').textContent = e.message; });
  };
  $('file').onchange = function () {
    var f = $('file').files[0];
    if (!f) return;
    f.text().then(function (t) {
      return api(sessionPath + '/jobs', { method: 'POST', headers: { 'content-type': f.name.endsWith('.csv') ? 'text/csv' : 'text/plain' }, body: t });
    }).then(queued).catch(function (e) { $('queue-result').textContent = e.message; });
  };

  function fmtEta(s) {
    if (s === null || s === undefined) return '-';
    if (s < 90) return s + ' s';
    if (s < 5400) return Math.round(s / 60) + ' min';
    return (s / 3600).toFixed(1) + ' h';
  }
  var resultCount = -1;
  function refresh() {
    api(sessionPath).then(function (st) {
      if (st.error) return;
      $('worker-count').textContent = st.worker_count;
      $('q-queued').textContent = st.queue.queued;
      $('q-active').textContent = st.queue.active;
      $('q-done').textContent = st.queue.done;
      $('q-failed').textContent = st.queue.failed;
      $('rate').textContent = st.throughput_per_min + ' tracks/min';
      $('eta').textContent = fmtEta(st.eta_s);
      var tb = $('workers');
      tb.textContent = '';
      st.workers.forEach(function (w) {
        var tr = document.createElement('tr');
        cell(tr, w.name);
        cell(tr, w.backend || '-');
        cell(tr, w.version || '-');
        cell(tr, w.job ? w.job.label : 'idle');
        var td = document.createElement('td');
        var bar = document.createElement('div'); bar.className = 'bar';
        var fill = document.createElement('div');
        var p = w.job ? (progress[w.job.id] !== undefined ? progress[w.job.id] : (w.job.fraction || 0)) : 0;
        fill.style.width = Math.round(p * 100) + '%';
        bar.appendChild(fill); td.appendChild(bar); tr.appendChild(td);
        cell(tr, String(w.done));
        tb.appendChild(tr);
      });
      if (st.queue.done !== resultCount) { resultCount = st.queue.done; loadResults(); }
    }).catch(function () {});
  }
  function loadResults() {
    api(sessionPath + '/results?vectors=0&limit=50&offset=' + Math.max(0, resultCount - 50)).then(function (rows) {
      var tb = $('results');
      tb.textContent = '';
      rows.slice().reverse().forEach(function (r) {
        var tr = document.createElement('tr');
        cell(tr, r.artist); cell(tr, r.title); cell(tr, r.worker); cell(tr, (r.ms / 1000).toFixed(1));
        tb.appendChild(tr);
      });
    }).catch(function () {});
  }
  setInterval(refresh, 1000);
  refresh();

  var delay = 1000;
  function connect() {
    var ws = new WebSocket(base.replace(/^http/, 'ws') + '/ws/remote/' + enc + '/ui');
    ws.onopen = function () { delay = 1000; };
    ws.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.type === 'state') {
        $('status').textContent = m.status;
        $('message').textContent = m.message || '';
        $('worker-count').textContent = m.worker_count;
      } else if (m.type === 'log') {
        log(m.message, m.level);
        refresh();
      } else if (m.type === 'progress') {
        progress[m.job_id] = m.fraction;
      }
    };
    ws.onclose = function (ev) {
      if (ev.code === 4404 || ev.code === 4410) {
        $('status').textContent = ev.code === 4404 ? 'unknown code' : 'code expired';
        log('The server refused this code: ' + ev.reason, 'error');
        return;
      }
      $('status').textContent = 'reconnecting';
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  connect();
})();
</script>
</body>
</html>
`;
