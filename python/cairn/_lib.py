"""cairn._lib — finding and loading libcairn.so, and the ctypes view of it.

The binding is pure Python: it calls the C library through ctypes, so
nothing is compiled at install time.  The library is looked for, in order:

1. ``$CAIRN_LIB`` (a file, or a directory holding libcairn.so);
2. next to this package (a copy shipped inside the installed package);
3. the build tree: ``<repo>/build/libcairn.so`` when the package is used
   from ``<repo>/python`` (e.g. ``PYTHONPATH=python``);
4. the dynamic loader's search path (``libcairn.so.0``, ``libcairn.so``:
   LD_LIBRARY_PATH, /etc/ld.so.conf — /usr/local/lib after ``make install``).

When none loads, ``LibraryNotFoundError`` lists each candidate with the
reason it failed.  Loading happens once, on first use (``import cairn`` itself
does not touch the library), and is guarded by a lock.

A candidate that loads but lacks one of the functions the binding calls is
rejected ("not a usable libcairn"): the binding and the library are built
from the same tree.

Thread-safety: the loaded handle is immutable once published; the C library
is thread-safe and keeps its last error per thread, which ``check`` reads on
the calling thread right after the failing call.
"""

from __future__ import annotations

import ctypes
import os
import threading
from ctypes import (
    POINTER,
    Structure,
    c_char,
    c_char_p,
    c_double,
    c_int,
    c_int64,
    c_size_t,
    c_uint,
    c_void_p,
)

from ._errors import InvalidError, LibraryNotFoundError, error_for

STEP_AUTO = -(2**63)  # CAIRN_STEP_AUTO (INT64_MIN)

STATUS = {"running": 0, "finished": 1, "failed": 2, "killed": 3, "crashed": 4, "pruned": 5}

TYPE_INT, TYPE_FLOAT, TYPE_BOOL, TYPE_STRING = 1, 2, 3, 4


class RunOptions(Structure):
    _fields_ = [
        ("version", c_uint),
        ("project", c_char_p),
        ("name", c_char_p),
        ("tags", POINTER(c_char_p)),
        ("ntags", c_size_t),
        ("command", c_char_p),
        ("cwd", c_char_p),
        ("parent", c_char_p),
    ]


class Value(Structure):
    _fields_ = [("type", c_int), ("i", c_int64), ("f", c_double), ("s", c_char_p)]


class ListOptions(Structure):
    _fields_ = [
        ("version", c_uint),
        ("project", c_char_p),
        ("limit", c_int64),
        ("include_deleted", c_int),
    ]


class CaptureOptions(Structure):
    _fields_ = [
        ("version", c_uint),
        ("code", c_int),
        ("env", c_int),
        ("require_clean", c_int),
        ("cwd", c_char_p),
        ("snapshot_max_bytes", c_int64),
        ("python", c_char_p),
        ("packages_json", c_char_p),
        ("source_globs", POINTER(c_char_p)),
        ("nsource_globs", c_size_t),
    ]


class QueryOptions(Structure):
    _fields_ = [
        ("version", c_uint),
        ("query", c_char_p),
        ("sort", c_char_p),
        ("limit", c_int64),
        ("offset", c_int64),
        ("project", c_char_p),
        ("include_deleted", c_int),
    ]


class MonitorOptions(Structure):
    _fields_ = [
        ("version", c_uint),
        ("pid", c_int64),
        ("heartbeat_interval", c_double),
        ("sample_interval", c_double),
    ]


RUN_OPTIONS_VERSION = 1
LIST_OPTIONS_VERSION = 1
CAPTURE_OPTIONS_VERSION = 1
QUERY_OPTIONS_VERSION = 1
MONITOR_OPTIONS_VERSION = 1

_out = POINTER(c_void_p)  # char ** / cairn_x ** out-parameters
_R = c_int  # every fallible call returns int

# cairn_sweep_suggest_fn: int (*)(void *ctx, int64_t trial, char **out_params),
# called inside the claim's transaction; *out_params is malloc'd (the claim
# frees it with free()).
SWEEP_SUGGEST_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_int64, POINTER(c_void_p))

# cairn_trial_state and cairn_sweep_goal (include/cairn/sweep.h)
TRIAL_QUEUED, TRIAL_RUNNING, TRIAL_DONE, TRIAL_PRUNED, TRIAL_FAILED = range(5)
SWEEP_MINIMIZE, SWEEP_MAXIMIZE = 0, 1
OID_HEXSZ = 64

