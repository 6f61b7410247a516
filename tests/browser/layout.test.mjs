// tests/browser/layout.test.mjs — the web UI puts results first (issue 12):
// at 1,440×900 the runs table shows the final metrics in the first screen,
// under a group row ("metrics", "params") with short names; the name and id
// stay in view while the table scrolls sideways, also after sorting; a column
// can be pinned beside them; system metrics (sys/*) are out of the default
// columns, the compare page's first charts and the parallel coordinates'
// default; a metric with one point is drawn as a marker on a small axis
// around it (in log scale too); numeric headers sit right over their
// numbers; parallel-coordinates lines have the runs' colours; a query error's
// caret says the character the message says, as `cairn ls` does.
// Screenshots of each page go to tests/browser/screenshots/ (layout-*.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempStore, startServer, launchBrowser, post, cairnBin, SHOTS } from './lib.mjs';

const W = 1440, H = 900;
let st, srv, browser, base;
const ids = [];
const errors = [];
const EVAL_STEP = 10; // test_acc is logged once, at this step
const EVAL_TS = 1700000000; // and at this wall-clock time (seconds)

// 12 runs of a sweep with 14 params that differ (the table is wider than
// the screen), curves of train_loss and valid_acc, one final test_acc, and
// system samples.
before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  st = tempStore();
  st.cli('init', st.dir);
  srv = await startServer(st);
  base = srv.url;
  for (let i = 0; i < 12; i++) {
    const run = await post(base, '/api/v1/runs', {
      project: 'sweep', name: `trial-${String(i).padStart(2, '0')}`,
      params: {
        alpha: [0.0001, 0.001, 0.01][i % 3], batch_size: [32, 64, 128, 256][i % 4], dropout: 0.1 * (i % 5),
        weight_decay: [0, 1e-5, 1e-4][i % 3], optimizer: ['adam', 'sgd'][i % 2], model: ['mlp', 'cnn', 'resnet'][i % 3],
        hidden: 64 * (1 + (i % 4)), layers: 2 + (i % 3), warmup: 100 * (i % 4), seed: i, momentum: 0.8 + 0.05 * (i % 3),
        label_smoothing: 0.05 * (i % 2), scheduler: ['cosine', 'step', 'none'][i % 3], augment: i % 2 === 0,
      },
    });
    ids.push(run.id);
    const metrics = [];
    for (let s = 0; s < 50; s++) {
      metrics.push({ key: 'train_loss', value: 2 * Math.exp(-s * (i + 1) / 40), step: s });
      metrics.push({ key: 'valid_acc', value: 0.5 + 0.4 * (1 - Math.exp(-s * (i + 1) / 60)), step: s });
      metrics.push({ key: 'sys/cpu_percent', value: 50 + (s % 7), step: s });
      metrics.push({ key: 'sys/rss_bytes', value: 1e9 + s * 1e6, step: s });
    }
    metrics.push({ key: 'test_acc', value: 0.8 + i / 100, step: EVAL_STEP, timestamp: EVAL_TS });
    await post(base, `/api/v1/runs/${run.id}/metrics?sync=1`, { metrics });
    await post(base, `/api/v1/runs/${run.id}/finish`, { status: 'finished' });
  }
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (st) st.remove();
  assert.deepEqual(errors, [], 'no page errors');
});

async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: W, height: H } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push('page error: ' + e.message));
  return { ctx, page };
}

const box = (page, sel) => page.$eval(sel, (e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height, r: r.right, b: r.bottom }; });

function inViewport(b) {
  return b.x >= 0 && b.y >= 0 && b.r <= W && b.b <= H && b.w > 0;
}

async function runsTable(page, query = '') {
  await page.goto(base + '/runs' + query);
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-id]').length >= 12);
  await page.waitForSelector('.hcell[data-col="metrics.valid_acc"]');
}

