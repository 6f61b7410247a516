// tests/browser/lib.mjs — helpers for the browser tests: a temporary store
// filled with runs (through the CLI and the HTTP API), `cairn ui` on a free
// loopback port, and Debian's Chromium driven headless by playwright-core.
//
//   CAIRN     the binary (default build-san/cairn, else build/cairn)
//   CHROMIUM  the browser (default /usr/bin/chromium)
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHOTS = join(ROOT, 'tests/browser/screenshots');

export function cairnBin() {
  if (process.env.CAIRN) return isAbsolute(process.env.CAIRN) ? process.env.CAIRN : join(ROOT, process.env.CAIRN);
  const san = join(ROOT, 'build-san/cairn');
  return existsSync(san) ? san : join(ROOT, 'build/cairn');
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  // launch() gives Chromium a fresh temporary --user-data-dir of its own.
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

// --- a PNG made here (no image files in the repository) -------------------

const CRC = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
// A w×h RGB gradient whose colours depend on seed.
export function png(w, h, seed) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = (x * 255) / w;
      raw[o + 1] = (y * 255) / h;
      raw[o + 2] = (seed * 67) % 256;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// --- store and server ------------------------------------------------------

// A page in a fresh browser context (1400×900 unless ctxOpts says), whose
// uncaught script errors go into errors, for the test to assert empty.
export async function openPage(browser, errors, ctxOpts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, ...ctxOpts });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push('page error: ' + e.message));
  return { ctx, page };
}

export function tempStore() {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-browser-'));
  const store = join(dir, 'store');
  mkdirSync(store);
  const env = { ...process.env, CAIRN_DIR: store, HOME: dir, NO_COLOR: '1' };
  delete env.CAIRN_RUN_ID;
  delete env.CAIRN_URI;
  const cli = (...args) => execFileSync(cairnBin(), args, { env, cwd: dir, encoding: 'utf8' }).trim();
  return { dir, store, env, cli, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// args: the command and its options (default `cairn ui` on a free loopback
// port, which needs no token); auth.test.mjs starts `cairn server`.
export async function startServer(st, args = ['ui', '--listen', '127.0.0.1:0', '--quiet']) {
  const child = spawn(cairnBin(), args, {
    env: st.env, cwd: st.dir, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errText = '';
  child.stderr.on('data', (d) => { errText += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('cairn ui printed no URL: ' + errText)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /http:\/\/\S+/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[0].replace(/\/$/, ''));
      }
    });
    child.on('exit', (code) => reject(new Error(`cairn ui exited ${code}: ${errText}`)));
  });
  return {
    url,
    stderr: () => errText,
    // SIGTERM stops the server cleanly (exit 0), so the sanitizer build's
    // leak check runs; a report on its stderr, or any other exit, fails.
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const done = new Promise((r) => child.on('close', r));
        child.kill('SIGTERM');
        await done;
      }
      if (child.exitCode !== 0 || /Sanitizer|runtime error/.test(errText))
        throw new Error(`cairn ui did not stop cleanly (exit ${child.exitCode ?? child.signalCode}):\n${errText}`);
    },
  };
}

export async function post(base, path, body) {
  const r = await fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}

export const XSS_NAME = '<img src=x onerror=alert(1)>';

// Runs of a small sweep: params differ, loss/accuracy curves, images at
// three steps for two runs, a text artifact, one run still running, one run
// whose name is an HTML injection attempt.
export async function populate(st, base) {
  const ids = [];
  const models = ['mlp', 'cnn', 'mlp', 'cnn', 'mlp'];
  for (let i = 0; i < 5; i++) {
    const run = await post(base, '/api/v1/runs', {
      project: 'demo', name: `sweep-${i}`, tags: i < 2 ? ['baseline'] : ['sweep'],
      params: { lr: [0.1, 0.03, 0.01, 0.003, 0.001][i], model: models[i], epochs: 200, seed: 7 },
    });
    ids.push(run.id);
    const metrics = [];
    for (let s = 0; s < 200; s++) {
      metrics.push({ key: 'loss', value: 2 * Math.exp(-s * (i + 1) / 80) + 0.05 * Math.sin(s / 3), step: s });
      metrics.push({ key: 'accuracy', value: 1 - Math.exp(-s * (i + 1) / 90) * 0.9, step: s });
    }
    await post(base, `/api/v1/runs/${run.id}/metrics?sync=1`, { metrics });
    if (i < 4) await post(base, `/api/v1/runs/${run.id}/finish`, { status: i === 3 ? 'failed' : 'finished' });
  }
  // images and a text artifact through the CLI
  for (const [n, id] of ids.slice(0, 2).entries()) {
    for (const step of [0, 100, 199]) {
      const f = join(st.dir, `img-${n}-${step}.png`);
      writeFileSync(f, png(64, 48, n * 10 + step));
      st.cli('log', 'image', 'samples', f, '--step', String(step), '--run', id);
    }
    const t = join(st.dir, `train-${n}.log`);
    writeFileSync(t, `epoch 1 loss 0.9\nepoch 2 loss 0.5\n<b>not bold</b>\n`);
    st.cli('log', 'artifact', t, '--name', 'logs/train.log', '--run', id);
  }
  const x = await post(base, '/api/v1/runs', { project: 'demo', name: XSS_NAME, tags: ['<script>alert(2)</script>'],
    params: { lr: 0.5, model: '<b>bold</b>', epochs: 200, seed: 7 }, note: '<img src=y onerror=alert(3)>' });
  await post(base, `/api/v1/runs/${x.id}/metrics?sync=1`, { metrics: [{ key: 'loss', value: 1, step: 0 }, { key: 'loss', value: 0.5, step: 1 }] });
  await post(base, `/api/v1/runs/${x.id}/finish`, {});
  ids.push(x.id);
  return ids;
}
