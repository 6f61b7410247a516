// runs.js — the runs table: query box (with the error's position), sortable
// columns, a column chooser that starts with the columns whose values differ,
// group-by with aggregates, tag editing, multi-select to compare, and virtual
// scrolling: only the rows in view exist in the DOM and only the pages of 100
// runs around them are fetched, so 100,000 runs scroll like 100.  Running runs
// on screen are refreshed every few seconds.
//
// URL: /runs?project=&q=&sort=&cols=&group=&gm=&sel=
import { h, clear } from './dom.js';
import { api, qs, enc, ApiError } from './api.js';
import * as fmt from './fmt.js';
import { params, setParams, navigate, link, toast } from './main.js';
import { tagEditor } from './tags.js';

const ROW_H = 30;
const PAGE = 100;
const OVERSCAN = 10;
const LIVE_MS = 4000;

const ATTRS = [
  { id: 'name', label: 'Name', width: 220, sort: 'name' },
  { id: 'status', label: 'Status', width: 90, sort: 'status' },
  { id: 'start_time', label: 'Started', width: 140, sort: 'started' },
  { id: 'duration', label: 'Duration', width: 80, sort: 'duration' },
  { id: 'tags', label: 'Tags', width: 200 },
  { id: 'project', label: 'Project', width: 110, sort: 'project' },
  { id: 'seq', label: '#', width: 60, sort: 'seq' },
  { id: 'user', label: 'User', width: 100, sort: 'user' },
  { id: 'host', label: 'Host', width: 110, sort: 'host' },
  { id: 'note', label: 'Note', width: 200, sort: 'note' },
];
const DEFAULT_ATTRS = ['name', 'status', 'start_time', 'duration', 'tags'];

function colLabel(c) {
  const a = ATTRS.find((x) => x.id === c);
  if (a) return a.label;
  return c.replace(/^(params|metrics|properties)\./, '');
}

function colWidth(c) {
  const a = ATTRS.find((x) => x.id === c);
  return a ? a.width : 120;
}

function colSortKey(c) {
  const a = ATTRS.find((x) => x.id === c);
  if (a) return a.sort || null;
  return c;
}

// What the API should return for these columns (all of every run while the
// columns are the defaults, which depend on what the runs carry).
function apiColumns(cols, explicit) {
  if (!explicit) return undefined;
  const need = new Set(['name', 'status', 'start_time', 'end_time']);
  for (const c of cols) {
    if (c === 'duration') continue;
    need.add(c);
  }
  return [...need].join(',');
}

