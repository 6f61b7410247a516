"""cairn.xgboost — an XGBoost training callback that logs into cairn.

    from cairn.xgboost import CairnCallback
    booster = xgb.train(params, dtrain, num_boost_round=100,
                        evals=[(dtrain, "train"), (dvalid, "valid")],
                        callbacks=[CairnCallback()])
    # or XGBClassifier(callbacks=[CairnCallback()]).fit(X, y, eval_set=[...])

What is recorded (into the run given, else the active run, else one
started with ``cairn.init(project=project)``, see cairn._integ):

- for every boosting round, every evaluation metric of every evaluation
  set, at step = the round number, under the name XGBoost prints:
  ``<data>-<metric>`` (``train-logloss``, ``valid-auc``); in ``xgb.cv``,
  ``<data>-<metric>-mean`` and ``<data>-<metric>-std``.  Inside ``cairn
  run`` the printed copies of these lines are then left to the API.
  (XGBoost 1.7 may skip this callback on the round where early stopping
  stops; that round is logged from the training's history at its end);
- once, after the first round (when the booster's configuration is
  complete): the booster's training parameters as params ``xgboost.<name>``
  (``xgboost.eta``, ``xgboost.max_depth``, ``xgboost.objective``;
  defaults included, values as XGBoost reports them, float32 values to 7
  significant digits), ``xgboost.eval_metric`` (the metrics evaluated,
  comma-separated) and the whole configuration
  (``Booster.save_config()``) as the artifact ``xgboost/config.json``;
- after training with early stopping, the metrics
  ``xgboost.best_iteration`` and ``xgboost.best_score``.

Importing this module imports xgboost (the callback derives from
``xgboost.callback.TrainingCallback``); ``import cairn`` does not.

A callback object may be reused for several trainings; copies of it (the
scikit-learn API deep-copies estimator params in ``clone``) log into the
same run.  Failures to record warn (``cairn.IntegrationWarning``) and
never stop training.  Not thread-safe: one training at a time per callback.
"""

from __future__ import annotations

import json
import sys

from . import _integ

try:
    from xgboost.callback import TrainingCallback as _TrainingCallback
except ImportError as _e:
    raise ImportError(
        "cairn.xgboost needs XGBoost, which this interpreter (%s) cannot import (%s); "
        "install it (Debian: apt install python3-xgboost)" % (sys.executable, _e)
    ) from _e

__all__ = ["CairnCallback"]

# Sections of the learner's configuration that hold training parameters,
# recorded as params; parameters that change while training (the tree
# count) or say nothing about the model are left out.
_SKIP = {"num_trees", "updater_seq", "specified_updater"}