# name: (restype, argtypes) of every function the binding calls.
_FUNCS = {
    "cairn_version": (c_char_p, []),
    "cairn_error_last": (c_char_p, []),
    "cairn_error_last_code": (c_int, []),
    "cairn_error_clear": (None, []),
    "cairn_free": (None, [c_void_p]),
    "cairn_key_validate": (c_int, [c_char_p, c_char_p]),
    "cairn_store_find": (_R, [_out, c_char_p]),
    "cairn_store_open": (_R, [_out, c_char_p]),
    "cairn_store_close": (None, [c_void_p]),
    "cairn_store_path": (c_char_p, [c_void_p]),
    "cairn_run_create": (_R, [_out, c_void_p, POINTER(RunOptions)]),
    "cairn_run_open": (_R, [_out, c_void_p, c_char_p]),
    "cairn_run_resume": (_R, [_out, c_void_p, c_char_p]),
    "cairn_run_free": (None, [c_void_p]),
    "cairn_run_id": (c_char_p, [c_void_p]),
    "cairn_run_name": (c_char_p, [c_void_p]),
    "cairn_run_project": (c_char_p, [c_void_p]),
    "cairn_run_seq": (c_int64, [c_void_p]),
    "cairn_run_resolve": (_R, [POINTER(c_char), c_void_p, c_char_p]),
    "cairn_run_log_metric": (_R, [c_void_p, c_char_p, c_double, c_int64, c_double]),
    "cairn_run_flush": (_R, [c_void_p]),
    "cairn_run_log_param": (_R, [c_void_p, c_char_p, POINTER(Value)]),
    "cairn_run_set_param": (_R, [c_void_p, c_char_p, POINTER(Value)]),
    "cairn_run_set_tag": (_R, [c_void_p, c_char_p]),
    "cairn_run_remove_tag": (_R, [c_void_p, c_char_p]),
    "cairn_run_set_property": (_R, [c_void_p, c_char_p, c_char_p]),
    "cairn_run_set_note": (_R, [c_void_p, c_char_p]),
    "cairn_run_set_name": (_R, [c_void_p, c_char_p]),
    "cairn_run_log_artifact_kind": (_R, [c_void_p, c_char_p, c_char_p, c_char_p]),
    "cairn_run_log_artifact_buf": (_R, [c_void_p, c_char_p, c_size_t, c_char_p, c_char_p]),
    "cairn_run_delete_artifact": (_R, [c_void_p, c_char_p, POINTER(c_int64)]),
    "cairn_run_log_artifact_keep": (_R, [c_void_p, c_char_p, c_char_p, c_int]),
    "cairn_run_log_image": (_R, [c_void_p, c_char_p, c_char_p, c_int64]),
    "cairn_run_log_image_buf": (_R, [c_void_p, c_char_p, c_char_p, c_size_t, c_int64]),
    "cairn_run_heartbeat": (_R, [c_void_p]),
    "cairn_run_finish": (_R, [c_void_p, c_int, c_int]),
    "cairn_run_get_json": (_R, [_out, c_void_p, c_char_p]),
    "cairn_run_list_json": (_R, [_out, c_void_p, POINTER(ListOptions)]),
    "cairn_run_metric_history_json": (_R, [_out, c_void_p, c_char_p, c_char_p]),
    "cairn_run_delete": (_R, [c_void_p, c_char_p, c_int]),
    "cairn_run_log_metrics": (
        _R,
        [c_void_p, POINTER(c_char_p), POINTER(c_double), c_size_t, c_int64, c_double],
    ),
    "cairn_run_capture_report": (_R, [_out, c_void_p, POINTER(CaptureOptions)]),
    "cairn_run_log_config": (_R, [c_void_p, c_char_p]),
    "cairn_monitor_start": (_R, [_out, c_void_p, POINTER(MonitorOptions)]),
    "cairn_monitor_stop": (None, [c_void_p]),
    "cairn_command_line_masked": (_R, [_out, c_int, POINTER(c_char_p)]),
    "cairn_name_is_secret": (c_int, [c_char_p]),
    "cairn_run_log_dataset": (_R, [c_void_p, c_char_p, c_char_p, c_char_p]),
    "cairn_hash_path_json": (_R, [_out, c_void_p, c_char_p, c_char_p]),
    "cairn_data_diff_json": (_R, [_out, c_void_p, c_char_p, c_char_p]),
    "cairn_query_runs_json": (_R, [_out, c_void_p, POINTER(QueryOptions)]),
    "cairn_run_diff_json": (_R, [_out, c_void_p, c_char_p, c_char_p]),
    "cairn_artifact_lookup": (
        _R,
        [POINTER(c_char), POINTER(c_int64), _out, c_void_p, c_char_p, c_char_p],
    ),
    "cairn_object_read": (_R, [_out, POINTER(c_size_t), c_void_p, c_char_p, c_size_t]),
    "cairn_object_path": (_R, [_out, c_void_p, c_char_p]),
    # sweeps (include/cairn/sweep.h)
    "cairn_sweep_spec_parse": (_R, [_out, c_char_p, c_size_t, c_char_p]),
    "cairn_sweep_spec_free": (None, [c_void_p]),
    "cairn_sweep_spec_json": (_R, [_out, c_void_p]),
    "cairn_sweep_spec_method": (c_int, [c_void_p]),
    "cairn_sweep_method_name": (c_char_p, [c_int]),
    "cairn_sweep_spec_metric": (c_char_p, [c_void_p]),
    "cairn_sweep_spec_goal": (c_int, [c_void_p]),
    "cairn_sweep_spec_trials": (c_int64, [c_void_p]),
    "cairn_sampler_new": (_R, [_out, c_void_p]),
    "cairn_sampler_free": (None, [c_void_p]),
    "cairn_sampler_suggest": (_R, [_out, c_void_p, c_int64]),
    "cairn_sampler_tell_trials": (_R, [c_void_p, c_void_p, c_char_p]),
    "cairn_sweep_trial_claim": (
        _R,
        [POINTER(c_int64), _out, c_void_p, c_char_p, c_int64, c_char_p, SWEEP_SUGGEST_FN, c_void_p],
    ),
    "cairn_sweep_trial_set": (_R, [c_void_p, c_char_p, c_int64, c_int, c_char_p, c_double]),
    "cairn_sweep_trials_requeue": (_R, [POINTER(c_int64), c_void_p, c_char_p]),
    "cairn_sweep_trials_json": (_R, [_out, c_void_p, c_char_p]),
    "cairn_sweep_run_objective": (
        _R,
        [POINTER(c_double), POINTER(c_int), c_void_p, c_char_p, c_char_p],
    ),
    "cairn_sweep_reopen": (_R, [c_void_p, c_char_p]),
}

