// SPDX-License-Identifier: MIT
/**
 * The /ingest page: one plain HTML document with its script inline, no build step and no
 * external resources. It makes or opens a pairing code (`?code=`), shows it big with the
 * exact worker command, listens on `/ws/remote/{code}/ui` for state, log and progress, polls
 * the status API for workers, queue, throughput and ETA, queues pasted lines, an uploaded
 * text/CSV file, one URL or a genre, and links the exports. It shows, per worker, a live
 * progress bar (stage and fraction from `progress`; an indeterminate bar for a worker that
 * sends none, such as the original Python one), tracks per minute over the last hour, and a
 * map of the collection: the server's PCA projection drawn on a canvas, coloured by top MSD
 * tag, with artist - title on hover and the 10 nearest tracks on click (or with the keyboard:
 * arrows move, Enter lists). Polls are throttled and the map fetches only new points' metadata,
 * so a session of thousands of tracks stays smooth. `window.chaarfmMap.points()` gives what is
 * drawn (id, titles, canvas x/y) to scripts and tests. Kept as a string module so it ships with
 * the compiled package; the script uses no backticks and no backslashes.
 */
export const INGEST_HTML = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ChaarFM ingest</title>
<style>
  :root { color-scheme: light dark; --fg: #1b1b1f; --bg: #fff; --muted: #5f6368; --line: #d9d9de; --panel: #f4f4f6; --accent: #2b6cb0; --ok: #2f855a; --warn: #9c6500; --err: #c53030; --track: #e6e6ea; }
  @media (prefers-color-scheme: dark) {
    :root { --fg: #e8e8ec; --bg: #16171b; --muted: #a0a4ab; --line: #34363d; --panel: #202228; --accent: #6aa5ea; --ok: #5cc48a; --warn: #e0b050; --err: #f07070; --track: #2c2e35; }
  }
  * { box-sizing: border-box; }
  body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; max-width: 1100px; padding: 16px; }
  h1 { font-size: 20px; margin: 0 0 12px; }
  h2 { font-size: 15px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
  section { border: 1px solid var(--line); border-radius: 8px; padding: 12px; margin-bottom: 12px; min-width: 0; }
  .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
  .grid > section { margin-bottom: 0; }
  .grid + section, .grid + .grid { margin-top: 12px; }
  @media (max-width: 800px) { .grid { grid-template-columns: 1fr; } .grid > section { margin-bottom: 12px; } .grid + section, .grid + .grid { margin-top: 0; } }
  @media (max-width: 480px) { body { padding: 8px; font-size: 14px; } section { padding: 8px; } #code { font-size: 30px; } }
  #code { font: 700 44px/1.1 ui-monospace, monospace; letter-spacing: .06em; }
  code, pre, textarea, input { font-family: ui-monospace, monospace; }
  pre#cmd { background: var(--panel); padding: 8px; border-radius: 6px; white-space: pre-wrap; word-break: break-all; margin: 8px 0; }
  button { font: inherit; color: var(--fg); padding: 5px 12px; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); cursor: pointer; }
  button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
  @media (prefers-color-scheme: dark) { button.primary { color: #0d1117; } }
  :focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  textarea, input { color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 4px; }
  textarea { width: 100%; min-height: 110px; }
  input[type=text], input[type=number] { padding: 4px 6px; max-width: 100%; }
  .scroll { overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; font-size: 14px; }
  td, th { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
  .bar { height: 8px; background: var(--track); border-radius: 4px; overflow: hidden; min-width: 80px; position: relative; }
  .bar > div { height: 100%; background: var(--accent); width: 0; transition: width .3s; }
  .bar.indet { background: repeating-linear-gradient(135deg, var(--track) 0 6px, var(--line) 6px 12px); }
  .bar.indet > div { width: 35%; position: absolute; animation: slide 1.4s ease-in-out infinite; transition: none; }
  @keyframes slide { from { left: -35%; } to { left: 100%; } }
  @media (prefers-reduced-motion: reduce) { .bar.indet > div { animation: none; width: 100%; opacity: .35; } }
  #log { height: 220px; overflow: auto; font: 13px/1.4 ui-monospace, monospace; background: var(--panel); padding: 6px; border-radius: 6px; }
  .success { color: var(--ok); } .warning { color: var(--warn); } .error { color: var(--err); }
  .muted { color: var(--muted); }
  .small { font-size: 13px; }
  .row { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin: 6px 0; }
  #status { font-weight: 700; }
  .workers { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 8px; }
  .workers li { border: 1px solid var(--line); border-radius: 6px; padding: 8px; min-width: 0; }
  .workers .name { font-weight: 600; overflow-wrap: anywhere; }
  .workers .track { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .workers .stage { display: flex; justify-content: space-between; font-size: 13px; color: var(--muted); margin-top: 2px; }
  canvas { display: block; width: 100%; }
  #rate-chart { height: 90px; }
  .mapbox { position: relative; }
  .mapgrid { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 12px; }
  @media (max-width: 800px) { .mapgrid { grid-template-columns: 1fr; } }
  #map { height: 420px; border-radius: 6px; background: var(--panel); cursor: crosshair; }
  @media (max-width: 480px) { #map { height: 300px; } }
  #map-tip { position: absolute; pointer-events: none; background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 4px; padding: 2px 6px; font-size: 13px; max-width: 260px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .legend { display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 13px; margin: 6px 0; padding: 0; list-style: none; }
  .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 4px; vertical-align: -1px; }
  #nearest { margin: 4px 0 0; padding-left: 1.6em; }
  #nearest li { margin: 2px 0; }
  #nearest button { padding: 1px 6px; border: 0; background: none; text-align: left; text-decoration: underline; text-decoration-color: var(--line); }
  #nearest .score { color: var(--muted); font-size: 13px; font-variant-numeric: tabular-nums; }
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
    <tr><td>ETA</td><td id="eta" data-testid="eta">-</td></tr>
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
  <ul class="workers" id="workers" data-testid="workers" aria-live="off"></ul>
  <div id="no-workers" class="muted">No worker connected yet: start one with the command above.</div>
</section>
<section>
  <h2>Map of the collection</h2>
  <div class="mapgrid">
    <div>
      <div class="mapbox">
        <canvas id="map" data-testid="map" tabindex="0" role="img" aria-label="Map of the stored tracks: the first two principal components of their vectors. Arrow keys move between tracks, Enter lists the nearest ones."></canvas>
        <div id="map-tip" data-testid="map-tip" hidden></div>
      </div>
      <ul class="legend" id="legend" data-testid="legend"></ul>
      <div id="map-info" class="small muted"></div>
    </div>
    <div>
      <h2>Nearest tracks</h2>
      <div id="sel" class="small muted" data-testid="selected">Click a point (or focus the map, move with the arrow keys, press Enter) to list the 10 nearest tracks by cosine similarity.</div>
      <ol id="nearest" data-testid="nearest"></ol>
    </div>
  </div>
</section>
<section>
  <h2>Throughput</h2>
  <canvas id="rate-chart" data-testid="rate-chart" role="img" aria-label="Tracks per minute over the last hour"></canvas>
  <div class="row small muted"><span>tracks per minute, last 60 min</span><span id="rate-peak"></span></div>
  <div id="eta-how" data-testid="eta-how" class="small"></div>
</section>
<section>
  <h2>Results</h2>
  <div class="row">Export: <a id="x-jsonl" href="#">JSONL</a> <a id="x-csv" href="#">CSV</a> <a id="x-npy" href="#">.npy</a></div>
  <div class="scroll"><table><thead><tr><th>Artist</th><th>Title</th><th>Worker</th><th>Seconds</th></tr></thead><tbody id="results" data-testid="results"></tbody></table></div>
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
  // Lines added in one go (one time stamp, one layout), the last 500 kept.
  function logLines(lines) {
    var box = $('log'), frag = document.createDocumentFragment(), now = new Date().toLocaleTimeString();
    lines.slice(-500).forEach(function (l) {
      var d = document.createElement('div');
      d.className = l[1] || 'info';
      d.textContent = now + '  ' + l[0];
      frag.appendChild(d);
    });
    box.appendChild(frag);
    while (box.childNodes.length > 500) box.removeChild(box.firstChild);
    box.scrollTop = box.scrollHeight;
  }
  function log(message, level) { logLines([[message, level]]); }
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
  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  // A canvas sized to its box in device pixels; returns its 2-d context in CSS pixels.
  function sized(canvas) {
    var r = canvas.getBoundingClientRect();
    var dpr = window.devicePixelRatio || 1;
    var w = Math.max(1, Math.round(r.width * dpr)), h = Math.max(1, Math.round(r.height * dpr));
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    var g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, r.width, r.height);
    return { g: g, w: r.width, h: r.height };
  }

  // fn (returning a promise) with at most one call in flight and calls at least minMs apart; a call
  // that arrives in between is not lost: one more runs when allowed.
  function throttled(fn, minMs) {
    var busy = false, again = false, timer = 0, at = 0;
    function run() {
      if (busy || timer) { again = true; return; }
      var wait = minMs - (Date.now() - at);
      if (wait > 0) { timer = setTimeout(function () { timer = 0; run(); }, wait); return; }
      busy = true; at = Date.now(); again = false;
      Promise.resolve().then(fn).catch(function () {}).then(function () {
        busy = false;
        if (again) { again = false; run(); }
      });
    }
    return run;
  }

  // ---- status: counts, ETA and the worker cards ----
  var lastStatus = null;
  var resultCount = -1;
  // Called on every log line: at most one request in flight and one every 400 ms.
  var refresh = throttled(function () {
    return api(sessionPath).then(function (st) {
      if (st.error) return;
      lastStatus = st;
      $('worker-count').textContent = st.worker_count;
      $('q-queued').textContent = st.queue.queued;
      $('q-active').textContent = st.queue.active;
      $('q-done').textContent = st.queue.done;
      $('q-failed').textContent = st.queue.failed;
      $('rate').textContent = st.throughput_per_min + ' tracks/min';
      $('eta').textContent = fmtEta(st.eta_s);
      var left = st.queue.queued + st.queue.active;
      $('eta-how').textContent = left === 0 ? 'Nothing left to do.' : st.throughput_per_min > 0
        ? 'ETA ' + fmtEta(st.eta_s) + ' = ' + left + ' tracks left (queued and running) / ' + st.throughput_per_min + ' tracks per minute, the rate of results stored over the last 5 minutes of this run (or since it started, when that is shorter).'
        : 'ETA unknown: ' + left + ' tracks left and no result stored yet in this run to measure the rate by.';
      renderWorkers();
      if (st.queue.done !== resultCount) { resultCount = st.queue.done; loadResults(); loadMap(); loadRate(); }
    });
  }, 400);
  var progress = {};
  var cards = {};
  function el(tag, cls, parent) { var e = document.createElement(tag); if (cls) e.className = cls; if (parent) parent.appendChild(e); return e; }
  function renderWorkers() {
    var st = lastStatus;
    if (!st) return;
    var list = $('workers');
    var seen = {};
    $('no-workers').hidden = st.workers.length > 0;
    st.workers.forEach(function (w) {
      seen[w.id] = true;
      var c = cards[w.id];
      if (!c) {
        c = cards[w.id] = { li: el('li') };
        c.name = el('div', 'name', c.li);
        c.meta = el('div', 'small muted', c.li);
        c.track = el('div', 'track', c.li);
        c.bar = el('div', 'bar', c.li);
        c.fill = el('div', '', c.bar);
        c.bar.setAttribute('role', 'progressbar');
        c.stage = el('div', 'stage', c.li);
        c.stageName = el('span', '', c.stage);
        c.stagePct = el('span', '', c.stage);
        c.li.setAttribute('data-worker', w.name);
        list.appendChild(c.li);
      }
      c.name.textContent = w.name;
      var meta = w.version ? [w.backend || '?', w.platform || '?', 'v' + w.version] : ['original worker (no progress reports)'];
      c.meta.textContent = meta.join(' · ') + ' · ' + w.done + ' done' + (w.failed ? ', ' + w.failed + ' failed' : '');
      var p = w.job ? progress[w.job.id] : null;
      var stage = p ? p.stage : w.job ? w.job.stage : null;
      var frac = p ? p.fraction : w.job ? w.job.fraction : null;
      c.track.textContent = w.job ? w.job.label : 'idle';
      c.track.title = w.job ? w.job.label : '';
      var indet = !!w.job && (frac === null || frac === undefined);
      c.bar.className = 'bar' + (indet ? ' indet' : '');
      c.bar.setAttribute('aria-label', 'Progress of ' + w.name);
      if (indet) { c.fill.style.width = ''; c.bar.removeAttribute('aria-valuenow'); }
      else { var pct = w.job ? Math.round(frac * 100) : 0; c.fill.style.width = pct + '%'; c.bar.setAttribute('aria-valuenow', String(pct)); }
      c.stageName.textContent = w.job ? (stage || (w.version ? 'starting' : 'working')) : '';
      c.stagePct.textContent = w.job && !indet ? Math.round(frac * 100) + '%' : w.job ? Math.round(w.job.running_s) + ' s' : '';
    });
    Object.keys(cards).forEach(function (id) { if (!seen[id]) { cards[id].li.remove(); delete cards[id]; } });
    // progress of jobs no worker holds any more (now and then: a job's first progress message
    // may arrive before a status that shows the job)
    if (Object.keys(progress).length > 4 * st.workers.length + 50) {
      var held = {};
      st.workers.forEach(function (w) { if (w.job) held[w.job.id] = true; });
      Object.keys(progress).forEach(function (id) { if (!held[id]) delete progress[id]; });
    }
  }
  var workerFrame = 0;
  function workersSoon() { if (!workerFrame) workerFrame = requestAnimationFrame(function () { workerFrame = 0; renderWorkers(); }); }

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

  // ---- throughput chart: results per minute over the last hour ----
  var rate = null;
  var loadRate = throttled(function () {
    return api(sessionPath + '/throughput').then(function (r) { if (r.per_minute) { rate = r.per_minute; drawRate(); } });
  }, 5000);
  function drawRate() {
    if (!rate) return;
    var c = sized($('rate-chart'));
    var g = c.g, max = 1;
    rate.forEach(function (n) { if (n > max) max = n; });
    var bw = c.w / rate.length;
    g.fillStyle = css('--line');
    g.fillRect(0, c.h - 1, c.w, 1);
    g.fillStyle = css('--accent');
    rate.forEach(function (n, i) {
      var h = Math.round((n / max) * (c.h - 14));
      if (n > 0) g.fillRect(i * bw + 0.5, c.h - 1 - Math.max(1, h), Math.max(1, bw - 1), Math.max(1, h));
    });
    g.fillStyle = css('--muted');
    g.font = '11px system-ui, sans-serif';
    g.fillText(String(max), 2, 10);
    $('rate-peak').textContent = 'peak ' + max + '/min, now ' + rate[rate.length - 1] + '/min';
    $('rate-chart').setAttribute('aria-label', 'Tracks per minute over the last hour; peak ' + max + ', last minute ' + rate[rate.length - 1]);
  }

  // ---- the map: the server's PCA projection, coloured by top tag ----
  var OTHER = '#bab0ac';
  var PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#edc948', '#76b7b2', '#ff9da7', '#9c755f', '#8cd17d'];
  var map = { epoch: null, xy: [], pts: [], screen: [], colorOf: {}, cursor: -1, selected: -1, near: {}, explained: [0, 0] };
  // At most one map request in flight and one every 1.5 s.
  var loadMap = throttled(function () {
    var q = '?from=' + map.pts.length + (map.epoch === null ? '' : '&epoch=' + map.epoch);
    return api(sessionPath + '/map' + q).then(function (m) {
      if (!m.xy) return;
      if (m.epoch !== map.epoch || m.from === 0) map.pts = [];
      map.epoch = m.epoch;
      map.pts.length = m.from;
      Array.prototype.push.apply(map.pts, m.points);
      map.xy = m.xy;
      map.explained = m.explained;
      recolor();
      drawMap();
      if (map.pts.length < resultCount) loadMap(); // the server's copy was a moment behind
    });
  }, 1500);
  function recolor() {
    var counts = {};
    map.pts.forEach(function (p) { if (p.tag) counts[p.tag] = (counts[p.tag] || 0) + 1; });
    var tags = Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a] || (a < b ? -1 : 1); });
    map.colorOf = {};
    tags.slice(0, PALETTE.length).forEach(function (t, i) { map.colorOf[t] = PALETTE[i]; });
    var lg = $('legend');
    lg.textContent = '';
    var untagged = map.pts.length;
    tags.forEach(function (t) { untagged -= counts[t]; });
    var other = 0;
    tags.forEach(function (t, i) {
      if (i >= PALETTE.length) { other += counts[t]; return; }
      var li = el('li', '', lg); var dot = el('i', '', li); dot.style.background = PALETTE[i];
      li.appendChild(document.createTextNode(t + ' (' + counts[t] + ')'));
    });
    if (other) { var o = el('li', '', lg); el('i', '', o).style.background = OTHER; o.appendChild(document.createTextNode('other tags (' + other + ')')); }
    if (untagged && tags.length) { var u = el('li', '', lg); el('i', '', u).style.background = css('--muted'); u.appendChild(document.createTextNode('no tags (' + untagged + ')')); }
  }
  function drawMap() {
    var canvas = $('map');
    var c = sized(canvas);
    var g = c.g, n = Math.min(map.pts.length, map.xy.length / 2);
    map.screen = new Array(n);
    canvas.setAttribute('data-points', String(n));
    if (!n) {
      g.fillStyle = css('--muted'); g.font = '14px system-ui, sans-serif';
      g.fillText('No stored tracks yet.', 12, 24);
      return;
    }
    var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity, i;
    for (i = 0; i < n; i++) {
      var x = map.xy[2 * i], y = map.xy[2 * i + 1];
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
    var pad = 12, sx = (c.w - 2 * pad) / ((x1 - x0) || 1), sy = (c.h - 2 * pad) / ((y1 - y0) || 1);
    var s = Math.min(sx, sy);
    var ox = (c.w - s * (x1 - x0)) / 2, oy = (c.h - s * (y1 - y0)) / 2;
    for (i = 0; i < n; i++) map.screen[i] = [ox + (map.xy[2 * i] - x0) * s, c.h - (oy + (map.xy[2 * i + 1] - y0) * s)];
    // one path per colour: a few fills for thousands of points
    var groups = {};
    var none = css('--muted'), other = OTHER;
    for (i = 0; i < n; i++) {
      var t = map.pts[i].tag;
      var col = t ? (map.colorOf[t] || other) : none;
      (groups[col] = groups[col] || []).push(i);
    }
    var r = n > 1500 ? 2.2 : 3;
    // Each colour's dot drawn once into a small canvas, then stamped: far cheaper than an arc
    // per point (the page may have no GPU).
    Object.keys(groups).forEach(function (col) {
      var sp = sprite(col, r);
      groups[col].forEach(function (j) { var p = map.screen[j]; g.drawImage(sp.c, p[0] - sp.h, p[1] - sp.h, sp.s, sp.s); });
    });
    g.lineWidth = 1.5;
    Object.keys(map.near).forEach(function (k) {
      var p = map.screen[k]; if (!p) return;
      g.beginPath(); g.arc(p[0], p[1], r + 3, 0, 6.2832); g.strokeStyle = css('--fg'); g.stroke();
    });
    [map.selected, map.cursor].forEach(function (k, z) {
      var p = map.screen[k]; if (!p) return;
      g.beginPath(); g.arc(p[0], p[1], r + 5, 0, 6.2832); g.lineWidth = z ? 2 : 3; g.strokeStyle = css('--accent'); g.stroke();
    });
    g.fillStyle = css('--muted'); g.font = '11px system-ui, sans-serif';
    $('map-info').textContent = n + ' tracks. Axes: the first two principal components of the stored vectors, computed by the server (' +
      Math.round(map.explained[0] * 100) + '% and ' + Math.round(map.explained[1] * 100) + '% of the variance).';
  }
  var sprites = {};
  function sprite(col, r) {
    var dpr = window.devicePixelRatio || 1, key = col + '/' + r + '/' + dpr;
    if (!sprites[key]) {
      var size = Math.ceil(2 * r + 2), c = document.createElement('canvas');
      c.width = c.height = Math.ceil(size * dpr);
      var g = c.getContext('2d');
      g.scale(dpr, dpr);
      g.globalAlpha = 0.85; g.fillStyle = col;
      g.beginPath(); g.arc(size / 2, size / 2, r, 0, 6.2832); g.fill();
      sprites[key] = { c: c, s: size, h: size / 2 };
    }
    return sprites[key];
  }
  function hit(mx, my) {
    var best = -1, bd = 100;
    for (var i = 0; i < map.screen.length; i++) {
      var p = map.screen[i], dx = p[0] - mx, dy = p[1] - my, d = dx * dx + dy * dy;
      if (d < bd) { bd = d; best = i; }
    }
    return best;
  }
  function label(p) { return p.artist + ' - ' + p.title; }
  function showTip(i) {
    var tip = $('map-tip');
    if (i < 0 || !map.screen[i]) { tip.hidden = true; return; }
    var p = map.screen[i], w = $('map').getBoundingClientRect().width;
    tip.textContent = label(map.pts[i]) + (map.pts[i].tag ? '  (' + map.pts[i].tag + ')' : '');
    tip.hidden = false;
    tip.style.left = Math.max(0, Math.min(w - tip.offsetWidth, p[0] + 10)) + 'px';
    tip.style.top = Math.max(0, p[1] - 30) + 'px';
  }
  $('map').addEventListener('mousemove', function (ev) {
    var r = ev.currentTarget.getBoundingClientRect();
    showTip(hit(ev.clientX - r.left, ev.clientY - r.top));
  });
  $('map').addEventListener('mouseleave', function () { showTip(map.cursor); });
  $('map').addEventListener('click', function (ev) {
    var r = ev.currentTarget.getBoundingClientRect();
    var i = hit(ev.clientX - r.left, ev.clientY - r.top);
    if (i >= 0) select(i);
  });
  // Keyboard: arrows move a cursor to the nearest track in that direction, Enter or Space lists its neighbours.
  $('map').addEventListener('keydown', function (ev) {
    var dirs = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (!map.screen.length) return;
    if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); if (map.cursor >= 0) select(map.cursor); return; }
    if (ev.key === 'Escape') { map.cursor = -1; showTip(-1); drawMap(); return; }
    var d = dirs[ev.key];
    if (!d) return;
    ev.preventDefault();
    if (map.cursor < 0) map.cursor = map.selected >= 0 ? map.selected : 0;
    else {
      var c = map.screen[map.cursor], best = -1, bs = Infinity;
      for (var i = 0; i < map.screen.length; i++) {
        var p = map.screen[i], dx = p[0] - c[0], dy = p[1] - c[1];
        var along = dx * d[0] + dy * d[1];
        if (along <= 0.5) continue;
        var score = along + 2 * Math.abs(dx * d[1] - dy * d[0]);
        if (score < bs) { bs = score; best = i; }
      }
      if (best >= 0) map.cursor = best;
    }
    drawMap();
    showTip(map.cursor);
  });
  function select(i) {
    map.selected = i;
    map.cursor = i;
    var p = map.pts[i];
    $('sel').textContent = 'Nearest to ' + label(p) + ':';
    $('nearest').textContent = '';
    map.near = {};
    api(sessionPath + '/similar?result=' + encodeURIComponent(p.id) + '&k=10').then(function (r) {
      if (!r.nearest) { $('sel').textContent = r.error || 'No answer'; return; }
      var ol = $('nearest');
      ol.textContent = '';
      map.near = {};
      var index = {};
      map.pts.forEach(function (q, j) { index[q.id] = j; });
      r.nearest.forEach(function (t) {
        var li = el('li', '', ol);
        var b = el('button', '', li);
        b.type = 'button';
        b.textContent = t.artist + ' - ' + t.title;
        b.setAttribute('data-id', t.id);
        var j = index[t.id];
        if (j !== undefined) { map.near[j] = true; b.onclick = function () { select(j); }; }
        var sc = el('span', 'score', li);
        sc.textContent = ' ' + t.score.toFixed(3);
      });
      drawMap();
    }).catch(function (e) { $('sel').textContent = e.message; });
    drawMap();
  }
  window.chaarfmMap = {
    points: function () {
      return map.screen.map(function (s, i) { return { id: map.pts[i].id, artist: map.pts[i].artist, title: map.pts[i].title, tag: map.pts[i].tag, x: s[0], y: s[1] }; });
    },
  };
  var resizeFrame = 0;
  window.addEventListener('resize', function () {
    if (!resizeFrame) resizeFrame = requestAnimationFrame(function () { resizeFrame = 0; drawMap(); drawRate(); showTip(map.cursor); });
  });
  setInterval(refresh, 1000);
  setInterval(loadRate, 15000);
  refresh();

  // Log lines arrive in bursts (one per result): added in one go per frame.
  var pendingLog = [], logFrame = 0;
  function logSoon(message, level) {
    pendingLog.push([message, level]);
    if (pendingLog.length > 500) pendingLog.splice(0, pendingLog.length - 500);
    if (!logFrame) logFrame = requestAnimationFrame(function () { logFrame = 0; logLines(pendingLog.splice(0)); });
  }
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
        logSoon(m.message, m.level);
        refresh();
      } else if (m.type === 'progress') {
        progress[m.job_id] = { stage: m.stage, fraction: m.fraction };
        workersSoon();
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
