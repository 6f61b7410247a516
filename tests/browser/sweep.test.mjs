// tests/browser/sweep.test.mjs — a sweep in the web UI: a real grid sweep
// (`cairn sweep`) of six trials; its run page links to the compare page of
// its trials, which draws the parallel coordinates against the sweep's
// objective, lists the trials best first and charts the objective.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tempStore, startServer, launchBrowser, openPage, SHOTS } from './lib.mjs';

let st, srv, browser, sweepId;
const errors = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  st = tempStore();
  st.cli('init', st.dir);
  // a deterministic objective: loss = (x - 0.3)^2 + k / 10, printed
  writeFileSync(join(st.dir, 'obj.sh'), '#!/bin/sh\nawk -v x="$1" -v k="$2" \'BEGIN { print "loss=" ((x - 0.3) ^ 2 + k / 10) }\'\n');
  chmodSync(join(st.dir, 'obj.sh'), 0o755);
  writeFileSync(join(st.dir, 'grid.yaml'),
    'method: grid\nmetric: {name: loss, goal: minimize}\nparameters:\n  x: {values: [0.1, 0.3, 0.5]}\n  k: {values: [1, 2]}\n');
  st.cli('sweep', '-c', 'grid.yaml', '-n', 'grid-sweep', '-q', '--', './obj.sh', '{x}', '{k}');
  sweepId = JSON.parse(st.cli('ls', 'tags = "sweep"', '--format', 'json'))[0].id;
  srv = await startServer(st);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (st) st.remove();
});

test('a sweep opens its trials with the parallel coordinates against the objective', async () => {
  const { ctx, page } = await openPage(browser, errors);
  await page.goto(srv.url + '/run/' + sweepId);
  await page.waitForSelector('[data-testid="run-name"]');
  await page.click('text=Compare the trials');
  await page.waitForSelector('[data-testid="sweep-title"]');
  assert.match(page.url(), new RegExp(`/compare\\?sweep=${sweepId}$`));
  const title = await page.textContent('[data-testid="sweep-title"]');
  assert.equal(title, 'Sweep grid-sweep: 6 trials, minimize loss');
  // the chart is there and drawn against the objective
  await page.waitForSelector('canvas[data-testid="parcoords"]');
  const sel = await page.$eval('[data-section="parallel coordinates"] select', (s) => s.value);
  assert.equal(sel, 'loss');
  // it comes first, before the objective's chart and the table
  const order = await page.$$eval('section.card', (list) => list.map((s) => s.dataset.section));
  assert.deepEqual(order.slice(0, 3), ['parallel coordinates', 'objective', 'params and metrics']);
  // something was drawn on the canvas (not a blank bitmap)
  await page.waitForFunction(() => {
    const c = document.querySelector('canvas[data-testid="parcoords"]');
    if (!c || !c.width) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i]) return true;
    return false;
  });
  // the trials, best first: x = 0.3, k = 1 is the optimum
  const cols = await page.$$eval('[data-testid="compare-table"] thead th', (ths) => ths.map((t) => t.textContent).slice(1));
  assert.equal(cols.length, 6);
  const best = JSON.parse(st.cli('best', 'metrics.loss', `parent = "${sweepId}"`, '--format', 'json'));
  assert.equal(cols[0], best.name);
  assert.equal(best.params.x, 0.3);
  assert.equal(best.params.k, 1);
  // the objective's chart loads
  await page.waitForSelector('.chart[data-key="loss"][data-ready="1"]');
  await page.screenshot({ path: join(SHOTS, 'sweep.png') });
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a run that is not a sweep says so', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const trial = JSON.parse(st.cli('ls', `parent = "${sweepId}"`, '--format', 'json'))[0].id;
  await page.goto(srv.url + '/compare?sweep=' + trial);
  await page.waitForSelector('.compare-page .error');
  assert.match(await page.textContent('.compare-page .error'), /is not a sweep/);
  await ctx.close();
});
