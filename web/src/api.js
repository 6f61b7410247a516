// api.js — the JSON API client: errors become ApiError with the server's
// code, message and (for queries) the position of the problem.
//
// On a server that requires tokens the page holds a session: an HttpOnly
// cookie the browser sends by itself, and the session's CSRF token, kept
// here and sent as X-CSRF-Token with every write (the server refuses a
// cookie-borne write without it).  A 401 calls the handler main.js set
// (onUnauthorized), which shows the login view.

export class ApiError extends Error {
  constructor(status, code, message, position) {
    super(message);
    this.status = status;
    this.code = code;
    this.position = position;
  }
}

// Every write (POST, PUT, PATCH, DELETE) says Content-Type: application/json,
// with or without a body: the server refuses writes without it, since that is
// what a page of another site cannot send without a CORS preflight
// (docs/http-api.md, "Writes and other sites").
let csrf = null;
let unauthorized = () => {};
export const session = { auth: false, name: null, scope: null, project: null };

export function onUnauthorized(fn) {
  unauthorized = fn;
}

function remember(s) {
  session.auth = !!(s && s.auth);
  session.name = (s && s.name) || null;
  session.scope = (s && s.scope) || null;
  session.project = (s && s.project) || null;
  csrf = (s && s.csrf) || null;
}

// Who this page is: {auth: false} on a server without tokens; a 401
// (ApiError) when it requires one and the page has no live session.
export async function loadSession() {
  remember(await api('/api/v1/session', { quiet: true }));
  return session;
}

export async function login(token) {
  remember(await api('/api/v1/session', { method: 'POST', body: { token }, quiet: true }));
  return session;
}

export async function logout() {
  try {
    await api('/api/v1/session', { method: 'DELETE', quiet: true });
  } finally {
    remember(null);
  }
}

export async function api(path, opts = {}) {
  const method = opts.method || 'GET';
  const init = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET' && method !== 'HEAD') {
    init.headers['Content-Type'] = 'application/json';
    if (csrf) init.headers['X-CSRF-Token'] = csrf;
  }
  if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
  if (opts.signal) init.signal = opts.signal;
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'cannot reach the cairn server: ' + e.message);
  }
  let data = null;
  const text = await res.text();
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(res.status, 'bad_response', 'the server answered something that is not JSON');
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(res.status, e.code || 'error', e.message || res.statusText, e.position);
    if (res.status === 401 && !opts.quiet) {
      remember(null);
      unauthorized(err);
    }
    throw err;
  }
  return data;
}

export const enc = encodeURIComponent;

// A run-relative path with each segment encoded (keeps the slashes).
export function encPath(p) {
  return p.split('/').map(enc).join('/');
}

export function qs(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    parts.push(enc(k) + '=' + enc(v === true ? '1' : v));
  }
  return parts.length ? '?' + parts.join('&') : '';
}
