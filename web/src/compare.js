// compare.js — two or more runs side by side: metric charts overlaid, a
// params/metrics table with differences highlighted (only the differing rows
// unless all=1), parallel coordinates of params against a chosen metric,
// images side by side per key at a chosen step, and the code and data diff
// (and the full diff) between two chosen runs.
//
// A sweep's trials: /compare?sweep=ID — the sweep's child runs, with the
// parallel coordinates first and drawn against its objective.
//
// URL: /compare?runs=a,b,c&all=1&x=&smooth=&log=&pc=metric&istep=N&a=&b=
import { h, clear } from './dom.js';
import { api, enc, qs } from './api.js';
import * as fmt from './fmt.js';
import { params, setParams, link, navigate } from './main.js';
import { metricChart, chartControls, color, WINDOW_POINTS } from './charts.js';
import { chartState, imagesByKey, imageAt, stepSlider, artifactUrl, codeFilesView } from './run.js';
import { parallelCoordinates } from './parcoords.js';
import { splitTag } from './tags.js';

function same(values) {
  const s = values.map((v) => JSON.stringify(v === undefined ? null : v));
  return s.every((x) => x === s[0]);
}

function section(title, ...body) {
  return h('section', { class: 'card', 'data-section': title.toLowerCase() }, h('h2', null, title), ...body);
}

// The sweep's trials, best first, and what the sweep optimises.
async function sweepTrials(id) {
  const sweep = await api('/api/v1/runs/' + enc(id));
  const props = sweep.properties || {};
  const metric = props['sweep.metric'];
  if (!metric) throw new Error(`run ${sweep.name} is not a sweep`);
  const goal = props['sweep.goal'] === 'maximize' ? '-' : '';
  const res = await api('/api/v1/runs' + qs({ q: `parent = "${sweep.id}"`, sort: `${goal}metrics.${metric}`, limit: 10000 }));
  return { sweep, metric, goal: props['sweep.goal'] || 'minimize', runs: res.runs };
}

