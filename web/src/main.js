// main.js — the single-page app: the top bar, client-side routing and the
// URL as the one place where a view's state lives (so a copied link shares
// exactly the view).  Pages: /runs (also /), /run/<id>, /compare?runs=a,b.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { h, clear } from './dom.js';
import { runsPage } from './runs.js';
import { runPage } from './run.js';
import { comparePage } from './compare.js';
import { loginView } from './login.js';
import { session, loadSession, logout, onUnauthorized } from './api.js';

const app = document.getElementById('app');
let page = null;

// --- URL state ------------------------------------------------------------

export function params() {
  return new URLSearchParams(location.search);
}

// Change query parameters of the current view (null/''/false removes one).
// replace: true (default) for view tweaks, so Back leaves the page.
export function setParams(patch, { replace = true } = {}) {
  const p = params();
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || v === undefined || v === '' || v === false) p.delete(k);
    else p.set(k, v === true ? '1' : String(v));
  }
  const s = p.toString().replace(/%2C/g, ',').replace(/%2F/g, '/');
  const url = location.pathname + (s ? '?' + s : '');
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
}

export function navigate(url, { replace = false } = {}) {
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  route();
}

// In-app links: <a href> that navigate without reloading.
export function link(href, ...children) {
  return h('a', { href, onclick: (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  } }, ...children);
}

// --- the top bar ------------------------------------------------------------

let toastTimer = 0;
export function toast(text, isError) {
  let t = document.getElementById('toast');
  if (!t) {
    t = h('div', { id: 'toast', role: 'status' });
    document.body.appendChild(t);
  }
  t.textContent = text;
  t.className = 'show' + (isError ? ' error' : '');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = ''; }, isError ? 6000 : 2000);
}

async function copyLink() {
  const url = location.href;
  const box = document.getElementById('link-box');
  box.value = url;
  box.hidden = false;
  try {
    await navigator.clipboard.writeText(url);
    toast('Link copied');
  } catch {
    box.select();
    toast('Copy the link from the box');
  }
}

function topbar() {
  const path = location.pathname;
  const tab = (href, label, active) => {
    const a = link(href, label);
    if (active) a.className = 'active';
    return a;
  };
  return h('header', { class: 'topbar' },
    link('/runs', h('img', { src: '/favicon.svg', alt: '', width: 20, height: 20 }), h('b', null, 'cairn')),
    h('nav', null,
      tab('/runs', 'Runs', path === '/' || path === '/runs'),
      path.startsWith('/run/') ? tab(path + location.search, 'Run', true) : null,
      path === '/compare' ? tab(path + location.search, 'Compare', true) : null),
    h('span', { class: 'spacer' }),
    h('input', { id: 'link-box', class: 'link-box', readonly: true, hidden: true, 'aria-label': 'link to this view' }),
    h('button', { id: 'copy-link', type: 'button', onclick: copyLink, title: 'Copy a link to exactly this view' }, 'Copy link'),
    session.auth ? h('span', { class: 'who', id: 'who', title: 'scope ' + session.scope + (session.project ? ', project ' + session.project : '') }, session.name) : null,
    session.auth ? h('button', { id: 'logout', type: 'button', onclick: doLogout }, 'Log out') : null);
}

// --- the session (a server that requires tokens) -----------------------------------

async function doLogout() {
  try {
    await logout();
  } catch (e) {
    toast(e.message, true);
  }
  showLogin('Logged out.');
}

function showLogin(message) {
  if (page && page.dispose) page.dispose();
  page = null;
  clear(app);
  const main = h('main', null);
  app.appendChild(main);
  loginView(main, route, message);
}

onUnauthorized((e) => showLogin(e.message));

// --- routing --------------------------------------------------------------------

function route() {
  if (page && page.dispose) page.dispose();
  page = null;
  clear(app);
  app.appendChild(topbar());
  const main = h('main', null);
  app.appendChild(main);
  const path = location.pathname;
  if (path === '/' || path === '/runs') page = runsPage(main);
  else if (path.startsWith('/run/')) page = runPage(main, decodeURIComponent(path.slice(5)));
  else if (path === '/compare') page = comparePage(main);
  else main.appendChild(h('p', { class: 'empty' }, 'No page at ', path, '. ', link('/runs', 'See the runs.')));
}

window.addEventListener('popstate', () => { if (session.auth || !needsLogin) route(); });

let needsLogin = false;
loadSession().then(route, (e) => {
  needsLogin = e.status === 401;
  if (needsLogin) showLogin();
  else route();
});