class CairnCallback(_TrainingCallback):
    """Log every evaluation metric per boosting round (and the booster's
    parameters once) into a cairn run.

    run: the run to log into (default: the active run, else a new one).
    project: the project of the run started when none is active.
    log_params: record the booster's parameters and configuration.
    """

    def __init__(self, run=None, project=None, log_params=True):
        super().__init__()
        self._given = run
        self._project = project
        self._log_params = log_params
        self._run = None
        self._reset()

    def _reset(self):
        self._params_done = False
        self._history = None  # the training's evaluation log (XGBoost's own dict)
        self._base = None  # the round of its first entry
        self._done = 0  # its entries logged

    def __deepcopy__(self, memo):
        # sklearn's clone() deep-copies estimator params: a copy logs into
        # the same run (a run handle cannot be copied)
        c = type(self)(run=self._given, project=self._project, log_params=self._log_params)
        c._run = self._run
        return c

    def _target(self):
        r = self._run
        if r is None or r.finished:
            r, _ = _integ.resolve_run(self._given, self._project)
            self._run = r
        return r

    # -- TrainingCallback --------------------------------------------------------
    #
    # XGBoost 1.7 keeps its callbacks in a set and stops at the first that
    # asks to (EarlyStopping): this one may be skipped on the last round.
    # The evaluation log it is given is the trainer's own history, so the
    # rounds not yet logged are caught up from it, at the next call or in
    # after_training.

    def before_training(self, model):
        self._reset()
        try:
            self._target()
        except _integ.RECORD_ERRORS as e:
            _integ.warn("the XGBoost training", e)
        return model

    def before_iteration(self, model, epoch, evals_log):
        self._see(evals_log, epoch - _rounds(evals_log))
        return False

    def after_iteration(self, model, epoch, evals_log):
        self._see(evals_log, epoch - _rounds(evals_log) + 1)
        self._catch_up(model)
        return False

    def after_training(self, model):
        self._catch_up(model, final=True)
        try:
            run = self._target()
            attr = getattr(model, "attr", None)
            if callable(attr) and attr("best_score") is not None:
                run.log_metric("xgboost.best_score", float(attr("best_score")))
                run.log_metric("xgboost.best_iteration", int(attr("best_iteration")))
            run.flush()
        except _integ.RECORD_ERRORS as e:
            _integ.warn("the end of the XGBoost training", e)
        return model

    def _see(self, evals_log, base):
        if self._history is None and evals_log is not None:
            self._history, self._base = evals_log, base

    def _catch_up(self, model, final=False):
        try:
            run = self._target()
            h = self._history
            n = _rounds(h) if h is not None else 0
            if self._log_params and not self._params_done and (n or final):
                self._params_done = True
                self._record_config(run, model, h)
            while self._done < n:
                points = metric_points(h, self._done)
                if points:
                    run.log_metrics(points, step=self._base + self._done)
                self._done += 1
        except _integ.RECORD_ERRORS as e:
            _integ.warn("XGBoost metrics", e)

    def _record_config(self, run, model, history):
        booster = model
        folds = getattr(model, "cvfolds", None)  # xgb.cv: a _PackedBooster
        if folds:
            booster = folds[0].bst
        save = getattr(booster, "save_config", None)
        if not callable(save):
            return
        text = save()
        params = booster_params(json.loads(text))
        names = []  # the configuration's metric list is unreliable in 1.7; the log is not
        for metrics in (history or {}).values():
            names += [m for m in metrics if m not in names]
        if names:
            params["xgboost.eval_metric"] = ",".join(names)
        run.set_params(params)
        run.log_text("xgboost/config.json", text)


def _rounds(evals_log):
    """The number of rounds in an evaluation log."""
    for metrics in (evals_log or {}).values():
        for values in metrics.values():
            return len(values)
    return 0


def metric_points(evals_log, index=-1):
    """{name: value} of round ``index`` (default: the last) of an XGBoost
    evaluation log ({data: {metric: [value or (mean, std), ...]}})."""
    out = {}
    for data, metrics in (evals_log or {}).items():
        for metric, values in metrics.items():
            if not values or not -len(values) <= index < len(values):
                continue
            v = values[index]
            name = "%s-%s" % (data, metric)
            if isinstance(v, tuple):
                out[name + "-mean"] = float(v[0])
                out[name + "-std"] = float(v[1])
            else:
                out[name] = float(v)
    return out


def booster_params(config):
    """{"xgboost.<name>": value} of the training parameters in a booster's
    configuration (the JSON of ``Booster.save_config()``): every scalar of
    every ``*_param`` section under ``learner``, the first of a name
    winning (the updaters repeat theirs), the booster's name and the
    evaluation metrics."""
    learner = config.get("learner") or {}
    out = {}

    def walk(node, depth):
        if not isinstance(node, dict) or depth > 8:
            return
        for k, v in node.items():
            if isinstance(v, dict):
                if k.endswith("_param"):
                    for pk, pv in v.items():
                        if pk not in _SKIP and not isinstance(pv, (dict, list)):
                            out.setdefault("xgboost." + pk, _number(pv))
                else:
                    walk(v, depth + 1)

    walk(learner, 0)
    gb = learner.get("gradient_booster") or {}
    if isinstance(gb.get("name"), str):
        out.setdefault("xgboost.booster", gb["name"])
    names = []
    for m in learner.get("metrics") or []:
        n = m.get("name") if isinstance(m, dict) else None
        if isinstance(n, str) and n not in names:
            names.append(n)
    if names:
        out["xgboost.eval_metric"] = ",".join(names)
    return out


def _number(s):
    """XGBoost writes every parameter as text: an int or a float back as a
    number (float32 values, "0.300000012", to 7 significant digits: 0.3)."""
    if not isinstance(s, str):
        return s
    try:
        return int(s)
    except ValueError:
        pass
    try:
        f = float(s)
    except ValueError:
        return s
    if s.strip().lower() in ("nan", "inf", "-inf", "infinity", "-infinity"):
        return s
    return float("%.7g" % f)

