"""cairn — experiment tracking for machine learning, over libcairn.

    import cairn
    with cairn.init(project="salt", params=vars(args), config="config.yaml") as run:
        run.log_dataset("train", "data/train.csv")
        for epoch in range(n):
            run.log_metric("valid_auc", auc, step=epoch)
        run.log_image("diagnostics/confusion_matrix", fig)
    best = cairn.runs("metrics.valid_auc > 0.8", sort="-metrics.valid_auc", limit=5)
    trial = cairn.sweep(train, {"lr": {"min": 1e-4, "max": 0.1, "distribution": "log_uniform"}},
                        n_trials=30, direction="maximize")

Inside ``cairn run -- python train.py``, ``cairn.init()`` logs into the run
the wrapper started.  See docs/python.md for the whole API.

Framework integrations are submodules, imported only when asked for (none
of them is imported by ``import cairn``): ``cairn.sklearn.autolog()``,
``cairn.xgboost.CairnCallback``, ``cairn.torch.watch`` and
``cairn.tensorboard.SummaryWriter``.

The package is a thin layer over the C library libcairn.so, loaded through
ctypes on first use (see cairn._lib for where it is looked for).
"""

from ._errors import (
    AmbiguousError,
    BusyError,
    ConflictError,
    DirtyError,
    Error,
    ExistsError,
    FileSystemError,
    InvalidError,
    LibraryNotFoundError,
    NotFoundError,
    OutOfMemoryError,
    StoreError,
    TooBigError,
)


class CaptureWarning(UserWarning):
    """Something could not be captured (the notebook file, part of the
    environment); the run goes on without it."""


from ._integ import IntegrationWarning  # noqa: E402
from ._query import Digest, MetricPoint, RunList, RunRecord, diff, get_run, hash_path, runs  # noqa: E402
from ._run import Run, active_run, init  # noqa: E402
from ._sweep import SweepError, SweepWarning, Trial, resume_sweep, sweep, sweep_trials  # noqa: E402

__version__ = "0.1.0"

query = runs  # DESIGN.md §8 spells it cairn.query(...)


def library_path() -> str:
    """The libcairn.so the binding loaded (loading it if needed)."""
    from . import _lib

    return _lib.path()


def library_version() -> str:
    from . import _lib

    return _lib.dec(_lib.lib().cairn_version())


__all__ = [
    "init",
    "Run",
    "active_run",
    "runs",
    "query",
    "get_run",
    "diff",
    "hash_path",
    "sweep",
    "resume_sweep",
    "sweep_trials",
    "Trial",
    "SweepError",
    "SweepWarning",
    "RunRecord",
    "RunList",
    "MetricPoint",
    "Digest",
    "library_path",
    "library_version",
    "Error",
    "InvalidError",
    "NotFoundError",
    "ExistsError",
    "AmbiguousError",
    "ConflictError",
    "FileSystemError",
    "StoreError",
    "OutOfMemoryError",
    "BusyError",
    "TooBigError",
    "DirtyError",
    "LibraryNotFoundError",
    "CaptureWarning",
    "IntegrationWarning",
]
