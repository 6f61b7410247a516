"""cairn._sweep — in-process hyperparameter searches:
``cairn.sweep(objective_fn, space, n_trials=..., direction=...)`` and
``cairn.resume_sweep(sweep_id, objective_fn)``.

The search is the one ``cairn sweep`` runs (docs/cli/sweep.md), with a
Python function as the objective instead of a command, and it records the
same things, so ``cairn ls 'parent = SWEEP'``, ``cairn best`` and the web UI
treat a Python sweep like a CLI one:

- the sweep is a run tagged ``sweep`` with the properties ``sweep.method``,
  ``sweep.metric`` and ``sweep.goal``, then ``sweep.best_value``,
  ``sweep.best_trial``, ``sweep.best_run`` and ``sweep.best_params`` (updated
  as the best improves, so a sweep that dies keeps its best so far); its
  artifact ``sweep.json`` holds the canonical spec, with ``"driver":
  "python"`` where the CLI keeps its command, so that ``cairn sweep
  --resume`` knows to send the user here;
- each trial is a child run of the sweep named ``SWEEP-N`` (N the trial
  number) with the trial's values as params and the objective as a metric;
- the trials are the store's queue: each one is handed out by
  ``cairn_sweep_trial_claim``, one transaction in which the library's
  sampler suggests its values from the history in the store (TPE is told
  the finished trials with ``cairn_sampler_tell_trials``, exactly as the CLI
  does), so a Python sweep and a CLI sweep with the same spec and seed try
  the same values.

``space`` is the sweep file's ``parameters:`` mapping.  It is written into
the sweep file's JSON form with the other arguments and parsed by the
library (``cairn_sweep_spec_parse``), so it is validated by the same code,
with the same messages, as a sweep file; nothing is stored when it is bad.

A trial's life: claimed (state running, its run created with the params
and a heartbeat); ``objective_fn(params)`` or ``objective_fn(params, run)``
is called, with the trial's run as the active run and as the run that
``cairn.init()`` attaches to (``_store.sweep_trial``); then
- a finite number: the metric is logged, the run finishes, the trial is
  done with that value;
- ``None``: the value the function logged itself under the metric name
  through ``run`` (the CLI's reading: the objective is in the trial's
  metrics), else the trial failed;
- NaN, +-inf: the trial failed, the run finished (as a CLI trial whose
  metric is not usable); something that is not a number: failed, and the
  run too;
- an ``Exception``: the run and the trial failed, the traceback is kept as
  the run's ``logs/traceback.log``, a ``SweepWarning`` says so, and the
  search goes on;
- ``KeyboardInterrupt`` (or any other ``BaseException``): the run is killed,
  the trial goes back to the queue, the sweep ends killed and the exception
  propagates; ``cairn.resume_sweep`` runs the re-queued trial again and
  fills the budget.

Thread-safety: a sweep runs on the calling thread (the objective too); two
sweeps may run in two threads.  The suggestion callback runs on the same
thread, inside the claim; it never lets a Python exception cross into C.
"""

from __future__ import annotations

import ctypes
import math
import os
import time

from . import _capture, _lib, _store
from ._errors import ConflictError, Error, InvalidError
from ._lib import check, dec, enc, last_error, take_string
from ._run import _capture_into, _discard, create_run, open_run
from ._store import open_store

_METHODS = ("grid", "random", "tpe")
_DIRECTIONS = ("minimize", "maximize")
_ORIGIN = "cairn.sweep"  # names the space in the library's messages
_ENOTFOUND, _ENOMEM = -3, -9
_STATE_MAX = 4 << 20  # sweep.json, as the CLI reads it


class SweepWarning(UserWarning):
    """A trial failed (its objective raised, or returned no usable value);
    the search goes on."""


class SweepError(Error):
    """No trial of the sweep succeeded.  ``sweep_id`` names the sweep and
    ``trials`` lists them; the last trial's exception, if it raised, is the
    ``__cause__``."""

    def __init__(self, message, sweep_id=None, trials=None):
        super().__init__(message)
        self.sweep_id = sweep_id
        self.trials = trials or []


