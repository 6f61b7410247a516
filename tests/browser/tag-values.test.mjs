// tests/browser/tag-values.test.mjs — key/value tags in the web UI (issue 15:
// "the UI and ls show them"): a tag chip shows its key and its value apart,
// adding `key=value` sets the value, removing a valued chip removes the tag
// (the API takes the key); a `tags.K` column shows the value (`yes` for a
// bare tag), sorts by it and sits under a "tags" group; grouping by
// `tags.K` makes one row per value, the bare tags' row filters to exactly
// them; the run page shows the chips and the compare page a row per valued
// tag key.  Screenshots go to tests/browser/screenshots/ (tag-values-*.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempStore, startServer, launchBrowser, openPage, post, SHOTS } from './lib.mjs';

let st, srv, browser, base;
const ids = {};
const errors = [];

// four runs: team=vision (and a bare baseline), team=nlp, a bare team, none
before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  st = tempStore();
  st.cli('init', st.dir);
  srv = await startServer(st);
  base = srv.url;
  const spec = [['vis', ['team=vision', 'baseline']], ['nlp', ['team=nlp']], ['bare', ['team']], ['none', []]];
  for (const [i, [name, tags]] of spec.entries()) {
    const run = await post(base, '/api/v1/runs', { project: 'tv', name, tags, params: { seed: i } });
    await post(base, `/api/v1/runs/${run.id}/metrics?sync=1`, { metrics: [{ key: 'acc', value: 0.5 + i / 10, step: 0 }] });
    await post(base, `/api/v1/runs/${run.id}/finish`, { status: 'finished' });
    ids[name] = run.id;
  }
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (st) st.remove();
  assert.deepEqual(errors, [], 'no page errors');
});

const runTags = async (id) => (await (await fetch(`${base}/api/v1/runs/${id}`)).json()).tags;
const rowNames = (page) => page.$$eval('.vrow[data-id] .cell[data-col="name"]', (cs) => cs.map((c) => c.textContent));

test('a tag chip shows key and value; key=value is added and a valued chip removed', async () => {
  const { ctx, page } = await openPage(browser, errors);
  await page.goto(base + '/runs?project=tv&cols=name,tags');
  const vis = `.vrow[data-id="${ids.vis}"]`;
  await page.waitForSelector(`${vis} .tag`);
  const chips = await page.$$eval(`${vis} .tag`, (ts) => ts.map((t) => ({
    text: t.firstChild.textContent, value: t.querySelector('.tag-value') && t.querySelector('.tag-value').textContent, title: t.title,
  })));
  assert.deepEqual(chips, [{ text: 'baseline', value: null, title: 'baseline' }, { text: 'team', value: 'vision', title: 'team=vision' }]);
  await page.screenshot({ path: join(SHOTS, 'tag-values-table.png') });
  // setting the key again replaces the value
  const nlp = `.vrow[data-id="${ids.nlp}"]`;
  await page.click(`${nlp} button[aria-label="add tag"]`);
  await page.fill(`${nlp} input[aria-label="new tag"]`, 'team=infra');
  await page.press(`${nlp} input[aria-label="new tag"]`, 'Enter');
  await page.waitForSelector(`${nlp} .tag-value:has-text("infra")`);
  assert.deepEqual(await runTags(ids.nlp), ['team=infra']);
  // removing the valued chip removes the tag (it sent the key, not "team=infra")
  await page.click(`${nlp} button[aria-label="remove tag team=infra"]`);
  await page.waitForFunction((sel) => !document.querySelector(sel + ' .tag'), nlp);
  assert.deepEqual(await runTags(ids.nlp), []);
  await post(base, `/api/v1/runs/${ids.nlp}/tags`, { tags: ['team=nlp'] });
  await ctx.close();
});

test('a tags.K column shows the value, sorts by it, under a tags group', async () => {
  const { ctx, page } = await openPage(browser, errors);
  await page.goto(base + '/runs?project=tv&cols=name,tags.team&sort=tags.team');
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-id]').length === 4);
  // ascending: the bare tag's "" first, missing last
  assert.deepEqual(await rowNames(page), ['bare', 'nlp', 'vis', 'none']);
  const cells = await page.$$eval('.vrow[data-id] .cell[data-col="tags.team"]', (cs) => cs.map((c) => c.textContent));
  assert.deepEqual(cells, ['yes', 'nlp', 'vision', '']);
  assert.equal(await page.textContent('.hcell[data-col="tags.team"] .label'), 'team ▲'); // sorted by it
  assert.equal(await page.textContent('.vgroups .gcell[data-group="tags"]'), 'tags');
  await page.goto(base + '/runs?project=tv&cols=name,tags.team&sort=-tags.team');
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-id]').length === 4);
  assert.deepEqual(await rowNames(page), ['vis', 'nlp', 'bare', 'none']);
  // the chooser offers the tag's column
  await page.click('button:has-text("Columns")');
  assert.ok(await page.$('.chooser .opt:has-text("team") input:checked'), 'tags.team is a chosen column');
  assert.ok(await page.$('.chooser .opt:has-text("baseline") input:not(:checked)'), 'tags.baseline can be chosen');
  await ctx.close();
});

test('group by tags.K: a row per value; the bare tags row filters to them', async () => {
  const { ctx, page } = await openPage(browser, errors);
  await page.goto(base + '/runs?project=tv&group=tags.team');
  await page.waitForSelector('[data-testid="groups"] tbody tr');
  const rows = await page.$$eval('[data-testid="groups"] tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
  assert.deepEqual(rows, [['(bare tag)', '1'], ['nlp', '1'], ['vision', '1'], ['(none)', '1']]);
  assert.ok(await page.$('select[aria-label="group by"] option[value="tags.team"]'), 'tags.team is offered');
  await page.screenshot({ path: join(SHOTS, 'tag-values-groups.png') });
  await page.click('[data-testid="groups"] tbody tr:nth-child(1)');
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-id]').length === 1);
  assert.deepEqual(await rowNames(page), ['bare']);
  assert.equal(await page.inputValue('input[aria-label="query"]'), 'tags.team and not tags.team like "_%"');
  await page.goto(base + '/runs?project=tv&group=tags.team');
  await page.waitForSelector('[data-testid="groups"] tbody tr');
  await page.click('[data-testid="groups"] tbody tr:nth-child(3)');
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-id]').length === 1);
  assert.deepEqual(await rowNames(page), ['vis']);
  await ctx.close();
});

test('the run page shows the chips; the compare page a row per valued tag', async () => {
  const { ctx, page } = await openPage(browser, errors);
  await page.goto(base + '/run/' + ids.vis);
  await page.waitForSelector('[data-testid="tags"] .tag-value');
  assert.equal(await page.textContent('[data-testid="tags"] .tag-value'), 'vision');
  await page.goto(`${base}/compare?runs=${ids.vis},${ids.nlp},${ids.bare}&all=1`);
  await page.waitForSelector('[data-testid="compare-table"] tbody tr');
  const row = await page.$$eval('[data-testid="compare-table"] tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent))
    .find((cs) => cs[0] === 'tags.team'));
  assert.deepEqual(row, ['tags.team', 'vision', 'nlp', 'yes']);
  const all = await page.$$eval('[data-testid="compare-table"] tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent))
    .find((cs) => cs[0] === 'tags'));
  assert.deepEqual(all, ['tags', 'baseline, team=vision', 'team=nlp', 'team']);
  await page.screenshot({ path: join(SHOTS, 'tag-values-compare.png') });
  await ctx.close();
});
