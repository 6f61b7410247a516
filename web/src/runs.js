// runs.js — the runs table: query box (with the error's position), sortable
// columns, a column chooser that starts with the columns whose values differ,
// group-by with aggregates, tag editing, multi-select to compare, and virtual
// scrolling: only the rows in view exist in the DOM and only the pages of 100
// runs around them are fetched, so 100,000 runs scroll like 100.  Running runs
// on screen are refreshed every few seconds.
//
// Which columns, in which order, frozen or not: columns.js.
//
// URL: /runs?project=&q=&sort=&cols=&pin=&group=&gm=&sel=
import { h, clear } from './dom.js';
import { api, qs, enc, ApiError } from './api.js';
import * as fmt from './fmt.js';
import { params, setParams, navigate, link, toast } from './main.js';
import { tagEditor, splitTag } from './tags.js';
import { ATTRS, colLabel, colSortKey, defaultColumns, layout } from './columns.js';

const ROW_H = 30;
const PAGE = 100;
// Browsers clamp an element's height (Chromium at about 33.5M px, 1.12M rows
// of 30 px): past this the scrollbar is scaled, a pixel of it more than a
// pixel of rows (tests lower it through globalThis.CAIRN_MAX_SPACE_PX).
const MAX_SPACE_PX = 8e6;
// Pages are fetched once scrolling rests this long, only those on screen;
// one that scrolled away before its answer came is aborted.
const FETCH_DEBOUNCE_MS = 80;
const OVERSCAN = 10;
const LIVE_MS = 4000;

// What the API should return for these columns (all of every run while the
// columns are the defaults, which depend on what the runs carry).
function apiColumns(cols, explicit) {
  if (!explicit) return undefined;
  const need = new Set(['name', 'status', 'start_time', 'end_time', 'heartbeat']);
  for (const c of cols) {
    if (c === 'duration' || c === 'id') continue; // computed here; every run has its id
    need.add(c.startsWith('tags.') ? 'tags' : c); // a tag's value is read from the run's tags
  }
  return [...need].join(',');
}

// A run's tag `key`: its value, 'yes' for a bare tag (as `cairn ls`), null when
// the run has no such tag.
function tagValue(r, key) {
  for (const t of r.tags || []) {
    const s = splitTag(t);
    if (s.key === key) return s.value === null ? 'yes' : s.value;
  }
  return null;
}

function cellValue(r, c) {
  if (c === 'id') return fmt.shortId(r.id);
  if (c.startsWith('tags.')) return tagValue(r, c.slice(5)) ?? '';
  if (c === 'start_time') return fmt.time(r.start_time);
  if (c === 'duration') return fmt.duration(fmt.runDuration(r));
  const m = /^(params|metrics|properties)\.(.*)$/.exec(c);
  if (m) {
    const v = r[m[1]] && r[m[1]][m[2]];
    if (v === undefined) return '';
    if (m[1] === 'metrics') return fmt.num(v.last);
    if (m[1] === 'params') return fmt.param(v);
    return fmt.value(v);
  }
  return fmt.value(r[c]);
}

// A number cell's value in full (its tooltip).
function cellFull(r, c) {
  const m = /^(params|metrics|properties)\.(.*)$/.exec(c);
  if (!m) return cellValue(r, c);
  const v = r[m[1]] && r[m[1]][m[2]];
  if (v === undefined) return undefined;
  return m[1] === 'metrics' ? fmt.full(v.last) : m[1] === 'params' ? fmt.paramFull(v) : fmt.full(v);
}

// A byte offset in the UTF-8 text of q as a character (code point) index,
// and whether it is past the last character.
function caret(q, pos) {
  const bytes = new TextEncoder().encode(q);
  const before = new TextDecoder().decode(bytes.slice(0, Math.max(0, Math.min(pos, bytes.length))));
  const index = [...before].length;
  return { index, end: pos >= bytes.length };
}

// A group's value as a literal of the query language: strings quoted, a
// non-finite float param as nan / inf / -inf.
function groupLiteral(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  v = fmt.paramValue(v);
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  return String(v);
}

