// tests/browser/cross-site.test.mjs — cross-site request forgery in a real
// browser: pages served from other origins (another loopback port, which is
// "same-site", and the name localhost, which is "cross-site") try to change
// the store with the requests a page may send without asking anyone — a
// body-less no-cors POST, a no-cors POST with a text/plain JSON body, a
// text/plain form whose body is valid JSON, a no-cors DELETE — and none of
// them changes anything, while the UI's own edits on its own page still work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { tempStore, startServer, launchBrowser } from './lib.mjs';

let st, srv, browser, base, runId;
const evil = [];

// A page of another origin that fires every simple request at `target` and
// then sets its title to "done".
function attackPage(target, id) {
  const run = `${target}/api/v1/runs/${id}`;
  return `<!doctype html><title>busy</title>
<form id="f" method="POST" action="${run}/tags" enctype="text/plain" target="sink">
<input name='{"tags":["pwned-form"],"x":"' value='"}'></form>
<iframe name="sink" id="sink"></iframe>
<script>
(async () => {
  const tries = [
    fetch('${run}/finish', { method: 'POST', mode: 'no-cors' }),
    fetch('${run}/heartbeat', { method: 'POST', mode: 'no-cors' }),
    fetch('${run}/note', { method: 'POST', mode: 'no-cors', body: '{"note":"pwned"}' }),
    fetch('${run}/tags', { method: 'POST', mode: 'no-cors', body: '{"tags":["pwned"]}',
      headers: { 'Content-Type': 'text/plain' } }),
    fetch('${run}/tags/keep', { method: 'DELETE', mode: 'no-cors' }),
    fetch('${run}', { method: 'DELETE', mode: 'no-cors' }),
    // a CORS request with the JSON type needs a preflight, which is refused
    fetch('${run}/finish', { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } }),
  ];
  await Promise.allSettled(tries);
  await new Promise((r) => { document.getElementById('sink').onload = r; document.getElementById('f').submit(); setTimeout(r, 3000); });
  document.title = 'done';
})();
</script>`;
}

function serveEvil(host) {
  return new Promise((resolve) => {
    const s = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(attackPage(base, runId));
    });
    s.listen(0, '127.0.0.1', () => {
      evil.push(s);
      resolve(`http://${host}:${s.address().port}/`);
    });
  });
}

async function getRun() {
  return (await fetch(`${base}/api/v1/runs/${runId}`)).json();
}

before(async () => {
  st = tempStore();
  st.cli('init', st.dir);
  runId = st.cli('start', '-p', 'demo', '-n', 'target', '-t', 'keep');
  srv = await startServer(st);
  base = srv.url;
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  for (const s of evil) s.close();
  if (srv) await srv.stop();
  if (st) st.remove();
});

for (const host of ['127.0.0.1', 'localhost']) {
  test(`a page on ${host}, another origin, cannot change the store`, async () => {
    const was = await getRun();
    const url = await serveEvil(host);
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.title === 'done', null, { timeout: 15000 });
    await ctx.close();
    const now = await getRun();
    assert.equal(now.status, 'running', 'the run was not finished');
    assert.deepEqual(now.tags, ['keep'], 'no tag added or removed');
    assert.equal(now.note || '', '', 'no note written');
    assert.equal(now.heartbeat ?? null, was.heartbeat ?? null, 'no heartbeat recorded');
  });
}

test("the UI's own page still edits the note and the tags", async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${base}/run/${runId}`);
  await page.waitForSelector('textarea[aria-label="note"]');
  await page.fill('textarea[aria-label="note"]', 'written by the UI');
  await page.click('button:has-text("Save note")');
  await page.waitForFunction(async (u) => (await (await fetch(u)).json()).note === 'written by the UI',
    `${base}/api/v1/runs/${runId}`);
  await page.click('button[aria-label="remove tag keep"]');
  await page.waitForFunction(async (u) => (await (await fetch(u)).json()).tags.length === 0,
    `${base}/api/v1/runs/${runId}`);
  await ctx.close();
  const now = await getRun();
  assert.equal(now.note, 'written by the UI');
  assert.deepEqual(now.tags, []);
});
