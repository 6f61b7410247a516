"""cairn.tensorboard — a SummaryWriter that logs into cairn.

    from cairn.tensorboard import SummaryWriter   # was: from torch.utils.tensorboard import ...
    writer = SummaryWriter()
    writer.add_scalar("Loss/train", loss, epoch)
    writer.add_image("input", img_chw, epoch)
    writer.close()

The methods TensorBoard code calls most take the same arguments as
``torch.utils.tensorboard.SummaryWriter``'s and record:

- ``add_scalar(tag, value, global_step, walltime)``: the metric ``tag`` at
  step ``global_step`` (default: the key's next step), at ``walltime``;
- ``add_scalars(main_tag, {tag: value}, ...)``: metrics ``main_tag/tag``
  (TensorBoard writes each to a sub-run of that name), in one call;
- ``add_image(tag, img, global_step, walltime, dataformats="CHW")`` and
  ``add_images(..., dataformats="NCHW")`` (a grid, 8 per row, as
  TensorBoard's): a PNG image (``images/TAG/STEP.png``) through
  ``Run.log_image``, converted as TensorBoard converts: ``uint8`` as it
  is, any other type multiplied by 255 and clipped to 0..255;
- ``add_figure(tag, figure, ...)``: a matplotlib figure as an image;
- ``add_text(tag, text, global_step)``: the artifact ``text/TAG.md``, or
  ``text/TAG/STEP.md`` (8 digits) with a step;
- ``add_hparams(hparam_dict, metric_dict)``: params and metrics of the run
  (TensorBoard makes a sub-run; ``run_name`` is ignored here);
- ``flush()``, ``close()`` and the context manager.

Other ``add_*`` methods (histograms, graphs, embeddings, audio, video, PR
curves, meshes, custom layouts) are accepted and record nothing, with one
``cairn.IntegrationWarning`` per method, so that code written for
TensorBoard runs unchanged.  ``walltime`` is ignored for images and texts.

The run: ``run=`` if given, else the active run (inside ``cairn run``, the
wrapper's), else one started with ``cairn.init(project=project)``, which
``close()`` (or leaving the ``with`` block) finishes — ``failed`` when an
exception left the block.  ``log_dir`` is recorded as the property
``tensorboard.log_dir``; nothing is written to it.

Unlike the autologgers, the writer raises what the run raises (a tag the
library refuses, a value that is not a number, a bad image shape): it is
called by the caller's code, as ``Run.log_metric`` is.

No framework is imported: tensors are converted by their own ``detach``,
``cpu`` and ``numpy`` methods, and numpy is imported for images only.
Thread-safety: as ``Run``'s logging calls; ``close()`` must not race with
logging from another thread.
"""

from __future__ import annotations

import math
import os

from . import _integ
from ._errors import Error

__all__ = ["SummaryWriter"]

_GRID_COLS = 8  # images per row of add_images' grid, as TensorBoard's make_grid
_IGNORED = (
    "add_histogram",
    "add_histogram_raw",
    "add_graph",
    "add_onnx_graph",
    "add_embedding",
    "add_audio",
    "add_video",
    "add_pr_curve",
    "add_pr_curve_raw",
    "add_mesh",
    "add_image_with_boxes",
    "add_custom_scalars",
    "add_custom_scalars_multilinechart",
    "add_custom_scalars_marginchart",
)