function cellValue(r, c) {
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
    const cols = [...DEFAULT_ATTRS];
    if (!st.columns) return cols;
    for (const k of differing(st.columns.params).slice(0, 10)) cols.push('params.' + k.key);
    const ms = [...st.columns.metrics].sort((a, b) => b.count - a.count).slice(0, 8);
    for (const k of ms.sort((a, b) => (a.key < b.key ? -1 : 1))) cols.push('metrics.' + k.key);
    return cols;
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
      sect('Properties', c.properties, 'properties.')));
  }

  function template() {
    return ['32px', ...cols().map((c) => colWidth(c) + 'px')].join(' ');
  }

  function renderHead() {
    clear(head);
    head.style.gridTemplateColumns = template();
    const allBox = h('input', { type: 'checkbox', 'aria-label': 'select visible runs', onchange: (e) => {
      for (const r of visibleRuns()) {
        if (e.target.checked) st.sel.add(r.id);
        else st.sel.delete(r.id);
      }
      selChanged();
      render(true);
    } });
    head.appendChild(h('div', { class: 'cell' }, allBox));
    const sortKey = st.sort.replace(/^-/, '');
    const desc = st.sort.startsWith('-');
    for (const c of cols()) {
      const sk = colSortKey(c);
      const active = sk && sk === sortKey;
      const cell = h('div', {
        class: 'cell hcell' + (sk ? ' sortable' : '') + (active ? ' sorted' : ''),
        title: c + (sk ? ' (click to sort)' : ''), role: 'columnheader',
        'aria-sort': active ? (desc ? 'descending' : 'ascending') : 'none',
        'data-col': c,
      }, colLabel(c), active ? (desc ? ' ▼' : ' ▲') : '');
      if (sk) cell.addEventListener('click', () => {
        // none -> descending -> ascending -> none
        st.sort = !active ? '-' + sk : desc ? sk : '';
        setParams({ sort: st.sort });
        renderHead();
        reload();
      });
      head.appendChild(cell);
    }
  }

  // --- rows (virtual) ------------------------------------------------------------
  function runAt(i) {
    const pg = st.pages.get(Math.floor(i / PAGE));
    return pg ? pg[i % PAGE] : undefined;
  }

  function range() {
    const top = Math.max(0, scroller.scrollTop - head.offsetHeight);
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
    for (let pg = Math.floor(a / PAGE); pg <= Math.floor(Math.max(a, b - 1) / PAGE); pg++)
      if (!st.pages.has(pg) && !st.loading.has(pg)) fetchPage(pg);
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
      space.style.height = st.total * ROW_H + 'px';
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
      // The query with the problem's position marked.
      const pos = Math.min(e.position, st.q.length);
      qError.appendChild(h('pre', { class: 'qpos', 'data-testid': 'query-error-position' },
        st.q.slice(0, pos), h('mark', null, st.q.slice(pos, pos + 1) || ' '), st.q.slice(pos + 1),
        '\n', ' '.repeat(pos) + '^ at ' + pos));
    }
    st.total = 0;
    space.style.height = '0px';
    countEl.textContent = '';
    render(true);
  }

  let lastFirst = -1;
  function render(force) {
    const [a, b] = range();
    if (!force && a === lastFirst) return;
    lastFirst = a;
    clear(rowsEl);
    rowsEl.style.transform = `translateY(${a * ROW_H}px)`;
    const tmpl = template();
    const cs = cols();
    for (let i = a; i < b; i++) {
      const r = runAt(i);
      const row = h('div', { class: 'vrow' + (i % 2 ? ' odd' : ''), role: 'row', style: { gridTemplateColumns: tmpl } });
      if (!r) {
        row.appendChild(h('div', { class: 'cell muted' }, ''));
        row.appendChild(h('div', { class: 'cell muted' }, '…'));
        rowsEl.appendChild(row);
        continue;
      }
      row.dataset.id = r.id;
      if (st.sel.has(r.id)) row.classList.add('selected');
      row.appendChild(h('div', { class: 'cell' }, h('input', {
        type: 'checkbox', checked: st.sel.has(r.id), 'aria-label': 'select ' + r.name,
        onchange: (e) => {
          if (e.target.checked) st.sel.add(r.id);
          else st.sel.delete(r.id);
          row.classList.toggle('selected', e.target.checked);
          selChanged();
        },
      })));
      for (const c of cs) {
        let content;
        if (c === 'name') content = link('/run/' + enc(r.id), r.name);
        else if (c === 'status') content = h('span', { class: 'status ' + r.status }, r.status);
        else if (c === 'tags') content = tagEditor(r, (tags) => { r.tags = tags; });
        else content = cellValue(r, c);
        const text = typeof content === 'string' ? content : undefined;
        row.appendChild(h('div', { class: 'cell' + (isNumeric(r, c) ? ' num' : ''), 'data-col': c, title: text }, content));
      }
      rowsEl.appendChild(row);
    }
    ensurePages();
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
      groupsEl.appendChild(h('table', { class: 'grid groups-table', 'data-testid': 'groups' },
        h('thead', null, h('tr', null, h('th', null, colLabel(st.group)), h('th', null, 'runs'),
          metric ? [h('th', null, 'min ' + metric), h('th', null, 'mean ' + metric), h('th', null, 'max ' + metric)] : null)),
        h('tbody', null, (res.groups || []).map((g) => h('tr', { class: 'clickable', title: 'Filter to this group', onclick: () => {
          const v = groupLiteral(g.value);
          const cond = g.value === null ? `not ${st.group}` : `${st.group} = ${v}`;
          qInput.value = st.q ? `(${st.q}) and ${cond}` : cond;
          applyQuery();
        } },
          h('td', { class: isParam && fmt.paramIsNumber(g.value) ? 'num' : '' }, g.value === null ? '(none)' : isParam ? fmt.param(g.value) : fmt.value(g.value)),
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
    raf = requestAnimationFrame(() => { raf = 0; render(false); });
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
      window.removeEventListener('resize', onResize);
      for (const c of st.loading.values()) c.abort();
    },
  };
}
