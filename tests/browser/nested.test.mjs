// tests/browser/nested.test.mjs — nested runs on the run page (issue 18,
// "show the parent and children in cairn show and on the run page"): a
// child's page names its parent (by name, linked); a parent's page says how
// many children it has and links the first five, oldest first, then a link
// to the runs page filtered to all of them; a run without family has
// neither row.  Screenshot: tests/browser/screenshots/nested-run.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempStore, startServer, launchBrowser, openPage, post, SHOTS } from './lib.mjs';

let st, srv, browser, base;
const ids = { folds: [] };
const errors = [];

// a parent with seven folds, and a run of its own
before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  st = tempStore();
  st.cli('init', st.dir);
  srv = await startServer(st);
  base = srv.url;
  ids.parent = (await post(base, '/api/v1/runs', { project: 'cv', name: 'cv-parent' })).id;
  for (let k = 0; k < 7; k++) {
    const run = await post(base, '/api/v1/runs', { project: 'cv', name: `fold-${k}`, parent: ids.parent });
    ids.folds.push(run.id);
  }
  ids.loner = (await post(base, '/api/v1/runs', { project: 'cv', name: 'loner' })).id;
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (st) st.remove();
  assert.deepEqual(errors, [], 'no page errors');
});

const rowOf = (page, key) => page.$$eval('.run-head table.kv > tbody > tr', (trs, k) => {
  const tr = trs.find((t) => t.firstChild.textContent === k);
  return tr ? tr.lastChild.textContent : null;
}, key);

test('a child names its parent by name, and the link opens it', async () => {
  const { ctx, page } = await openPage(browser, errors);
  await page.goto(`${base}/run/${ids.folds[2]}`);
  await page.waitForSelector('[data-testid="parent"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="parent"]').textContent.startsWith('cv-parent'));
  assert.match(await rowOf(page, 'parent'), /^cv-parent \([0-9a-f]{8}/);
  assert.equal(await rowOf(page, 'children'), null, 'a fold has no children row');
  await page.click('[data-testid="parent"]');
  await page.waitForFunction((id) => location.pathname === '/run/' + id, ids.parent);
  await page.waitForSelector('[data-testid="run-name"]');
  assert.equal(await page.textContent('[data-testid="run-name"]'), 'cv-parent');
  await ctx.close();
});

test('a parent shows its children: the count, the first five oldest first, and all of them', async () => {
  const { ctx, page } = await openPage(browser, errors);
  await page.goto(`${base}/run/${ids.parent}`);
  await page.waitForSelector('[data-testid="children"] a');
  const names = await page.$$eval('[data-testid="children"] a', (as) => as.map((a) => a.textContent));
  assert.deepEqual(names, ['fold-0', 'fold-1', 'fold-2', 'fold-3', 'fold-4', 'all 7']);
  assert.match(await rowOf(page, 'children'), /^7: fold-0, fold-1/);
  assert.equal(await rowOf(page, 'parent'), null, 'the parent has no parent row');
  const hrefs = await page.$$eval('[data-testid="children"] a', (as) => as.map((a) => a.getAttribute('href')));
  assert.equal(hrefs[0], '/run/' + ids.folds[0]);
  await page.screenshot({ path: join(SHOTS, 'nested-run.png') });
  // "all 7": the runs page, filtered to the children
  await page.click('[data-testid="children"] a:last-child');
  await page.waitForFunction(() => location.pathname === '/runs');
  assert.equal(new URL(page.url()).searchParams.get('q'), `parent = "${ids.parent}"`);
  await page.waitForSelector('.vrow[data-id]');
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-id]').length === 7);
  await ctx.close();
});

test('a run without family has neither row', async () => {
  const { ctx, page } = await openPage(browser, errors);
  await page.goto(`${base}/run/${ids.loner}`);
  await page.waitForSelector('[data-testid="run-name"]');
  assert.equal(await rowOf(page, 'parent'), null);
  assert.equal(await rowOf(page, 'children'), null);
  await ctx.close();
});
