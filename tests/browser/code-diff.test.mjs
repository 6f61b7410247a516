// tests/browser/code-diff.test.mjs — code diffs in the web UI (issue 12): the
// run page's "Uncommitted changes" lists a dirty run's files against its
// commit, a clean run says it has none; source files are open with their
// hunks, a data file (a CSV) is folded with a summary, and opening it
// fetches its lines; the compare page folds the same way.  Real git
// repository, real `cairn run`, real server and Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempStore, startServer, launchBrowser, openPage, cairnBin } from './lib.mjs';

let st, srv, browser, base;
const ids = {};
const errors = [];

before(async () => {
  st = tempStore();
  const repo = join(st.dir, 'repo');
  mkdirSync(repo);
  const env = { ...st.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', CAIRN_SAMPLE_INTERVAL: '60' };
  const git = (...a) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...a], { cwd: repo, env });
  git('init', '-q', '-b', 'main', '.');
  writeFileSync(join(repo, 'train.py'), 'lr = 0.1\n');
  writeFileSync(join(repo, 'data.csv'), 'id,x\n' + Array.from({ length: 200 }, (_, i) => `${i},${i * 2}`).join('\n') + '\n');
  git('add', '-A');
  git('commit', '-qm', 'one');
  // a run made in the repository, its id from ls (newest first)
  const runIn = (name) => {
    execFileSync(cairnBin(), ['run', '-n', name, '--', 'true'], { cwd: repo, env });
    return JSON.parse(execFileSync(cairnBin(), ['ls', '--format', 'json'], { cwd: repo, env, encoding: 'utf8' }))[0].id;
  };
  ids.clean = runIn('clean-run');
  writeFileSync(join(repo, 'train.py'), 'lr = 0.2\n');
  appendFileSync(join(repo, 'data.csv'), '200,400\n');
  ids.dirty = runIn('dirty-run');
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

test('run page: a clean run has no uncommitted changes', async () => {
  const { ctx, page } = await newPage();
  await page.goto(`${base}/run/${ids.clean}`);
  await page.waitForSelector('[data-testid="uncommitted"] p:not(:has-text("Loading"))');
  const text = await page.textContent('[data-testid="uncommitted"]');
  assert.match(text, /Uncommitted changes \(0\)/);
  assert.match(text, /No uncommitted changes/);
  await ctx.close();
});

test('run page: a dirty run lists its files, source open, data folded until opened', async () => {
  const { ctx, page } = await newPage();
  await page.goto(`${base}/run/${ids.dirty}`);
  await page.waitForSelector('[data-testid="uncommitted"] details.code-file');
  assert.match(await page.textContent('[data-testid="uncommitted"] h3'), /Uncommitted changes \(2\)/);
  const files = await page.$$eval('[data-testid="uncommitted"] details.code-file', (ds) =>
    ds.map((d) => ({ path: d.dataset.path, open: d.open, data: d.classList.contains('data'), summary: d.querySelector('summary').textContent })));
  assert.deepEqual(files.map((f) => [f.path, f.open, f.data]), [['data.csv', false, true], ['train.py', true, false]]);
  assert.match(files[0].summary, /data: .*201 rows.* → .*202 rows/);
  assert.match(await page.textContent('details[data-path="train.py"] pre.diff-text'), /\+lr = 0\.2/);
  assert.equal(await page.$('details[data-path="data.csv"] pre.diff-text'), null, 'the CSV lines are not loaded');
  await page.click('details[data-path="data.csv"] summary');
  await page.waitForSelector('details[data-path="data.csv"] pre.diff-text');
  assert.match(await page.textContent('details[data-path="data.csv"] pre.diff-text'), /\+200,400/);
  await ctx.close();
});

test('compare page: the code diff is folded per file', async () => {
  const { ctx, page } = await newPage();
  await page.goto(`${base}/compare?runs=${ids.clean},${ids.dirty}`);
  await page.waitForSelector('.code-files details.code-file');
  const files = await page.$$eval('.code-files details.code-file', (ds) => ds.map((d) => [d.dataset.path, d.open]));
  assert.deepEqual(files, [['data.csv', false], ['train.py', true]]);
  await ctx.close();
});
