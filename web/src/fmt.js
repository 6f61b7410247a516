// fmt.js — formatting numbers, times, durations and sizes for display.

// Numbers are written as the CLI writes them (src/cli/cli.c, util/dtoa.c),
// so a value reads the same in `cairn ls`, `cairn show` and the UI:
//
//   num(v)   tables and cells, as cli_fmt_num: nan, inf, -inf; an integral
//            value below 1e12 as an integer; anything else as C's "%.6g"
//            (0.0001, 1e-05, 0.333333, 1.23457e+06)
//   detail(v)  the run page, as `cairn show` (src/cli/cmd-show.c): a whole
//            value below 1e15 as an integer, anything else finite as "%.10g"
//   full(v)  the shortest text that reads back as v, as dtoa_shortest (what
//            `cairn ls --format csv` and the JSON API write): C's "%.{p}g"
//            with the smallest p >= 6 that round-trips (0.30000000000000004)
//
// C's %g is reproduced exactly from the double's exact decimal expansion
// (BigInt), rounding half to even as glibc does: JavaScript's toPrecision
// rounds exact ties away from zero (123456.5 is 123457 there, 123456 in C).

// The exact decimal digits of a finite v != 0: |v| = digits * 10^exp.
function exactDigits(v) {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  const bits = dv.getBigUint64(0);
  const bexp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const m = bexp === 0 ? frac : frac | (1n << 52n);
  const q = bexp === 0 ? -1074 : bexp - 1075; // |v| = m * 2^q
  if (q >= 0) return { digits: (m << BigInt(q)).toString(), exp: 0 };
  return { digits: (m * 5n ** BigInt(-q)).toString(), exp: q }; // m*2^q = m*5^-q * 10^q
}

// The first p significant digits of a finite a > 0, rounded half to even
// on its exact value, and the decimal exponent of the first: {digits, x}.
// toExponential is exact too but rounds a tie up, so it is used unless the
// digit after the p-th is a 5 (the only case where a tie is possible); then
// the exact expansion decides (BigInt, slower: ~10 µs against ~1 µs).
function roundDigits(a, p) {
  const next = a.toExponential(p); // p + 1 digits
  if (next[p + 1] !== '5') {
    const t = a.toExponential(p - 1);
    const e = t.indexOf('e');
    return { digits: t[0] + t.slice(2, e), x: Number(t.slice(e + 1)) };
  }
  let { digits, exp } = exactDigits(a);
  let x = digits.length - 1 + exp;
  if (digits.length > p) {
    const keep = digits.slice(0, p);
    const rest = digits.slice(p);
    const first = rest.charCodeAt(0) - 48;
    const tail = /[1-9]/.test(rest.slice(1));
    const up = first > 5 || (first === 5 && (tail || (keep.charCodeAt(p - 1) - 48) % 2 === 1));
    digits = up ? (BigInt(keep) + 1n).toString() : keep;
    if (digits.length > p) { // 999.. rounded up to 1000..
      digits = digits.slice(0, p);
      x++;
    }
  }
  return { digits: digits.padEnd(p, '0'), x };
}

// C's printf("%.{p}g", v) for a finite v and 1 <= p <= 17.
export function gfmt(v, p) {
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const sign = v < 0 ? '-' : '';
  const { digits, x } = roundDigits(Math.abs(v), p);
  let out;
  if (x < p && x >= -4) {
    // fixed: p - 1 - x decimals
    if (x >= 0) out = digits.slice(0, x + 1) + '.' + digits.slice(x + 1);
    else out = '0.' + '0'.repeat(-x - 1) + digits;
    if (out.includes('.')) out = out.replace(/0+$/, '').replace(/\.$/, '');
  } else {
    let mant = digits[0] + '.' + digits.slice(1);
    mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    out = mant + 'e' + (x < 0 ? '-' : '+') + String(Math.abs(x)).padStart(2, '0');
  }
  return sign + out;
}

// The three non-finite spellings of cairn's JSON ("NaN", "Infinity",
// "-Infinity") are numbers; other strings are returned as they are.
export function num(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') {
    if (!Object.hasOwn(FLOATS, v)) return v;
    v = FLOATS[v];
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v !== 'number') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e12) return String(v === 0 ? 0 : v);
  return gfmt(v, 6);
}

// An axis tick: as num() below 10,000; above, three significant digits
// and an SI prefix (2.1e9 bytes: "2.1G"), so a label fits its axis.
const SI = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
export function axisNum(v) {
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) < 1e4) return num(v);
  for (const [f, p] of SI) {
    if (Math.abs(v) >= f) return `${Number((v / f).toPrecision(3))}${p}`;
  }
  return num(v);
}

export function detail(v) {
  if (typeof v === 'string' && Object.hasOwn(FLOATS, v)) v = FLOATS[v];
  if (typeof v !== 'number' || !Number.isFinite(v)) return num(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v === 0 ? 0 : v);
  return gfmt(v, 10);
}

// The shortest round-trip text of a number, as dtoa_shortest; other values
// as num() writes them.
export function full(v) {
  if (typeof v === 'string' && Object.hasOwn(FLOATS, v)) v = FLOATS[v];
  if (typeof v !== 'number' || !Number.isFinite(v)) return num(v);
  // No decimal shorter than JavaScript's shortest (String(v)) reads back as
  // v, so C's loop from 6 digits can start at that length.
  const shortest = String(Math.abs(v)).replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  let s = '';
  for (let p = Math.max(6, shortest.length); p <= 17; p++) {
    s = gfmt(v, p);
    if (Number(s) === v) break;
  }
  return s;
}

// Any value for display: strings as they are, objects as JSON, numbers and
// bools by num().
export function value(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
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
//
// A whole number is shown whole, as the CLI shows an int param ("%lld"),
// even past 1e12 where a float is written "%.6g": the JSON the UI reads
// writes both kinds alike (json_num), so a float param with a whole value of
// 1e12 or more is the one case shown otherwise than `cairn show` shows it.
export function param(v) {
  v = paramValue(v);
  if (typeof v === 'string') return LOOKS_TYPED.test(v.trim()) ? JSON.stringify(v) : v;
  if (Number.isSafeInteger(v)) return String(v === 0 ? 0 : v);
  return value(v);
}

// A param on the run page, as `cairn show` writes it: a float as "%.10g".
export function paramDetail(v) {
  v = paramValue(v);
  if (typeof v === 'number' && !Number.isSafeInteger(v)) return Number.isFinite(v) ? gfmt(v, 10) : num(v);
  return param(v);
}

// A param in full (a tooltip): as `cairn ls --format csv` writes it.
export function paramFull(v) {
  v = paramValue(v);
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v === 0 ? 0 : v) : full(v);
  return param(v);
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

// A system-monitor metric (sys/cpu_percent, sys/gpu0/util_percent: docs/cli/run.md):
// recorded and selectable, but left out of default views (the runs table's
// default columns, the compare page's first charts, the parallel
// coordinates' default metric), where it would crowd out the results.
export function isSystemMetric(key) {
  return key.startsWith('sys/');
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
  // a crashed run lasted until its last heartbeat (as the duration attribute)
  const end = r.end_time || (r.status === 'running' ? Date.now() / 1000
    : r.status === 'crashed' ? r.heartbeat : null);
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
