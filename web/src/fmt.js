// fmt.js — formatting numbers, times, durations and sizes for display.

export function num(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v; // "NaN", "Infinity", strings
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return String(v); // NaN, Infinity, -Infinity: as metrics show them
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return String(Number(v.toPrecision(5)));
}

export function value(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return num(v);
}

// A param value as JavaScript: a non-finite float param arrives as
// {"$float": "NaN" | "Infinity" | "-Infinity"} (docs/internals/json.md) and
// becomes the number; anything else, the string "NaN" included, is returned
// as it is.
const FLOATS = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
export function paramValue(v) {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 &&
      typeof v.$float === 'string' && Object.hasOwn(FLOATS, v.$float)) return FLOATS[v.$float];
  return v;
}

export function paramIsNumber(v) {
  return typeof paramValue(v) === 'number';
}

// A string a reader would take for a number or a bool ("NaN", "Infinity",
// "2", "1e-3", "true") is shown in double quotes, so that the string param
// "NaN" and the float param NaN never look the same; other strings are shown
// as they are.
const LOOKS_TYPED = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf|infinity)$|^(true|false|null)$/i;
export function param(v) {
  v = paramValue(v);
  if (typeof v === 'string') return LOOKS_TYPED.test(v.trim()) ? JSON.stringify(v) : v;
  return value(v);
}

// Numbers as JS numbers, including the non-finite spellings of cairn's JSON.
export function toNumber(v) {
  v = paramValue(v);
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return NaN;
}

export function time(t) {
  if (!t) return '';
  const d = new Date(t * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function duration(s) {
  if (s === null || s === undefined || !isFinite(s)) return '';
  if (s < 0) s = 0;
  if (s < 60) return s.toFixed(1) + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + String(Math.floor(s % 60)).padStart(2, '0') + 's';
  return Math.floor(s / 3600) + 'h' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm';
}

export function runDuration(r) {
  if (!r.start_time) return null;
  const end = r.end_time || (r.status === 'running' ? Date.now() / 1000 : null);
  return end ? end - r.start_time : null;
}

export function bytes(n) {
  if (n === null || n === undefined) return '';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
}

export function shortId(id) {
  return id ? id.slice(0, 8) : '';
}
