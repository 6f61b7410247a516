"""cairn._store — what the binding's modules share about the process: the
store handles (one per store directory, so a query sees every metric this
process logged), the active run (the one the last ``cairn.init()``
returned, while it is not finished) and the ``cairn.sweep`` trial whose
objective is running (``cairn.init()`` inside it attaches to its run).

``_run`` (creating and logging into runs) and ``_query`` (reading them) both
import this module and not each other's internals, so there is no import
cycle: ``_run`` imports ``_query``, and ``_query`` only this.

After ``fork()`` the child starts with no handles and no active run: the
parent's writer and monitor threads did not survive the fork.

Thread-safety: the handle table is guarded by a lock; the active run is one
reference, replaced atomically; the sweep trial is kept per thread.
"""

from __future__ import annotations

import ctypes
import os
import threading

from . import _lib
from ._lib import check, dec, enc

_stores: dict = {}
_stores_pid = os.getpid()
_stores_lock = threading.Lock()


def _store_arg(store):
    """A directory made absolute; a URI (postgresql://...) as it is."""
    s = os.fspath(store)
    return s if "://" in s else os.path.abspath(s)


def open_store(store=None):
    """(handle, directory or URI) of the store, opened once per store per process."""
    global _stores, _stores_pid
    L = _lib.lib()
    explicit = enc(_store_arg(store)) if store is not None else None
    with _stores_lock:
        if _stores_pid != os.getpid():  # a forked child must not use its parent's handles
            _stores, _stores_pid = {}, os.getpid()
        out = ctypes.c_void_p()
        check(L.cairn_store_find(ctypes.byref(out), explicit))
        try:
            found = ctypes.string_at(out.value).decode("utf-8", "surrogateescape")
        finally:
            L.cairn_free(out)
        h = _stores.get(found)
        if h is not None:
            return h, found
        hp = ctypes.c_void_p()
        check(L.cairn_store_open(ctypes.byref(hp), explicit))
        path = dec(L.cairn_store_path(hp)) or found
        _stores[found] = hp.value
        if path != found:
            _stores[path] = hp.value
        return hp.value, found


def close_stores():
    with _stores_lock:
        if _stores_pid != os.getpid():
            return
        L = _lib.lib()
        for h in set(_stores.values()):
            L.cairn_store_close(h)
        _stores.clear()



def reset_after_fork():
    """In a forked child: forget the parent's handles and active run."""
    global _stores, _stores_lock, _stores_pid, _active, _trial
    _stores, _stores_lock, _stores_pid = {}, threading.Lock(), os.getpid()
    _active, _trial = None, threading.local()


# --- the active run ---------------------------------------------------------

_active = None


def active_run():
    """The run the last ``cairn.init()`` returned, while it is not finished;
    when it finishes, the run that was active before it (a child's parent)
    is active again."""
    return _active


def set_active(run):
    """``run`` becomes the active run; the one active before it is
    remembered, to be active again when ``run`` finishes."""
    global _active
    if _active is not run:
        run._prev_active = _active
    _active = run


def clear_active(run):
    """``run`` is finished or discarded: it is no longer the active run, and
    the nearest run active before it that is not finished yet (and is
    another run) is again."""
    global _active
    if _active is run:
        prev = getattr(run, "_prev_active", None)
        # not another handle on the same run (a sweep trial's, attached to)
        while prev is not None and (prev.finished or prev.id == run.id):
            prev = getattr(prev, "_prev_active", None)
        _active = prev


# --- the sweep trial being evaluated -------------------------------------------

# Per thread: the objective runs on the thread that called cairn.sweep, and
# a cairn.init() on another thread (a second sweep's, or unrelated) must not
# attach to this one's trial.
_trial = threading.local()


def sweep_trial():
    """The run of the ``cairn.sweep`` trial whose objective is running on
    this thread, which ``cairn.init()`` attaches to (as it attaches to
    ``cairn run``'s run)."""
    return getattr(_trial, "run", None)


def set_sweep_trial(run):
    """Enter (a run) or leave (the previous value) a trial's objective on
    this thread; returns the previous value, for nested sweeps."""
    prev = getattr(_trial, "run", None)
    _trial.run = run
    return prev
