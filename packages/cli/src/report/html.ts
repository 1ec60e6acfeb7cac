import { certifiedAccuracySvg } from '../plot.js';
import { SOURCE_LABEL } from '../summary.js';
import type { ReportRun } from './data.js';

/** Written into every report, so `ablate report` can tell a report of its own (which it may replace) from any other file. */
export const REPORT_MARK = '<meta name="generator" content="ablate report">';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** JSON safe inside a <script> element: no `<` (so no `</script>`), and U+2028/9 escaped. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)}%`);

/** The metrics table of one run: `summarize`'s numbers, as the paper names them. */
function metricsHtml(run: ReportRun): string {
  const s = run.summary;
  const rows: [string, string][] = [['images', String(s.count)]];
  if (s.attack) {
    rows.push([`clean accuracy (${SOURCE_LABEL[s.accuracySource]})`, pct(s.accuracy)]);
    rows.push(['median adversarial magnitude (none found = +∞)', s.attack.medianAdversarialMagnitude === null ? '+∞' : `${s.attack.medianAdversarialMagnitude} ${s.unit}`]);
    rows.push(['no adversarial found', String(s.attack.notFound)]);
    rows.push(['misclassified or abstained originals (magnitude 0)', String(s.attack.misclassified)]);
  } else {
    if (s.accuracySource === 'predict') rows.push([`PREDICT accuracy (${SOURCE_LABEL.predict})`, `${pct(s.accuracy)} (abstained ${pct(s.abstainRate)})`]);
    if (s.certifyAccuracy !== null) rows.push([`CERTIFY accuracy (${SOURCE_LABEL.certify})`, `${pct(s.certifyAccuracy)} (abstained ${pct(s.certifyAbstainRate)})`]);
    rows.push(['median certified robustness (misclassified/abstained = −∞)', s.medianCertifiedRadius === null ? '−∞' : `${s.medianCertifiedRadius} ${s.unit}`]);
  }
  if (s.samples) rows.push(['samples per image (base-classifier evaluations)', `mean ${+s.samples.mean.toFixed(1)}, median ${s.samples.median}`]);
  if (s.deterministic) rows.push(['certificates', 'deterministic (α = 0)']);
  return `<table class="metrics">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

/**
 * The self-contained report page: inline CSS, inline JavaScript and inline SVG, no request to anything (it opens
 * from file://). The rows and thumbnails travel as JSON in the page; the table renders one page at a time, so a
 * 10 000-image run stays responsive.
 */
