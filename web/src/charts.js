// charts.js — metric charts on uPlot: one or more series (one per run) on a
// shared x axis (step, wall time or time since the series' start), optional
// exponential smoothing (TensorBoard-style, debiased) drawn over the faint raw
// line, and a log y scale.  Points come from the API already thinned to about
// a thousand per series, min and max of each bucket kept; a chart on the
// step axis given opts.window refetches the window it is zoomed to (drag),
// so detail appears as one zooms in, and a double click goes back to the
// whole series.
import uPlot from 'uplot';
import { h } from './dom.js';
import { toNumber, num, axisNum, isSystemMetric } from './fmt.js';

// A run's colour (colors.js), under the name the pages import it by.
export { PALETTE, runColor as color } from './colors.js';

// Points asked for a zoomed window: a window of up to this many steps comes
// back whole (every real point), a wider one thinned to it.
export const WINDOW_POINTS = 20000;

function smooth(values, w) {
  const out = new Array(values.length);
  let s = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !isFinite(v)) {
      out[i] = null;
      continue;
    }
    s = s * w + (1 - w) * v;
    n++;
    out[i] = s / (1 - Math.pow(w, n));
  }
  return out;
}

// A scale whose data has a single value (one point, or a flat series)
// gets a small range around it: uPlot would otherwise widen one step to
// 0..100, one time to a whole day (or years, from the value's magnitude),
// and give a log scale a range of zero width, where the point vanished.
const X_PAD = { step: 1, relative: 1, time: 60 };
const STEP_INCRS = [];
for (let e = 0; e <= 15; e++) for (const m of [1, 2, 5]) STEP_INCRS.push(m * 10 ** e);

function yRange(log) {
  return (u, min, max) => {
    if (min === null || min === undefined || !isFinite(min)) return [null, null];
    if (log) return min === max ? [min / 2, max * 2] : uPlot.rangeLog(min, max, 10, false);
    if (min !== max) return uPlot.rangeNum(min, max, 0.1, true);
    const pad = Math.abs(min) * 0.1 || 1;
    return [min - pad, max + pad];
  };
}

// series: [{label, color, points: [[step, ts, value], ...]}]
// opts: {title, x: 'step'|'time'|'relative', smooth: 0..0.99, log: bool,
//        window: (from, to, signal) => Promise of each series' points in
//        steps from..to (the history API's window), optional}
// A series with a single drawable point is drawn as a large marker, and the
// chart says its value under the plot (data-testid="single-point").  The
// container's data-x-range and data-y-range hold the scales' "min,max" (the
// browser tests read them).
// Each series' points by x, and every x, sorted.
function byX(lists, opts) {
  const xs = new Set();
  const per = lists.map((points) => {
    const t0 = points.length ? points[0][1] : 0;
    const m = new Map();
    for (const [step, ts, v] of points) {
      const x = opts.x === 'time' ? ts : opts.x === 'relative' ? ts - t0 : step;
      let y = toNumber(v);
      if (!isFinite(y) || (opts.log && y <= 0)) y = null;
      m.set(x, y);
      xs.add(x);
    }
    return m;
  });
  return { per, xv: [...xs].sort((a, b) => a - b) };
}

// uPlot's data for the points: x, then each series' y (and, smoothed, its
// raw y before the smoothed one), as the series are laid out below.
function plotData(lists, opts) {
  const { per, xv } = byX(lists, opts);
  const data = [xv];
  per.forEach((m) => {
    const ys = xv.map((x) => (m.has(x) ? m.get(x) : null));
    data.push(ys);
    if (opts.smooth > 0) data.push(smooth(ys, opts.smooth));
  });
  return data;
}

