// tests/browser/ui.test.mjs — the web UI end to end in headless Chromium:
// runs table, query filter, sort, run page with a chart and an image,
// selecting two runs and comparing them, a copied link reproducing the view
// in a fresh browser context, and user strings shown as text, never as HTML.
// Screenshots of the three pages go to tests/browser/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempStore, startServer, launchBrowser, populate, XSS_NAME, SHOTS } from './lib.mjs';

let st, srv, browser, base, ids;
const dialogs = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  st = tempStore();
  st.cli('init', st.dir);
  srv = await startServer(st);
  base = srv.url;
  ids = await populate(st, base);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (st) st.remove();
});

async function newPage(ctxOpts) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, ...ctxOpts });
  const page = await ctx.newPage();
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on('pageerror', (e) => dialogs.push('page error: ' + e.message));
  return { ctx, page };
}

async function rowNames(page) {
  return page.$$eval('.vrow[data-id] .cell a', (as) => as.map((a) => a.textContent));
}

test('the runs table lists the runs', async () => {
  const { ctx, page } = await newPage();
  await page.goto(base + '/runs');
  await page.waitForSelector('.vrow[data-id]');
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-id]').length >= 6);
  const names = await rowNames(page);
  for (let i = 0; i < 5; i++) assert.ok(names.includes(`sweep-${i}`), `sweep-${i} listed`);
  // the default columns include the params that differ (lr, model) but not the same one (seed)
  await page.waitForSelector('.hcell[data-col="params.lr"]');
  assert.equal(await page.$('.hcell[data-col="params.seed"]'), null);
  assert.ok(await page.$('.hcell[data-col="metrics.loss"]'));
  await page.screenshot({ path: join(SHOTS, 'runs.png') });
  await ctx.close();
});

test('a run named like HTML shows as text and runs nothing', async () => {
  const { ctx, page } = await newPage();
  await page.goto(base + '/runs');
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-id]').length >= 6);
  const names = await rowNames(page);
  assert.ok(names.includes(XSS_NAME), 'the literal name is shown');
  assert.equal(await page.$('.vscroll img'), null, 'no <img> element was created from a name');
  await page.click(`text=${XSS_NAME}`);
  await page.waitForSelector('[data-testid="run-name"]');
  assert.equal(await page.textContent('[data-testid="run-name"]'), XSS_NAME);
  assert.equal(await page.$('.run-page img[src="x"], .run-page img[src="y"]'), null);
  assert.equal(await page.$('script:not([src])'), null);
  assert.equal(await page.inputValue('textarea[aria-label="note"]'), '<img src=y onerror=alert(3)>');
  assert.ok((await page.textContent('.run-page')).includes('<b>bold</b>'), 'param value shown literally');
  await page.waitForTimeout(300);
  assert.deepEqual(dialogs, [], 'no script ran');
  await ctx.close();
});

test('a query filters the table and an error shows its position', async (t) => {
  const { ctx, page } = await newPage();
  await page.goto(base + '/runs');
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-id]').length >= 6);
  await page.fill('input[aria-label="query"]', 'params.model = "mlp"');
  await page.press('input[aria-label="query"]', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-id]').length === 3);
  const names = (await rowNames(page)).sort();
  assert.deepEqual(names, ['sweep-0', 'sweep-2', 'sweep-4']);
  assert.ok(page.url().includes('q='), 'the query is in the URL');
  await page.fill('input[aria-label="query"]', 'params.lr >');
  await page.press('input[aria-label="query"]', 'Enter');
  await page.waitForSelector('[data-testid="query-error"]:not([hidden])');
  assert.ok(await page.$('[data-testid="query-error-position"]'), 'the error position is marked');
  await ctx.close();
});

test('clicking a column header sorts the runs', async (t) => {
  const { ctx, page } = await newPage();
  await page.goto(base + '/runs');
  await page.waitForSelector('.hcell[data-col="params.lr"]');
  await page.click('.hcell[data-col="params.lr"]'); // descending
  await page.waitForFunction(() => location.search.includes('sort=-params.lr'));
  await page.waitForFunction(() => document.querySelector('.vrow[data-id] .cell a')?.textContent === 'sweep-0' ||
    document.querySelector('.vrow[data-id] .cell a')?.textContent?.startsWith('<img'));
  const desc = await rowNames(page);
  await page.click('.hcell[data-col="params.lr"]'); // ascending
  await page.waitForFunction(() => /sort=params\.lr/.test(location.search));
  await page.waitForFunction(() => document.querySelector('.vrow[data-id] .cell a')?.textContent === 'sweep-4');
  const asc = await rowNames(page);
  assert.notDeepEqual(desc, asc);
  assert.equal(asc[0], 'sweep-4');
  await ctx.close();
});