export function reportHtml(runs: readonly ReportRun[]): string {
  const chartRuns = runs.filter((r) => Object.keys(r.summary.attack?.empiricalAccuracy ?? r.summary.certifiedAccuracy).length > 0);
  const chart = chartRuns.length ? certifiedAccuracySvg(chartRuns.map((r) => r.summary)).replace(/^<\?xml[^>]*>\s*/, '') : '<p class="note">No run has a certified radius to plot.</p>';
  const data = runs.map((r) => ({
    name: r.name,
    attack: Boolean(r.summary.attack),
    unit: r.summary.unit,
    hasPredict: r.rows.some((x) => x.predict !== undefined),
    hasConfirmed: r.rows.some((x) => x.confirmed !== undefined),
    rows: r.rows,
    images: r.images,
    adversarial: r.adversarial,
    curve: r.summary.attack ? r.summary.attack.empiricalAccuracy : r.summary.certifiedAccuracy,
  }));
  const cards = runs
    .map(
      (r, i) => `<section class="run" data-run="${i}">
<h2>${esc(r.name)}${r.summary.perturbation ? ` <small>${esc(r.summary.perturbation)}${r.command ? ` · ${esc(r.command)}` : ''}</small>` : ''}</h2>
${metricsHtml(r)}
${r.imagesNote ? `<p class="note">${esc(r.imagesNote)}</p>` : ''}
<details><summary>config</summary><pre>${esc(JSON.stringify(r.config, null, 2))}</pre></details>
</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
${REPORT_MARK}
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>ablate report: ${esc(runs.map((r) => r.name).join(', '))}</title>
<style>
:root { font-family: system-ui, sans-serif; color: #222; background: #fafafa; }
body { margin: 0 auto; max-width: 1100px; padding: 1rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin: 0 0 .5rem; } h2 small { color: #666; font-weight: normal; }
.runs { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
.run { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .8rem; }
table.metrics th { text-align: left; font-weight: normal; color: #555; padding-right: 1rem; } table.metrics td { font-variant-numeric: tabular-nums; }
pre { font-size: .75rem; max-height: 20rem; overflow: auto; background: #f4f4f4; padding: .5rem; }
.chart { background: #fff; border: 1px solid #ddd; border-radius: 6px; margin: 1rem 0; padding: .5rem; overflow-x: auto; }
.chart svg { max-width: 100%; height: auto; }
.controls { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: center; margin: .5rem 0; }
.controls label { font-size: .9rem; }
table.gallery { border-collapse: collapse; width: 100%; background: #fff; font-variant-numeric: tabular-nums; }
table.gallery th, table.gallery td { border-bottom: 1px solid #eee; padding: 2px 6px; text-align: right; }
table.gallery th { position: sticky; top: 0; background: #f0f0f0; cursor: pointer; }
table.gallery td.img { text-align: center; }
canvas.thumb, img.thumb { width: 56px; height: 56px; image-rendering: pixelated; border: 1px solid #ccc; vertical-align: middle; }
tr.wrong td.pred { color: #c00; font-weight: bold; } tr.abstain td.pred { color: #a60; }
.note { color: #666; font-size: .9rem; }
.pager { display: flex; gap: .5rem; align-items: center; margin: .5rem 0; }
@media (max-width: 600px) { table.gallery .wide { display: none; } }
</style>
</head>
<body>
<h1>ablate report</h1>
<div class="runs">
${cards}
</div>
<h2>Certified accuracy vs. radius</h2>
<div class="chart" id="chart">${chart}</div>
<h2>Images</h2>
<div class="controls">
<label>run <select id="run">${runs.map((r, i) => `<option value="${i}">${esc(r.name)}</option>`).join('')}</select></label>
<label>show <select id="filter">
<option value="all">all</option><option value="correct">correct</option><option value="misclassified">misclassified</option><option value="abstained">abstained</option><option value="certified">certified (correct, radius ≥ 0)</option><option value="found">adversarial found</option><option value="notfound">no adversarial found</option>
</select></label>
<label>radius ≥ <input id="min-radius" type="number" min="0" step="1" style="width:5rem" placeholder="any"></label>
<label>sort <select id="sort">
<option value="index">index</option><option value="radius-desc">radius, largest first</option><option value="radius-asc">radius, smallest first</option><option value="plower-asc">pLower, lowest first</option><option value="plower-desc">pLower, highest first</option><option value="samples-desc">samples, most first</option><option value="magnitude-asc">adversarial magnitude, smallest first</option>
</select></label>
<label>per page <select id="page-size"><option>50</option><option selected>100</option><option>500</option><option>1000</option></select></label>
</div>
<p class="note">Radius filter and sort use the paper's convention: a misclassified or abstained image has certified radius −∞, so the share of images with radius ≥ ρ is the certified accuracy at ρ.</p>
<div class="pager"><button id="prev">‹ previous</button><span id="page"></span><button id="next">next ›</button><span id="count" class="note"></span></div>
<table class="gallery" id="gallery"><thead></thead><tbody></tbody></table>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>
${CLIENT_JS}
</script>
</body>
</html>
`;
}

/** The page's script: filter, sort and page the rows of the chosen run; draw thumbnails on canvases. */
const CLIENT_JS = String.raw`(function () {
  'use strict';
  var runs = JSON.parse(document.getElementById('report-data').textContent);
  var $ = function (id) { return document.getElementById(id); };
  var state = { run: 0, page: 0 };
  function certified(r) { return r.correct === true && r.prediction !== null && r.radius !== null ? r.radius : -Infinity; }
  function decodeB64(s) { var b = atob(s), a = new Uint8Array(b.length); for (var i = 0; i < b.length; i++) a[i] = b.charCodeAt(i); return a; }
  function thumb(run, index) {
    if (!run.images || !run.images.pixels[index]) return document.createTextNode('—');
    var shape = run.images.shape, C = shape[0], H = shape[1], W = shape[2];
    var px = decodeB64(run.images.pixels[index]);
    var c = document.createElement('canvas'); c.width = W; c.height = H; c.className = 'thumb'; c.title = 'image ' + index;
    var ctx = c.getContext('2d'), img = ctx.createImageData(W, H);
    for (var p = 0; p < H * W; p++) {
      var r = px[p], g = C === 3 ? px[H * W + p] : r, b = C === 3 ? px[2 * H * W + p] : r;
      img.data[4 * p] = r; img.data[4 * p + 1] = g; img.data[4 * p + 2] = b; img.data[4 * p + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return c;
  }
  function fmt(x, digits) { return x === null || x === undefined ? '—' : digits === undefined ? String(x) : x.toFixed(digits); }
  function selected() {
    var run = runs[state.run];
    var f = $('filter').value, minText = $('min-radius').value.trim(), min = minText === '' ? null : Number(minText);
    var rows = run.rows.filter(function (r) {
      if (f === 'correct' && !(r.correct === true && r.prediction !== null)) return false;
      if (f === 'misclassified' && !(r.correct === false && r.prediction !== null)) return false;
      if (f === 'abstained' && !(r.prediction === null && !run.attack)) return false;
      if (f === 'certified' && certified(r) === -Infinity) return false;
      if (f === 'found' && !(run.attack && r.magnitude !== null)) return false;
      if (f === 'notfound' && !(run.attack && r.magnitude === null)) return false;
      if (min !== null && !Number.isNaN(min)) {
        if (run.attack) { if (!(r.magnitude === null || r.magnitude >= min)) return false; }
        else if (!(certified(r) >= min)) return false;
      }
      return true;
    });
    var key = $('sort').value;
    var by = {
      index: function (a, b) { return a.index - b.index; },
      'radius-desc': function (a, b) { return certified(b) - certified(a) || a.index - b.index; },
      'radius-asc': function (a, b) { return certified(a) - certified(b) || a.index - b.index; },
      'plower-asc': function (a, b) { return (a.pLower === null ? 2 : a.pLower) - (b.pLower === null ? 2 : b.pLower) || a.index - b.index; },
      'plower-desc': function (a, b) { return (b.pLower === null ? -1 : b.pLower) - (a.pLower === null ? -1 : a.pLower) || a.index - b.index; },
      'samples-desc': function (a, b) { return (b.samples || 0) - (a.samples || 0) || a.index - b.index; },
      'magnitude-asc': function (a, b) { var x = a.magnitude === null || a.magnitude === undefined ? Infinity : a.magnitude, y = b.magnitude === null || b.magnitude === undefined ? Infinity : b.magnitude; return (x - y) || a.index - b.index; }
    }[key];
    var sorted = rows.slice();
    sorted.sort(function (a, b) { var d = by(a, b); return Number.isNaN(d) ? 0 : d; });
    return sorted;
  }
  function header(run) {
    var cols = ['image'];
    if (run.attack) cols.push('adversarial');
    cols.push('index', 'label', run.attack ? 'original' : 'prediction');
    if (run.hasPredict) cols.push('PREDICT');
    if (run.attack) cols.push('magnitude'); else cols.push('radius', 'pLower');
    if (run.attack && run.hasConfirmed) cols.push('confirmed', 'search magnitude');
    cols.push('samples');
    var tr = document.createElement('tr');
    cols.forEach(function (c) { var th = document.createElement('th'); th.textContent = c; tr.appendChild(th); });
    var thead = $('gallery').tHead; thead.textContent = ''; thead.appendChild(tr);
  }
  function render() {
    var run = runs[state.run];
    var rows = selected();
    var size = Number($('page-size').value);
    var pages = Math.max(1, Math.ceil(rows.length / size));
    if (state.page >= pages) state.page = pages - 1;
    var from = state.page * size, to = Math.min(rows.length, from + size);
    header(run);
    var body = document.createElement('tbody');
    for (var i = from; i < to; i++) {
      var r = rows[i];
      var tr = document.createElement('tr');
      tr.dataset.index = String(r.index);
      if (!run.attack && r.prediction === null) tr.className = 'abstain';
      else if (r.correct === false) tr.className = 'wrong';
      var cell = function (content, cls) { var td = document.createElement('td'); if (cls) td.className = cls; if (typeof content === 'string') td.textContent = content; else td.appendChild(content); tr.appendChild(td); return td; };
      cell(thumb(run, r.index), 'img');
      if (run.attack) {
        var adv = run.adversarial[r.index];
        if (adv) { var im = document.createElement('img'); im.src = adv; im.className = 'thumb adv'; im.alt = 'adversarial example of image ' + r.index; cell(im, 'img'); }
        else cell(r.magnitude === null ? 'none found' : '—', 'img');
      }
      cell(String(r.index));
      cell(fmt(r.label));
      cell(run.attack ? (r.magnitude === 0 ? 'misclassified' : 'correct') : r.prediction === null ? 'abstained' : String(r.prediction), 'pred');
      if (run.hasPredict) cell(r.predict === undefined ? '—' : r.predict === null ? 'abstained' : String(r.predict));
      if (run.attack) {
        cell(r.magnitude === null ? '+∞ (none found)' : String(r.magnitude) + ' ' + run.unit, 'mag');
        if (run.hasConfirmed) {
          var cf = r.confirmed;
          cell(cf === undefined ? '—' : cf === null ? 'none confirmed' : (cf.prediction === null ? 'abstained' : String(cf.prediction)) + ' (n = ' + fmt(cf.n) + ')', 'confirmed');
          cell(r.searchMagnitude === undefined || r.searchMagnitude === null ? '—' : String(r.searchMagnitude) + ' ' + run.unit, 'search');
        }
      } else {
        var c = certified(r);
        var td = cell(c === -Infinity ? (r.radius === null ? '−∞' : '−∞ (' + r.radius + ')') : String(r.radius), 'radius');
        if (c === -Infinity && r.radius !== null) td.title = 'misclassified: counts as −∞ (radius ' + r.radius + ' certifies the wrong class)';
        cell(fmt(r.pLower, 4), 'plower');
      }
      cell(fmt(r.samples), 'wide');
      body.appendChild(tr);
    }
    var table = $('gallery');
    table.replaceChild(body, table.tBodies[0]);
    $('page').textContent = 'page ' + (state.page + 1) + ' of ' + pages;
    $('count').textContent = rows.length + ' of ' + run.rows.length + ' images' + (rows.length ? ', showing ' + (from + 1) + '–' + to : '');
    $('count').dataset.matching = String(rows.length);
    $('prev').disabled = state.page === 0;
    $('next').disabled = state.page >= pages - 1;
  }
  function reset() { state.page = 0; render(); }
  $('run').addEventListener('change', function () { state.run = Number($('run').value); reset(); });
  ['filter', 'sort', 'page-size'].forEach(function (id) { $(id).addEventListener('change', reset); });
  $('min-radius').addEventListener('input', reset);
  $('prev').addEventListener('click', function () { state.page--; render(); });
  $('next').addEventListener('click', function () { state.page++; render(); });
  render();
  document.body.dataset.ready = 'true';
})();`;
