// tests/browser/numbers.test.mjs — the UI writes numbers exactly as the CLI
// does (issue 12: alpha=0.0001 was 1.000e-4 in the UI, 0.0001 in the CLI).
// One run carries a set of awkward values (ties that C rounds to even,
// exponent boundaries, subnormals, huge and tiny magnitudes, NaN and
// infinities, whole numbers past 1e12) and seeded random ones, as params and
// as one-point metrics; each view is read beside the CLI view it matches:
//
//   runs table cells        `cairn ls --columns KEY` (cli_fmt_num, "%.6g")
//   runs table tooltips     `cairn ls --format csv`  (shortest round-trip)
//   run page params/metrics `cairn show`             ("%.10g")
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempStore, startServer, launchBrowser, post, SHOTS } from './lib.mjs';

let st, srv, browser, base, id;
const errors = [];

const CURATED = [0.0001, 1e-5, 1e-7, 0.1, 0.1 + 0.2, 1 / 3, 2 / 3, 3.5, -0.75, 100.25,
  123456.5, 12345.25, 999999.5, 1234567.5, 9.9999995e-5, 0.000123456789, 0.00001234565,
  -2.5e-10, 1e-300, 5e-324, 1e21, 1e100, 6.02214076e23, 1.7976931348623157e308,
  123456789012.5, 1e12 + 0.5, 0, 3, -7, 999999999999, 1e13, 12345678901234];
const NONFINITE = [NaN, Infinity, -Infinity];

// A small seeded generator, so a failure names values that come back.
function* seeded(n) {
  let x = 20250612;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const a = x / 2147483648;
    x = (x * 1103515245 + 12345) % 2147483648;
    const e = Math.floor((x / 2147483648) * 25) - 12;
    yield i % 3 === 0 ? Math.round(a * 2 ** 20) / 2 ** 9 : (a - 0.5) * 10 ** e; // binary fractions and decimals
  }
}

const VALUES = [...CURATED, ...seeded(40), ...NONFINITE];
const key = (p, i) => `${p}${String(i).padStart(2, '0')}`;
const jsonNonFinite = (v) => (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity');

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  st = tempStore();
  st.cli('init', st.dir);
  srv = await startServer(st);
  base = srv.url;
  const params = {};
  const metrics = [];
  VALUES.forEach((v, i) => {
    params[key('p', i)] = Number.isFinite(v) ? v : { $float: jsonNonFinite(v) };
    metrics.push({ key: key('m', i), value: Number.isFinite(v) ? v : jsonNonFinite(v), step: 0 });
  });
  const run = await post(base, '/api/v1/runs', { project: 'numbers', name: 'numbers', params });
  id = run.id;
  await post(base, `/api/v1/runs/${id}/metrics?sync=1`, { metrics });
  await post(base, `/api/v1/runs/${id}/finish`, {});
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (st) st.remove();
  assert.deepEqual(errors, [], 'no page errors');
});

async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push('page error: ' + e.message));
  return { ctx, page };
}

const params = VALUES.map((_, i) => 'params.' + key('p', i));
const metrics = VALUES.map((_, i) => 'metrics.' + key('m', i));

// Differences between two {key: text} maps, with the value each key holds.
function mismatches(ui, cli) {
  const out = [];
  for (const k of Object.keys(cli)) {
    const v = VALUES[Number(/[pm](\d\d)/.exec(k)[1])];
    if (ui[k] !== cli[k]) out.push(`${k} (${v}): UI ${JSON.stringify(ui[k])}, CLI ${JSON.stringify(cli[k])}`);
  }
  return out;
}

