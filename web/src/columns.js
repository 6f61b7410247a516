// columns.js — what the runs table shows and where: the attribute columns,
// the default columns (results first), and the layout of a column list.
//
// Default columns, in order: the name and short id, the status, the final
// metrics (the sort key's first; sys/* system samples left out), the params
// whose values differ, then start, duration and tags.  So at 1,440 px the
// results are in the first screen, as in `cairn ls`, and the params that
// explain them follow.
//
// Layout: the checkbox, the name, the id and the pinned columns are frozen
// (position: sticky, each at its left offset) and stay in view while the
// table scrolls sideways; the rest follow in their order.  Above the column
// labels a group row says which columns are metrics, params or properties,
// so the labels can drop the "metrics." / "params." prefix.
import { isSystemMetric } from './fmt.js';

export const ATTRS = [
  { id: 'name', label: 'Name', width: 220, sort: 'name' },
  { id: 'id', label: 'ID', width: 90, sort: 'id' },
  { id: 'status', label: 'Status', width: 90, sort: 'status' },
  { id: 'start_time', label: 'Started', width: 140, sort: 'started' },
  { id: 'duration', label: 'Duration', width: 96, sort: 'duration' },
  { id: 'tags', label: 'Tags', width: 200 },
  { id: 'project', label: 'Project', width: 110, sort: 'project' },
  { id: 'seq', label: '#', width: 60, sort: 'seq' },
  { id: 'user', label: 'User', width: 100, sort: 'user' },
  { id: 'host', label: 'Host', width: 110, sort: 'host' },
  { id: 'note', label: 'Note', width: 200, sort: 'note' },
];

const FROZEN = ['name', 'id']; // always frozen, always first when shown
export const CHECK_W = 32; // the selection checkbox column
const MAX_METRICS = 8;
const MAX_PARAMS = 10;

const attr = (c) => ATTRS.find((x) => x.id === c);

// The group a column belongs to: 'metrics', 'params', 'properties', 'tags' (a
// tag's value, tags.K) or '' (an attribute).
export function colGroup(c) {
  const m = /^(params|metrics|properties|tags)\./.exec(c);
  return m ? m[1] : '';
}

export function colLabel(c) {
  const a = attr(c);
  if (a) return a.label;
  return c.replace(/^(params|metrics|properties|tags)\./, '');
}

// A key's column is as wide as its short name needs (within 100..220 px).
export function colWidth(c) {
  const a = attr(c);
  return a ? a.width : Math.round(Math.min(220, Math.max(100, 9 * colLabel(c).length + 34)));
}

export function colSortKey(c) {
  const a = attr(c);
  if (a) return a.sort || null;
  return c;
}

// info: /api/v1/columns; sort: the table's sort ("-metrics.loss,params.lr").
export function defaultColumns(info, sort) {
  const cols = ['name', 'id', 'status'];
  const tail = ['start_time', 'duration', 'tags'];
  if (!info) return [...cols, ...tail];
  const n = info.runs;
  const differs = (k) => k.distinct === undefined || k.distinct > 1 || k.count < n;
  const results = info.metrics.filter((k) => !isSystemMetric(k.key));
  const ms = [...results].sort((a, b) => b.count - a.count).slice(0, MAX_METRICS)
    .sort((a, b) => (a.key < b.key ? -1 : 1)).map((k) => 'metrics.' + k.key);
  // the first sort key, if it is a metric, comes first (added if it was not among the most common)
  const first = (sort || '').split(',')[0].replace(/^-/, '');
  if (first.startsWith('metrics.') && info.metrics.some((k) => 'metrics.' + k.key === first)) {
    const at = ms.indexOf(first);
    if (at >= 0) ms.splice(at, 1);
    ms.unshift(first);
  }
  const ps = info.params.filter(differs).slice(0, MAX_PARAMS).map((k) => 'params.' + k.key);
  return [...cols, ...ms, ...ps, ...tail];
}

// The columns in display order, with what the grid needs:
//   order     the columns: name, id, the pinned ones, then the rest
//   frozen    how many of order are frozen
//   left      each frozen column's left offset (px; the checkbox is at 0)
//   template  grid-template-columns, the checkbox first
//   groups    the group row: [{label, start (grid line), span, frozen, left}]
export function layout(cols, pinned) {
  const pin = new Set(pinned || []);
  const front = FROZEN.filter((c) => cols.includes(c));
  const pins = cols.filter((c) => pin.has(c) && !FROZEN.includes(c));
  const rest = cols.filter((c) => !FROZEN.includes(c) && !pin.has(c));
  const order = [...front, ...pins, ...rest];
  const frozen = front.length + pins.length;
  const left = [];
  let x = CHECK_W;
  for (let i = 0; i < frozen; i++) {
    left.push(x);
    x += colWidth(order[i]);
  }
  const groups = [];
  order.forEach((c, i) => {
    const g = colGroup(c);
    const isFrozen = i < frozen;
    const last = groups[groups.length - 1];
    // a group does not straddle the frozen edge: its frozen part stays in view
    if (last && last.label === g && last.frozen === isFrozen) last.span++;
    else groups.push({ label: g, start: i + 2, span: 1, frozen: isFrozen, left: isFrozen ? left[i] : null });
  });
  return {
    order,
    frozen,
    left,
    frozenWidth: x,
    template: [CHECK_W + 'px', ...order.map((c) => colWidth(c) + 'px')].join(' '),
    groups,
  };
}
