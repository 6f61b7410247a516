// parcoords.js — a parallel-coordinates chart on a canvas: one vertical axis
// per param (numeric axes scaled to their range, categorical ones spread
// evenly) and a last axis for the chosen metric; one line per run, in the
// run's colour (colors.js: the same as its chart line and legend chip, so a
// line can be told by its colour; the metric is read on its axis).  Text is
// drawn with fillText, never as HTML.
import { toNumber, param, num } from './fmt.js';

// axes: [{label, values: [per run]}]; colors: the runs' colours, in order.
export function parallelCoordinates(canvas, axes, colors) {
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth || 800, H = canvas.clientHeight || 320;
  canvas.width = W * dpr;
  canvas.height = H * dpr;
  const g = canvas.getContext('2d');
  g.scale(dpr, dpr);
  g.clearRect(0, 0, W, H);
  const n = axes.length;
  if (n < 2) return;
  const top = 44, bottom = H - 24, left = 60, right = W - 60;
  const xAt = (i) => left + ((right - left) * i) / (n - 1);
  const scales = axes.map((ax) => {
    const nums = ax.values.map(toNumber);
    // values come typed (compare.js decodes params and metrics): a string,
    // "NaN" included, makes the axis categorical
    const numeric = ax.values.every((v) => v === undefined || v === null || typeof v === 'number');
    if (numeric) {
      const fin = nums.filter((v) => isFinite(v));
      const lo = Math.min(...fin), hi = Math.max(...fin);
      return {
        numeric: true, lo, hi,
        y: (v) => { const x = toNumber(v); if (!isFinite(x)) return null; return hi === lo ? (top + bottom) / 2 : bottom - ((x - lo) / (hi - lo)) * (bottom - top); },
      };
    }
    // a category is named as the params table shows it, so the float NaN
    // (NaN) and the string "NaN" ("NaN", quoted) stay two categories
    const cats = [...new Set(ax.values.filter((v) => v !== undefined && v !== null).map(param))].sort();
    const yAt = (i) => (cats.length === 1 ? (top + bottom) / 2 : bottom - (i / (cats.length - 1)) * (bottom - top));
    return {
      numeric: false, cats, yAt,
      y: (v) => (v === undefined || v === null ? null : yAt(cats.indexOf(param(v)))),
    };
  });
  const nruns = axes[0].values.length;
  for (let r = 0; r < nruns; r++) {
    g.strokeStyle = colors[r];
    g.lineWidth = 2;
    g.beginPath();
    let pen = false;
    for (let i = 0; i < n; i++) {
      const y = scales[i].y(axes[i].values[r]);
      if (y === null) { pen = false; continue; }
      if (pen) g.lineTo(xAt(i), y);
      else g.moveTo(xAt(i), y);
      pen = true;
    }
    g.stroke();
  }
  g.fillStyle = '#111827';
  g.strokeStyle = '#6b7280';
  g.lineWidth = 1;
  g.font = '12px system-ui, sans-serif';
  g.textAlign = 'center';
  for (let i = 0; i < n; i++) {
    const x = xAt(i);
    g.beginPath();
    g.moveTo(x, top);
    g.lineTo(x, bottom);
    g.stroke();
    const label = axes[i].label.length > 24 ? axes[i].label.slice(0, 23) + '…' : axes[i].label;
    g.fillText(label, x, top - 22);
    const s = scales[i];
    g.fillStyle = '#6b7280';
    if (s.numeric && isFinite(s.lo)) {
      g.fillText(fmtTick(s.hi), x, top - 6);
      g.fillText(fmtTick(s.lo), x, bottom + 14);
    } else if (!s.numeric) {
      s.cats.slice(0, 12).forEach((c, k) => g.fillText(c.length > 16 ? c.slice(0, 15) + '…' : c, x + 4, s.yAt(k) - 3));
    }
    g.fillStyle = '#111827';
  }
}

// Axis ends as the tables write numbers (fmt.num: the CLI's %.6g).
function fmtTick(v) {
  return isFinite(v) ? num(v) : '';
}
