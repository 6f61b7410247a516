// api.js — the JSON API client: errors become ApiError with the server's
// code, message and (for queries) the position of the problem.

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
export async function api(path, opts = {}) {
  const method = opts.method || 'GET';
  const init = { method, headers: {} };
  if (method !== 'GET' && method !== 'HEAD') init.headers['Content-Type'] = 'application/json';
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
    throw new ApiError(res.status, e.code || 'error', e.message || res.statusText, e.position);
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