class Trial:
    """One trial of a sweep.

    ``number`` (0, 1, ...), ``params`` (a dict; an inactive conditional
    parameter is absent), ``value`` (the objective, a float; None unless
    done), ``state`` ("done", "failed", "queued", "running", "pruned"),
    ``run_id`` (its run, or None), ``sweep_id``.  The trial that
    ``cairn.sweep`` returns also has ``trials``: every trial of the sweep,
    by number (for the others it is None).
    """

    __slots__ = ("number", "params", "value", "state", "run_id", "sweep_id", "trials")

    def __init__(self, number, params, value, state, run_id, sweep_id, trials=None):
        self.number = number
        self.params = params
        self.value = value
        self.state = state
        self.run_id = run_id
        self.sweep_id = sweep_id
        self.trials = trials

    def __repr__(self):
        return "<cairn.Trial %d %s value=%r params=%r>" % (
            self.number,
            self.state,
            self.value,
            self.params,
        )


# --- the space ---------------------------------------------------------------------


def _plain(v, path):
    """``v`` as JSON values (numpy scalars as their value, arrays as lists);
    InvalidError naming the key for anything JSON has no form for."""
    from collections.abc import Mapping

    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, Mapping):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise InvalidError("%s: %s: key %r is not a str" % (_ORIGIN, path, k))
            out[k] = _plain(x, "%s.%s" % (path, k))
        return out
    if isinstance(v, (list, tuple)):
        return [_plain(x, "%s[%d]" % (path, i)) for i, x in enumerate(v)]
    tolist = getattr(v, "tolist", None)  # numpy scalars and arrays, tensors
    if callable(tolist) and not isinstance(v, (bytes, bytearray)):
        x = tolist()
        if isinstance(x, (bool, int, float, str, list)):
            return _plain(x, path)
    raise InvalidError(
        "%s: %s: %r (a %s) is not a number, text, bool, list or mapping"
        % (_ORIGIN, path, v, type(v).__name__)
    )


def _restate(message):
    """The library's message about the spec in the caller's terms: the text
    is one line, so the line number says nothing, and ``parameters`` is
    ``space`` here."""
    p = _ORIGIN + ":1: "
    if not message.startswith(p):
        return message
    rest = message[len(p) :]
    if rest.startswith("parameters"):
        rest = "space" + rest[len("parameters") :]
    return "%s: %s" % (_ORIGIN, rest)


def _parse(text):
    """The library's spec for a sweep file's JSON text (a handle to free)."""
    L = _lib.lib()
    b = text.encode("utf-8")
    out = ctypes.c_void_p()
    rc = L.cairn_sweep_spec_parse(ctypes.byref(out), b, len(b), enc(_ORIGIN))
    if rc:
        e = last_error(rc)
        raise type(e)(_restate(e.message), e.code) from None
    return out.value


def _int_arg(name, v, lo, hi):
    if isinstance(v, bool) or not hasattr(v, "__index__"):
        raise TypeError("%s must be an int, not %s" % (name, type(v).__name__))
    v = v.__index__()
    if not lo <= v <= hi:
        raise InvalidError("%s: %d is out of range (%d to %d)" % (name, v, lo, hi))
    return v


def _spec_text(space, n_trials, direction, method, metric, seed, tpe, project, name, note):
    """The sweep file, as JSON text, for these arguments (checked here when
    the library would name a key the caller did not write)."""
    import json
    from collections.abc import Mapping

    if method not in _METHODS:
        raise InvalidError("method must be grid, random or tpe, not %r" % (method,))
    if direction not in _DIRECTIONS:
        raise InvalidError("direction must be minimize or maximize, not %r" % (direction,))
    if not isinstance(metric, str):
        raise TypeError("metric must be a str, not %s" % type(metric).__name__)
    check(_lib.lib().cairn_key_validate(enc(metric), b"metric key"))
    if not isinstance(space, Mapping):
        raise InvalidError(
            "%s: space must be a mapping of parameter names to their definitions, not %s"
            % (_ORIGIN, type(space).__name__)
        )
    spec = {"method": method, "metric": {"name": metric, "goal": direction}}
    if n_trials is not None:
        spec["trials"] = _int_arg("n_trials", n_trials, 1, 100000)
    elif method != "grid":
        raise InvalidError(
            "n_trials is required for method %r (a grid runs its whole grid)" % method
        )
    spec["seed"] = _int_arg("seed", seed, 0, 2**63 - 1)
    if tpe is not None:
        spec["tpe"] = _plain(tpe, "tpe")
    for k, v in (("name", name), ("project", project), ("description", note)):
        if v is not None:
            if not isinstance(v, str):
                raise TypeError("%s must be a str, not %s" % (k, type(v).__name__))
            spec[k] = v
    spec["parameters"] = _plain(space, "space")
    return json.dumps(spec, ensure_ascii=False)