function isNumeric(r, c) {
  if (c.startsWith('metrics.')) return true;
  const m = /^(params|properties)\.(.*)$/.exec(c);
  if (!m) return c === 'seq';
  const v = r[m[1]] && r[m[1]][m[2]];
  // a param is typed: the string "NaN" is text, {"$float": "NaN"} a number
  if (m[1] === 'params') return fmt.paramIsNumber(v);
  return typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity';
}

export function runsPage(root) {
  const p = params();
  const st = {
    project: p.get('project') || '',
    q: p.get('q') || '',
    sort: p.get('sort') || '',
    cols: p.get('cols') ? p.get('cols').split(',').filter(Boolean) : null,
    pin: (p.get('pin') || '').split(',').filter(Boolean), // columns frozen beside the name
    group: p.get('group') || '',
    gm: p.get('gm') || '',
    sel: new Set((p.get('sel') || '').split(',').filter(Boolean)),
    all: p.get('all') === '1', // chooser lists every key, not only differing ones
    columns: null, // /api/v1/columns
    total: 0,
    pages: new Map(), // page index -> runs
    loading: new Map(), // page index -> AbortController
    gen: 0,
    error: null,
  };
  let disposed = false;

  // --- layout -----------------------------------------------------------------
  const projectSel = h('select', { 'aria-label': 'project', onchange: () => {
    st.project = projectSel.value;
    st.cols = null;
    setParams({ project: st.project, cols: null });
    loadColumns().then(reload);
  } }, h('option', { value: '' }, 'All projects'));
  const qInput = h('input', {
    class: 'query', type: 'search', value: st.q, spellcheck: 'false', 'aria-label': 'query',
    placeholder: 'metrics.valid_auc > 0.9 and params.model = "lgbm"',
    onkeydown: (e) => { if (e.key === 'Enter') applyQuery(); },
  });
  const qError = h('div', { class: 'qerror', hidden: true, 'data-testid': 'query-error' });
  const groupSel = h('select', { 'aria-label': 'group by', onchange: () => {
    st.group = groupSel.value;
    setParams({ group: st.group });
    loadGroups();
  } });
  const gmSel = h('select', { 'aria-label': 'group metric', onchange: () => {
    st.gm = gmSel.value;
    setParams({ gm: st.gm });
    loadGroups();
  } });
  const compareBtn = h('button', { type: 'button', class: 'primary', onclick: () => {
    navigate('/compare' + qs({ runs: [...st.sel].join(',') }).replace(/%2C/g, ','));
  } });
  const countEl = h('span', { class: 'count' });
  const chooserBtn = h('button', { type: 'button', onclick: () => toggleChooser() }, 'Columns');
  const chooser = h('div', { class: 'chooser', hidden: true });
  const groupsEl = h('div', { class: 'groups', hidden: true });
  const head = h('div', { class: 'vhead', role: 'row' });
  const rowsEl = h('div', { class: 'vrows' });
  const space = h('div', { class: 'vspace' }, rowsEl);
  const scroller = h('div', { class: 'vscroll', 'data-testid': 'runs-table', tabindex: 0 }, head, space);
  const empty = h('div', { class: 'empty', hidden: true });

  root.appendChild(h('section', { class: 'runs-page' },
    h('div', { class: 'toolbar' },
      projectSel,
      h('div', { class: 'qbox' }, qInput, qError),
      h('button', { type: 'button', onclick: applyQuery }, 'Filter'),
      h('label', null, 'Group by ', groupSel),
      h('label', null, ' of ', gmSel),
      chooserBtn, compareBtn, countEl),
    chooser, groupsEl, scroller, empty));

  function applyQuery() {
    st.q = qInput.value.trim();
    setParams({ q: st.q });
    reload();
    if (st.group) loadGroups();
  }

  // --- columns ---------------------------------------------------------------
  function differing(list) {
    const n = st.columns ? st.columns.runs : 0;
    return list.filter((k) => k.distinct === undefined || k.distinct > 1 || k.count < n);
  }

  function defaultCols() {
    return defaultColumns(st.columns, st.sort);
  }

  function cols() {
    return st.cols || defaultCols();
  }

  function setCols(c) {
    const wasExplicit = !!st.cols;
    st.cols = c;
    setParams({ cols: c ? c.join(',') : null });
    renderHead();
    if (c || wasExplicit) reload();
    else render(true);
  }

  function toggleChooser() {
    if (!chooser.hidden) {
      chooser.hidden = true;
      return;
    }
    renderChooser();
    chooser.hidden = false;
  }

  function renderChooser() {
    clear(chooser);
    const current = new Set(cols());
    const box = (c, label, title) => h('label', { class: 'opt', title },
      h('input', { type: 'checkbox', checked: current.has(c), onchange: (e) => {
        const now = cols().filter((x) => x !== c);
        if (e.target.checked) now.push(c);
        setCols(now);
      } }), label);
    const onlyDiff = h('input', { type: 'checkbox', checked: !st.all, onchange: (e) => {
      st.all = !e.target.checked;
      setParams({ all: st.all });
      renderChooser();
    } });
    const c = st.columns || { params: [], metrics: [], properties: [], tags: [] };
    const sect = (title, list, prefix) => {
      const keys = st.all ? list : differing(list);
      return h('div', { class: 'csect' }, h('h4', null, title, ' (', keys.length, ')'),
        keys.length ? keys.map((k) => box(prefix + k.key, k.key,
          k.distinct !== undefined ? `${k.count} runs, ${k.distinct} distinct values` : `${k.count} runs`))
          : h('p', { class: 'muted' }, 'none'));
    };
    chooser.appendChild(h('div', { class: 'chooser-head' },
      h('label', null, onlyDiff, ' Only columns that differ'),
      h('button', { type: 'button', onclick: () => { setCols(null); renderChooser(); } }, 'Reset'),
      h('button', { type: 'button', onclick: () => { chooser.hidden = true; } }, 'Close')));
    chooser.appendChild(h('div', { class: 'csects' },
      h('div', { class: 'csect' }, h('h4', null, 'Attributes'), ATTRS.map((a) => box(a.id, a.label))),
      sect('Params', c.params, 'params.'),
      sect('Metrics', c.metrics, 'metrics.'),
      sect('Properties', c.properties, 'properties.'),
      sect('Tags', (c.tags || []).map((t) => ({ key: t.tag, count: t.count })), 'tags.')));
  }

  let lay = layout(cols(), st.pin);

  // A frozen cell sticks at its column's left offset; the last one draws the edge.
  function frozenAttrs(i, attrs) {
    if (i >= lay.frozen) return attrs;
    attrs.class += ' frozen' + (i === lay.frozen - 1 ? ' frozen-edge' : '');
    attrs.style = { ...(attrs.style || {}), left: lay.left[i] + 'px' };
    return attrs;
  }

  function togglePin(c) {
    st.pin = st.pin.includes(c) ? st.pin.filter((x) => x !== c) : [...st.pin, c];
    setParams({ pin: st.pin.join(',') });
    renderHead();
    render(true);
  }

  function renderHead() {
    lay = layout(cols(), st.pin);
    clear(head);
    const groups = h('div', { class: 'vgroups', style: { gridTemplateColumns: lay.template } },
      h('div', { class: 'cell gcell frozen', style: { left: '0px', gridColumn: '1 / span 1' } }));
    for (const g of lay.groups) {
      groups.appendChild(h('div', {
        class: 'cell gcell' + (g.label ? ' group-' + g.label : '') + (g.frozen ? ' frozen' : ''),
        style: { gridColumn: `${g.start} / span ${g.span}`, left: g.frozen ? g.left + 'px' : null },
        'data-group': g.label || 'run',
      }, h('span', { style: { left: g.frozen ? null : lay.frozenWidth + 8 + 'px' } }, g.label)));
    }
    const labels = h('div', { class: 'vlabels', role: 'row', style: { gridTemplateColumns: lay.template } });
    head.append(groups, labels);
    const allBox = h('input', { type: 'checkbox', 'aria-label': 'select visible runs', onchange: (e) => {
      for (const r of visibleRuns()) {
        if (e.target.checked) st.sel.add(r.id);
        else st.sel.delete(r.id);
      }
      selChanged();
      render(true);
    } });
    labels.appendChild(h('div', { class: 'cell frozen', style: { left: '0px' } }, allBox));
    const sortKey = st.sort.replace(/^-/, '');
    const desc = st.sort.startsWith('-');
    lay.order.forEach((c, i) => {
      const sk = colSortKey(c);
      const active = sk && sk === sortKey;
      const pinned = st.pin.includes(c);
      const canPin = c !== 'name' && c !== 'id';
      const pinBtn = canPin ? h('button', {
        type: 'button', class: 'pin' + (pinned ? ' on' : ''), 'aria-label': (pinned ? 'unpin ' : 'pin ') + c,
        title: pinned ? 'Unpin this column' : 'Pin this column beside the name',
        onclick: (e) => { e.stopPropagation(); togglePin(c); },
      }, pinned ? '◆' : '◇') : null;
      const cell = h('div', frozenAttrs(i, {
        class: 'cell hcell' + (sk ? ' sortable' : '') + (active ? ' sorted' : '') + (c.startsWith('metrics.') || c === 'seq' ? ' num' : ''),
        title: c + (sk ? ' (click to sort)' : ''), role: 'columnheader',
        'aria-sort': active ? (desc ? 'descending' : 'ascending') : 'none',
        'data-col': c,
      }), h('span', { class: 'label' }, colLabel(c), active ? (desc ? ' ▼' : ' ▲') : ''), pinBtn);
      if (sk) cell.addEventListener('click', () => {
        // none -> descending -> ascending -> none
        st.sort = !active ? '-' + sk : desc ? sk : '';
        setParams({ sort: st.sort });
        // a new order starts at the top; sideways the names stay (frozen)
        // and the sorted column is kept in view, even when the default
        // columns move it to the front
        scroller.scrollTop = 0;
        renderHead();
        reload();
        revealColumn(c);
      });
      labels.appendChild(cell);
    });
  }

  // Scroll sideways so column c is in view right of the frozen columns.
  function revealColumn(c) {
    const cell = head.querySelector(`.hcell[data-col="${CSS.escape(c)}"]`);
    if (!cell || cell.classList.contains('frozen')) return;
    const x = cell.offsetLeft, w = cell.offsetWidth;
    const view0 = scroller.scrollLeft + lay.frozenWidth, view1 = scroller.scrollLeft + scroller.clientWidth;
    if (x < view0) scroller.scrollLeft = x - lay.frozenWidth;
    else if (x + w > view1) scroller.scrollLeft = x + w - scroller.clientWidth;
  }

  // --- rows (virtual) ------------------------------------------------------------
  function runAt(i) {
    const pg = st.pages.get(Math.floor(i / PAGE));
    return pg ? pg[i % PAGE] : undefined;
  }

  // --- the scaled scrollbar ---------------------------------------------------------
  // The rows are virtually total × ROW_H tall; the space that scrolls is at
  // most maxSpace().  The scroll position maps linearly onto the virtual
  // one, top to top and bottom to bottom, and the rows are drawn where the
  // virtual position puts them in the viewport.
  function maxSpace() { return globalThis.CAIRN_MAX_SPACE_PX || MAX_SPACE_PX; }
  function spaceHeight() { return Math.min(st.total * ROW_H, maxSpace()); }
  function virtualTop() {
    const s = scroller.scrollTop, virt = st.total * ROW_H, real = spaceHeight();
    if (virt <= real) return s;
    const realMax = head.offsetHeight + real - scroller.clientHeight;
    const virtMax = head.offsetHeight + virt - scroller.clientHeight;
    return realMax > 0 ? Math.min(virtMax, s * (virtMax / realMax)) : s;
  }
  function setSpace() { space.style.height = spaceHeight() + 'px'; }

  function range() {
    const top = Math.max(0, virtualTop() - head.offsetHeight);
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const n = Math.ceil(scroller.clientHeight / ROW_H) + 2 * OVERSCAN;
    return [first, Math.min(st.total, first + n)];
  }

  function visibleRuns() {
    const [a, b] = range();
    const out = [];
    for (let i = a; i < b; i++) {
      const r = runAt(i);
      if (r) out.push(r);
    }
    return out;
  }

  function ensurePages() {
    const [a, b] = range();
    const p0 = Math.floor(a / PAGE), p1 = Math.floor(Math.max(a, b - 1) / PAGE);
    // what scrolled away before its answer came is not wanted any more
    for (const [pg, ctl] of st.loading) if (pg < p0 || pg > p1) { ctl.abort(); st.loading.delete(pg); }
    for (let pg = p0; pg <= p1; pg++)
      if (!st.pages.has(pg) && !st.loading.has(pg)) fetchPage(pg);
  }
  let fetchTimer = 0;
  function ensurePagesSoon() {
    clearTimeout(fetchTimer);
    fetchTimer = setTimeout(() => { fetchTimer = 0; if (!disposed) ensurePages(); }, FETCH_DEBOUNCE_MS);
  }

  async function fetchPage(pg, refresh) {
    const gen = st.gen;
    const ctl = new AbortController();
    st.loading.set(pg, ctl);
    try {
      const res = await api('/api/v1/runs' + qs({
        project: st.project, q: st.q, sort: st.sort, columns: apiColumns(cols(), !!st.cols),
        limit: PAGE, offset: pg * PAGE,
      }), { signal: ctl.signal });
      if (gen !== st.gen || disposed) return;
      st.error = null;
      showError(null);
      st.total = res.total;
      st.pages.set(pg, res.runs);
      setSpace();
      countEl.textContent = `${st.total.toLocaleString()} run${st.total === 1 ? '' : 's'}`;
      empty.hidden = st.total > 0;
      if (!st.total) empty.textContent = st.q ? 'No run matches the query.' : 'No runs yet. Log one with `cairn run` or `cairn start`.';
      render(true);
    } catch (e) {
      if (e.name === 'AbortError' || gen !== st.gen || disposed) return;
      if (!refresh) showError(e);
    } finally {
      if (st.loading.get(pg) === ctl) st.loading.delete(pg);
      startColumns();
    }
  }

  let columnsStarted = false;
  function startColumns() {
    if (columnsStarted || disposed) return;
    columnsStarted = true;
    loadColumns().then(() => {
      if (!st.cols && !disposed) {
        renderHead();
        render(true);
      }
    });
  }

  function showError(e) {
    clear(qError);
    qInput.classList.toggle('bad', !!e);
    if (!e) {
      qError.hidden = true;
      return;
    }
    qError.hidden = false;
    qError.appendChild(h('div', null, e.message));
    if (e instanceof ApiError && Number.isInteger(e.position) && st.q) {
      // The query with the problem marked, as `cairn ls` marks it: the API's
      // position is the byte offset in the UTF-8 query; the message counts
      // characters from 1 ("at character 3") or says "at the end", and so
      // does the caret line.
      const at = caret(st.q, e.position);
      const chars = [...st.q];
      qError.appendChild(h('pre', { class: 'qpos', 'data-testid': 'query-error-position' },
        chars.slice(0, at.index).join(''), h('mark', null, chars[at.index] || ' '), chars.slice(at.index + 1).join(''),
        '\n', ' '.repeat(at.index) + '^ ' + (at.end ? 'at the end' : 'at character ' + (at.index + 1))));
    }
    st.total = 0;
    space.style.height = '0px';
    countEl.textContent = '';
    render(true);
  }

  let lastFirst = -1;
  // scrolling: the rows follow at once, their pages come when it rests
  function render(force, scrolling) {
    const [a, b] = range();
    // where the rows' virtual place shows in the viewport (the scroll position
    // itself when the scrollbar is not scaled)
    rowsEl.style.transform = `translateY(${a * ROW_H - (virtualTop() - scroller.scrollTop)}px)`;
    if (!force && a === lastFirst) {
      if (scrolling) ensurePagesSoon();
      return;
    }
    lastFirst = a;
    clear(rowsEl);
    const tmpl = lay.template;
    const cs = lay.order;
    for (let i = a; i < b; i++) {
      const r = runAt(i);
      const row = h('div', { class: 'vrow' + (i % 2 ? ' odd' : ''), role: 'row', style: { gridTemplateColumns: tmpl } });
      if (!r) {
        row.appendChild(h('div', { class: 'cell muted frozen', style: { left: '0px' } }, ''));
        row.appendChild(h('div', frozenAttrs(0, { class: 'cell muted' }), '…'));
        rowsEl.appendChild(row);
        continue;
      }
      row.dataset.id = r.id;
      if (st.sel.has(r.id)) row.classList.add('selected');
      row.appendChild(h('div', { class: 'cell frozen', style: { left: '0px' } }, h('input', {
        type: 'checkbox', checked: st.sel.has(r.id), 'aria-label': 'select ' + r.name,
        onchange: (e) => {
          if (e.target.checked) st.sel.add(r.id);
          else st.sel.delete(r.id);
          row.classList.toggle('selected', e.target.checked);
          selChanged();
        },
      })));
      cs.forEach((c, ci) => {
        let content;
        if (c === 'name') content = link('/run/' + enc(r.id), r.name);
        else if (c === 'id') content = h('code', { title: r.id }, fmt.shortId(r.id));
        else if (c === 'status') content = h('span', { class: 'status ' + r.status }, r.status);
        else if (c === 'tags') content = tagEditor(r, (tags) => { r.tags = tags; });
        else content = cellValue(r, c);
        const numeric = isNumeric(r, c);
        // a number's tooltip is its full value (shortest round-trip, as `cairn ls --format csv`)
        const title = numeric ? cellFull(r, c) : typeof content === 'string' ? content : undefined;
        row.appendChild(h('div', frozenAttrs(ci, { class: 'cell' + (numeric ? ' num' : ''), 'data-col': c, title }), content));
      });
      rowsEl.appendChild(row);
    }
    if (force) alignHeads(a, b);
    if (scrolling) ensurePagesSoon();
    else ensurePages();
  }

  // A param or property column's header is aligned as its values are: right
  // over numbers (the first run on screen that has the key decides).
  function alignHeads(a, b) {
    for (const cell of head.querySelectorAll('.hcell[data-col^="params."], .hcell[data-col^="properties."]')) {
      const c = cell.dataset.col;
      const [g, k] = [c.slice(0, c.indexOf('.')), c.slice(c.indexOf('.') + 1)];
      for (let i = a; i < b; i++) {
        const r = runAt(i);
        if (!r || !r[g] || r[g][k] === undefined) continue;
        cell.classList.toggle('num', isNumeric(r, c));
        break;
      }
    }
  }

  function selChanged() {
    setParams({ sel: [...st.sel].join(',') });
    compareBtn.textContent = `Compare (${st.sel.size})`;
    compareBtn.disabled = st.sel.size < 2;
  }

  function reload() {
    st.gen++;
    for (const c of st.loading.values()) c.abort();
    st.loading.clear();
    st.pages.clear();
    lastFirst = -1;
    renderHead();
    fetchPage(Math.floor(range()[0] / PAGE));
  }

  // --- groups ------------------------------------------------------------------------
  async function loadGroups() {
    clear(groupsEl);
    groupsEl.hidden = !st.group;
    if (!st.group) return;
    groupsEl.appendChild(h('p', { class: 'muted' }, 'Grouping…'));
    try {
      const res = await api('/api/v1/runs' + qs({ project: st.project, q: st.q, group: st.group, metric: st.gm }));
      clear(groupsEl);
      const metric = st.gm ? st.gm.replace(/^metrics\./, '') : '';
      const isParam = st.group.startsWith('params.');
      const isTag = st.group.startsWith('tags.');
      groupsEl.appendChild(h('table', { class: 'grid groups-table', 'data-testid': 'groups' },
        h('thead', null, h('tr', null, h('th', null, colLabel(st.group)), h('th', { class: 'num' }, 'runs'),
          metric ? ['min', 'mean', 'max'].map((f) => h('th', { class: 'num' }, f + ' ' + metric)) : null)),
        h('tbody', null, (res.groups || []).map((g) => h('tr', { class: 'clickable', title: 'Filter to this group', onclick: () => {
          const v = groupLiteral(g.value);
          // a tag's "" group holds its bare tags (and empty values): present, no non-empty value
          const cond = g.value === null ? `not ${st.group}`
            : isTag && g.value === '' ? `${st.group} and not ${st.group} like "_%"` : `${st.group} = ${v}`;
          qInput.value = st.q ? `(${st.q}) and ${cond}` : cond;
          applyQuery();
        } },
          h('td', { class: isParam && fmt.paramIsNumber(g.value) ? 'num' : '' }, g.value === null ? '(none)' : isTag && g.value === '' ? h('span', { class: 'muted' }, '(bare tag)') : isParam ? fmt.param(g.value) : fmt.value(g.value)),
          h('td', { class: 'num' }, g.count),
          metric ? [h('td', { class: 'num' }, fmt.num(g.min)), h('td', { class: 'num' }, fmt.num(g.mean)), h('td', { class: 'num' }, fmt.num(g.max))] : null)))));
    } catch (e) {
      clear(groupsEl);
      groupsEl.appendChild(h('p', { class: 'error' }, 'Cannot group: ', e.message));
    }
  }

  function fillGroupSelects() {
    const c = st.columns || { params: [], metrics: [], tags: [], properties: [] };
    clear(groupSel);
    groupSel.appendChild(h('option', { value: '' }, '(none)'));
    for (const a of ['status', 'project', 'user', 'host']) groupSel.appendChild(h('option', { value: a }, a));
    for (const k of c.params) groupSel.appendChild(h('option', { value: 'params.' + k.key }, 'params.' + k.key));
    for (const k of c.properties) groupSel.appendChild(h('option', { value: 'properties.' + k.key }, 'properties.' + k.key));
    for (const k of c.tags) groupSel.appendChild(h('option', { value: 'tags.' + k.tag }, 'tags.' + k.tag));
    groupSel.value = st.group;
    clear(gmSel);
    gmSel.appendChild(h('option', { value: '' }, '(count only)'));
    for (const k of c.metrics) gmSel.appendChild(h('option', { value: 'metrics.' + k.key }, k.key));
    gmSel.value = st.gm;
  }

  async function loadColumns() {
    try {
      st.columns = await api('/api/v1/columns' + qs({ project: st.project }));
    } catch (e) {
      toast('Cannot list columns: ' + e.message, true);
    }
    fillGroupSelects();
    if (!chooser.hidden) renderChooser();
  }

  // --- live updates --------------------------------------------------------------------
  const live = setInterval(() => {
    if (document.hidden) return;
    const pagesOnScreen = new Set();
    const [a, b] = range();
    for (let i = a; i < b; i++) {
      const r = runAt(i);
      if (r && r.status === 'running') pagesOnScreen.add(Math.floor(i / PAGE));
    }
    for (const pg of pagesOnScreen) if (!st.loading.has(pg)) fetchPage(pg, true);
  }, LIVE_MS);

  // --- start -------------------------------------------------------------------------------
  let raf = 0;
  scroller.addEventListener('scroll', () => {
    if (raf) return;
    raf = requestAnimationFrame(() => { raf = 0; render(false, true); });
  }, { passive: true });
  const onResize = () => render(true);
  window.addEventListener('resize', onResize);
  selChanged();
  renderHead();
  // Rows first (the first page is what a person waits for; the store
  // answers one request at a time), then the column list, which picks the
  // default columns (those that differ).
  reload();
  if (st.group) loadGroups();
  api('/api/v1/projects').then((res) => {
    for (const pr of res.projects) projectSel.appendChild(h('option', { value: pr.name }, `${pr.name} (${pr.runs})`));
    projectSel.value = st.project;
  }).catch(() => {});

  return {
    dispose() {
      disposed = true;
      clearInterval(live);
      clearTimeout(fetchTimer);
      window.removeEventListener('resize', onResize);
      for (const c of st.loading.values()) c.abort();
    },
  };
}