test('runs table: the final metrics are in the first screen at 1,440×900, under a metrics group', async () => {
  const { ctx, page } = await newPage();
  await runsTable(page);
  for (const m of ['test_acc', 'train_loss', 'valid_acc']) {
    const b = await box(page, `.hcell[data-col="metrics.${m}"]`);
    assert.ok(inViewport(b), `metrics.${m} header in the viewport: ${JSON.stringify(b)}`);
    const cell = await box(page, `.vrow[data-id="${ids[0]}"] .cell[data-col="metrics.${m}"]`);
    assert.ok(inViewport(cell), `metrics.${m} value in the viewport`);
  }
  // metrics before params, short names under the group row
  const order = await page.$$eval('.vlabels .hcell', (cs) => cs.map((c) => c.dataset.col));
  assert.deepEqual(order.slice(0, 3), ['name', 'id', 'status']);
  const firstParam = order.findIndex((c) => c.startsWith('params.'));
  const lastMetric = order.findLastIndex((c) => c.startsWith('metrics.'));
  assert.ok(lastMetric < firstParam, `metrics before params: ${order.join(' ')}`);
  assert.equal(await page.textContent('.hcell[data-col="metrics.valid_acc"] .label'), 'valid_acc');
  assert.equal(await page.textContent('.hcell[data-col="params.alpha"] .label'), 'alpha');
  // system samples are not default columns (but can be chosen)
  assert.equal(order.filter((c) => c.startsWith('metrics.sys/')).length, 0, 'no sys/* column');
  await page.click('button:has-text("Columns")');
  assert.ok(await page.$('.chooser .opt:has-text("sys/cpu_percent") input'), 'sys/cpu_percent can be chosen');
  await page.click('.chooser button:has-text("Close")');
  // the group row: one "metrics" cell over exactly the metric columns, one "params" over the params
  const groups = await page.$$eval('.vgroups .gcell', (gs) => gs.map((g) => ({ g: g.dataset.group, text: g.textContent, x: g.getBoundingClientRect().x, r: g.getBoundingClientRect().right })).filter((g) => g.g));
  const mg = groups.filter((g) => g.g === 'metrics');
  assert.equal(mg.length, 1, 'one metrics group');
  assert.equal(mg[0].text, 'metrics');
  const m0 = await box(page, `.hcell[data-col="${order[3]}"]`), m1 = await box(page, `.hcell[data-col="${order[lastMetric]}"]`);
  assert.ok(Math.abs(mg[0].x - m0.x) < 1 && Math.abs(mg[0].r - m1.r) < 1, 'the metrics group spans the metric columns');
  assert.equal(groups.filter((g) => g.g === 'params').length, 1, 'one params group');
  await page.screenshot({ path: join(SHOTS, 'layout-runs.png') });
  await ctx.close();
});

// The name cells of the rows on screen, and the scroller's box.
async function namesInView(page) {
  return page.evaluate(() => {
    const sc = document.querySelector('.vscroll').getBoundingClientRect();
    const cells = [...document.querySelectorAll('.vrow[data-id] .cell[data-col="name"]')].filter((c) => {
      const r = c.getBoundingClientRect();
      return r.bottom > sc.top + 60 && r.top < sc.bottom;
    });
    // what is drawn at the middle of each name cell is the name cell itself (not a cell scrolled over it)
    return {
      n: cells.length,
      inside: cells.every((c) => {
        const r = c.getBoundingClientRect();
        const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return r.left >= sc.left && r.right <= sc.right && hit && c.contains(hit);
      }),
      first: cells.length ? cells[0].textContent : null,
    };
  });
}

test('runs table: the name and id stay in view while the table scrolls sideways', async () => {
  const { ctx, page } = await newPage();
  await runsTable(page);
  const before0 = await box(page, '.hcell[data-col="name"]');
  const wide = await page.$eval('.vscroll', (s) => s.scrollWidth > s.clientWidth + 200);
  assert.ok(wide, 'the table is wider than the screen');
  await page.$eval('.vscroll', (s) => { s.scrollLeft = s.scrollWidth; });
  await page.waitForTimeout(100);
  const after0 = await box(page, '.hcell[data-col="name"]');
  assert.ok(Math.abs(after0.x - before0.x) < 1, 'the name header did not move');
  const idb = await box(page, `.vrow[data-id="${ids[0]}"] .cell[data-col="id"]`);
  assert.ok(inViewport(idb), 'the id column is in view');
  const v = await namesInView(page);
  assert.ok(v.n >= 12 && v.inside, `names drawn in view: ${JSON.stringify(v)}`);
  // the last column is in view too: the table did scroll
  const last = await page.$eval('.vlabels .hcell:last-child', (c) => c.dataset.col);
  assert.ok(inViewport(await box(page, `.hcell[data-col="${last}"]`)));
  await page.screenshot({ path: join(SHOTS, 'layout-runs-scrolled.png') });
  await ctx.close();
});

