// run.js — one run: status and lifecycle, its parent and children (nested
// runs: a sweep's trials, folds), tags and note (editable), params, metrics
// (summary and charts), images with a step slider, an artifacts browser with
// previews, code, datasets with manifests, environment.  While the run is
// running it is refreshed every few seconds.
//
// URL: /run/<id>?x=step|time|relative&smooth=0.6&log=1&istep=N&art=path&filter=
import { h, clear } from './dom.js';
import { api, enc, encPath, qs } from './api.js';
import * as fmt from './fmt.js';
import { params, setParams, link, toast } from './main.js';
import { tagEditor } from './tags.js';
import { metricChart, chartControls, color, WINDOW_POINTS } from './charts.js';

const LIVE_MS = 5000;
const TEXT_PREVIEW_MAX = 256 * 1024;

export function chartState() {
  const p = params();
  return {
    x: ['step', 'time', 'relative'].includes(p.get('x')) ? p.get('x') : 'step',
    smooth: Math.min(0.99, Math.max(0, Number(p.get('smooth')) || 0)),
    log: p.get('log') === '1',
  };
}

// rows: [key, value, optional attributes of the value's cell].
export function kv(rows) {
  return h('table', { class: 'kv' }, h('tbody', null, rows.filter(Boolean).map(([k, v, attrs]) =>
    h('tr', null, h('th', null, k), h('td', attrs || null, v)))));
}

// A param's row: its value formatted by type (numbers as `cairn show`
// writes them), the cell marked as a number or not.
function paramRow([k, v]) {
  return [k, fmt.paramDetail(v), { class: fmt.paramIsNumber(v) ? 'num' : '' }];
}

// A metric's last, min or max as `cairn show` writes it: "-" for the min or
// max of a series of NaN only.
function metricStat(x, isLast) {
  return !isLast && Number.isNaN(fmt.toNumber(x)) ? '-' : fmt.detail(x);
}

function section(title, ...body) {
  return h('section', { class: 'card', 'data-section': title.toLowerCase() }, h('h2', null, title), ...body);
}

export function artifactUrl(id, path, download) {
  return `/api/v1/runs/${enc(id)}/artifacts/${encPath(path)}${download ? '?download=1' : ''}`;
}

// Images grouped by key: {key: [{step, path}]} with steps ascending.
export function imagesByKey(run) {
  const by = new Map();
  for (const a of run.artifacts || []) {
    if (a.kind !== 'image') continue;
    const key = a.key || a.path;
    if (!by.has(key)) by.set(key, []);
    by.get(key).push({ step: a.step, path: a.path });
  }
  for (const l of by.values()) l.sort((a, b) => (a.step ?? -1) - (b.step ?? -1));
  return by;
}

// The image of a key shown at a chosen step: the last one at or before it.
export function imageAt(list, step) {
  let best = list[0];
  for (const im of list) if (im.step === null || im.step === undefined || im.step <= step) best = im;
  return best;
}

export function stepSlider(steps, current, onChange) {
  if (steps.length <= 1) return null;
  const idx = Math.max(0, steps.findIndex((s) => s >= current));
  const label = h('span', { class: 'muted', 'data-testid': 'image-step' }, 'step ' + steps[idx]);
  const r = h('input', { type: 'range', min: 0, max: steps.length - 1, step: 1, value: idx, 'aria-label': 'image step' });
  r.addEventListener('input', () => {
    label.textContent = 'step ' + steps[r.value];
    onChange(steps[r.value]);
  });
  return h('div', { class: 'slider' }, h('label', null, 'Step ', r), ' ', label);
}

// How many children the run page names; the rest are a query away.
export const FAMILY_SHOWN = 5;