_lock = threading.Lock()
_lib = None
_path = None


def _candidates():
    """(path-or-name, how it was found) in search order."""
    out = []
    env = os.environ.get("CAIRN_LIB")
    if env:
        if os.path.isdir(env):
            out.append((os.path.join(env, "libcairn.so"), "$CAIRN_LIB directory"))
        else:
            out.append((env, "$CAIRN_LIB"))
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("libcairn.so", "libcairn.so.0"):
        out.append((os.path.join(here, name), "next to the package"))
    repo = os.path.dirname(os.path.dirname(here))
    out.append((os.path.join(repo, "build", "libcairn.so"), "the build tree"))
    for name in ("libcairn.so.0", "libcairn.so"):
        out.append((name, "the system library path"))
    return out


def _load():
    tried = []
    for cand, how in _candidates():
        if os.sep in cand and not os.path.exists(cand):
            tried.append("%s (%s): no such file" % (cand, how))
            continue
        try:
            lib = ctypes.CDLL(cand)
        except OSError as e:
            tried.append("%s (%s): %s" % (cand, how, e))
            continue
        missing = [n for n in _FUNCS if not hasattr(lib, n)]
        if missing:
            tried.append("%s (%s): not a usable libcairn (lacks %s)" % (cand, how, missing[0]))
            continue
        for name, (res, args) in _FUNCS.items():
            f = getattr(lib, name)
            f.restype, f.argtypes = res, args
        return lib, cand
    raise LibraryNotFoundError(
        "cannot load libcairn; build it with `make` or set CAIRN_LIB=/path/to/libcairn.so. "
        "Tried:\n  " + "\n  ".join(tried)
    )


def lib():
    """The loaded library (loading it on first use)."""
    global _lib, _path
    if _lib is None:
        with _lock:
            if _lib is None:
                _lib, _path = _load()
    return _lib


def path() -> str:
    """Where the loaded library came from."""
    lib()
    return _path


def last_error(rc: int):
    """The exception for a failed call's return code (read on this thread)."""
    L = lib()
    msg = L.cairn_error_last()
    code = L.cairn_error_last_code() or rc
    return error_for(code, msg.decode("utf-8", "replace") if msg else "")


def check(rc: int) -> None:
    if rc:
        raise last_error(rc)


def take_string(fn, *args) -> str:
    """Call fn(&out, *args) for a `char **out` function; return the text and free it."""
    out = c_void_p()
    rc = fn(ctypes.byref(out), *args)
    if rc:
        raise last_error(rc)
    try:
        return ctypes.string_at(out.value).decode("utf-8", "replace") if out.value else ""
    finally:
        lib().cairn_free(out)


def enc(s) -> bytes:
    """Text for a `const char *` argument (str, bytes or os.PathLike).  A NUL
    is refused: C would take the text as ending there."""
    if isinstance(s, bytes):
        b = s
    elif isinstance(s, str):
        b = s.encode("utf-8", "surrogateescape")
    elif isinstance(s, os.PathLike):
        b = os.fsencode(s)
    else:
        raise TypeError("expected a string, got %s" % type(s).__name__)
    if b"\0" in b:
        raise InvalidError("%r contains a NUL character" % (s,))
    return b


def dec(b) -> str:
    return b.decode("utf-8", "replace") if b is not None else None


_libc = None


def malloc_copy(ptr) -> int:
    """A malloc'd copy of the NUL-terminated text at address ``ptr``, for a
    callback whose caller releases what it is given with free() (the trial
    claim's suggestion): the C library's own allocator, libc's."""
    global _libc
    if _libc is None:
        c = ctypes.CDLL(None)
        c.strdup.restype, c.strdup.argtypes = c_void_p, [c_void_p]
        _libc = c
    return _libc.strdup(ptr)
