"""cairn._run — creating, attaching to and logging into runs.

``init()`` opens the store (``store=``, else ``$CAIRN_DIR``, else the nearest
``.cairn/``, else the per-user store — the library's own search) and either
attaches to the run named by ``$CAIRN_RUN_ID`` (set by ``cairn run`` and by
scripts that ``export CAIRN_RUN_ID=$(cairn start)``) or creates a run and
captures code, environment, the interpreter's packages, the script path and,
in Jupyter, the notebook.

Ownership and lifecycle.  A run this process created is *owned*: it is
finished by ``finish()``, by leaving its ``with`` block (``failed`` on an
exception, ``killed`` on KeyboardInterrupt), or at interpreter exit
(``failed`` after an uncaught exception), and the library's monitor thread
records its heartbeat and this process's CPU/memory/GPU use while it lives,
so that a process killed outright shows as ``crashed``.  An *attached* run
belongs to whoever created it (the ``cairn run`` wrapper sets its status
from the exit code): ``finish()`` only flushes and lets go of it.  A
*resumed* run (``init(run_id=..., resume=True)``, or a $CAIRN_RUN_ID naming
a run that has ended) is owned again: cairn_run_resume puts it back to
running with this process's pid and host, which is how a later attach tells
a live owner from a dead one (_owner_dead).  Nested runs: the active run
before a run is remembered (_store.set_active) and is active again when it
finishes.

Store handles are shared per store directory within a process, so a query
(``cairn.get_run``) sees every metric this process logged: reading through a
handle flushes its writer first.  After ``fork()`` the child opens its own.

Thread-safety: logging calls may come from any thread (the C library is
thread-safe).  ``finish()`` must not race with logging calls on the same run;
the run's lock only orders ``heartbeat()`` against ``finish()``.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import sys
import threading

from . import _artifacts, _capture, _lib, _signals, _store
from ._errors import ConflictError, DirtyError, Error, InvalidError
from ._image import image_source
from ._lib import STEP_AUTO, check, dec, enc, last_error
from ._params import as_mapping, flatten, typed
from ._query import get_run
from ._store import active_run, open_store

# --- values --------------------------------------------------------------------


def _number(value, key):
    """A metric value as float; TypeError for anything that is not a number."""
    if value is None or isinstance(value, (str, bytes, bytearray)):
        raise TypeError(
            "metric '%s': value %r is not a number (a %s)" % (key, value, type(value).__name__)
        )
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(
            "metric '%s': value %r is not a number (a %s)" % (key, value, type(value).__name__)
        ) from None


_STEP_MAX = 2**63 - 1


def _step(step):
    """A step for the C API: None is the next one; otherwise an int in
    0..2**63-1, checked here because ctypes would wrap a larger one."""
    if step is None:
        return STEP_AUTO
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise TypeError("step must be an int, not %s" % type(step).__name__)
    step = step.__index__()
    if step < 0:
        raise InvalidError("negative step %d" % step)
    if step > _STEP_MAX:
        raise InvalidError("step %d is out of range (0 to 2**63-1)" % step)
    return step


def _timestamp(ts):
    if ts is None:
        return 0.0
    if hasattr(ts, "timestamp"):  # datetime
        return float(ts.timestamp())
    return _number(ts, "timestamp")


_EXIT_CODES = {"finished": 0, "failed": 1, "killed": 130, "crashed": 1, "pruned": 0}

# --- runs ------------------------------------------------------------------------

_live: dict = {}  # id(run) -> run, every run this process holds a handle on
_live_lock = threading.RLock()  # reentrant: the SIGTERM handler may run while the main thread holds it


class Run:
    """A run being logged into: returned by ``cairn.init()``.

    Attributes: ``id`` (32 hex digits), ``name``, ``project``, ``seq``,
    ``store`` (the store directory), ``attached`` (True inside ``cairn run``),
    ``status`` ("running" until finished), ``notebook`` / ``script`` (paths
    recorded, or None).
    """

    def __init__(self, handle, store_handle, store_dir, owned):
        L = _lib.lib()
        self._h = handle
        self._store_h = store_handle
        self._log = L.cairn_run_log_metric
        self._logn = L.cairn_run_log_metrics
        self._keys: dict = {}
        self._batches: dict = {}
        self._lock = threading.Lock()
        self._owned = owned
        self.id = dec(L.cairn_run_id(handle))
        self.name = dec(L.cairn_run_name(handle))
        self.project = dec(L.cairn_run_project(handle))
        self.seq = L.cairn_run_seq(handle)
        self.store = store_dir
        self.attached = not owned
        self.status = "running"
        self.notebook = None
        self.script = None
        self._monitor = None
        self.capture_report = None
        self._channel = None  # inside `cairn run`: where to name the keys logged
        self._signal = None  # the signal that killed it (_signals.py): its status stays killed
        self._prev_active = None  # the run active before this one (_store.set_active)

    # -- hot paths ----------------------------------------------------------

    def _key(self, key):
        if not isinstance(key, str):
            raise TypeError("metric key must be a str, not %s" % type(key).__name__)
        k = key.encode("utf-8", "surrogateescape")
        if b"\0" in k:
            # C would see the key end at the NUL and log under its prefix
            raise InvalidError("metric key %r contains a NUL character" % key)
        if len(self._keys) < 100000:
            self._keys[key] = k
        if self._channel is not None:
            self._claim(k)
        return k

    def _claim(self, k):
        """Tell `cairn run` this key is logged here, before its first point
        (and so before the program can print it), so the wrapper's output
        parser leaves the printed copies out (src/cli/run-ctl.c).  Called
        once per key: _key runs when the key is not in the cache."""
        if b"\n" in k:
            return
        ch = _capture.capture_channel()  # still that pipe (the program may close it)
        if ch is None or not _capture.channel_send(ch, b"metric " + k + b"\n"):
            self._channel = None

    def log_metric(self, key, value, step=None, timestamp=None):
        """Log one point of metric ``key``.  ``step``: an int (default: the
        key's next step); ``timestamp``: seconds since the epoch or a datetime
        (default: now).  NaN and +-Inf are stored as they are; a value that is
        not a number raises TypeError."""
        k = self._keys.get(key)
        if k is None:
            k = self._key(key)
        if type(value) is not float:
            value = _number(value, key)
        rc = self._log(
            self._h,
            k,
            value,
            STEP_AUTO
            if step is None
            else (step if type(step) is int and 0 <= step <= _STEP_MAX else _step(step)),
            0.0 if timestamp is None else _timestamp(timestamp),
        )
        if rc:
            self._raise(rc)

    def log_metrics(self, metrics, step=None, timestamp=None):
        """Log several metrics at once: ``{key: value}``, all at ``step``
        (default: each key's next step) and the same timestamp."""
        n = len(metrics)
        if not n:
            return
        st = _step(step)
        ts = _timestamp(timestamp)
        keys = tuple(metrics)
        karr = self._batches.get(keys)
        if karr is None:
            karr = (ctypes.c_char_p * n)(*(self._keys.get(k) or self._key(k) for k in keys))
            if len(self._batches) >= 256:
                self._batches.clear()
            self._batches[keys] = karr
        try:
            varr = (ctypes.c_double * n)(*metrics.values())
        except TypeError:
            varr = (ctypes.c_double * n)(*(_number(v, k) for k, v in metrics.items()))
        rc = self._logn(self._h, karr, varr, n, st, ts)
        if rc:
            self._raise(rc)

    def _raise(self, rc):
        if self._h is None:
            raise Error("run %s is finished; it takes no more logging" % self.id)
        raise last_error(rc)

    def _call(self, fn, *args):
        if self._h is None:
            raise Error("run %s is finished; it takes no more logging" % self.id)
        rc = fn(self._h, *args)
        if rc:
            raise last_error(rc)

    # -- params, tags, properties ---------------------------------------------

    def _param(self, fn, key, value):
        if not isinstance(key, str):
            raise TypeError("param key must be a str, not %s" % type(key).__name__)
        t, i, f, s = typed(value)
        v = _lib.Value(t, i, f, enc(s) if s is not None else None)
        self._call(fn, enc(key), ctypes.byref(v))

    def log_param(self, key, value):
        """Record a param (int, float, bool or str; other values as text).
        Params are write-once: the same value again is fine, another value
        raises ConflictError."""
        self._param(_lib.lib().cairn_run_log_param, key, value)

    def log_params(self, params):
        """Record every param of a dict (nested dicts become dotted keys) or
        an argparse.Namespace.  Keys that look like secrets (``api_key``,
        ``db_password``, ...) are left out with a CaptureWarning; log one
        with ``log_param`` to record it anyway."""
        for k, v in _not_secret(flatten(params)):
            self.log_param(k, v)

    def set_param(self, key, value):
        """Record a param, replacing an earlier value (an explicit override)."""
        self._param(_lib.lib().cairn_run_set_param, key, value)

    def set_params(self, params):
        """Like log_params, replacing earlier values."""
        for k, v in _not_secret(flatten(params)):
            self.set_param(k, v)

    def set_tag(self, tag):
        self._call(_lib.lib().cairn_run_set_tag, enc(tag))

    def set_tags(self, tags):
        for t in tags:
            self.set_tag(t)

    def remove_tag(self, tag):
        self._call(_lib.lib().cairn_run_remove_tag, enc(tag))

    def set_property(self, key, value):
        """A string key/value (numbers and digests are recorded as text)."""
        self._call(_lib.lib().cairn_run_set_property, enc(key), enc(str(value)))

    def set_note(self, text):
        self._call(_lib.lib().cairn_run_set_note, enc(text))

    def set_name(self, name):
        self._call(_lib.lib().cairn_run_set_name, enc(name))
        self.name = name

    # -- files ------------------------------------------------------------------

    def log_text(self, name, text):
        """Store text as an artifact named ``name`` (a relative path such as
        ``notes/summary.md``)."""
        if not isinstance(text, str):
            raise TypeError("log_text takes a str, not %s" % type(text).__name__)
        data = text.encode("utf-8")
        self._call(_lib.lib().cairn_run_log_artifact_buf, data, len(data), enc(name), b"file")

    def log_artifact(self, path, name=None, kind="file", keep_last=None):
        """Store a file or a directory (recursively) under ``name`` (default:
        its base name).  With ``keep_last=N`` a file logged again and again
        under one name (a checkpoint) keeps its last N versions, as
        ``name@v1``, ``name@v2``, …, ``name`` itself being the newest; older
        versions are deleted and their bytes freed."""
        if keep_last is not None:
            if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 1:
                raise InvalidError("keep_last must be an int of at least 1, not %r" % (keep_last,))
            if kind != "file":
                raise InvalidError("keep_last versions files of kind 'file', not %r" % (kind,))
            self._call(
                _lib.lib().cairn_run_log_artifact_keep,
                enc(path),
                enc(name) if name is not None else None,
                keep_last,
            )
            return
        self._call(
            _lib.lib().cairn_run_log_artifact_kind,
            enc(path),
            enc(name) if name is not None else None,
            enc(kind),
        )

    def delete_artifact(self, path):
        """Delete the artifact at ``path``, or every artifact under it when
        it names a directory; returns how many were deleted.  Nothing there
        raises ``cairn.NotFoundError``.  Bytes that nothing else in the store
        uses (another artifact, the code snapshot, another run) are freed."""
        n = ctypes.c_int64(0)
        self._call(_lib.lib().cairn_run_delete_artifact, enc(path), ctypes.byref(n))
        return n.value

    def download_artifact(self, path, dest=None):
        """Copy the artifact at ``path`` (a file, or every file under a
        directory) to ``dest`` and return where it went: how a script loads
        a checkpoint it logged back.  Missing raises ``cairn.NotFoundError``."""
        if self._h is not None:
            self.flush()
        return _artifacts.download(self._store_h, self.id, path, dest)

    def open_artifact(self, path, mode="rb", encoding=None):
        """Open the artifact at ``path`` for reading (``"rb"`` or ``"r"``)."""
        if self._h is not None:
            self.flush()
        return _artifacts.open_(self._store_h, self.id, path, mode, encoding)

    def log_image(self, key, image, step=None):
        """Store an image under ``key`` (and ``step``): a path, PNG/JPEG/SVG
        bytes, a matplotlib figure, a PIL image, or a 2-D/3-D array."""
        st = _step(step)
        how, what = image_source(image)
        L = _lib.lib()
        if how == "path":
            self._call(L.cairn_run_log_image, enc(key), enc(what), st)
        else:
            self._call(L.cairn_run_log_image_buf, enc(key), what, len(what), st)

    def log_dataset(self, name, path, role="input"):
        """Record a dataset: its digest, file count, bytes and manifest."""
        self._call(_lib.lib().cairn_run_log_dataset, enc(name), enc(os.fspath(path)), enc(role))

    def log_config(self, config):
        """Record a config: a YAML/JSON file (flattened into params, the file
        kept as a "config" artifact) or a dict (flattened into params)."""
        if config is None:
            return
        if isinstance(config, (str, os.PathLike)):
            self._call(_lib.lib().cairn_run_log_config, enc(os.fspath(config)))
            return
        self.set_params(as_mapping(config))

    def last_step(self, key):
        """The last step stored for metric ``key``, or None when it has no
        point yet: where a resumed run left off (a point logged without a
        step goes one after it)."""
        s = self.get().metric_summaries.get(key)
        return s.get("step") if isinstance(s, dict) else None

    # -- nesting ------------------------------------------------------------------

    def child(self, name=None, **kwargs):
        """Start a child run of this one (a fold, a trial): ``cairn.init``
        with ``parent=self``, in this run's store and project unless
        ``store=`` / ``project=`` say otherwise; never attaches to
        $CAIRN_RUN_ID.  Used as ``with run.child("fold-1") as f:``, the
        active run is this one again once the child's block ends."""
        kwargs.setdefault("project", self.project)
        kwargs.setdefault("store", self.store)
        kwargs.setdefault("capture_code", False)
        kwargs.setdefault("capture_env", False)
        kwargs["attach"] = False
        return init(name=name, parent=self.id, **kwargs)

    # -- lifecycle ----------------------------------------------------------------

    def flush(self):
        """Commit every buffered metric point now."""
        self._call(_lib.lib().cairn_run_flush)

    def heartbeat(self):
        """Record that the run is alive (the library's monitor does it every
        few seconds for runs this process created)."""
        with self._lock:
            if self._h is not None:
                _lib.lib().cairn_run_heartbeat(self._h)

    def _start_monitor(self, usage=True):
        """Heartbeat and system usage (sys/* metrics) of this process, from
        the library's monitor thread (the first heartbeat is written before
        it returns); ``usage=False``: the heartbeat only (a sweep run, whose
        trials sample the usage)."""
        o = _lib.MonitorOptions(_lib.MONITOR_OPTIONS_VERSION, 0, 0.0, 0.0 if usage else -1.0)
        m = ctypes.c_void_p()
        rc = _lib.lib().cairn_monitor_start(ctypes.byref(m), self._h, ctypes.byref(o))
        if rc:
            raise last_error(rc)
        self._monitor = m.value

    def finish(self, status="finished", exit_code=None):
        """End the run: flush, set the status ("finished", "failed",
        "killed") and the end time.  On an attached run (inside ``cairn run``)
        this only flushes: the wrapper sets the status.  Idempotent."""
        if status not in ("finished", "failed", "killed", "crashed", "pruned"):
            raise _invalid_status(status)
        L = _lib.lib()
        with self._lock:
            h, self._h = self._h, None
        if h is None:
            return
        if self._signal is not None:  # killed by a signal, whatever happened after it
            status, exit_code = "killed", 128 + self._signal
        if self._monitor is not None:
            L.cairn_monitor_stop(self._monitor)
            self._monitor = None
        with _live_lock:
            _live.pop(id(self), None)
        _store.clear_active(self)
        try:
            if self._owned:
                code = _EXIT_CODES[status] if exit_code is None else int(exit_code)
                rc = L.cairn_run_finish(h, _lib.STATUS[status], code)
                if rc:
                    raise last_error(rc)
                self.status = status
            else:
                rc = L.cairn_run_flush(h)
                if rc:
                    raise last_error(rc)
        finally:
            L.cairn_run_free(h)

    @property
    def finished(self):
        return self._h is None

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is None:
            self.finish("finished")
        elif issubclass(et, KeyboardInterrupt):
            self.finish("killed")
        else:
            self.finish("failed")
        return False

    def get(self):
        """The run as stored now (a RunRecord: params, metrics, tags, ...)."""
        if self._h is not None:
            self.flush()
        return get_run(self.id, store=self.store)

    def __repr__(self):
        return "<cairn.Run %s %s (%s)%s>" % (
            self.id[:8],
            self.name,
            "finished" if self._h is None and self.attached else self.status,
            " attached" if self.attached else "",
        )


def _not_secret(items):
    for k, v in items:
        if _capture.name_is_secret(k):
            import warnings

            from . import CaptureWarning

            warnings.warn(
                "cairn: param '%s' looks like a secret and is not recorded "
                "(run.log_param records it anyway)" % k,
                CaptureWarning,
                stacklevel=4,
            )
            continue
        yield k, v


def _invalid_status(status):
    from ._errors import InvalidError

    return InvalidError(
        "a run cannot finish with status %r (expected finished, failed, killed or pruned)" % (status,)
    )


def _at_exit():
    if _lib._lib is None:
        return
    last = getattr(sys, "last_value", None)
    if _capture.in_jupyter() or last is None:
        status = "finished"
    elif isinstance(last, KeyboardInterrupt):
        status = "killed"
    else:
        status = "failed"
    with _live_lock:
        runs = list(_live.values())
    for r in runs:
        try:
            r.finish(status)
        except Exception as e:  # never fail interpreter exit
            print("cairn: cannot finish run %s: %s" % (r.id, e), file=sys.stderr)
    _store.close_stores()


atexit.register(_at_exit)


def _on_signal(signum):
    """SIGTERM (_signals.py): flush every owned live run and mark it killed
    with exit code 128 + signum; the handles stay open."""
    if _lib._lib is None:
        return
    L = _lib.lib()
    with _live_lock:
        runs = list(_live.values())
    for r in runs:
        h = r._h
        if h is None or not r._owned or r._signal is not None:
            continue
        r._signal = signum
        r.status = "killed"
        L.cairn_run_finish(h, _lib.STATUS["killed"], 128 + signum)
    for r in runs:
        h = r._h
        if h is not None and not r._owned:
            L.cairn_run_flush(h)


def _after_fork_in_child():
    """A forked child must not touch its parent's handles: the writer and
    monitor threads did not survive the fork.  It starts afresh (cairn.init
    in the child); the parent's runs stay the parent's to finish."""
    global _live, _live_lock
    _live, _live_lock = {}, threading.RLock()
    _store.reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

# --- init ------------------------------------------------------------------------------


def _register(run):
    with _live_lock:
        _live[id(run)] = run
    _store.set_active(run)


def init(
    project=None,
    name=None,
    params=None,
    config=None,
    tags=None,
    upload_source_files=None,
    capture_code=True,
    capture_env=True,
    require_clean=False,
    notebook=None,
    note=None,
    parent=None,
    store=None,
    attach=True,
    run_id=None,
    resume=False,
):
    """Start a run (or attach to the one ``cairn run`` started) and return it.

    project, name, tags, note, parent: how the run is filed (defaults:
        $CAIRN_PROJECT or "default", a generated name).
    params: a dict (nested dicts flattened to dotted keys) or an
        argparse.Namespace; recorded after ``config``, overriding it.
    config: a YAML/JSON file (flattened into params and kept as an artifact)
        or a dict.
    upload_source_files: glob patterns of extra files for the code snapshot.
    capture_code, capture_env, require_clean: the library's code and
        environment capture (git state and dirty snapshot; OS, hardware,
        packages of this interpreter); require_clean raises DirtyError on a
        dirty working tree and leaves no run behind.
    notebook: the notebook file, when running in Jupyter and it cannot be
        found automatically.
    store: the store directory (default: $CAIRN_DIR, the nearest .cairn/,
        else the per-user store).
    attach: with $CAIRN_RUN_ID set (inside ``cairn run``), or inside the
        objective of ``cairn.sweep``, log into that run (the trial's)
        instead of creating one (default True).  A $CAIRN_RUN_ID that names
        a run which has ended (finished, failed, killed, crashed) resumes
        it, as ``resume=True`` does.
    parent: the parent run (an id or a Run): the new run is its child
        (``cairn ls 'parent = ID'``; ``run.child()`` is a shorthand).
    run_id, resume: log into the existing run ``run_id`` (an id, a unique
        prefix or a name).  A running run is attached to (its owner
        finishes it); one that has ended is an error unless ``resume=True``.
        With ``resume=True`` the run returns to ``running`` and belongs to
        this process (finishing it sets its status again); metrics logged
        without a step continue after each key's last step, and params
        logged again must keep their values.  A deleted or unknown run
        raises NotFoundError.
    """
    L = _lib.lib()
    if tags is not None and isinstance(tags, (str, bytes)):
        tags = [tags]
    tags = list(tags or [])
    if params is not None:
        params = as_mapping(params)
    if isinstance(parent, Run):
        parent = parent.id
    if resume and run_id is None:
        raise InvalidError("resume=True needs run_id, the run to resume")
    trial = _store.sweep_trial() if attach and run_id is None else None
    from_env = False
    if trial is not None:  # inside a cairn.sweep objective: its trial's run
        sh, sdir, env_id = trial._store_h, trial.store, trial.id
    else:
        sh, sdir = open_store(store)
        env_id = run_id
        if env_id is None and attach:
            env_id = os.environ.get("CAIRN_RUN_ID")
            from_env = bool(env_id)
    in_nb = _capture.in_jupyter()
    prev = active_run()
    if in_nb and trial is None and prev is not None and prev._owned and not prev.finished:
        prev.finish()  # re-running a notebook cell starts over, as a new run
    if env_id and trial is None and (resume or _ended(sh, env_id, explicit=run_id is not None)):
        run = _resume(sh, sdir, env_id)
        _register(run)
        try:
            if name:
                run.set_name(name)
            run._start_monitor()
        except Exception:
            run.finish("failed")
            raise
    elif env_id:
        hp = ctypes.c_void_p()
        check(L.cairn_run_open(ctypes.byref(hp), sh, enc(env_id)))
        run = Run(hp.value, sh, sdir, owned=False)
        if from_env:
            ch = _capture.capture_channel()
            if ch is not None and _capture.channel_send(ch, b"attach\n"):
                run._channel = ch
        _register(run)
        try:
            if name:
                run.set_name(name)
        except Exception:
            run.finish()
            raise
    else:
        globs = [enc(g) for g in (upload_source_files or [])]
        nb = os.path.abspath(notebook) if notebook else (_capture.notebook_path() if in_nb else None)
        if in_nb and not nb:
            _capture.warn_notebook_not_found()
        if nb and os.path.commonpath([nb, os.getcwd()]) == os.getcwd():
            globs.append(enc(os.path.relpath(nb)))
        run = create_run(sh, sdir, project, name, tags, parent, command=not in_nb)
        try:
            _capture_into(run, capture_code, capture_env, require_clean, globs)
        except DirtyError:
            _discard(run)
            raise
        try:
            run.script = _capture.script_path()
            if run.script:
                run.set_property("script", run.script)
            if nb:
                run.notebook = nb
                run.set_property("notebook", nb)
                run.log_artifact(nb, "notebook/" + os.path.basename(nb))
            if note:
                run.set_note(note)
        except Exception:
            run.finish("failed")
            raise
        try:
            run._start_monitor()
        except Exception:
            run.finish("failed")
            raise
    resumed = bool(env_id) and run._owned
    try:
        if config is not None:
            if resumed and not isinstance(config, (str, os.PathLike)):
                run.log_params(as_mapping(config))  # a resumed run's params are kept
            else:
                run.log_config(config)
        if params is not None:
            if resumed:
                run.log_params(params)
            else:
                run.set_params(params)
        if env_id:
            for t in tags:
                run.set_tag(t)
    except Exception:
        run.finish("failed")
        raise
    return run


def create_run(sh, sdir, project=None, name=None, tags=(), parent=None, command=True, active=True):
    """Create an owned run in the store ``sh`` (directory ``sdir``), with
    this process's command line (``command``), registered to be finished at
    exit and, when ``active``, made the active run.  Nothing is captured and
    no monitor started: ``init`` and ``sweep`` do that as each needs."""
    tags = list(tags)
    tag_arr = (ctypes.c_char_p * len(tags))(*[enc(t) for t in tags]) if tags else None
    opts = _lib.RunOptions(
        _lib.RUN_OPTIONS_VERSION,
        enc(project) if project else None,
        enc(name) if name else None,
        tag_arr,
        len(tags),
        enc(_capture.command_line()) if command else None,
        None,
        enc(parent) if parent else None,
    )
    hp = ctypes.c_void_p()
    check(_lib.lib().cairn_run_create(ctypes.byref(hp), sh, ctypes.byref(opts)))
    run = Run(hp.value, sh, sdir, owned=True)
    _signals.install(_on_signal)
    if active:
        _register(run)
    else:
        with _live_lock:
            _live[id(run)] = run
    return run


def _ended(sh, run_id, explicit):
    """Has run ``run_id`` ended (finished, failed, killed, pruned, or crashed:
    running with a stale heartbeat)?  ``explicit`` (init's run_id without
    resume=True): an ended run is an error, not a resume."""
    import json

    from ._lib import take_string

    rec = json.loads(take_string(_lib.lib().cairn_run_get_json, sh, enc(run_id)))
    status = rec.get("status")
    if status == "running" and _owner_dead(rec):
        status = "crashed"  # its heartbeat is not stale yet, but its process is gone
    if status == "running":
        return False
    if explicit:
        raise ConflictError(
            "run %s is %s: cairn.init(run_id=%r, resume=True) resumes it"
            % (rec.get("id"), status, run_id)
        )
    return True


def _owner_dead(rec):
    """Is the process that owns this running run (created or last resumed
    it: the record's pid and host) gone?  Only answerable on its own host,
    and only for a run with a heartbeat (one that ``cairn start`` created or
    resumed has none: its shell finishes it)."""
    import socket

    pid = rec.get("pid")
    if not rec.get("heartbeat") or not isinstance(pid, int) or pid <= 0 or pid == os.getpid():
        return False
    if rec.get("host") != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _resume(sh, sdir, run_id):
    """An owned handle on run ``run_id``, back to running (cairn_run_resume)."""
    hp = ctypes.c_void_p()
    check(_lib.lib().cairn_run_resume(ctypes.byref(hp), sh, enc(run_id)))
    run = Run(hp.value, sh, sdir, owned=True)
    _signals.install(_on_signal)
    return run


def open_run(sh, sdir, run_id):
    """An owned handle on an existing run (a sweep being resumed), finished
    at exit like a created one; not made the active run."""
    hp = ctypes.c_void_p()
    check(_lib.lib().cairn_run_open(ctypes.byref(hp), sh, enc(run_id)))
    run = Run(hp.value, sh, sdir, owned=True)
    _signals.install(_on_signal)
    with _live_lock:
        _live[id(run)] = run
    return run


def _capture_into(run, code, env, require_clean, globs):
    if not (code or env or globs):
        return
    garr = (ctypes.c_char_p * len(globs))(*globs) if globs else None
    opts = _lib.CaptureOptions(
        _lib.CAPTURE_OPTIONS_VERSION,
        1 if code else 0,
        1 if env else 0,
        1 if require_clean else 0,
        None,
        0,
        enc(sys.executable) if (env and sys.executable) else None,
        enc(_capture.packages_json()) if env else None,
        garr,
        len(globs),
    )
    out = ctypes.c_void_p()
    rc = _lib.lib().cairn_run_capture_report(ctypes.byref(out), run._h, ctypes.byref(opts))
    import warnings

    from . import CaptureWarning

    if rc:
        err = last_error(rc)
        if out.value:
            _lib.lib().cairn_free(out)
        if isinstance(err, DirtyError):
            raise err
        warnings.warn("cairn: capture incomplete: %s" % err, CaptureWarning, stacklevel=3)
        return
    if out.value:
        import json

        try:
            report = json.loads(ctypes.string_at(out.value).decode("utf-8", "replace"))
        finally:
            _lib.lib().cairn_free(out)
        run.capture_report = report
        for w in report.get("warnings") or []:
            warnings.warn("cairn: %s" % w, CaptureWarning, stacklevel=3)


def _discard(run):
    """Delete a run that init() refused (require_clean on a dirty tree)."""
    L = _lib.lib()
    with run._lock:
        h, run._h = run._h, None
    with _live_lock:
        _live.pop(id(run), None)
    _store.clear_active(run)
    if h is not None:
        L.cairn_run_free(h)
    L.cairn_run_delete(run._store_h, enc(run.id), 1)