// The parent (by name, once fetched) and the children (how many, the first
// few oldest first, and a link to list them all) of a run, filled in as the
// requests answer; null for a run with neither.
export function familyRows(r) {
  const rows = [];
  if (r.parent) {
    const a = link('/run/' + enc(r.parent), fmt.shortId(r.parent));
    a.dataset.testid = 'parent';
    api('/api/v1/runs/' + enc(r.parent))
      .then((p) => { if (p && p.name) a.textContent = `${p.name} (${fmt.shortId(r.parent)})`; })
      .catch(() => {});
    rows.push(['parent', a]);
  }
  if (r.children > 0) {
    const q = `parent = "${r.id}"`;
    const list = h('span', { 'data-testid': 'children' }, String(r.children));
    api('/api/v1/runs' + qs({ q, sort: 'seq', limit: FAMILY_SHOWN, columns: 'name' }))
      .then((res) => {
        list.appendChild(document.createTextNode(': '));
        res.runs.forEach((c, i) => {
          if (i) list.appendChild(document.createTextNode(', '));
          list.appendChild(link('/run/' + enc(c.id), c.name));
        });
        if (r.children > res.runs.length) {
          list.appendChild(document.createTextNode(' … '));
          list.appendChild(link('/runs' + qs({ q }), `all ${r.children}`));
        }
      })
      .catch(() => {});
    rows.push(['children', list]);
  }
  return rows;
}