test('a run page shows a chart and an image', async () => {
  const { ctx, page } = await newPage();
  await page.goto(base + '/runs');
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-id]').length >= 6);
  await page.click('text=sweep-0');
  await page.waitForSelector('[data-testid="run-name"]');
  assert.equal(await page.textContent('[data-testid="run-name"]'), 'sweep-0');
  await page.waitForSelector('.chart[data-key="loss"][data-ready] canvas');
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-section="images"] img');
    return img && img.complete && img.naturalWidth === 64;
  });
  // the step slider picks another image
  const src0 = await page.getAttribute('[data-section="images"] img', 'src');
  await page.fill('[data-section="images"] input[type=range]', '0');
  await page.waitForFunction((s) => document.querySelector('[data-section="images"] img').getAttribute('src') !== s, src0);
  // a text artifact previews as text
  await page.click('.art[data-path="logs/train.log"]');
  await page.waitForSelector('[data-testid="artifact-preview"] pre');
  assert.ok((await page.textContent('[data-testid="artifact-preview"] pre')).includes('<b>not bold</b>'));
  await page.screenshot({ path: join(SHOTS, 'run.png'), fullPage: true });
  await ctx.close();
});

test('two selected runs open the compare page, and its link reproduces the view', async () => {
  const { ctx, page } = await newPage();
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  await page.goto(base + '/runs');
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-id]').length >= 6);
  for (const id of ids.slice(0, 2)) await page.check(`.vrow[data-id="${id}"] input[type=checkbox]`);
  await page.click('button:has-text("Compare (2)")');
  await page.waitForSelector('[data-testid="compare-table"]');
  await page.waitForSelector('.chart[data-key="loss"][data-ready] canvas');
  const legend = await page.textContent('[data-testid="compare-runs"]');
  assert.ok(legend.includes('sweep-0') && legend.includes('sweep-1'));
  // differences highlighted, only differences by default; then show all
  const rowsDiff = await page.$$eval('[data-testid="compare-table"] tbody tr', (r) => r.length);
  assert.ok(await page.$('[data-testid="compare-table"] tr.differs'));
  await page.uncheck('[data-testid="only-diff"]');
  const rowsAll = await page.$$eval('[data-testid="compare-table"] tbody tr', (r) => r.length);
  assert.ok(rowsAll > rowsDiff, 'all rows shown when the toggle is off');
  // chart settings go to the URL too
  await page.check('.chart-controls input[type=checkbox]');
  await page.selectOption('select[aria-label="x axis"]', 'relative');
  await page.waitForSelector('canvas[data-testid="parcoords"]');
  await page.waitForSelector('.image-grid img');
  await page.screenshot({ path: join(SHOTS, 'compare.png'), fullPage: true });

  await page.click('#copy-link');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(link, page.url());
  await ctx.close();

  const fresh = await newPage();
  await fresh.page.goto(link);
  await fresh.page.waitForSelector('[data-testid="compare-table"]');
  const legend2 = await fresh.page.textContent('[data-testid="compare-runs"]');
  assert.equal(legend2, legend);
  assert.equal(await fresh.page.isChecked('[data-testid="only-diff"]'), false);
  assert.equal(await fresh.page.inputValue('select[aria-label="x axis"]'), 'relative');
  assert.equal(await fresh.page.isChecked('.chart-controls input[type=checkbox]'), true);
  const rowsFresh = await fresh.page.$$eval('[data-testid="compare-table"] tbody tr', (r) => r.length);
  assert.equal(rowsFresh, rowsAll);
  await fresh.ctx.close();
});

test('tags can be added and removed from the table', async () => {
  const { ctx, page } = await newPage();
  await page.goto(base + '/runs?cols=name,tags');
  const row = `.vrow[data-id="${ids[2]}"]`;
  await page.waitForSelector(row);
  await page.click(`${row} button[aria-label="add tag"]`);
  await page.fill(`${row} input[aria-label="new tag"]`, 'promising');
  await page.press(`${row} input[aria-label="new tag"]`, 'Enter');
  await page.waitForSelector(`${row} .tag:has-text("promising")`);
  let run = await (await fetch(`${base}/api/v1/runs/${ids[2]}`)).json();
  assert.ok(run.tags.includes('promising'));
  await page.click(`${row} button[aria-label="remove tag promising"]`);
  await page.waitForFunction((sel) => !document.querySelector(sel).textContent.includes('promising'), row);
  run = await (await fetch(`${base}/api/v1/runs/${ids[2]}`)).json();
  assert.ok(!run.tags.includes('promising'));
  await ctx.close();
});