class SummaryWriter:
    """A drop-in for ``torch.utils.tensorboard.SummaryWriter`` that logs
    into a cairn run (see the module comment).  The TensorBoard arguments
    other than ``log_dir`` (``comment``, ``purge_step``, ``max_queue``,
    ``flush_secs``, ``filename_suffix``) are accepted and ignored; ``run``
    and ``project`` choose the run."""

    def __init__(
        self,
        log_dir=None,
        comment="",
        purge_step=None,
        max_queue=10,
        flush_secs=120,
        filename_suffix="",
        *,
        run=None,
        project=None,
    ):
        self.log_dir = os.fspath(log_dir) if log_dir is not None else None
        self.run, self._owned = _integ.resolve_run(run, project)
        self._closed = False
        if self.log_dir is not None:
            self.run.set_property("tensorboard.log_dir", self.log_dir)

    def get_logdir(self):
        """The ``log_dir`` given (nothing is written there), or None."""
        return self.log_dir

    def _live(self):
        if self._closed:
            raise Error("this SummaryWriter is closed")
        return self.run

    # -- scalars ---------------------------------------------------------------

    def add_scalar(
        self, tag, scalar_value, global_step=None, walltime=None, new_style=False, double_precision=False
    ):
        """The metric ``tag``: one point at ``global_step``."""
        self._live().log_metric(tag, _number(scalar_value), step=global_step, timestamp=walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """The metrics ``main_tag/tag`` for each tag of the dict, at one step."""
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError(
                "add_scalars: tag_scalar_dict must be a dict, not %s" % type(tag_scalar_dict).__name__
            )
        points = {"%s/%s" % (main_tag, t): _number(v) for t, v in tag_scalar_dict.items()}
        self._live().log_metrics(points, step=global_step, timestamp=walltime)

    # -- images ----------------------------------------------------------------

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """One image: an array or tensor laid out as ``dataformats`` says
        (``CHW``, ``HWC``, ``HW``, ``WH``, ...; with ``N``, a grid)."""
        run = self._live()
        run.log_image(tag, to_hwc_uint8(img_tensor, dataformats, "add_image", tag), step=global_step)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """A batch of images as one grid image (8 per row)."""
        if "N" not in str(dataformats).upper():
            raise ValueError(
                "add_images '%s': dataformats %r has no N (batch) axis" % (tag, dataformats)
            )
        run = self._live()
        run.log_image(tag, to_hwc_uint8(img_tensor, dataformats, "add_images", tag), step=global_step)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """A matplotlib figure (or a list of them: ``tag/0``, ``tag/1``, ...)."""
        run = self._live()
        figs = figure if isinstance(figure, (list, tuple)) else [figure]
        for i, fig in enumerate(figs):
            run.log_image(tag if len(figs) == 1 else "%s/%d" % (tag, i), fig, step=global_step)
        if close:
            import matplotlib.pyplot as plt

            for fig in figs:
                plt.close(fig)

    # -- text and hyperparameters ------------------------------------------------

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """The text as the artifact ``text/TAG.md`` (``text/TAG/STEP.md`` with a step)."""
        run = self._live()
        if global_step is None:
            name = "text/%s.md" % tag
        else:
            name = "text/%s/%08d.md" % (tag, _integ_step(global_step))
        run.log_text(name, text_string if isinstance(text_string, str) else str(text_string))

    def add_hparams(
        self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None
    ):
        """The hyperparameters as params (replacing earlier values) and the
        metrics of ``metric_dict`` (at ``global_step``)."""
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("add_hparams: hparam_dict and metric_dict must be dicts")
        run = self._live()
        run.set_params({k: _param(v) for k, v in hparam_dict.items()})
        if metric_dict:
            run.log_metrics({k: _number(v) for k, v in metric_dict.items()}, step=global_step)

    # -- lifecycle ---------------------------------------------------------------

    def flush(self):
        """Commit the buffered points now."""
        if not self._closed and not self.run.finished:
            self.run.flush()

    def close(self, status="finished"):
        """Flush; finish the run if this writer started it.  Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self.run.finished:
            return
        if self._owned:
            self.run.finish(status)
        else:
            self.run.flush()

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is None:
            self.close()
        elif issubclass(et, KeyboardInterrupt):
            self.close("killed")
        else:
            self.close("failed")
        return False

    def __repr__(self):
        return "<cairn.tensorboard.SummaryWriter run %s%s>" % (
            self.run.id[:8],
            " closed" if self._closed else "",
        )


def _ignored(name):
    def method(self, *args, **kwargs):
        _integ.warn(
            "SummaryWriter.%s" % name, "cairn's SummaryWriter records no %s" % name[4:], stacklevel=3
        )

    method.__name__ = name
    method.__doc__ = "Accepted for TensorBoard compatibility; records nothing (one warning)."
    return method


for _name in _IGNORED:
    setattr(SummaryWriter, _name, _ignored(_name))
del _name


# --- conversions ---------------------------------------------------------------------


def _number(v):
    """A metric value: a number, a numpy scalar or a one-element tensor;
    anything else is passed on for Run to refuse with its TypeError."""
    if type(v) is float:
        return v
    x = _integ.scalar(v)
    return v if x is None else x


def _param(v):
    """A hyperparameter: Python values as they are; a numpy scalar or a
    one-element tensor as its Python value (``item()``), a float32 one as
    the shortest decimal that reads back as the same float32."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    item = getattr(v, "item", None)
    if callable(item) and _integ.scalar(v) is not None:
        x = item()
        if isinstance(x, float) and str(getattr(v, "dtype", "")).endswith(("float32", "float16")):
            import numpy as np  # the shortest text of the float32 (0.1, not 0.10000000149011612)

            x = float(str(np.float32(x)))
        return x
    return v


def _integ_step(step):
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise TypeError("global_step must be an int, not %s" % type(step).__name__)
    step = step.__index__()
    if step < 0:
        raise ValueError("negative global_step %d" % step)
    return step


def to_hwc_uint8(img, dataformats, what="add_image", tag=""):
    """A uint8 (H, W, C) numpy array of an image laid out as ``dataformats``
    (letters N, C, H, W, each at most once, H and W required; N makes a
    grid of the batch), converted as TensorBoard converts: uint8 as it is,
    other types times 255, clipped to 0..255; NaN is 0."""
    import numpy as np

    a = _integ.to_numpy(img)
    shape = tuple(a.shape)
    fmt = str(dataformats).upper()
    where = "%s '%s'" % (what, tag)
    if len(set(fmt)) != len(fmt) or not set(fmt) <= set("NCHW") or not {"H", "W"} <= set(fmt):
        raise ValueError(
            "%s: dataformats %r must be made of N, C, H, W (each once, H and W required)"
            % (where, dataformats)
        )
    if a.ndim != len(fmt):
        raise ValueError(
            "%s: dataformats %r needs a %d-D array, not one of shape %s"
            % (where, dataformats, len(fmt), shape)
        )
    if a.dtype.kind not in "biuf":
        raise TypeError("%s: cannot make an image of an array of dtype %s" % (where, a.dtype))
    if a.size == 0:
        raise ValueError("%s: the image array is empty (shape %s)" % (where, shape))
    if "C" not in fmt:
        a, fmt = a[..., None], fmt + "C"
    if "N" not in fmt:
        a, fmt = a[None], "N" + fmt
    a = np.transpose(a, [fmt.index(x) for x in "NHWC"])
    n, h, w, c = a.shape
    if c not in (1, 3, 4):
        raise ValueError(
            "%s: %d channels (shape %s as %s); an image has 1 (grey), 3 (RGB) or 4 (RGBA)"
            % (where, c, shape, dataformats)
        )
    if a.dtype != np.uint8:
        f = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
        a = np.clip(f * 255.0, 0, 255).astype(np.uint8)
    if n == 1:
        return a[0]
    cols = min(n, _GRID_COLS)
    rows = int(math.ceil(n / cols))
    grid = np.zeros((rows * h, cols * w, c), dtype=np.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        grid[r * h : (r + 1) * h, k * w : (k + 1) * w] = a[i]
    return grid