export function runPage(root, id) {
  let run = null;
  let charts = [];
  let disposed = false;
  let liveTimer = 0;
  const content = h('div', { class: 'run-page' }, h('p', { class: 'muted' }, 'Loading run…'));
  root.appendChild(content);

  async function load(refresh) {
    try {
      run = await api('/api/v1/runs/' + enc(id));
    } catch (e) {
      if (!refresh) {
        clear(content);
        content.appendChild(h('p', { class: 'error' }, e.message));
      }
      return;
    }
    if (disposed) return;
    if (refresh) {
      drawCharts();
      drawHeader();
    } else {
      draw();
    }
    clearTimeout(liveTimer);
    if (run.status === 'running') liveTimer = setTimeout(() => load(true), LIVE_MS);
  }

  const headerEl = h('div', { class: 'run-head' });
  const chartsEl = h('div', { class: 'charts', 'data-testid': 'charts' });

  function drawHeader() {
    clear(headerEl);
    const r = run;
    headerEl.appendChild(h('h1', null, h('span', { class: 'run-name', 'data-testid': 'run-name' }, r.name), ' ',
      h('span', { class: 'status ' + r.status }, r.status)));
    headerEl.appendChild(kv([
      ['id', h('code', null, r.id)],
      ['project', `${r.project} #${r.seq}`],
      ['started', fmt.time(r.start_time)],
      r.end_time ? ['ended', fmt.time(r.end_time)] : null,
      ['duration', fmt.duration(fmt.runDuration(r))],
      r.exit_code !== null && r.exit_code !== undefined ? ['exit code', String(r.exit_code)] : null,
      r.command ? ['command', h('code', null, r.command)] : null,
      r.user || r.host ? ['host', `${r.user || ''}${r.user && r.host ? '@' : ''}${r.host || ''}`] : null,
      r.cwd ? ['cwd', h('code', null, r.cwd)] : null,
      ...familyRows(r),
      // a sweep: its trials side by side, params against the objective
      r.properties && r.properties['sweep.metric'] ? ['trials', link('/compare?sweep=' + enc(r.id),
        'Compare the trials (parallel coordinates against ' + r.properties['sweep.metric'] + ')')] : null,
      r.heartbeat && r.status === 'running' ? ['heartbeat', fmt.time(r.heartbeat)] : null,
      ['tags', tagEditor(r)],
      Object.keys(r.properties || {}).length ? ['properties', kv(Object.entries(r.properties).map(([k, v]) => [k, v]))] : null,
    ]));
  }

  function noteEditor() {
    const ta = h('textarea', { rows: 3, 'aria-label': 'note', placeholder: 'A note about this run' });
    ta.value = run.note || '';
    const save = h('button', { type: 'button', onclick: async () => {
      try {
        const r = await api(`/api/v1/runs/${enc(run.id)}/note`, { method: 'PUT', body: { note: ta.value } });
        run.note = r.note;
        toast('Note saved');
      } catch (e) {
        toast(e.message, true);
      }
    } }, 'Save note');
    return section('Note', ta, h('div', null, save));
  }

  function drawCharts() {
    for (const c of charts) c.destroy();
    charts = [];
    clear(chartsEl);
    const keys = Object.keys(run.metrics || {});
    if (!keys.length) {
      chartsEl.appendChild(h('p', { class: 'muted' }, 'No metrics.'));
      return;
    }
    const cs = chartState();
    for (const key of keys) {
      const box = h('div', { class: 'chart', 'data-key': key });
      chartsEl.appendChild(box);
      api(`/api/v1/runs/${enc(run.id)}/metrics/${encPath(key)}?points=1000`).then((res) => {
        if (disposed || !box.isConnected) return;
        const win = (from, to, signal) => api(`/api/v1/runs/${enc(run.id)}/metrics/${encPath(key)}?points=${WINDOW_POINTS}&from=${from}&to=${to}`, { signal })
          .then((w) => [w.points]);
        charts.push(metricChart(box, [{ label: key, color: color(0), points: res.points }], { ...cs, title: key, window: win }));
        box.dataset.ready = '1';
      }).catch((e) => box.appendChild(h('p', { class: 'error' }, key, ': ', e.message)));
    }
  }

  function metricsSection() {
    const ms = Object.entries(run.metrics || {});
    const controls = chartControls(chartState(), (patch) => { setParams(patch); drawCharts(); });
    return section('Metrics',
      ms.length ? h('table', { class: 'grid' },
        h('thead', null, h('tr', null, ['metric', 'last', 'min', 'max', 'count', 'step'].map((x, i) => h('th', { class: i ? 'num' : null }, x)))),
        h('tbody', null, ms.map(([k, m]) => h('tr', null, h('td', null, k), h('td', { class: 'num' }, metricStat(m.last, true)),
          h('td', { class: 'num' }, metricStat(m.min)), h('td', { class: 'num' }, metricStat(m.max)),
          h('td', { class: 'num' }, m.count), h('td', { class: 'num' }, m.step))))) : null,
      ms.length ? controls : null, chartsEl);
  }

  function imagesSection() {
    const by = imagesByKey(run);
    if (!by.size) return null;
    const steps = [...new Set([...by.values()].flat().map((i) => i.step).filter((s) => s !== null && s !== undefined))].sort((a, b) => a - b);
    const p = params();
    let step = p.has('istep') ? Number(p.get('istep')) : steps[steps.length - 1] ?? 0;
    const grid = h('div', { class: 'images' });
    const drawImgs = () => {
      clear(grid);
      for (const [key, list] of by) {
        const im = imageAt(list, step);
        grid.appendChild(h('figure', null, h('img', { src: artifactUrl(run.id, im.path), alt: key, loading: 'lazy' }),
          h('figcaption', null, key, im.step !== null && im.step !== undefined ? ` · step ${im.step}` : '')));
      }
    };
    drawImgs();
    return section('Images', stepSlider(steps, step, (s) => { step = s; setParams({ istep: s }); drawImgs(); }), grid);
  }

  function artifactsSection() {
    const arts = run.artifacts || [];
    if (!arts.length) return section('Artifacts', h('p', { class: 'muted' }, 'No artifacts.'));
    const preview = h('div', { class: 'preview', 'data-testid': 'artifact-preview' });
    const list = h('div', { class: 'art-list' });
    const filter = h('input', { type: 'search', placeholder: 'filter', value: params().get('filter') || '', 'aria-label': 'filter artifacts' });
    const select = async (a) => {
      setParams({ art: a.path });
      for (const el of list.querySelectorAll('.selected')) el.classList.remove('selected');
      const el = [...list.children].find((x) => x.dataset.path === a.path);
      if (el) el.classList.add('selected');
      clear(preview);
      const url = artifactUrl(run.id, a.path);
      preview.appendChild(h('div', { class: 'preview-head' }, h('b', null, a.path), ' ',
        h('span', { class: 'muted' }, fmt.bytes(a.size), ' · ', a.media_type || '', ' · ', a.kind), ' ',
        h('a', { href: artifactUrl(run.id, a.path, true) }, 'download')));
      const mt = a.media_type || '';
      if (mt.startsWith('image/')) {
        preview.appendChild(h('img', { src: url, alt: a.path }));
      } else if (mt.startsWith('text/') || /json|yaml|toml|x-ipynb/.test(mt) || a.kind === 'log' || a.kind === 'config' || a.kind === 'env') {
        if (a.size > TEXT_PREVIEW_MAX) preview.appendChild(h('p', { class: 'muted' }, `Showing the first ${fmt.bytes(TEXT_PREVIEW_MAX)}.`));
        try {
          // Only a long file needs a range (an empty one would be 416: no byte 0).
          const long = a.size > TEXT_PREVIEW_MAX;
          const res = await fetch(url, long ? { headers: { Range: `bytes=0-${TEXT_PREVIEW_MAX - 1}` } } : {});
          const text = await res.text();
          preview.appendChild(h('pre', { class: 'text' }, text.slice(0, TEXT_PREVIEW_MAX)));
        } catch (e) {
          preview.appendChild(h('p', { class: 'error' }, e.message));
        }
      } else {
        preview.appendChild(h('p', { class: 'muted' }, 'No preview for this type.'));
      }
    };
    const drawList = () => {
      clear(list);
      const f = filter.value.toLowerCase();
      for (const a of arts) {
        if (f && !a.path.toLowerCase().includes(f)) continue;
        list.appendChild(h('button', { type: 'button', class: 'art', dataset: { path: a.path }, onclick: () => select(a) },
          h('span', { class: 'path' }, a.path), h('span', { class: 'muted size' }, fmt.bytes(a.size))));
      }
    };
    filter.addEventListener('input', () => { setParams({ filter: filter.value }); drawList(); });
    drawList();
    const chosen = arts.find((a) => a.path === params().get('art'));
    if (chosen) select(chosen);
    else preview.appendChild(h('p', { class: 'muted' }, 'Choose an artifact to preview it.'));
    return section('Artifacts', h('div', { class: 'art-browser' }, h('div', null, filter, list), preview));
  }

  function codeSection() {
    const c = run.code;
    if (!c) return section('Code', h('p', { class: 'muted' }, 'No code was captured for this run.'));
    const changesEl = h('div', { class: 'changes' });
    if (c.snapshot) changesEl.appendChild(uncommittedChanges(run.id));
    return section('Code', kv([
      ['commit', h('code', null, c.commit || '(not a git repository)')],
      c.branch ? ['branch', c.branch] : null,
      c.remote ? ['remote', c.remote] : null,
      c.dirty !== null && c.dirty !== undefined ? ['dirty', c.dirty ? 'yes (uncommitted changes captured)' : 'no'] : null,
      c.snapshot ? ['snapshot', h('code', null, fmt.shortId(c.snapshot))] : null,
    ]), changesEl);
  }

  function datasetsSection() {
    const ds = run.datasets || [];
    if (!ds.length) return null;
    return section('Datasets', h('table', { class: 'grid' },
      h('thead', null, h('tr', null, ['name', 'role', 'path', 'digest', 'files', 'bytes', 'manifest'].map((x) => h('th', { class: x === 'files' || x === 'bytes' ? 'num' : null }, x)))),
      h('tbody', null, ds.map((d) => {
        const mcell = h('td', null);
        if (d.manifest) {
          mcell.appendChild(h('button', { type: 'button', onclick: async (e) => {
            const row = e.target.closest('tr');
            try {
              const m = await api(`/api/v1/runs/${enc(run.id)}/manifests/${encPath(d.name)}`);
              const files = Array.isArray(m) ? m : m.files || m.entries || null;
              const body = files ? h('table', { class: 'grid small' }, h('tbody', null, files.slice(0, 2000).map((f) =>
                h('tr', null, h('td', null, f.path || ''), h('td', { class: 'num' }, fmt.bytes(f.size)), h('td', null, h('code', null, f.digest || ''))))))
                : h('pre', { class: 'text' }, JSON.stringify(m, null, 2));
              row.after(h('tr', null, h('td', { colspan: 7 }, body)));
              e.target.remove();
            } catch (err) {
              toast(err.message, true);
            }
          } }, 'show'));
        }
        return h('tr', null, h('td', null, d.name), h('td', null, d.role), h('td', null, h('code', null, d.path)),
          h('td', null, h('code', { title: d.digest }, `${d.algo}:${(d.digest || '').slice(0, 12)}`)),
          h('td', { class: 'num' }, d.files), h('td', { class: 'num' }, fmt.bytes(d.bytes)), mcell);
      }))));
  }

  function environmentSection() {
    const e = run.environment;
    if (!e || typeof e !== 'object') return null;
    const scalars = Object.entries(e).filter(([, v]) => v === null || typeof v !== 'object');
    const parts = [kv(scalars.map(([k, v]) => [k, k === 'memory_bytes' ? fmt.bytes(v) : fmt.value(v)]))];
    if (e.python && typeof e.python === 'object') parts.push(h('h3', null, 'Python'), kv(Object.entries(e.python).map(([k, v]) => [k, fmt.value(v)])));
    if (Array.isArray(e.gpus) && e.gpus.length) parts.push(h('h3', null, 'GPUs'), h('table', { class: 'grid' }, h('tbody', null,
      e.gpus.map((g) => h('tr', null, h('td', null, g.name || ''), h('td', null, fmt.bytes(g.memory_bytes)), h('td', null, g.driver || ''))))));
    if (e.packages && typeof e.packages === 'object') {
      const pk = Object.entries(e.packages);
      const f = h('input', { type: 'search', placeholder: `filter ${pk.length} packages`, 'aria-label': 'filter packages' });
      const tb = h('tbody', null);
      const drawPk = () => {
        clear(tb);
        const q = f.value.toLowerCase();
        for (const [k, v] of pk) if (!q || k.toLowerCase().includes(q)) tb.appendChild(h('tr', null, h('td', null, k), h('td', null, fmt.value(v))));
      };
      f.addEventListener('input', drawPk);
      drawPk();
      parts.push(h('h3', null, 'Packages'), f, h('div', { class: 'scrollbox' }, h('table', { class: 'grid small' }, tb)));
    }
    if (e.env_vars && typeof e.env_vars === 'object' && Object.keys(e.env_vars).length)
      parts.push(h('h3', null, 'Environment variables'), kv(Object.entries(e.env_vars).map(([k, v]) => [k, fmt.value(v)])));
    if (Array.isArray(e.files) && e.files.length) parts.push(h('h3', null, 'Environment files'), h('ul', null, e.files.map((f) =>
      h('li', null, h('a', { href: artifactUrl(run.id, 'env/' + f.path) }, f.path), ' ', h('span', { class: 'muted' }, fmt.bytes(f.size))))));
    return section('Environment', ...parts);
  }

  function draw() {
    clear(content);
    drawHeader();
    const ps = Object.entries(run.params || {});
    content.append(
      headerEl,
      noteEditor(),
      // the results (metrics and their charts) before the long params list
      metricsSection(),
      section('Params', ps.length ? kv(ps.map(paramRow)) : h('p', { class: 'muted' }, 'No params.')),
    );
    for (const s of [imagesSection(), artifactsSection(), codeSection(), datasetsSection(), environmentSection()]) if (s) content.appendChild(s);
    drawCharts();
  }

  load(false);
  return {
    dispose() {
      disposed = true;
      clearTimeout(liveTimer);
      for (const c of charts) c.destroy();
    },
  };
}

