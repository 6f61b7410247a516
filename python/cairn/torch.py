"""cairn.torch — logging the common PyTorch training loop into cairn.

    import cairn.torch
    w = cairn.torch.watch(model, optimizer)      # params: model, parameter count, optimizer
    for epoch in range(n_epochs):
        with w.epoch():                          # epoch_time, epoch_loss at step = epoch
            for x, y in loader:
                loss = loss_fn(model(x), y)
                optimizer.zero_grad(); loss.backward(); optimizer.step()
                w.log_step(loss)                 # loss and lr at step = global step

and ``cairn.torch.SummaryWriter``, the TensorBoard-compatible writer of
cairn.tensorboard, for code written for ``torch.utils.tensorboard``.

What is recorded (into the run given, else the active run, else one
started with ``cairn.init(project=project)``, see cairn._integ):

- by ``watch``, as params: ``torch.model`` (the model's class name),
  ``torch.parameters`` and ``torch.trainable_parameters`` (element
  counts), and with an optimizer ``torch.optimizer`` (its class name) and
  ``torch.optimizer.<name>`` for each of its ``defaults`` (``lr``,
  ``momentum``, ``weight_decay``, ``betas`` as JSON text, ...);
- by ``log_step(loss, **metrics)``: the metric ``loss``, the learning rate
  of the optimizer's parameter groups as ``lr`` (``lr/0``, ``lr/1``, ...
  with several groups), and any extra metrics given, all at the step
  ``step`` (default: a counter of the calls, from 0), every ``log_every``
  steps;
- by each ``with w.epoch():`` block that ends without an exception:
  ``epoch_time`` (seconds, wall clock) and ``epoch_loss`` (the mean of the
  losses given to ``log_step`` in the block, logged or not), at step =
  the epoch's number (0, 1, ... or ``epoch(n)``).

Converting a loss tensor to a number waits for the device (``item()``):
``log_every=N`` makes that once per N steps; the epoch's mean is summed
on the device (``detach()``) and read once per epoch.

torch itself is not imported: the model and optimizer are used through
``parameters()``, ``numel()``, ``requires_grad``, ``param_groups`` and
``defaults``, so importing cairn.torch costs nothing.  Errors are raised as
``Run``'s logging calls raise them.  Not thread-safe: one loop per watcher.
"""

from __future__ import annotations

import time

from . import _integ
from .tensorboard import SummaryWriter

__all__ = ["watch", "Watcher", "SummaryWriter", "parameter_count"]


def parameter_count(model, trainable_only=False):
    """The number of elements in the model's parameters (those with
    ``requires_grad`` only, with ``trainable_only``)."""
    params = getattr(model, "parameters", None)
    if not callable(params):
        raise TypeError(
            "expected a torch.nn.Module (something with parameters()), not %s" % type(model).__name__
        )
    return sum(
        int(p.numel()) for p in params() if not trainable_only or getattr(p, "requires_grad", True)
    )


def watch(model, optimizer=None, *, run=None, project=None, log_every=1):
    """Record the model's size and the optimizer's settings now, and return
    a ``Watcher`` whose ``log_step`` and ``epoch`` log the loop."""
    if isinstance(log_every, bool) or not isinstance(log_every, int) or log_every < 1:
        raise ValueError("log_every must be an int >= 1, not %r" % (log_every,))
    if optimizer is not None and not isinstance(getattr(optimizer, "param_groups", None), list):
        raise TypeError(
            "expected a torch.optim.Optimizer (something with param_groups), not %s"
            % type(optimizer).__name__
        )
    params = {
        "torch.model": type(model).__name__,
        "torch.parameters": parameter_count(model),
        "torch.trainable_parameters": parameter_count(model, trainable_only=True),
    }
    if optimizer is not None:
        params["torch.optimizer"] = type(optimizer).__name__
        for k, v in (getattr(optimizer, "defaults", None) or {}).items():
            if isinstance(v, (bool, int, float, str, list, tuple)) or v is None:
                params["torch.optimizer." + k] = list(v) if isinstance(v, tuple) else v
    r, _ = _integ.resolve_run(run, project)
    r.set_params(params)
    return Watcher(r, optimizer, log_every)


class Watcher:
    """Logs a training loop into ``run`` (see the module comment).
    Attributes: ``run``, ``step`` (the next step of ``log_step``),
    ``epochs`` (the number of epochs ended)."""

    def __init__(self, run, optimizer=None, log_every=1):
        self.run = run
        self.optimizer = optimizer
        self.log_every = log_every
        self.step = 0
        self.epochs = 0
        self._sum = None  # the epoch's losses: a float, or a tensor on the device
        self._count = 0

    def learning_rates(self):
        """{"lr": x} for one parameter group, {"lr/0": x, "lr/1": y, ...} for several."""
        groups = getattr(self.optimizer, "param_groups", None) or []
        lrs = [g.get("lr") for g in groups if isinstance(g, dict)]
        lrs = [float(x) for x in lrs if _integ.scalar(x) is not None]
        if len(lrs) == 1:
            return {"lr": lrs[0]}
        return {"lr/%d" % i: x for i, x in enumerate(lrs)}

    def log_step(self, loss=None, step=None, **metrics):
        """Log the step's ``loss`` (a number or a one-element tensor), the
        learning rate and ``metrics`` at ``step`` (default: the next)."""
        st = self.step if step is None else step
        if isinstance(st, bool) or not isinstance(st, int) or st < 0:
            raise ValueError("step must be an int >= 0, not %r" % (st,))
        if loss is not None:
            self._add(loss)
        if st % self.log_every == 0:
            points = {}
            if loss is not None:
                points["loss"] = _one_number(loss, "loss")
            points.update(self.learning_rates())
            for k, v in metrics.items():
                points[k] = _one_number(v, k)
            if points:
                self.run.log_metrics(points, step=st)
        self.step = st + 1

    def _add(self, loss):
        detach = getattr(loss, "detach", None)
        if callable(detach):
            if loss.numel() != 1:
                raise ValueError(
                    "log_step: the loss must be one number, not a tensor of shape %s"
                    % (tuple(loss.shape),)
                )
            t = detach().reshape(())
            self._sum = t if self._sum is None else self._sum + t
        else:
            x = _one_number(loss, "loss")
            self._sum = x if self._sum is None else self._sum + x
        self._count += 1

    def epoch(self, number=None):
        """A context manager timing one epoch; ``number`` defaults to the
        count of epochs ended so far."""
        return _Epoch(self, self.epochs if number is None else number)


class _Epoch:
    def __init__(self, w, number):
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ValueError("an epoch number must be an int >= 0, not %r" % (number,))
        self.w = w
        self.number = number
        self.t0 = None

    def __enter__(self):
        self.w._sum, self.w._count = None, 0
        self.t0 = time.perf_counter()
        return self.number

    def __exit__(self, et, ev, tb):
        if et is not None:
            return False
        w = self.w
        points = {"epoch_time": time.perf_counter() - self.t0}
        if w._count:
            points["epoch_loss"] = _one_number(w._sum, "epoch_loss") / w._count
        w.run.log_metrics(points, step=self.number)
        w.epochs = self.number + 1
        return False


def _one_number(v, key):
    if type(v) is float:
        return v
    x = _integ.scalar(v)
    if x is None:
        raise TypeError("%s: expected one number, not %s" % (key, type(v).__name__))
    return x