test('runs table: sorting by a column keeps the names and the sorted column in view', async () => {
  const { ctx, page } = await newPage();
  await runsTable(page);
  await page.$eval('.vscroll', (s) => { s.scrollLeft = s.scrollWidth; });
  // the last param, at the far right, sorted descending: the rows change order, the names stay
  const cols = await page.$$eval('.vlabels .hcell', (cs) => cs.map((c) => c.dataset.col));
  const last = cols.findLast((c) => c.startsWith('params.'));
  assert.ok(inViewport(await box(page, `.hcell[data-col="${last}"]`)), `${last} is in view once scrolled`);
  const firstName = await page.$eval('.vrow[data-id] .cell[data-col="name"]', (c) => c.textContent);
  await page.click(`.hcell[data-col="${last}"]`);
  await page.waitForFunction((k) => new URLSearchParams(location.search).get('sort') === '-' + k, last);
  await page.waitForFunction(() => document.querySelector('.hcell.sorted') && document.querySelectorAll('.vrow[data-id]').length >= 12);
  await page.waitForTimeout(300);
  let v = await namesInView(page);
  assert.ok(v.n >= 12 && v.inside, `names in view after sorting: ${JSON.stringify(v)} (first was ${firstName})`);
  assert.ok(inViewport(await box(page, `.hcell[data-col="${last}"]`)), 'the sorted column is in view');
  const api = await (await fetch(`${base}/api/v1/runs?sort=-${last}&columns=name`)).json();
  const shown = await page.$$eval('.vrow[data-id] .cell[data-col="name"]', (cs) => cs.map((c) => c.textContent));
  assert.deepEqual(shown, api.runs.map((r) => r.name), 'the rows are in the new order');
  // a metric: with the default columns the sort key comes first among the metrics
  await page.click('.hcell[data-col="metrics.valid_acc"]');
  await page.waitForFunction(() => location.search.includes('sort=-metrics.valid_acc'));
  await page.waitForFunction(() => document.querySelector('.vrow[data-id] .cell[data-col="name"]')?.textContent === 'trial-11');
  const order = await page.$$eval('.vlabels .hcell', (cs) => cs.map((c) => c.dataset.col));
  assert.equal(order[3], 'metrics.valid_acc', 'the sort key is the first metric');
  v = await namesInView(page);
  assert.ok(v.inside, 'names in view');
  assert.ok(inViewport(await box(page, '.hcell[data-col="metrics.valid_acc"]')), 'the sorted metric is in view');
  await page.screenshot({ path: join(SHOTS, 'layout-runs-sorted.png') });
  await ctx.close();
});

test('runs table: a pinned column is frozen beside the name, in the URL', async () => {
  const { ctx, page } = await newPage();
  await runsTable(page);
  await page.hover('.hcell[data-col="params.optimizer"]');
  await page.click('.hcell[data-col="params.optimizer"] button.pin');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('pin') === 'params.optimizer');
  const order = await page.$$eval('.vlabels .hcell', (cs) => cs.map((c) => c.dataset.col));
  assert.deepEqual(order.slice(0, 3), ['name', 'id', 'params.optimizer']);
  await page.$eval('.vscroll', (s) => { s.scrollLeft = s.scrollWidth; });
  await page.waitForTimeout(100);
  const pinned = await box(page, `.vrow[data-id="${ids[0]}"] .cell[data-col="params.optimizer"]`);
  const id = await box(page, `.vrow[data-id="${ids[0]}"] .cell[data-col="id"]`);
  assert.ok(inViewport(pinned) && Math.abs(pinned.x - id.r) < 1, 'the pinned column sits after the id, in view');
  // a fresh page from the URL has it pinned; unpinning puts it back
  await page.reload();
  await page.waitForSelector('.hcell[data-col="params.optimizer"].frozen');
  await page.click('.hcell[data-col="params.optimizer"] button.pin');
  await page.waitForFunction(() => !new URLSearchParams(location.search).get('pin'));
  assert.equal(await page.$('.hcell[data-col="params.optimizer"].frozen'), null);
  await ctx.close();
});

// Pixels of the canvas (or canvases) under sel within `tol` of an #rrggbb colour.
async function colourPixels(page, sel, hex, tol = 24) {
  return page.$eval(sel, (root, [hex, tol]) => {
    const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    let n = 0;
    for (const c of root.tagName === 'CANVAS' ? [root] : root.querySelectorAll('canvas')) {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i += 4)
        if (d[i + 3] > 200 && Math.abs(d[i] - want[0]) <= tol && Math.abs(d[i + 1] - want[1]) <= tol && Math.abs(d[i + 2] - want[2]) <= tol) n++;
    }
    return n;
  }, [hex, tol]);
}