// "Uncommitted changes": the run's snapshot against its commit, file by file
// (GET /api/v1/diff/code?a=RUN), folded as codeFilesView folds them.
function uncommittedChanges(id) {
  const el = h('div', { 'data-testid': 'uncommitted' }, h('h3', null, 'Uncommitted changes'), h('p', { class: 'muted' }, 'Loading…'));
  api('/api/v1/diff/code' + qs({ a: id })).then((res) => {
    const files = res.files || [];
    el.firstChild.textContent = `Uncommitted changes (${files.length})`;
    el.lastChild.replaceWith(files.length ? codeFilesView(res, { a: id })
      : h('p', { class: 'muted' }, 'No uncommitted changes: the work tree matched the commit.'));
  }).catch((e) => el.lastChild.replaceWith(h('p', { class: 'muted' }, e.message)));
  return el;
}

// One line of a data-like file's summary: sizes, rows and digests, a → b.
function dataSummary(f) {
  const side = (x) => x ? [fmt.bytes(x.size), x.rows !== undefined ? `${x.rows} rows` : null,
    x.digest ? x.digest.replace(/^(\w+:)(.{12}).*$/, '$1$2') : null].filter(Boolean).join(', ') : '—';
  return f.change === 'added' ? side(f.b) : f.change === 'deleted' ? side(f.a) : `${side(f.a)} → ${side(f.b)}`;
}

