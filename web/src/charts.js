// charts.js — metric charts on uPlot: one or more series (one per run) on a
// shared x axis (step, wall time or time since the series' start), optional
// exponential smoothing (TensorBoard-style, debiased) drawn over the faint raw
// line, and a log y scale.  Points come from the API already thinned to about
// a thousand per series, min and max of each bucket kept.
import uPlot from 'uplot';
import { h } from './dom.js';
import { toNumber } from './fmt.js';

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2',
  '#ca8a04', '#db2777', '#4b5563', '#65a30d', '#7c3aed', '#0d9488'];

export function color(i) {
  return PALETTE[i % PALETTE.length];
}

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

// series: [{label, color, points: [[step, ts, value], ...]}]
// opts: {title, x: 'step'|'time'|'relative', smooth: 0..0.99, log: bool}
export function metricChart(container, series, opts) {
  const xs = new Set();
  const per = series.map((s) => {
    const t0 = s.points.length ? s.points[0][1] : 0;
    const m = new Map();
    for (const [step, ts, v] of s.points) {
      const x = opts.x === 'time' ? ts : opts.x === 'relative' ? ts - t0 : step;
      let y = toNumber(v);
      if (!isFinite(y) || (opts.log && y <= 0)) y = null;
      m.set(x, y);
      xs.add(x);
    }
    return m;
  });
  const xv = [...xs].sort((a, b) => a - b);
  const data = [xv];
  const useries = [{ label: opts.x === 'step' ? 'step' : opts.x === 'time' ? 'time' : 'seconds' }];
  series.forEach((s, i) => {
    const ys = xv.map((x) => (per[i].has(x) ? per[i].get(x) : null));
    if (opts.smooth > 0) {
      data.push(ys);
      useries.push({ label: s.label + ' (raw)', stroke: s.color + '40', width: 1, spanGaps: true, points: { show: false } });
      data.push(smooth(ys, opts.smooth));
      useries.push({ label: s.label, stroke: s.color, width: 1.5, spanGaps: true, points: { show: false } });
    } else {
      data.push(ys);
      useries.push({ label: s.label, stroke: s.color, width: 1.5, spanGaps: true, points: { show: xv.length < 60 } });
    }
  });
  const width = Math.max(280, container.clientWidth || 420);
  const u = new uPlot({
    title: opts.title,
    width,
    height: opts.height || 220,
    series: useries,
    scales: { x: { time: opts.x === 'time' }, y: opts.log ? { distr: 3 } : {} },
    axes: [{}, { size: 60 }],
    legend: { show: series.length > 1 || opts.smooth > 0 },
    cursor: { drag: { x: true, y: false } },
  }, data, container);
  const ro = new ResizeObserver(() => {
    const w = Math.max(280, container.clientWidth);
    if (Math.abs(w - u.width) > 4) u.setSize({ width: w, height: u.height });
  });
  ro.observe(container);
  return { destroy() { ro.disconnect(); u.destroy(); }, plot: u };
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