const rgbHex = (rgb) => '#' + rgb.match(/\d+/g).slice(0, 3).map((x) => Number(x).toString(16).padStart(2, '0')).join('');

test('a metric with one point: a marker on a small axis around it, in log scale and wall time too', async () => {
  const { ctx, page } = await newPage();
  const value = 0.8; // trial-00's test_acc
  const chart = '.chart[data-key="test_acc"][data-ready]';
  const ranges = () => page.$eval(chart, (c) => ({ x: c.dataset.xRange.split(',').map(Number), y: c.dataset.yRange.split(',').map(Number) }));
  for (const [q, shot] of [['', 'layout-single-point.png'], ['?log=1', 'layout-single-point-log.png'], ['?x=time', null]]) {
    await page.goto(`${base}/run/${ids[0]}${q}`);
    await page.waitForSelector(chart + ' canvas');
    const { x, y } = await ranges();
    const at = q === '?x=time' ? EVAL_TS : EVAL_STEP;
    assert.ok(x[0] < at && at < x[1] && x[1] - x[0] <= (q === '?x=time' ? 120 : 2), `x range ${x} around ${at} (${q})`);
    assert.ok(y[0] < value && value < y[1], `y range ${y} holds the value (${q})`);
    if (q === '?log=1') assert.ok(y[0] > 0 && y[1] / y[0] <= 4, `log y range ${y} is positive and small`);
    else assert.ok(y[1] - y[0] <= 0.2, `y range ${y} is small`);
    // the marker is drawn, in the run's colour
    const n = await colourPixels(page, chart, '#2563eb'); // the run page's one run: runColor(0)
    assert.ok(n >= 30, `marker pixels: ${n} (${q})`);
    assert.match(await page.textContent(chart + ' [data-testid="single-point"]'), /one point, 0\.8 at step 10/);
    if (shot) {
      await page.$eval(chart, (c) => c.scrollIntoView());
      await page.screenshot({ path: join(SHOTS, shot) });
    }
  }
  await ctx.close();
});

// The right edge of a cell's text (not of the cell).
const textRight = (page, sel) => page.$eval(sel, (e) => {
  const r = document.createRange();
  r.selectNodeContents(e);
  return r.getBoundingClientRect().right;
});

test('run page: numeric headers are right-aligned over their numbers', async () => {
  const { ctx, page } = await newPage();
  await page.goto(`${base}/run/${ids[0]}`);
  const table = '[data-section="metrics"] table.grid';
  await page.waitForSelector(table + ' tbody tr');
  const heads = await page.$$eval(table + ' thead th', (ths) => ths.map((t) => [t.textContent, getComputedStyle(t).textAlign]));
  assert.deepEqual(heads, [['metric', 'left'], ['last', 'right'], ['min', 'right'], ['max', 'right'], ['count', 'right'], ['step', 'right']]);
  for (let col = 2; col <= 6; col++) {
    const th = await textRight(page, `${table} thead th:nth-child(${col})`);
    const td = await textRight(page, `${table} tbody tr:first-child td:nth-child(${col})`);
    assert.ok(Math.abs(th - td) < 1.5, `column ${col}: header ends at ${th}, value at ${td}`);
  }
  await page.screenshot({ path: join(SHOTS, 'layout-run.png'), fullPage: true });
  await ctx.close();
});

