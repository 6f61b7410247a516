// tests/browser/scroll.test.mjs — scrolling a long runs table (issue 18):
// pages are fetched only once scrolling rests and only for the rows on
// screen, a page that scrolled away before its answer came is aborted, and
// the scrollbar is scaled past the height a browser clamps elements at
// (lowered here to 500 rows' worth through CAIRN_MAX_SPACE_PX, so that a
// store of 2,000 runs exercises what 1.2M runs would): a jump to the middle
// shows the middle rows, a jump to the end the last run, within 500 ms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tempStore, startServer, launchBrowser, openPage, post } from './lib.mjs';

const N = 2000;
const MAX_PX = 15000;
let st, srv, browser, base;
const errors = [];

before(async () => {
  st = tempStore();
  st.cli('init', st.dir);
  srv = await startServer(st);
  base = srv.url;
  // r0000 first, so the newest-first table starts at r1999
  for (let i = 0; i < N; i += 50) {
    const batch = [];
    for (let k = i; k < i + 50; k++) batch.push(k);
    for (const k of batch) await post(base, '/api/v1/runs', { project: 'scroll', name: 'r' + String(k).padStart(4, '0') });
  }
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (st) st.remove();
  assert.deepEqual(errors, [], 'no page errors');
});

// the names of the rows wholly inside the scroller's viewport, below the header
async function rowsOnScreen(page) {
  return page.$eval('[data-testid="runs-table"]', (sc) => {
    const box = sc.getBoundingClientRect();
    const headB = sc.querySelector('.vhead').getBoundingClientRect().bottom;
    return [...sc.querySelectorAll('.vrow')].filter((r) => {
      const b = r.getBoundingClientRect();
      return b.top >= headB - 1 && b.bottom <= box.bottom + 1;
    }).map((r) => (r.querySelector('a') || {}).textContent || '…');
  });
}

const num = (name) => Number(name.slice(1));

test('a scroll and a jump fetch only the pages on screen, the scrollbar scaled', async () => {
  const { ctx, page } = await openPage(browser, errors);
  await page.addInitScript((px) => { globalThis.CAIRN_MAX_SPACE_PX = px; }, MAX_PX);
  const pages = [], aborted = [];
  page.on('request', (r) => { if (/\/api\/v1\/runs\?/.test(r.url()) && /offset=/.test(r.url())) pages.push(r.url()); });
  page.on('requestfailed', (r) => { if (/\/api\/v1\/runs\?/.test(r.url())) aborted.push(r.url()); });
  await page.goto(`${base}/?project=scroll`);
  await page.waitForSelector('.vrow a');
  const space = await page.$eval('.vspace', (s) => s.offsetHeight);
  assert.equal(space, MAX_PX, 'the space is clamped, not 2,000 rows of 30 px');
  assert.equal((await rowsOnScreen(page))[0], 'r1999', 'the newest run first');

  // a fast scroll through a third of the table, a frame at a time, then a jump to the middle
  pages.length = 0;
  await page.$eval('[data-testid="runs-table"]', async (sc) => {
    const max = sc.scrollHeight - sc.clientHeight;
    for (let i = 1; i <= 30; i++) {
      sc.scrollTop = (max * i) / 90;
      await new Promise((r) => requestAnimationFrame(r));
    }
  });
  const t0 = Date.now();
  await page.$eval('[data-testid="runs-table"]', (sc) => { sc.scrollTop = (sc.scrollHeight - sc.clientHeight) / 2; });
  await page.waitForFunction(() => {
    const sc = document.querySelector('[data-testid="runs-table"]');
    const rows = [...sc.querySelectorAll('.vrow')];
    return rows.length && rows.every((r) => r.querySelector('a'));
  });
  const shown = Date.now() - t0;
  const mid = await rowsOnScreen(page);
  assert.ok(mid.length >= 20, `a screenful of rows: ${mid.length}`);
  const first = num(mid[0]);
  // the middle of the scroll range is the middle of the virtual one
  assert.ok(Math.abs(first - (N - 1 - (N - mid.length) / 2)) <= 2, `the middle rows: ${mid[0]}..${mid[mid.length - 1]}`);
  for (let i = 1; i < mid.length; i++) assert.equal(num(mid[i]), first - i, 'consecutive rows, none skipped');
  assert.ok(pages.length <= 4, `pages fetched for the scroll and the jump: ${pages.length} (${pages.join(' ')})`);
  assert.ok(shown < 500 * (process.env.CI ? 4 : 1), `rows shown ${shown} ms after the jump`);
  console.log(`# scroll: ${pages.length} page requests, ${aborted.length} aborted, rows ${shown} ms after the jump`);

  // the end: the oldest run is the last row, fully in view
  await page.$eval('[data-testid="runs-table"]', (sc) => { sc.scrollTop = sc.scrollHeight; });
  await page.waitForFunction(() => [...document.querySelectorAll('.vrow a')].some((a) => a.textContent === 'r0000'));
  const end = await rowsOnScreen(page);
  assert.equal(end[end.length - 1], 'r0000', 'the oldest run ends the table');
  for (let i = 1; i < end.length; i++) assert.equal(num(end[i]), num(end[i - 1]) - 1, 'consecutive rows at the end');
  await ctx.close();
});

test('a page that scrolled away before its answer came is aborted', async () => {
  const { ctx, page } = await openPage(browser, errors);
  await page.addInitScript((px) => { globalThis.CAIRN_MAX_SPACE_PX = px; }, MAX_PX);
  await page.goto(`${base}/?project=scroll`);
  await page.waitForSelector('.vrow a');
  // hold the answers of page fetches, so one is still in flight when the table moves on
  const held = [];
  await page.route(/\/api\/v1\/runs\?.*offset=/, (route) => { held.push(route); });
  const aborted = [];
  page.on('requestfailed', (r) => aborted.push(r.url()));
  await page.$eval('[data-testid="runs-table"]', (sc) => { sc.scrollTop = (sc.scrollHeight - sc.clientHeight) / 4; });
  await page.waitForFunction(() => true, null, { timeout: 1000 });
  for (let i = 0; i < 50 && !held.length; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(held.length >= 1, 'the quarter page was asked for');
  const quarter = held.map((r) => r.request().url());
  await page.$eval('[data-testid="runs-table"]', (sc) => { sc.scrollTop = sc.scrollHeight; });
  for (let i = 0; i < 50 && aborted.length < quarter.length; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(aborted.sort(), quarter.sort(), 'the pages no longer on screen were aborted');
  await page.unroute(/\/api\/v1\/runs\?.*offset=/);
  for (const r of held) r.continue().catch(() => {});
  await ctx.close();
});