// A code diff (the JSON of /api/v1/diff/code) file by file: the list of
// changed files as one fold each, source files open with their hunks,
// data-like files closed with a summary; opening one fetches its patch
// (?full=1&path=), so a large CSV costs nothing until asked for.  q: the
// query (a, b) the diff came from.
export function codeFilesView(res, q) {
  const marks = { modified: 'M', added: 'A', deleted: 'D', mode: 'M' };
  return h('div', { class: 'code-files' }, (res.files || []).map((f) => {
    const what = f.data ? `data: ${dataSummary(f)}${f.binary ? ', binary' : ''}`
      : f.change === 'mode' ? `mode ${f.a.mode} → ${f.b.mode}` : f.note ? `(${f.note})` : `+${f.additions} −${f.deletions}`;
    const d = h('details', { class: 'code-file' + (f.data ? ' data' : ''), 'data-path': f.path, open: !f.data },
      h('summary', null, h('span', { class: 'mark ' + f.change }, marks[f.change] || '?'), ' ', h('code', null, f.path), ' ',
        h('span', { class: 'muted' }, what)));
    if (f.patch) d.appendChild(diffView(f.patch));
    else {
      d.addEventListener('toggle', () => {
        if (!d.open || d.dataset.loaded) return;
        d.dataset.loaded = '1';
        api('/api/v1/diff/code' + qs({ ...q, full: 1, path: f.path })).then((r) => {
          const p = r.files && r.files[0] && r.files[0].patch;
          d.appendChild(p ? diffView(p) : h('p', { class: 'muted' }, 'No line diff.'));
        }).catch((e) => d.appendChild(h('p', { class: 'muted' }, e.message)));
      });
    }
    return d;
  }));
}

// A unified diff, each line coloured by its first character (as text).
export function diffView(text) {
  const pre = h('pre', { class: 'diff-text' });
  for (const line of text.split('\n')) {
    const c = line[0];
    const cls = line.startsWith('+++') || line.startsWith('---') ? 'file' : c === '+' ? 'add' : c === '-' ? 'del' : c === '@' ? 'hunk' : '';
    pre.appendChild(h('span', { class: cls }, line + '\n'));
  }
  return pre;
}

export { qs };
