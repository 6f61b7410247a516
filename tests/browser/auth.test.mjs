// tests/browser/auth.test.mjs — the web UI of a `cairn server` that requires
// tokens, in headless Chromium (issue 14): a shared link opens the login
// view, logging in with a token draws the page the link named, the runs
// are listed, a tag is edited in the table (a write carrying the session's
// CSRF token), the session cookie is out of the page's reach (HttpOnly), a
// write from the page without the CSRF header is refused, and after
// logging out the runs can no longer be seen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tempStore, startServer, launchBrowser, openPage } from './lib.mjs';

let st, srv, browser, base, alpha, beta, token;

before(async () => {
  st = tempStore();
  st.cli('init', st.dir);
  alpha = st.cli('start', '-p', 'demo', '-n', 'alpha');
  beta = st.cli('start', '-p', 'demo', '-n', 'beta');
  token = st.cli('token', 'create', '--scope', 'write', '--name', 'browser-user');
  srv = await startServer(st, ['server', '--listen', '127.0.0.1:0', '--quiet']);
  base = srv.url;
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (st) st.remove();
});

test('log in from a shared link, see runs, edit a tag, log out', async () => {
  const errors = [];
  const { ctx, page } = await openPage(browser, errors);

  // a link to a run opens the login view, and keeps its URL
  await page.goto(`${base}/run/${alpha}`);
  await page.waitForSelector('#login-token');
  assert.equal(new URL(page.url()).pathname, `/run/${alpha}`);

  // a wrong token is refused with the server's reason
  await page.fill('#login-token', 'cairn_' + '0'.repeat(64));
  await page.click('#login-submit');
  await page.waitForFunction(() => /unknown token/.test(document.querySelector('.login-error').textContent));

  // the right one draws the run the link named
  await page.fill('#login-token', token);
  await page.click('#login-submit');
  await page.waitForSelector('#who');
  assert.equal(await page.textContent('#who'), 'browser-user');
  await page.waitForFunction(() => document.body.textContent.includes('alpha'));
  assert.equal(new URL(page.url()).pathname, `/run/${alpha}`);

  // the session is an HttpOnly cookie: the page cannot read it
  assert.ok(!(await page.evaluate(() => document.cookie)).includes('cairn_session'));
  const cookies = await ctx.cookies(base);
  const c = cookies.find((k) => k.name === 'cairn_session');
  assert.ok(c && c.httpOnly && c.sameSite === 'Strict', 'HttpOnly, SameSite=Strict cookie');
  assert.notEqual(c.value, token);

  // the runs table lists both runs
  await page.goto(`${base}/runs?cols=name,tags`);
  const row = `.vrow[data-id="${beta}"]`;
  await page.waitForSelector(row);
  await page.waitForSelector(`.vrow[data-id="${alpha}"]`);

  // a tag edited in the table is a write with the CSRF token
  await page.click(`${row} button[aria-label="add tag"]`);
  await page.fill(`${row} input[aria-label="new tag"]`, 'reviewed');
  await page.press(`${row} input[aria-label="new tag"]`, 'Enter');
  await page.waitForSelector(`${row} .tag:has-text("reviewed")`);
  const shown = JSON.parse(st.cli('show', beta, '--json'));
  assert.ok(shown.tags.includes('reviewed'));

  // the same write from the page without the CSRF header is refused
  const forged = await page.evaluate(async (id) => {
    const r = await fetch(`/api/v1/runs/${id}/tags`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"tags":["forged"]}',
    });
    return { status: r.status, body: await r.json() };
  }, alpha);
  assert.equal(forged.status, 403);
  assert.equal(forged.body.error.code, 'csrf');
  assert.ok(!JSON.parse(st.cli('show', alpha, '--json')).tags.includes('forged'));

  // the audit log has the tag edit, under the token's name
  const audit = st.cli('token', 'audit', '--json');
  assert.ok(JSON.parse(audit).some((a) => a.token === 'browser-user' && a.path === `/api/v1/runs/${beta}/tags`));

  // log out: the login view again, and the runs are out of reach
  await page.click('#logout');
  await page.waitForSelector('#login-token');
  assert.equal(await page.$('.vrow[data-id]'), null);
  const after = await page.evaluate(async () => (await fetch('/api/v1/runs')).status);
  assert.equal(after, 401);
  await page.goto(`${base}/runs`);
  await page.waitForSelector('#login-token');
  assert.equal(await page.$('.vrow[data-id]'), null);
  assert.ok(!(await ctx.cookies(base)).some((k) => k.name === 'cairn_session' && k.value));

  assert.deepEqual(errors, []);
  await ctx.close();
});