# --- the objective -----------------------------------------------------------------


def _caller(fn):
    """call(params, run) for objective_fn, which takes (params) or (params,
    run): run is passed when there is a second positional parameter without
    a default, one named ``run``, ``*args``, or a keyword-only ``run``."""
    import inspect

    if not callable(fn):
        raise TypeError("objective_fn must be callable, not %s" % type(fn).__name__)
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature
        return lambda params, run: fn(params)
    ps = list(sig.parameters.values())
    pos = [p for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in pos if p.default is p.empty]
    if len(required) > 2:
        raise TypeError(
            "objective_fn must take (params) or (params, run); %s needs %d arguments"
            % (getattr(fn, "__name__", "it"), len(required))
        )
    if any(p.kind is p.VAR_POSITIONAL for p in ps) or (
        len(pos) >= 2 and (pos[1].default is pos[1].empty or pos[1].name == "run")
    ):
        return lambda params, run: fn(params, run)
    if not pos:
        raise TypeError("objective_fn must take the trial's params: fn(params) or fn(params, run)")
    if any(p.name == "run" and p.kind is p.KEYWORD_ONLY for p in ps):
        return lambda params, run: fn(params, run=run)
    return lambda params, run: fn(params)


def _describe(v):
    return "%r (a %s)" % (v, type(v).__name__)


# --- the search ----------------------------------------------------------------------