test('compare page: aligned table, run colours in parallel coordinates, sys/* out of the defaults', async () => {
  const { ctx, page } = await newPage();
  const runs = ids.slice(0, 4);
  await page.goto(`${base}/compare?runs=${runs.join(',')}`);
  await page.waitForSelector('[data-testid="compare-table"] tbody tr');
  // the run columns' headers end where their numbers end
  const table = '[data-testid="compare-table"]';
  const row = await page.$$eval(`${table} tbody tr`, (rs) => rs.findIndex((r) => r.querySelector('th').textContent === 'metrics.valid_acc') + 1);
  assert.ok(row > 0, 'a metrics row');
  for (let col = 2; col <= 5; col++) {
    const thAlign = await page.$eval(`${table} thead th:nth-child(${col})`, (t) => getComputedStyle(t).textAlign);
    assert.equal(thAlign, 'right');
    const th = await textRight(page, `${table} thead th:nth-child(${col})`);
    const td = await textRight(page, `${table} tbody tr:nth-child(${row}) td:nth-child(${col})`);
    assert.ok(Math.abs(th - td) < 1.5, `run column ${col}: header ends at ${th}, value at ${td}`);
  }
  // first charts: the results; system metrics folded, drawn when opened
  await page.waitForSelector('.chart[data-key="valid_acc"][data-ready]');
  assert.equal(await page.$('.chart[data-key^="sys/"]'), null, 'no sys/* chart drawn by default');
  assert.match(await page.textContent('[data-testid="sys-charts"] summary'), /System metrics \(2\)/);
  // parallel coordinates: the default metric is not a system one, lines in the runs' colours
  await page.waitForSelector('canvas[data-testid="parcoords"]');
  const pcMetric = await page.inputValue('[data-section="parallel coordinates"] select');
  assert.ok(!pcMetric.startsWith('sys/'), `default parallel-coordinates metric ${pcMetric}`);
  await page.waitForTimeout(200); // drawn on the next frame
  const legend = await page.$$eval('[data-testid="compare-runs"] .swatch', (s) => s.map((e) => getComputedStyle(e).backgroundColor));
  assert.equal(legend.length, 4);
  const heads = await page.$$eval(`${table} thead .swatch`, (s) => s.map((e) => getComputedStyle(e).backgroundColor));
  assert.deepEqual(heads, legend, 'table swatches = legend colours');
  for (const rgb of legend) {
    const hex = rgbHex(rgb);
    const inPc = await colourPixels(page, 'canvas[data-testid="parcoords"]', hex, 6);
    assert.ok(inPc >= 100, `parallel coordinates draw ${hex}: ${inPc} pixels`);
    const inChart = await colourPixels(page, '.chart[data-key="valid_acc"]', hex, 6);
    assert.ok(inChart >= 50, `the valid_acc chart draws ${hex}: ${inChart} pixels`);
  }
  // the old colour ramp (blue to amber by metric) is gone: no pixel of its amber end
  assert.equal(await colourPixels(page, 'canvas[data-testid="parcoords"]', '#ea580c', 6), 0);
  await page.screenshot({ path: join(SHOTS, 'layout-compare.png'), fullPage: true });
  await page.click('[data-testid="sys-charts"] summary');
  await page.waitForSelector('.chart[data-key="sys/cpu_percent"][data-ready] canvas');
  await ctx.close();
});

// The CLI's caret line for a query: the number of spaces before '^'.
function cliCaret(query) {
  try {
    execFileSync(cairnBin(), ['ls', query], { env: st.env, cwd: st.dir, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    const lines = e.stderr.split('\n');
    const caret = lines.find((l) => /^\s*\^$/.test(l));
    return { message: lines[0], column: caret.indexOf('^') - 2 };
  }
  throw new Error('the query was accepted');
}

test('a query error: the caret says the character the message says, as the CLI marks it', async () => {
  const { ctx, page } = await newPage();
  await runsTable(page);
  for (const q of ['params.alpha > > 1', 'name = "é" and and', 'params.alpha >']) {
    await page.fill('input[aria-label="query"]', q);
    await page.press('input[aria-label="query"]', 'Enter');
    // the previous query's error stays on screen until this one's answer comes
    await page.waitForFunction((want) => {
      const el = document.querySelector('[data-testid="query-error-position"]');
      return el && el.textContent.split('\n')[0].trimEnd() === want;
    }, q);
    const message = await page.$eval('[data-testid="query-error"] div', (d) => d.textContent);
    const lines = (await page.textContent('[data-testid="query-error-position"]')).split('\n');
    assert.equal(lines[0].trimEnd(), q, 'the query');
    const caret = lines[1];
    const col = caret.indexOf('^');
    const cli = cliCaret(q);
    assert.equal(cli.message, 'error: ' + message, 'the same message as the CLI');
    assert.equal(col, cli.column, `caret column for ${q}`);
    const m = /at character (\d+)/.exec(message);
    if (m) {
      assert.equal(caret.slice(col), `^ at character ${m[1]}`);
      assert.equal(col, Number(m[1]) - 1, 'the caret is under character N');
      assert.equal(await page.textContent('[data-testid="query-error-position"] mark'), [...q][col]);
    } else {
      assert.match(message, /at the end/);
      assert.equal(caret.slice(col), '^ at the end');
      assert.equal(col, [...q].length);
    }
  }
  await page.screenshot({ path: join(SHOTS, 'layout-query-error.png') });
  await ctx.close();
});
