"""cairn.sklearn — scikit-learn autologging: ``cairn.sklearn.autolog()``.

    import cairn.sklearn
    cairn.sklearn.autolog()
    model = LogisticRegression(C=0.5).fit(X_train, y_train)   # params recorded
    model.score(X_test, y_test)                             # metric LogisticRegression.score
    accuracy_score(y_test, model.predict(X_test))           # metric accuracy_score

How it patches.  ``fit``, ``fit_transform``, ``fit_predict`` and ``score``
are wrapped where they are defined: on every class of the method
resolution order of every ``sklearn.base.BaseEstimator`` subclass that
exists when ``autolog()`` is called (the mixins that define ``score``
included), and on every subclass defined afterwards, through an
``__init_subclass__`` hook on ``BaseEstimator`` — so estimators imported
after ``autolog()``, the caller's own estimators and other libraries'
scikit-learn estimators (xgboost's ``XGBClassifier``) are covered without
importing all of scikit-learn.  Only plain functions are wrapped (the
``available_if`` descriptors of ``Pipeline.score`` and friends are left as
they are, so ``hasattr`` keeps its meaning).  With ``metrics=True`` the
scalar metric functions of ``sklearn.metrics`` (names ending in
``_score``, ``_error`` or ``_loss``, and ``matthews_corrcoef``) are
replaced in that module's namespace; code that did ``from sklearn.metrics
import accuracy_score`` *before* ``autolog()`` keeps the original.

What is recorded (into the run of cairn._integ.resolve_run: the active run,
else one started with ``cairn.init(project=project)``):

- at each outermost ``fit``: ``get_params(deep=True)`` as params named
  ``<Class>.<param>``, nested parameters' ``__`` written as ``.``
  (``Pipeline.clf.C``); an estimator-valued parameter is its class name,
  a function its qualified name.  Params are set (a later fit replaces the
  value of the same key);
- after a search (``GridSearchCV``, ``RandomizedSearchCV``, anything with
  ``best_params_``): ``<Class>.best_params.<param>`` and the metric
  ``<Class>.best_score``;
- at each outermost ``score``: the metric ``<Class>.score``, and at each
  outermost call of a patched metric function the metric named after it
  (``accuracy_score``), at the key's next step, when the result is one
  number.

"Outermost": calls made while a patched call is running — the fits and
scores inside a ``Pipeline`` or a ``GridSearchCV``, the ``accuracy_score``
inside ``ClassifierMixin.score`` — are not recorded, on any thread, so
that a search records its own params and results, not those of each
candidate (scikit-learn fits candidates and forest trees on joblib worker
threads).  The counter is process-wide: while one thread is inside a
patched call, another thread's calls are not recorded either.

Failures to record warn (``cairn.IntegrationWarning``) and never change
what the wrapped method returns or raises.  ``autolog()`` is idempotent;
``autolog(disable=True)`` puts every original back.

Thread-safety: ``autolog`` is serialised by a lock; the wrappers read the
enabled flag and a counter under another.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import threading

from . import _integ

__all__ = ["autolog"]

FIT_METHODS = ("fit", "fit_transform", "fit_predict")
SCORE_METHODS = ("score",)
_METRIC_SUFFIXES = ("_score", "_error", "_loss")
_METRIC_EXTRA = ("matthews_corrcoef",)
_VALUE_MAX = 1000  # characters of a param value made from an object

_lock = threading.RLock()  # autolog() and the hook that patches new classes
_patches: list = []  # (owner, name, original or None, wrapper), in patching order
_state = {"enabled": False, "project": None, "metrics": False}
_busy_lock = threading.Lock()
_busy = [0]  # patched calls running, on any thread


def autolog(disable=False, *, metrics=True, project=None):
    """Record scikit-learn estimators' params at ``fit`` and their scores
    into cairn, with no other change to the code (see the module comment).

    disable: put the original methods back (and record nothing more).
    metrics: also record the scalar metric functions of ``sklearn.metrics``.
    project: the project of the run started when no run is active.

    Calling it again changes the options without patching twice.  Raises
    ImportError when scikit-learn cannot be imported.
    """
    with _lock:
        if disable:
            _unpatch_all()
            return
        try:
            import sklearn.base
        except ImportError as e:
            raise ImportError(
                "cairn.sklearn.autolog() needs scikit-learn, which this interpreter (%s) "
                "cannot import (%s); install it (Debian: apt install python3-sklearn)"
                % (sys.executable, e)
            ) from e
        _state["project"] = project
        if not _state["enabled"]:
            _install_hook(sklearn.base.BaseEstimator)
            for cls in _subclasses(sklearn.base.BaseEstimator):
                _patch_class(cls)
            _state["enabled"] = True
        if metrics and not _state["metrics"]:
            import sklearn.metrics

            _patch_metrics(sklearn.metrics)
            _state["metrics"] = True
        elif not metrics and _state["metrics"]:
            import sklearn.metrics

            _unpatch_owner(sklearn.metrics)
            _state["metrics"] = False


# --- patching ---------------------------------------------------------------------


def _subclasses(root):
    seen, todo, out = set(), [root], []
    while todo:
        c = todo.pop()
        for s in type.__subclasses__(c):
            if s not in seen:
                seen.add(s)
                out.append(s)
                todo.append(s)
    return out


def _install_hook(base):
    """Patch every BaseEstimator subclass as it is created."""
    prev = base.__dict__.get("__init_subclass__")

    def __init_subclass__(cls, **kwargs):
        if prev is not None:
            prev.__get__(None, cls)(**kwargs)
        else:
            super(base, cls).__init_subclass__(**kwargs)
        with _lock:
            if _state["enabled"]:
                _patch_class(cls)

    hook = classmethod(__init_subclass__)
    base.__init_subclass__ = hook
    _patches.append((base, "__init_subclass__", prev, hook))


def _patch_class(cls):
    for owner in cls.__mro__:
        if owner is object:
            continue
        for name in FIT_METHODS + SCORE_METHODS:
            f = owner.__dict__.get(name)
            if not inspect.isfunction(f) or hasattr(f, "_cairn_original"):
                continue
            w = _fit_wrapper(f) if name in FIT_METHODS else _score_wrapper(f)
            setattr(owner, name, w)
            _patches.append((owner, name, f, w))


def _patch_metrics(module):
    for name in list(getattr(module, "__all__", ())):
        if not (name.endswith(_METRIC_SUFFIXES) or name in _METRIC_EXTRA):
            continue
        f = getattr(module, name, None)
        if not callable(f) or inspect.isclass(f) or hasattr(f, "_cairn_original"):
            continue
        w = _metric_wrapper(f, name)
        setattr(module, name, w)
        _patches.append((module, name, f, w))


def _restore(owner, name, orig, w):
    here = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
    if here is not w:  # someone replaced ours since: leave theirs
        return
    if orig is None:
        delattr(owner, name)
    else:
        setattr(owner, name, orig)


def _unpatch_owner(owner):
    keep = []
    for p in _patches:
        if p[0] is owner:
            _restore(*p)
        else:
            keep.append(p)
    _patches[:] = keep


def _unpatch_all():
    for p in reversed(_patches):
        _restore(*p)
    _patches.clear()
    _state["enabled"] = False
    _state["metrics"] = False


# --- the wrappers -------------------------------------------------------------------


def _enter():
    """True when this is the outermost patched call (and autolog is on)."""
    with _busy_lock:
        _busy[0] += 1
        return _busy[0] == 1 and _state["enabled"]


def _leave():
    with _busy_lock:
        _busy[0] -= 1


def _fit_wrapper(orig):
    @functools.wraps(orig)
    def fit(self, *args, **kwargs):
        outer = _enter()
        try:
            if outer:
                _record(_record_params, self)
            result = orig(self, *args, **kwargs)
        finally:
            _leave()
        if outer:
            _record(_record_search, self)
        return result

    fit._cairn_original = orig
    return fit


def _score_wrapper(orig):
    @functools.wraps(orig)
    def score(self, *args, **kwargs):
        outer = _enter()
        try:
            result = orig(self, *args, **kwargs)
        finally:
            _leave()
        if outer:
            _record(_record_metric, type(self).__name__ + ".score", result)
        return result

    score._cairn_original = orig
    return score


def _metric_wrapper(orig, name):
    @functools.wraps(orig)
    def metric(*args, **kwargs):
        outer = _enter()
        try:
            result = orig(*args, **kwargs)
        finally:
            _leave()
        if outer:
            _record(_record_metric, name, result)
        return result

    metric._cairn_original = orig
    return metric


# --- what is recorded -------------------------------------------------------------


def _record(fn, *args):
    try:
        run, _ = _integ.resolve_run(project=_state["project"])
        fn(run, *args)
    except Exception as e:  # an estimator's own get_params may raise anything
        _integ.warn("scikit-learn %s" % fn.__name__[len("_record_"):], e, stacklevel=5)


def _record_params(run, est):
    get = getattr(est, "get_params", None)
    if not callable(get):
        return
    prefix = type(est).__name__ + "."
    params = get(deep=True)
    run.set_params({prefix + k.replace("__", "."): _value(v) for k, v in params.items()})


def _record_search(run, est):
    best = getattr(est, "best_params_", None)
    if not isinstance(best, dict):
        return
    prefix = type(est).__name__ + "."
    run.set_params(
        {prefix + "best_params." + k.replace("__", "."): _value(v) for k, v in best.items()}
    )
    s = _integ.scalar(getattr(est, "best_score_", None))
    if s is not None:
        run.log_metric(prefix + "best_score", s)


def _record_metric(run, key, result):
    v = _integ.scalar(result)
    if v is not None:
        run.log_metric(key, v)


def _value(v, depth=0):
    """A param value for what get_params returned: numbers, strings and
    None as they are; an estimator or a class by its class name; a
    function by its qualified name; a dict as a dict (flattened into dotted
    keys); a list or tuple as its JSON text (its items converted the same
    way); anything else as its text, or its type's name when the text
    holds an address (it would differ from run to run)."""
    if isinstance(v, dict) and depth < 4:
        return {str(k): _value(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        text = json.dumps(_plain(v, depth), default=str)
        return text if len(text) <= _VALUE_MAX else text[:_VALUE_MAX] + "..."
    return _plain(v, depth)


def _plain(v, depth):
    if v is None or isinstance(v, (bool, int, float)):
        return v
    if isinstance(v, str):
        return v[:_VALUE_MAX]
    if isinstance(v, type):
        return v.__name__
    if hasattr(v, "get_params") and callable(v.get_params):
        return type(v).__name__
    if isinstance(v, (list, tuple)) and depth < 4:
        return [_plain(x, depth + 1) for x in v[:100]]
    if isinstance(v, dict) and depth < 4:
        return {str(k): _plain(x, depth + 1) for k, x in v.items()}
    item = getattr(v, "item", None)  # numpy scalars
    if callable(item) and getattr(v, "ndim", None) == 0:
        try:
            return _plain(item(), depth + 1)
        except (TypeError, ValueError):
            pass
    if inspect.isfunction(v) or inspect.isbuiltin(v) or inspect.ismethod(v):
        return getattr(v, "__qualname__", None) or getattr(v, "__name__", type(v).__name__)
    text = str(v)
    if " at 0x" in text:
        return type(v).__name__
    return text[:_VALUE_MAX]