class _Search:
    """One driver of one sweep: its store, spec and run, the best so far."""

    def __init__(self, sh, sdir, spec, run, call):
        L = _lib.lib()
        self.sh, self.sdir, self.spec, self.run, self.call = sh, sdir, spec, run, call
        self.sid = run.id
        self.bsid = enc(run.id)
        self.metric = dec(L.cairn_sweep_spec_metric(spec))
        self.bmetric = enc(self.metric)
        self.maximize = L.cairn_sweep_spec_goal(spec) == _lib.SWEEP_MAXIMIZE
        self.tpe = dec(L.cairn_sweep_method_name(L.cairn_sweep_spec_method(spec))) == "tpe"
        self.budget = L.cairn_sweep_spec_trials(spec)
        import socket

        self.owner = enc("%s:%d" % (socket.gethostname(), os.getpid()))
        self.best = None
        self.ndone = self.nfailed = 0
        self.last_exc = None
        import logging

        self.log = logging.getLogger("cairn.sweep")

    # -- the queue --------------------------------------------------------------

    def _suggest(self, trial, out):
        """The suggestion callback's work, inside the claim's transaction:
        a library error code goes back as it is (CAIRN_ENOTFOUND past the
        end of a grid ends the claim)."""
        L = _lib.lib()
        sm = ctypes.c_void_p()
        rc = L.cairn_sampler_new(ctypes.byref(sm), self.spec)
        if rc:
            return rc
        try:
            if self.tpe:
                rc = L.cairn_sampler_tell_trials(sm, self.sh, self.bsid)
                if rc:
                    return rc
            p = ctypes.c_void_p()
            rc = L.cairn_sampler_suggest(ctypes.byref(p), sm, trial)
            if rc:
                return rc
            try:
                copy = _lib.malloc_copy(p.value)  # the claim free()s it
            finally:
                L.cairn_free(p)
            if not copy:
                return _ENOMEM
            out[0] = copy
            return 0
        finally:
            L.cairn_sampler_free(sm)

    def claim(self):
        """(trial number, params JSON text) of the next trial, or None when
        nothing is queued and the budget is spent (or the grid is)."""
        L = _lib.lib()
        raised = []

        def suggest(ctx, trial, out):
            try:
                return self._suggest(trial, out)
            except BaseException as e:  # nothing may cross into C
                raised.append(e)
                return -1

        cb = _lib.SWEEP_SUGGEST_FN(suggest)
        t = ctypes.c_int64()
        p = ctypes.c_void_p()
        rc = L.cairn_sweep_trial_claim(
            ctypes.byref(t), ctypes.byref(p), self.sh, self.bsid, self.budget, self.owner, cb, None
        )
        if raised:
            if p.value:
                L.cairn_free(p)
            raise raised[0]
        if rc == _ENOTFOUND:
            return None
        if rc:
            raise last_error(rc)
        try:
            return t.value, ctypes.string_at(p.value).decode("utf-8", "replace")
        finally:
            L.cairn_free(p)

    def settle(self, trial, state, run_id=None, value=float("nan")):
        check(
            _lib.lib().cairn_sweep_trial_set(
                self.sh, self.bsid, trial, state, enc(run_id) if run_id else None, value
            )
        )

    # -- one trial ----------------------------------------------------------------

    def one(self, trial, ptext):
        import json

        params = json.loads(ptext)
        prev = _store.active_run()
        run = None
        settled = False
        try:
            run = create_run(
                self.sh,
                self.sdir,
                self.run.project,
                "%s-%d" % (self.run.name, trial),
                parent=self.sid,
                command=not _capture.in_jupyter(),
            )
            for k, v in params.items():
                run.log_param(k, v)
            if self.run.script:
                run.set_property("script", self.run.script)
            run._start_monitor()
            self.settle(trial, _lib.TRIAL_RUNNING, run.id)
            t0 = time.monotonic()
            outer = _store.set_sweep_trial(run)
            try:
                ret = self.call(dict(params), run)
            except Exception as e:
                self.failed(trial, params, run, "raised %s: %s" % (type(e).__name__, e), e)
                settled = True
                return
            finally:
                _store.set_sweep_trial(outer)
            value, why, run_ok = self.value_of(ret, run)
            if value is None:
                self.failed(trial, params, run, why, None, run_ok)
            else:
                self.done(trial, params, run, value, time.monotonic() - t0)
            settled = True
        except BaseException as e:
            if not settled:
                self.interrupted(trial, run, e)
            raise
        finally:
            if prev is not None and not prev.finished and _store.active_run() is None:
                _store.set_active(prev)

    def value_of(self, ret, run):
        """(value, None, True) for a usable objective, else (None, why,
        whether the run itself went well)."""
        if ret is None:
            run.flush()
            v = ctypes.c_double(float("nan"))
            L = _lib.lib()
            check(
                L.cairn_sweep_run_objective(
                    ctypes.byref(v), None, self.sh, enc(run.id), self.bmetric
                )
            )
            if math.isfinite(v.value):
                return v.value, None, True
            return None, "returned None and logged no finite '%s'" % self.metric, True
        if isinstance(ret, (bool, str, bytes, bytearray)):
            return None, "returned %s, not a number" % _describe(ret), False
        try:
            v = float(ret)
        except (TypeError, ValueError):
            return None, "returned %s, not a number" % _describe(ret), False
        if not math.isfinite(v):
            return None, "returned %r, not a finite number" % v, True
        run.log_metric(self.metric, v)
        return v, None, True

    def better(self, value):
        """value beats the best so far (a tie keeps the earlier trial)."""
        if self.best is None:
            return True
        return value > self.best.value if self.maximize else value < self.best.value

    def done(self, trial, params, run, value, elapsed):
        run.finish("finished")
        self.settle(trial, _lib.TRIAL_DONE, run.id, value)
        self.ndone += 1
        if self.better(value):
            self.best = Trial(trial, params, value, "done", run.id, self.sid)
            self.record_best()
        self.log.info(
            "trial %d done %s=%r %s (%.2fs), best %r (trial %d)",
            trial,
            self.metric,
            value,
            params,
            elapsed,
            self.best.value,
            self.best.number,
        )

    def failed(self, trial, params, run, why, exc, run_ok=False):
        import warnings

        if exc is not None:
            import traceback

            tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            data = tb.encode("utf-8", "replace")
            try:
                run._call(
                    _lib.lib().cairn_run_log_artifact_buf,
                    data,
                    len(data),
                    b"logs/traceback.log",
                    b"log",
                )
            except Error:
                pass  # the failure is recorded below all the same
            self.last_exc = exc
        run.finish("finished" if run_ok else "failed")
        self.settle(trial, _lib.TRIAL_FAILED, run.id)
        self.nfailed += 1
        warnings.warn(
            "cairn: trial %d of sweep %s failed: the objective %s (params %r; run %s)"
            % (trial, self.run.name, why, params, run.id[:8]),
            SweepWarning,
            stacklevel=5,
        )
        self.log.info("trial %d failed: %s", trial, why)

    def interrupted(self, trial, run, e):
        """Back to the queue, as cairn sweep puts back a trial it stops."""
        try:
            if run is not None and not run.finished:
                run.finish("killed" if not isinstance(e, Exception) else "failed")
        except Error:
            pass
        try:
            self.settle(trial, _lib.TRIAL_QUEUED)
        except Error:
            pass

    def record_best(self):
        import json

        b = self.best
        r = self.run
        r.set_property("sweep.best_value", "%.17g" % b.value)
        r.set_property("sweep.best_trial", "%d" % b.number)
        r.set_property("sweep.best_run", b.run_id)
        r.set_property(
            "sweep.best_params", json.dumps(b.params, separators=(",", ":"), ensure_ascii=False)
        )

    # -- the whole search ---------------------------------------------------------

    def go(self):
        try:
            while True:
                got = self.claim()
                if got is None:
                    break
                self.one(*got)
        except BaseException as e:
            try:
                self.run.finish("killed", exit_code=130 if isinstance(e, KeyboardInterrupt) else 1)
            except Error:
                pass
            raise
        self.run.finish("finished" if self.ndone else "failed")
        trials = _trials(self.sh, self.sid)
        if self.best is None:
            raise SweepError(
                "no trial of sweep %s succeeded (%d failed; see cairn.runs('parent = %s'))"
                % (self.run.name, sum(t.state == "failed" for t in trials), self.sid[:8]),
                self.sid,
                trials,
            ) from self.last_exc
        self.best.trials = trials
        return self.best

    def load(self):
        """On resume: trials left running by a driver that died (their run
        finished with a value: done; the others back to the queue), and the
        best done trial so far."""
        L = _lib.lib()
        for t in _trials(self.sh, self.sid):
            if t.state == "running" and t.run_id:
                v = ctypes.c_double(float("nan"))
                st = ctypes.c_int(0)
                rc = L.cairn_sweep_run_objective(
                    ctypes.byref(v), ctypes.byref(st), self.sh, enc(t.run_id), self.bmetric
                )
                if rc == 0 and st.value == _lib.STATUS["finished"] and math.isfinite(v.value):
                    self.settle(t.number, _lib.TRIAL_DONE, t.run_id, v.value)
                    t.state, t.value = "done", v.value
            if t.state == "done" and t.value is not None:
                self.ndone += 1
                if self.better(t.value):
                    self.best = t
        check(L.cairn_sweep_trials_requeue(None, self.sh, self.bsid))