test('runs table cells are written as `cairn ls` writes them, tooltips as its CSV', async () => {
  // the CLI: one column at a time (the value is the last line), and the CSV
  const cliCell = {};
  for (const c of [...params, ...metrics]) {
    const lines = st.cli('ls', '--columns', c, '-p', 'numbers').split('\n').filter((l) => l.trim());
    cliCell[c] = lines[lines.length - 1].trim();
  }
  const csv = st.cli('ls', '--format', 'csv', '-p', 'numbers', '--columns', [...params, ...metrics].join(',')).split('\n');
  const head = csv[0].split(','), row = csv[1].split(',');
  const cliFull = Object.fromEntries(head.map((h, i) => [h, row[i]]));
  assert.equal(cliFull['params.p00'], '0.0001');

  const { ctx, page } = await newPage();
  await page.goto(`${base}/runs?project=numbers&cols=name,${[...params, ...metrics].join(',')}`);
  const cells = `.vrow[data-id="${id}"] .cell[data-col]`;
  await page.waitForSelector(cells);
  const ui = await page.$$eval(cells, (cs) => cs.map((c) => [c.dataset.col, c.textContent, c.title, c.classList.contains('num')]));
  const uiCell = Object.fromEntries(ui.map(([c, t]) => [c, t]));
  const uiFull = Object.fromEntries(ui.map(([c, , t]) => [c, t]));
  assert.equal(uiCell['params.p00'], '0.0001', 'alpha=0.0001 reads 0.0001');
  assert.deepEqual(mismatches(uiCell, cliCell), [], 'cells as `cairn ls`');
  assert.deepEqual(mismatches(uiFull, Object.fromEntries(Object.entries(cliFull).filter(([k]) => k !== 'name'))), [], 'tooltips as the CSV');
  assert.ok(ui.filter(([c]) => c !== 'name').every(([, , , num]) => num), 'every value right-aligned as a number');
  await page.screenshot({ path: join(SHOTS, 'numbers-runs.png') });
  await ctx.close();
});

// `cairn show`'s params and metrics sections: {key: value} and {key: [last, min, max]}.
function show() {
  const out = { params: {}, metrics: {} };
  let sect = null;
  for (const line of st.cli('show', id).split('\n')) {
    if (/^\S/.test(line)) sect = line.trim();
    else if (sect === 'params' || sect === 'metrics') {
      const f = line.trim().split(/\s+/);
      if (f[0] === 'KEY' || !f[0]) continue;
      out[sect][f[0]] = sect === 'params' ? f[1] : f.slice(1, 4);
    }
  }
  return out;
}

test('run page params and metrics are written as `cairn show` writes them', async () => {
  const cli = show();
  assert.equal(Object.keys(cli.params).length, VALUES.length, 'every param in `cairn show`');
  const { ctx, page } = await newPage();
  await page.goto(`${base}/run/${id}`);
  await page.waitForSelector('[data-section="params"] table.kv td');
  await page.waitForSelector('[data-section="metrics"] table.grid tbody tr');
  const uiParams = await page.$$eval('[data-section="params"] table.kv tr', (rs) => Object.fromEntries(rs.map((r) =>
    [r.querySelector('th').textContent, r.querySelector('td').textContent])));
  assert.deepEqual(mismatches(uiParams, cli.params), [], 'params as `cairn show`');
  const uiMetrics = await page.$$eval('[data-section="metrics"] table.grid tbody tr', (rs) => Object.fromEntries(rs.map((r) => {
    const td = [...r.querySelectorAll('td')].map((t) => t.textContent);
    return [td[0], td.slice(1, 4)];
  })));
  const flat = (m) => Object.fromEntries(Object.entries(m).flatMap(([k, v]) => v.map((x, j) => [`${k}.${['last', 'min', 'max'][j]}`, x])));
  assert.equal(Object.keys(cli.metrics).length, VALUES.length, 'every metric in `cairn show`');
  assert.deepEqual(mismatches(flat(uiMetrics), flat(cli.metrics)), [], 'metrics as `cairn show`');
  await page.screenshot({ path: join(SHOTS, 'numbers-run.png'), fullPage: true });
  await ctx.close();
});
