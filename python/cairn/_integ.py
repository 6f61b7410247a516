"""cairn._integ — what the framework integrations (cairn.sklearn,
cairn.xgboost, cairn.torch, cairn.tensorboard) share: which run they log
into, how they turn a framework's values into numbers, and how they report
a failure to record without breaking the training that called them.

The run.  An integration logs into, in order: the run it was given, the
active run (the one the last ``cairn.init()`` returned and is not finished:
inside ``cairn run`` the wrapper's, inside a ``cairn.sweep`` objective the
trial's), else a run it starts with ``cairn.init()`` — which then is the
active run, so what a script records next goes into it too, and which is
finished at interpreter exit like any run ``init`` creates (or earlier by
whoever owns it: the SummaryWriter that started it, on ``close()``).

Failures.  Training must not stop because tracking failed (a full disk, a
store locked by another process, a param the library refuses): the
integrations catch ``cairn.Error`` and the ``TypeError``/``ValueError`` of
a value they could not convert, and warn once per distinct message with
``IntegrationWarning``.  Errors in the caller's own arguments (a bad image
shape given to ``add_image``) are raised, as the framework would raise them.

No state here but the set of messages already warned about (guarded by a
lock); nothing imports a framework.
"""

from __future__ import annotations

import numbers
import threading
import warnings

from ._errors import Error
from ._run import init
from ._store import active_run


class IntegrationWarning(UserWarning):
    """A framework integration could not record something; training goes on."""


def resolve_run(run=None, project=None):
    """(run, created): the run to log into and whether this call started it."""
    if run is not None:
        if getattr(run, "finished", False):
            raise Error("run %s is finished; it takes no more logging" % run.id)
        return run, False
    r = active_run()
    if r is not None and not r.finished:
        return r, False
    return init(project=project), True


_warned: set = set()
_warned_lock = threading.Lock()


def warn(what, err, stacklevel=3):
    """Warn once per distinct message that ``what`` could not be recorded."""
    msg = "cairn: cannot record %s: %s" % (what, err)
    with _warned_lock:
        if msg in _warned or len(_warned) > 1000:
            return
        _warned.add(msg)
    warnings.warn(msg, IntegrationWarning, stacklevel=stacklevel)


RECORD_ERRORS = (Error, TypeError, ValueError, OverflowError)


def scalar(v):
    """A float for a number a framework returned (a Python or numpy number,
    a 0-d array, a one-element tensor), or None when it is not one number
    (a bool, an array of scores, a report)."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, numbers.Real):
        return float(v)
    ndim = getattr(v, "ndim", None)
    if ndim == 0 or (ndim is not None and _numel(v) == 1):
        item = getattr(v, "item", None)
        if callable(item):
            try:
                x = item()
            except (TypeError, ValueError, RuntimeError):
                return None
            if isinstance(x, numbers.Real) and not isinstance(x, bool):
                return float(x)
    return None


def _numel(v):
    n = getattr(v, "numel", None)  # a torch tensor
    if callable(n):
        return n()
    size = getattr(v, "size", None)  # a numpy array
    return size if isinstance(size, int) else None


def to_numpy(x):
    """An array-like (numpy array, tensor on any device, nested lists) as a
    numpy array, without importing torch: a tensor is detached and moved
    to the CPU by its own methods."""
    import numpy as np

    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
        if hasattr(x, "numpy"):
            return x.numpy()
    return np.asarray(x)
