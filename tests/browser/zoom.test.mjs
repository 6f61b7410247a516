// tests/browser/zoom.test.mjs — zoom loads detail (issue 18): a chart of a
// long series is drawn from ~1,000 thinned points; dragging over 1% of it
// fetches that window (the history API's from/to) and draws every real
// point in it, within 200 ms of the fetch starting; a double click goes
// back to the whole series. The run has 1,000,000 points of one series,
// with a spike inside the window that the thinned overview also keeps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempStore, startServer, launchBrowser, openPage, post, SHOTS } from './lib.mjs';

const N = 1000000;
let st, srv, browser, base, id;
const errors = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  st = tempStore();
  st.cli('init', st.dir);
  srv = await startServer(st);
  base = srv.url;
  const run = await post(base, '/api/v1/runs', { project: 'zoom', name: 'long' });
  id = run.id;
  for (let from = 0; from < N; from += 100000) {
    const metrics = [];
    for (let s = from; s < from + 100000; s++)
      metrics.push({ key: 'loss', value: s === 505050 ? 50 : 1 / (1 + s / 1000) + (s % 7) * 1e-4, step: s });
    await post(base, `/api/v1/runs/${id}/metrics?sync=1`, { metrics });
  }
  // a system sample in bytes: SI labels, against wall time
  const sys = [];
  for (let i = 0; i < 30; i++) sys.push({ key: 'sys/rss_bytes', value: 2.1e9 + i * 1e7, step: i, timestamp: 1.7e9 + 5 * i });
  await post(base, `/api/v1/runs/${id}/metrics?sync=1`, { metrics: sys });
  await post(base, `/api/v1/runs/${id}/finish`, {});
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (st) st.remove();
  assert.deepEqual(errors, [], 'no page errors');
});

test('dragging over 1% of a 1M-point series draws every point of the window', async () => {
  const { ctx, page } = await openPage(browser, errors);
  await page.goto(`${base}/run/${id}`);
  const chart = '.chart[data-key="loss"]';
  await page.waitForSelector(`${chart}[data-ready="1"]`);
  const over = await page.$(`${chart} .u-over`);
  const box = await over.boundingBox();
  const xr = await page.$eval(chart, (c) => c.dataset.xRange.split(',').map(Number));
  assert.ok(xr[0] <= 0 && xr[1] >= N - 1, `the whole series first: ${xr}`);
  // drag over about 1% of the width, around step 505,000
  const px = (step) => box.x + (box.width * (step - xr[0])) / (xr[1] - xr[0]);
  const a = px(500000), b = px(510000);
  const y = box.y + box.height / 2;
  await page.mouse.move(a, y);
  await page.mouse.down();
  await page.mouse.move(b, y, { steps: 5 });
  const t0 = Date.now();
  await page.mouse.up();
  await page.waitForFunction((sel) => /^\d+,\d+$/.test(document.querySelector(sel).dataset.window || ''), chart);
  const elapsed = Date.now() - t0 - 120; // the debounce is not the fetch
  const [from, to] = await page.$eval(chart, (c) => c.dataset.window.split(',').map(Number));
  assert.ok(to - from > 5000 && to - from < 20000, `a window of about 1%: ${from}..${to}`);
  const drawn = await page.$eval(chart, (c) => Number(c.dataset.windowPoints));
  assert.equal(drawn, to - from + 1, 'every real point of the window');
  const xr2 = await page.$eval(chart, (c) => c.dataset.xRange.split(',').map(Number));
  assert.deepEqual(xr2, [from, to], 'the x scale is the window');
  if (from <= 505050 && 505050 <= to) {
    const yr = await page.$eval(chart, (c) => c.dataset.yRange.split(',').map(Number));
    assert.ok(yr[1] >= 50, 'the spike is in the window');
  }
  assert.ok(elapsed < 200 * (process.env.CI ? 5 : 1), `drawn ${elapsed} ms after the fetch began`);
  console.log(`# zoom: ${drawn} points of ${from}..${to} drawn ${elapsed} ms after the fetch began`);
  await page.screenshot({ path: join(SHOTS, 'zoom-window.png') });
  // a double click: the whole series again
  await page.mouse.dblclick(box.x + box.width / 2, y);
  await page.waitForFunction((sel) => !document.querySelector(sel).dataset.window, chart);
  const xr3 = await page.$eval(chart, (c) => c.dataset.xRange.split(',').map(Number));
  assert.ok(xr3[0] <= 0 && xr3[1] >= N - 1, `back to the whole series: ${xr3}`);
  await ctx.close();
});

test('large values are labelled with SI prefixes, sys/* is drawn against wall time, charts come before params', async () => {
  const { ctx, page } = await openPage(browser, errors);
  await page.goto(`${base}/run/${id}`);
  const chart = '.chart[data-key="sys/rss_bytes"]';
  await page.waitForSelector(`${chart}[data-ready="1"]`);
  const labels = await page.$eval(chart, (c) => c.dataset.yTicks);
  assert.match(labels, /2\.\d+G/, `y labels in G: ${labels}`);
  assert.ok(labels.split('|').every((l) => l.length <= 6), `labels short enough for the axis: ${labels}`);
  const xr = await page.$eval(chart, (c) => c.dataset.xRange.split(',').map(Number));
  assert.ok(xr[0] > 1.6e9, `the x axis is wall time: ${xr}`);
  // hovering a single-series chart shows its value (uPlot's live legend)
  const loss = await page.$('.chart[data-key="loss"] .u-over');
  const lb = await loss.boundingBox();
  await page.mouse.move(lb.x + lb.width / 2, lb.y + lb.height / 2);
  const shown = await page.$eval('.chart[data-key="loss"] .u-legend', (l) => l.textContent);
  assert.match(shown, /loss\s*[-0-9.]+/, `the hovered value in the legend: ${shown}`);
  const order = await page.$$eval('[data-section]', (els) => els.map((x) => x.dataset.section));
  assert.ok(order.indexOf('metrics') < order.indexOf('params'), `the charts before the params: ${order}`);
  await ctx.close();
});