export function metricChart(container, series, opts) {
  // a system sample (sys/cpu, sys/rss_bytes) is drawn against wall time:
  // its steps are only sample numbers
  if (isSystemMetric(opts.title || '') && opts.x === 'step') opts = { ...opts, x: 'time' };
  const { per, xv } = byX(series.map((s) => s.points), opts);
  const data = [xv];
  const useries = [{ label: opts.x === 'step' ? 'step' : opts.x === 'time' ? 'time' : 'seconds' }];
  const singles = [];
  series.forEach((s, i) => {
    const ys = xv.map((x) => (per[i].has(x) ? per[i].get(x) : null));
    const drawn = ys.filter((y) => y !== null).length;
    if (drawn === 1) {
      const k = ys.findIndex((y) => y !== null);
      singles.push({ label: s.label, color: s.color, y: ys[k], point: s.points.find((p) => toNumber(p[2]) === ys[k]) });
    }
    const marker = drawn === 1 ? { show: true, size: 9, fill: s.color } : null;
    if (opts.smooth > 0) {
      data.push(ys);
      useries.push({ label: s.label + ' (raw)', stroke: s.color + '40', width: 1, spanGaps: true, points: { show: false } });
      data.push(smooth(ys, opts.smooth));
      useries.push({ label: s.label, stroke: s.color, width: 1.5, spanGaps: true, points: marker || { show: false } });
    } else {
      data.push(ys);
      useries.push({ label: s.label, stroke: s.color, width: 1.5, spanGaps: true, points: marker || { show: xv.length < 60 } });
    }
  });
  const oneX = xv.length === 1;
  const xPad = X_PAD[opts.x] || 1;
  const width = Math.max(280, container.clientWidth || 420);
  const showRange = (u, key) => {
    const sc = u.scales[key];
    if (key === 'x' || key === 'y') container.dataset[key + 'Range'] = `${sc.min},${sc.max}`;
  };
  // the y labels as drawn (on the canvas), in data-y-ticks for the tests
  const yTicks = (labels) => {
    container.dataset.yTicks = labels.join('|');
    return labels;
  };
  const u = new uPlot({
    title: opts.title,
    width,
    height: opts.height || 220,
    series: useries,
    scales: {
      x: { time: opts.x === 'time', range: (u, min, max) => (oneX ? [xv[0] - xPad, xv[0] + xPad] : [min, max]) },
      y: opts.log ? { distr: 3, range: yRange(true) } : { range: yRange(false) },
    },
    // steps are whole numbers: no tick at 9.5; y values written as the tables write them
    axes: [opts.x === 'step' ? { incrs: STEP_INCRS } : {}, { size: 60, values: (u, vals) => yTicks(vals.map((v) => axisNum(v))) }],
    // the legend is where hovering shows the values: a single series too
    legend: { show: true, live: true },
    cursor: { drag: { x: true, y: false } },
    hooks: { setScale: [showRange], setSelect: [(u) => zoomed(u)] },
  }, data, container);
  showRange(u, 'x');
  showRange(u, 'y');
  // Zoom loads detail: the window dragged over is fetched (after a pause,
  // the previous fetch aborted) and drawn at the resolution of the window;
  // a double click draws the whole series again.
  let pending = null;
  let timer = null;
  function zoomed(u) {
    if (!opts.window || opts.x !== 'step' || u.select.width < 2) return;
    const from = Math.max(0, Math.floor(u.posToVal(u.select.left, 'x')));
    const to = Math.ceil(u.posToVal(u.select.left + u.select.width, 'x'));
    clearTimeout(timer);
    if (pending) pending.abort();
    timer = setTimeout(() => {
      const ctl = new AbortController();
      pending = ctl;
      container.dataset.window = 'loading';
      opts.window(from, to, ctl.signal).then((lists) => {
        if (ctl.signal.aborted) return;
        pending = null;
        u.setData(plotData(lists, opts), false);
        u.setScale('x', { min: from, max: to });
        container.dataset.window = `${from},${to}`;
        container.dataset.windowPoints = String(lists.reduce((n, l) => n + l.length, 0));
      }).catch((e) => {
        if (e.name !== 'AbortError') container.dataset.window = 'error';
      });
    }, 120);
  }
  if (opts.window && opts.x === 'step') {
    u.over.addEventListener('dblclick', () => {
      clearTimeout(timer);
      if (pending) pending.abort();
      u.setData(data, true);
      delete container.dataset.window;
      delete container.dataset.windowPoints;
    });
  }
  let note = null;
  const hidden = series.filter((s, i) => s.points.length && ![...per[i].values()].some((y) => y !== null));
  if (singles.length || hidden.length) {
    note = h('p', { class: 'chart-note', 'data-testid': 'single-point' },
      singles.map((p) => h('span', null, h('i', { class: 'swatch', style: { background: p.color } }),
        series.length > 1 ? p.label + ': ' : '', 'one point, ', num(p.y),
        p.point ? ` at step ${p.point[0]}` : '')),
      hidden.length ? h('span', { class: 'muted' }, opts.log ? 'not drawn on the log scale (values ≤ 0 or not finite): ' : 'no finite value: ',
        hidden.map((s) => s.label).join(', ')) : null);
    container.appendChild(note);
  }
  const ro = new ResizeObserver(() => {
    const w = Math.max(280, container.clientWidth);
    if (Math.abs(w - u.width) > 4) u.setSize({ width: w, height: u.height });
  });
  ro.observe(container);
  return { destroy() { ro.disconnect(); u.destroy(); if (note) note.remove(); }, plot: u };
}

// The controls every chart section shares: x axis, smoothing, log scale.
export function chartControls(state, onChange) {
  const xSel = h('select', { 'aria-label': 'x axis', onchange: () => onChange({ x: xSel.value }) },
    h('option', { value: 'step' }, 'step'), h('option', { value: 'time' }, 'wall time'),
    h('option', { value: 'relative' }, 'time since start'));
  xSel.value = state.x;
  const sm = h('input', { type: 'range', min: 0, max: 0.99, step: 0.01, value: state.smooth, 'aria-label': 'smoothing' });
  const smv = h('span', { class: 'muted' }, String(state.smooth));
  sm.addEventListener('input', () => { smv.textContent = sm.value; });
  sm.addEventListener('change', () => onChange({ smooth: Number(sm.value) }));
  const log = h('input', { type: 'checkbox', checked: state.log, onchange: () => onChange({ log: log.checked }) });
  return h('div', { class: 'chart-controls' },
    h('label', null, 'x axis ', xSel),
    h('label', null, 'smoothing ', sm, ' ', smv),
    h('label', null, log, ' log scale'));
}