def _trials(sh, sid):
    import json

    out = []
    for t in json.loads(take_string(_lib.lib().cairn_sweep_trials_json, sh, enc(sid))):
        v = t.get("value")
        value = None if v is None else float(v)
        out.append(Trial(t["trial"], t["params"], value, t["state"], t.get("run"), sid))
    return out


def _resolve(sh, run):
    buf = ctypes.create_string_buffer(33)
    check(_lib.lib().cairn_run_resolve(buf, sh, enc(run)))
    return buf.value.decode("ascii")


# --- the public calls ------------------------------------------------------------------


def sweep(
    objective_fn,
    space,
    *,
    n_trials=None,
    direction="minimize",
    method="tpe",
    metric="objective",
    seed=0,
    tpe=None,
    project=None,
    name=None,
    note=None,
    store=None,
    capture_code=True,
    capture_env=True,
):
    """Search ``space`` for the params that minimize (or maximize) what
    ``objective_fn(params)`` — or ``objective_fn(params, run)`` — returns;
    each call is a trial, a child run of the sweep run.  Returns the best
    trial (a ``Trial``, with ``.trials`` listing them all); raises
    ``SweepError`` when no trial succeeded.

    space: the sweep file's ``parameters:`` mapping (docs/cli/sweep.md), e.g.
        ``{"lr": {"min": 1e-4, "max": 0.1, "distribution": "log_uniform"},
        "depth": {"values": [2, 4, 8]}}``; conditional parameters with
        ``when``.  A bad space raises InvalidError naming the key.
    n_trials: the budget (required for random and tpe; a grid runs its whole
        grid, or its first n_trials points).
    direction: "minimize" or "maximize";  method: "tpe", "random" or "grid";
    metric: the objective's metric name in each trial;  seed: of random and
        tpe (the same seed gives the same trials);  tpe: the sweep file's
        ``tpe:`` options ({"startup_trials": 10, ...}).
    project, name, note, store: the sweep run's (the trials share its
        project and are named NAME-0, NAME-1, ...).
    capture_code, capture_env: captured once, on the sweep run (the trials
        run in the same process).
    """
    call = _caller(objective_fn)
    text = _spec_text(space, n_trials, direction, method, metric, seed, tpe, project, name, note)
    L = _lib.lib()
    spec = _parse(text)
    try:
        sh, sdir = open_store(store)
        run = _start(sh, sdir, spec, project, name, note, capture_code, capture_env)
        s = _Search(sh, sdir, spec, run, call)
        return s.go()
    finally:
        L.cairn_sweep_spec_free(spec)


