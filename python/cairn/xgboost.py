"""cairn.xgboost — an XGBoost training callback that logs into cairn.

    from cairn.xgboost import CairnCallback
    booster = xgb.train(params, dtrain, num_boost_round=100,
                        evals=[(dtrain, "train"), (dvalid, "valid")],
                        callbacks=[CairnCallback()])
    # or XGBClassifier(callbacks=[CairnCallback()]).fit(X, y, eval_set=[...])

What is recorded (into the run given, else the active run, else one
started with ``cairn.init(project=project)``, see cairn._integ):

- after every boosting round, every evaluation metric of every evaluation
  set, at step = the round number, under the name XGBoost prints:
  ``<data>-<metric>`` (``train-logloss``, ``valid-auc``); in ``xgb.cv``,
  ``<data>-<metric>-mean`` and ``<data>-<metric>-std``.  Inside ``cairn
  run`` the printed copies of these lines are then left to the API;
- once, after the first round (when the booster's configuration is
  complete): the booster's training parameters as params ``xgboost.<name>``
  (``xgboost.eta``, ``xgboost.max_depth``, ``xgboost.objective``,
  ``xgboost.eval_metric``; defaults included, values as XGBoost reports
  them: float32 values to 7 significant digits) and its whole
  configuration (``Booster.save_config()``) as the artifact
  ``xgboost/config.json``;
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
        self._params_done = False

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

    def before_training(self, model):
        self._params_done = False
        try:
            self._target()
        except _integ.RECORD_ERRORS as e:
            _integ.warn("the XGBoost training", e)
        return model

    def after_iteration(self, model, epoch, evals_log):
        try:
            run = self._target()
            if self._log_params and not self._params_done:
                self._params_done = True
                self._record_config(run, model)
            points = metric_points(evals_log)
            if points:
                run.log_metrics(points, step=epoch)
        except _integ.RECORD_ERRORS as e:
            _integ.warn("XGBoost metrics", e)
        return False

    def after_training(self, model):
        try:
            run = self._target()
            if self._log_params and not self._params_done:
                self._params_done = True
                self._record_config(run, model)
            attr = getattr(model, "attr", None)
            if callable(attr) and attr("best_score") is not None:
                run.log_metric("xgboost.best_score", float(attr("best_score")))
                run.log_metric("xgboost.best_iteration", int(attr("best_iteration")))
            run.flush()
        except _integ.RECORD_ERRORS as e:
            _integ.warn("the end of the XGBoost training", e)
        return model

    def _record_config(self, run, model):
        booster = model
        folds = getattr(model, "cvfolds", None)  # xgb.cv: a _PackedBooster
        if folds:
            booster = folds[0].bst
        save = getattr(booster, "save_config", None)
        if not callable(save):
            return
        text = save()
        run.set_params(booster_params(json.loads(text)))
        run.log_text("xgboost/config.json", text)


def metric_points(evals_log):
    """{name: value} of the last round in an XGBoost evaluation log
    ({data: {metric: [value or (mean, std), ...]}})."""
    out = {}
    for data, metrics in (evals_log or {}).items():
        for metric, values in metrics.items():
            if not values:
                continue
            v = values[-1]
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