export function comparePage(root) {
  const sweepId = params().get('sweep');
  const ids = (params().get('runs') || '').split(',').filter(Boolean);
  let runs = [];
  let charts = [];
  let disposed = false;
  let sweep = null;
  const content = h('div', { class: 'compare-page' });
  root.appendChild(content);
  if (!sweepId && ids.length < 2) {
    content.appendChild(h('p', { class: 'empty' }, 'Choose two or more runs in the ', link('/runs', 'runs table'), ' to compare them.'));
    return {};
  }
  content.appendChild(h('p', { class: 'muted' }, sweepId ? 'Loading the sweep…' : 'Loading runs…'));

  (sweepId ? sweepTrials(sweepId) : Promise.all(ids.map((id) => api('/api/v1/runs/' + enc(id))))).then((rs) => {
    if (disposed) return;
    if (sweepId) {
      sweep = rs;
      runs = rs.runs;
    } else {
      runs = rs;
    }
    draw();
  }).catch((e) => {
    clear(content);
    content.appendChild(h('p', { class: 'error' }, e.message));
  });

  const label = (r) => r.name;

  function legend() {
    return h('div', { class: 'legend', 'data-testid': 'compare-runs' }, runs.map((r, i) => h('span', { class: 'chip' },
      h('i', { class: 'swatch', style: { background: color(i) } }),
      link('/run/' + enc(r.id), label(r)),
      h('button', { type: 'button', class: 'x', title: 'remove from comparison', onclick: () => {
        const rest = runs.filter((x) => x !== r).map((x) => x.id);
        navigate('/compare' + qs({ ...Object.fromEntries(params()), runs: rest.join(',') }).replace(/%2C/g, ','), { replace: true });
      } }, '×'))));
  }

  function tableSection() {
    const all = params().get('all') === '1';
    const rows = [];
    const add = (group, key, values, show) => rows.push({ group, key, values, show: show || values.map(fmt.value) });
    add('run', 'project', runs.map((r) => r.project));
    add('run', 'status', runs.map((r) => r.status));
    add('run', 'started', runs.map((r) => r.start_time), runs.map((r) => fmt.time(r.start_time)));
    add('run', 'duration', runs.map((r) => Math.round(fmt.runDuration(r) || 0)), runs.map((r) => fmt.duration(fmt.runDuration(r))));
    add('run', 'tags', runs.map((r) => (r.tags || []).join(', ')));
    add('run', 'commit', runs.map((r) => (r.code && r.code.commit) || null));
    const union = (f) => [...new Set(runs.flatMap((r) => Object.keys(f(r) || {})))].sort();
    for (const k of union((r) => r.params)) add('params', k, runs.map((r) => r.params[k]), runs.map((r) => fmt.param(r.params[k])));
    for (const k of union((r) => r.metrics)) add('metrics', k, runs.map((r) => (r.metrics[k] ? r.metrics[k].last : undefined)),
      runs.map((r) => (r.metrics[k] ? fmt.num(r.metrics[k].last) : '')));
    for (const k of union((r) => r.properties)) add('properties', k, runs.map((r) => r.properties[k]));
    // a key/value tag compares as a field: tags.team, its value per run ('yes' bare, '' without)
    const tagsOf = (r) => Object.fromEntries((r.tags || []).map(splitTag).map((t) => [t.key, t.value]));
    const valued = [...new Set(runs.flatMap((r) => Object.entries(tagsOf(r)).filter(([, v]) => v !== null).map(([k]) => k)))].sort();
    for (const k of valued) add('tags', k, runs.map((r) => { const v = tagsOf(r)[k]; return v === undefined ? undefined : v === null ? 'yes' : v; }));
    for (const k of union((r) => Object.fromEntries((r.datasets || []).map((d) => [d.name, 1])))) {
      add('data', k, runs.map((r) => { const d = (r.datasets || []).find((x) => x.name === k); return d ? d.digest : undefined; }),
        runs.map((r) => { const d = (r.datasets || []).find((x) => x.name === k); return d ? `${d.algo}:${d.digest.slice(0, 12)}` : ''; }));
    }
    const toggle = h('label', null, h('input', { type: 'checkbox', checked: !all, 'data-testid': 'only-diff', onchange: (e) => {
      setParams({ all: !e.target.checked });
      tableEl.replaceWith(tableSection());
    } }), ' Only differences');
    const shown = rows.filter((r) => all || !same(r.values));
    const tableEl = section('Params and metrics', toggle,
      h('table', { class: 'grid compare-table', 'data-testid': 'compare-table' },
        h('thead', null, h('tr', null, h('th', null, ''), runs.map((r, i) => h('th', null, h('i', { class: 'swatch', style: { background: color(i) } }), label(r))))),
        h('tbody', null, shown.length ? shown.map((r) => h('tr', { class: same(r.values) ? '' : 'differs' },
          h('th', null, r.group === 'run' ? r.key : `${r.group}.${r.key}`),
          r.show.map((v, i) => h('td', { class: r.group === 'metrics' || (r.group === 'params' && fmt.paramIsNumber(r.values[i])) ? 'num' : '' }, v))))
          : h('tr', null, h('td', { colspan: runs.length + 1, class: 'muted' }, 'No differences.')))));
    return tableEl;
  }

  const chartsEl = h('div', { class: 'charts', 'data-testid': 'charts' });
  function drawCharts() {
    for (const c of charts) c.destroy();
    charts = [];
    clear(chartsEl);
    // a sweep's trials: the objective's curves (each trial's other metrics
    // are a click away, on its own page)
    const all = sweep ? [sweep.metric] : [...new Set(runs.flatMap((r) => Object.keys(r.metrics || {})))].sort();
    // the results first; system samples (sys/*) folded below, drawn when opened
    const keys = all.filter((k) => !fmt.isSystemMetric(k));
    const sys = all.filter((k) => fmt.isSystemMetric(k));
    const cs = chartState();
    keys.forEach((key) => chartsEl.appendChild(chartBox(key, cs)));
    if (sys.length) {
      const grid = h('div', { class: 'charts' });
      const fold = h('details', { class: 'sys-charts', 'data-testid': 'sys-charts' },
        h('summary', null, `System metrics (${sys.length})`), grid);
      fold.addEventListener('toggle', () => {
        if (fold.open && !grid.firstChild) sys.forEach((key) => grid.appendChild(chartBox(key, cs)));
      });
      chartsEl.appendChild(fold);
    }
  }

  // One metric's chart, every run that has it overlaid in its colour.
  function chartBox(key, cs) {
    const box = h('div', { class: 'chart', 'data-key': key });
    const withKey = runs.map((r, i) => ({ r, i })).filter(({ r }) => r.metrics && r.metrics[key]);
    Promise.all(withKey.map(({ r }) => api(`/api/v1/runs/${enc(r.id)}/metrics/${key.split('/').map(enc).join('/')}?points=1000`)))
      .then((hs) => {
        if (disposed || !box.isConnected) return;
        // zoomed, every run is fetched for the same window at the same resolution
        const win = (from, to, signal) => Promise.all(withKey.map(({ r }) => api(`/api/v1/runs/${enc(r.id)}/metrics/${key.split('/').map(enc).join('/')}?points=${WINDOW_POINTS}&from=${from}&to=${to}`, { signal })))
          .then((ws) => ws.map((w) => w.points));
        charts.push(metricChart(box, hs.map((res, j) => ({ label: label(withKey[j].r), color: color(withKey[j].i), points: res.points })), { ...cs, title: key, window: win }));
        box.dataset.ready = '1';
      }).catch((e) => box.appendChild(h('p', { class: 'error' }, key, ': ', e.message)));
    return box;
  }

  function parcoordsSection() {
    const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.metrics || {})))].sort();
    const pkeys = [...new Set(runs.flatMap((r) => Object.keys(r.params || {})))].sort()
      .filter((k) => !same(runs.map((r) => r.params[k])));
    if (!metrics.length) return null;
    let m = params().get('pc');
    if (!metrics.includes(m)) m = sweep && metrics.includes(sweep.metric) ? sweep.metric : metrics.find((k) => !fmt.isSystemMetric(k)) || metrics[0];
    const canvas = h('canvas', { class: 'parcoords', 'data-testid': 'parcoords' });
    const sel = h('select', { 'aria-label': 'metric', onchange: () => { setParams({ pc: sel.value }); drawPc(sel.value); } },
      metrics.map((k) => h('option', { value: k }, k)));
    sel.value = m;
    const drawPc = (metric) => {
      // typed values: a float param NaN is a number, the string "NaN" a category
      const axes = pkeys.map((k) => ({ label: k, values: runs.map((r) => fmt.paramValue(r.params[k])) }));
      axes.push({ label: metric, values: runs.map((r) => (r.metrics[metric] ? fmt.toNumber(r.metrics[metric].last) : undefined)) });
      requestAnimationFrame(() => parallelCoordinates(canvas, axes, runs.map((r, i) => color(i))));
    };
    setTimeout(() => drawPc(m), 0);
    return section('Parallel coordinates', h('label', null, 'Params against ', sel),
      pkeys.length ? canvas : h('p', { class: 'muted' }, 'The runs have the same params.'));
  }

  function imagesSection() {
    const maps = runs.map(imagesByKey);
    const keys = [...new Set(maps.flatMap((m) => [...m.keys()]))].sort();
    if (!keys.length) return null;
    const steps = [...new Set(maps.flatMap((m) => [...m.values()].flat().map((i) => i.step)).filter((s) => s !== null && s !== undefined))].sort((a, b) => a - b);
    const p = params();
    let step = p.has('istep') ? Number(p.get('istep')) : steps[steps.length - 1] ?? 0;
    const grid = h('div', { class: 'image-grid' });
    const drawImgs = () => {
      clear(grid);
      grid.style.gridTemplateColumns = `160px repeat(${runs.length}, minmax(0, 1fr))`;
      grid.appendChild(h('div', null));
      runs.forEach((r) => grid.appendChild(h('div', { class: 'muted' }, label(r))));
      for (const key of keys) {
        grid.appendChild(h('div', { class: 'key' }, key));
        runs.forEach((r, i) => {
          const list = maps[i].get(key);
          if (!list) return grid.appendChild(h('div', { class: 'muted' }, '—'));
          const im = imageAt(list, step);
          grid.appendChild(h('figure', null, h('img', { src: artifactUrl(r.id, im.path), alt: `${key} of ${r.name}`, loading: 'lazy' }),
            h('figcaption', null, im.step !== null && im.step !== undefined ? `step ${im.step}` : '')));
        });
      }
    };
    drawImgs();
    return section('Images', stepSlider(steps, step, (s) => { step = s; setParams({ istep: s }); drawImgs(); }), grid);
  }

  function diffSection() {
    const p = params();
    const pick = (name, dflt) => {
      const v = p.get(name);
      return runs.some((r) => r.id === v) ? v : dflt;
    };
    let a = pick('a', runs[0].id), b = pick('b', runs[1].id);
    const mk = (v, onch) => {
      const s = h('select', { onchange: () => onch(s.value) }, runs.map((r) => h('option', { value: r.id }, label(r))));
      s.value = v;
      return s;
    };
    const out = h('div', null);
    const load = async () => {
      clear(out);
      const code = h('div', null, h('h3', null, 'Code'), h('p', { class: 'muted' }, 'Loading…'));
      const data = h('div', null, h('h3', null, 'Data'), h('p', { class: 'muted' }, 'Loading…'));
      const full = h('details', null, h('summary', null, 'Full diff (every dimension)'));
      out.append(code, data, full);
      const q = qs({ a, b });
      api('/api/v1/diff/code' + q).then((res) => {
        code.lastChild.replaceWith(res.files && res.files.length ? codeFilesView(res, { a, b }) : h('p', { class: 'muted' }, 'Same code.'));
      }).catch((e) => code.lastChild.replaceWith(h('p', { class: 'muted' }, e.message)));
      api('/api/v1/diff/data' + q).then((res) => {
        const ds = res.datasets || [];
        data.lastChild.replaceWith(ds.length ? h('table', { class: 'grid' },
          h('thead', null, h('tr', null, ['dataset', 'same', 'added', 'removed', 'changed'].map((x) => h('th', null, x)))),
          h('tbody', null, ds.map((d) => h('tr', { class: d.same ? '' : 'differs' }, h('td', null, d.name),
            h('td', null, d.same ? 'yes' : 'no'), ...['added', 'removed', 'changed'].map((k) => h('td', { title: (d[k] || []).join('\n') },
              (d[k] || []).length ? `${d[k].length}: ${(d[k] || []).slice(0, 5).join(', ')}${d[k].length > 5 ? ', …' : ''}` : '')))))) : h('p', { class: 'muted' }, 'No datasets.'));
      }).catch((e) => data.lastChild.replaceWith(h('p', { class: 'muted' }, e.message)));
      api('/api/v1/diff' + q).then((res) => full.appendChild(h('pre', { class: 'text' }, JSON.stringify(res, null, 2))))
        .catch((e) => full.appendChild(h('p', { class: 'muted' }, e.message)));
    };
    load();
    return section('Code and data diff', h('div', { class: 'chart-controls' },
      h('label', null, 'A ', mk(a, (v) => { a = v; setParams({ a: v }); load(); })),
      h('label', null, 'B ', mk(b, (v) => { b = v; setParams({ b: v }); load(); }))), out);
  }

  function draw() {
    clear(content);
    const controls = chartControls(chartState(), (patch) => { setParams(patch); drawCharts(); });
    if (sweep) {
      content.appendChild(h('h1', { 'data-testid': 'sweep-title' }, 'Sweep ', link('/run/' + enc(sweep.sweep.id), sweep.sweep.name),
        `: ${runs.length} trials, ${sweep.goal} ${sweep.metric}`));
      if (runs.length < 1) {
        content.appendChild(h('p', { class: 'empty' }, 'The sweep has no trials yet.'));
        return;
      }
      // the search at a glance first, then the trials' details, best first
      for (const s of [parcoordsSection(), section('Objective', controls, chartsEl), tableSection(), runs.length > 1 ? diffSection() : null]) if (s) content.appendChild(s);
    } else {
      content.appendChild(h('h1', null, `Comparing ${runs.length} runs`));
      content.appendChild(legend());
      content.appendChild(tableSection());
      content.appendChild(section('Metrics', controls, chartsEl));
      for (const s of [parcoordsSection(), imagesSection(), diffSection()]) if (s) content.appendChild(s);
    }
    drawCharts();
  }

  return {
    dispose() {
      disposed = true;
      for (const c of charts) c.destroy();
    },
  };
}
