// tests/browser/typed-params.test.mjs — a float param NaN / -Inf and a
// string param "NaN" / "-Infinity" stay apart in the UI (issue 11). The API
// writes the float as {"$float": "NaN"}; the UI decodes it and shows it as a
// number (nan, -inf, as the CLI writes them, right-aligned like metrics), while a string that
// reads like a number is shown in quotes ("NaN") and aligned as text. Checked
// in the runs table, the run page, the compare table and the group view.
// The params are logged through the C API by build/tests/tool-params, as in
// tests/e2e/typed-params.t.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempStore, startServer, launchBrowser, openPage, cairnBin } from './lib.mjs';

let st, srv, browser, base;
const ids = {};
const errors = [];

// tool-params is built beside the binary by `make unit` (scripts/run-tests
// does it for build-san/); a missing one is an error, not a skip.
function logParams(id, ...kv) {
  const tool = join(dirname(cairnBin()), 'tests/tool-params');
  if (!existsSync(tool)) throw new Error(`${tool} missing: run make unit (SAN=1 for build-san)`);
  execFileSync(tool, [st.store, id, ...kv], { env: st.env, encoding: 'utf8' });
}

before(async () => {
  st = tempStore();
  st.cli('init', st.dir);
  ids.float = st.cli('start', '-n', 'typed-float');
  logParams(ids.float, 'x=float:nan', 'y=float:-inf', 'z=float:2', 'w=str:plain');
  st.cli('finish', ids.float);
  ids.string = st.cli('start', '-n', 'typed-string');
  logParams(ids.string, 'x=str:NaN', 'y=str:-Infinity', 'z=str:2', 'w=str:other');
  st.cli('finish', ids.string);
  srv = await startServer(st);
  base = srv.url;
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (st) st.remove();
  assert.deepEqual(errors, [], 'no page errors');
});

const newPage = () => openPage(browser, errors);

// {text, num} of a run's cell in the runs table
async function cell(page, id, col) {
  const sel = `.vrow[data-id="${id}"] .cell[data-col="${col}"]`;
  await page.waitForSelector(sel);
  return page.$eval(sel, (e) => ({ text: e.textContent, num: e.classList.contains('num') }));
}

test('the API sends the float NaN as {"$float": "NaN"} and the string as "NaN"', async () => {
  const r = await (await fetch(`${base}/api/v1/runs/${ids.float}`)).json();
  assert.deepEqual(r.params.x, { $float: 'NaN' });
  const s = await (await fetch(`${base}/api/v1/runs/${ids.string}`)).json();
  assert.equal(s.params.x, 'NaN');
});

test('runs table: float NaN as a number, string "NaN" as quoted text', async () => {
  const { ctx, page } = await newPage();
  await page.goto(base + '/runs?cols=name,params.x,params.y,params.z,params.w');
  assert.deepEqual(await cell(page, ids.float, 'params.x'), { text: 'nan', num: true });
  assert.deepEqual(await cell(page, ids.string, 'params.x'), { text: '"NaN"', num: false });
  assert.deepEqual(await cell(page, ids.float, 'params.y'), { text: '-inf', num: true });
  assert.deepEqual(await cell(page, ids.string, 'params.y'), { text: '"-Infinity"', num: false });
  assert.deepEqual(await cell(page, ids.float, 'params.z'), { text: '2', num: true });
  assert.deepEqual(await cell(page, ids.string, 'params.z'), { text: '"2"', num: false });
  // a string that does not read as a number is shown as it is
  assert.deepEqual(await cell(page, ids.string, 'params.w'), { text: 'other', num: false });
  const raw = await page.$$eval('.vrow[data-id] .cell', (cs) => cs.map((c) => c.textContent).filter((t) => t.includes('$float')));
  assert.deepEqual(raw, [], 'no raw {"$float"} text');
  await ctx.close();
});

test('run page: the params show their type', async () => {
  const { ctx, page } = await newPage();
  const params = async (id) => {
    await page.goto(`${base}/run/${id}`);
    await page.waitForSelector('[data-section="params"] table.kv td');
    return page.$$eval('[data-section="params"] table.kv tr', (rs) => Object.fromEntries(rs.map((r) =>
      [r.querySelector('th').textContent, [r.querySelector('td').textContent, r.querySelector('td').classList.contains('num')]])));
  };
  assert.deepEqual(await params(ids.float), { x: ['nan', true], y: ['-inf', true], z: ['2', true], w: ['plain', false] });
  assert.deepEqual(await params(ids.string), { x: ['"NaN"', false], y: ['"-Infinity"', false], z: ['"2"', false], w: ['other', false] });
  await ctx.close();
});

test('compare table: the float NaN and the string "NaN" differ', async () => {
  const { ctx, page } = await newPage();
  await page.goto(`${base}/compare?runs=${ids.float},${ids.string}`);
  await page.waitForSelector('[data-testid="compare-table"] tbody tr');
  const rows = await page.$$eval('[data-testid="compare-table"] tbody tr', (rs) => Object.fromEntries(rs.map((r) =>
    [r.querySelector('th').textContent, [...r.querySelectorAll('td')].map((td) => td.textContent)])));
  assert.deepEqual(rows['params.x'], ['nan', '"NaN"']);
  assert.deepEqual(rows['params.y'], ['-inf', '"-Infinity"']);
  await ctx.close();
});

test('group view: two groups, and the float group filters to the float run', async () => {
  const { ctx, page } = await newPage();
  await page.goto(base + '/runs?group=params.x');
  await page.waitForSelector('[data-testid="groups"] tbody tr');
  const groups = await page.$$eval('[data-testid="groups"] tbody tr', (rs) => rs.map((r) => r.querySelector('td').textContent).sort());
  assert.deepEqual(groups, ['"NaN"', 'nan']);
  await page.click('[data-testid="groups"] tbody tr:has(td:text-is("nan"))');
  await page.waitForFunction(() => {
    const rs = document.querySelectorAll('[data-testid="groups"] tbody tr');
    return rs.length === 1 && rs[0].querySelector('td').textContent === 'nan';
  });
  assert.equal(await page.inputValue('input.query'), 'params.x = nan');
  await page.waitForFunction((id) => {
    const rows = document.querySelectorAll('.vrow[data-id]');
    return rows.length === 1 && rows[0].dataset.id === id;
  }, ids.float);
  await ctx.close();
});