def _start(sh, sdir, spec, project, name, note, capture_code, capture_env):
    """Create the sweep run and record what cairn sweep records on it."""
    import json

    L = _lib.lib()
    sj = take_string(L.cairn_sweep_spec_json, spec)
    run = create_run(
        sh, sdir, project, name, ["sweep"], command=not _capture.in_jupyter(), active=False
    )
    try:
        state = '{"spec":%s,"driver":"python","command":null,"config_out":null,"project":%s}\n' % (
            sj,
            json.dumps(project, ensure_ascii=False),
        )
        data = state.encode("utf-8")
        run._call(L.cairn_run_log_artifact_buf, data, len(data), b"sweep.json", b"config")
        maximize = L.cairn_sweep_spec_goal(spec) == _lib.SWEEP_MAXIMIZE
        method = L.cairn_sweep_method_name(L.cairn_sweep_spec_method(spec))
        run.set_property("sweep.method", dec(method))
        run.set_property("sweep.metric", dec(L.cairn_sweep_spec_metric(spec)))
        run.set_property("sweep.goal", "maximize" if maximize else "minimize")
        if note:
            run.set_note(note)
        _capture_into(run, capture_code, capture_env, False, [])
        run.script = _capture.script_path()
        if run.script:
            run.set_property("script", run.script)
        run._start_monitor(usage=False)
    except BaseException:
        _discard(run)
        raise
    return run


def resume_sweep(sweep_id, objective_fn, store=None):
    """Continue a sweep that ``cairn.sweep`` started and that was interrupted
    (KeyboardInterrupt) or killed: done trials are kept, interrupted ones
    run again with the same params, new ones fill the budget.  The space,
    budget, method and seed are the sweep's own.  Returns the best trial, as
    ``cairn.sweep`` does."""
    import json

    call = _caller(objective_fn)
    L = _lib.lib()
    sh, sdir = open_store(store)
    sid = _resolve(sh, sweep_id)
    st = ctypes.c_int(0)
    check(L.cairn_sweep_run_objective(None, ctypes.byref(st), sh, enc(sid), None))
    oid = ctypes.create_string_buffer(_lib.OID_HEXSZ + 1)
    size = ctypes.c_int64()
    media = ctypes.c_void_p()
    rc = L.cairn_artifact_lookup(
        oid, ctypes.byref(size), ctypes.byref(media), sh, enc(sid), b"sweep.json"
    )
    if media.value:
        L.cairn_free(media)
    if rc == _ENOTFOUND:
        raise InvalidError("run '%s' is not a sweep (it has no sweep.json)" % sweep_id)
    check(rc)
    data = ctypes.c_void_p()
    n = ctypes.c_size_t()
    check(L.cairn_object_read(ctypes.byref(data), ctypes.byref(n), sh, oid.value, _STATE_MAX))
    try:
        state = json.loads(ctypes.string_at(data.value, n.value).decode("utf-8"))
    except ValueError:
        raise InvalidError("the state of sweep '%s' (sweep.json) is damaged" % sweep_id) from None
    finally:
        L.cairn_free(data)
    if state.get("driver") != "python":
        raise InvalidError(
            "sweep '%s' runs a command; resume it with: cairn sweep --resume %s"
            % (sweep_id, sid[:8])
        )
    if st.value == _lib.STATUS["running"]:
        raise ConflictError(
            "sweep '%s' is still running (stop it first, or wait for it)" % sweep_id
        )
    spec = _parse(json.dumps(state.get("spec"), ensure_ascii=False))
    try:
        run = open_run(sh, sdir, sid)
        try:
            check(L.cairn_sweep_reopen(sh, enc(sid)))
            run.status = "running"
            run.script = _capture.script_path()
            run._start_monitor(usage=False)
            s = _Search(sh, sdir, spec, run, call)
            s.load()
        except BaseException:
            run.finish("killed", exit_code=1)
            raise
        return s.go()
    finally:
        L.cairn_sweep_spec_free(spec)


def sweep_trials(sweep_id, store=None):
    """Every trial of a sweep (made by ``cairn.sweep`` or ``cairn sweep``), by
    number, as ``Trial`` objects."""
    sh, _ = open_store(store)
    return _trials(sh, _resolve(sh, sweep_id))
