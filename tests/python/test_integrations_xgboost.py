"""cairn.xgboost.CairnCallback: five boosting rounds log every evaluation
metric of every evaluation set per round, exactly the values XGBoost
reports, with the booster's parameters and configuration; early stopping
records the best round; xgb.cv logs means and deviations; the scikit-learn
API (which deep-copies its callbacks) logs into the same run; a recording
failure warns and training goes on; without XGBoost the import says so."""

import copy
import json
import os
import subprocess

import pytest

import cairn
from conftest import CAIRN_BIN, PYTHON, ROOT, cli, run_python

pytest.importorskip("xgboost")  # a guard only: scripts/install-deps installs python3-xgboost
np = pytest.importorskip("numpy")

import xgboost as xgb  # noqa: E402

from cairn.xgboost import CairnCallback, booster_params, metric_points  # noqa: E402

PARAMS = {"objective": "binary:logistic", "eta": 0.3, "max_depth": 3, "eval_metric": ["auc", "logloss"], "seed": 1}


@pytest.fixture
def dmats():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    return xgb.DMatrix(X[:150], label=y[:150]), xgb.DMatrix(X[150:], label=y[150:]), X, y


def _run():
    return cairn.init(project="xgb", capture_code=False, capture_env=False)


def test_five_rounds_every_metric_per_round(store, dmats):
    dtr, dva, _, _ = dmats
    result = {}
    with _run() as run:
        booster = xgb.train(PARAMS, dtr, 5, evals=[(dtr, "train"), (dva, "valid")],
                            evals_result=result, verbose_eval=False, callbacks=[CairnCallback()])
    r = cairn.get_run(run.id)
    for data in ("train", "valid"):
        for metric in ("auc", "logloss"):
            hist = r.metric_history("%s-%s" % (data, metric))
            assert [p.step for p in hist] == [0, 1, 2, 3, 4]
            assert [p.value for p in hist] == pytest.approx(result[data][metric], rel=1e-12)
    # the booster's parameters, defaults included, as XGBoost reports them
    assert r.params["xgboost.eta"] == 0.3 and r.params["xgboost.max_depth"] == 3
    assert r.params["xgboost.objective"] == "binary:logistic" and r.params["xgboost.seed"] == 1
    assert r.params["xgboost.eval_metric"] == "auc,logloss" and r.params["xgboost.booster"] == "gbtree"
    assert r.params["xgboost.subsample"] == 1 and "xgboost.num_trees" not in r.params
    assert r.params["xgboost.num_feature"] == 4
    # and the whole configuration as an artifact
    shown = json.loads(cli("show", run.id, "--json"))
    assert any(a["path"] == "xgboost/config.json" for a in shown["artifacts"])
    assert shown["params"]["xgboost.eta"] == 0.3
    assert booster.num_boosted_rounds() == 5
    assert "xgboost.best_iteration" not in r.metrics  # no early stopping


def test_early_stopping_records_the_best_round_and_the_last(store, dmats):
    # XGBoost 1.7 calls its callbacks in set order and stops at the first
    # that says stop: ours may miss the last round, which it catches up on
    # at the end (a handful of trainings see both orders)
    dtr, dva, _, _ = dmats
    for _ in range(6):
        result = {}
        with _run() as run:
            b = xgb.train(PARAMS, dtr, 200, evals=[(dva, "valid")], early_stopping_rounds=3,
                          evals_result=result, verbose_eval=False, callbacks=[CairnCallback()])
        r = cairn.get_run(run.id)
        assert r.metrics["xgboost.best_iteration"] == b.best_iteration
        assert r.metrics["xgboost.best_score"] == pytest.approx(b.best_score)
        hist = r.metric_history("valid-logloss")
        assert [p.step for p in hist] == list(range(b.num_boosted_rounds()))
        assert [p.value for p in hist] == pytest.approx(result["valid"]["logloss"], rel=1e-12)


def test_cv_logs_means_and_deviations(store, dmats):
    dtr, _, _, _ = dmats
    with _run() as run:
        res = xgb.cv({"objective": "binary:logistic", "eval_metric": "auc", "seed": 0}, dtr, 3,
                     nfold=3, callbacks=[CairnCallback()], as_pandas=False)
    r = cairn.get_run(run.id)
    for k in ("train-auc-mean", "train-auc-std", "test-auc-mean", "test-auc-std"):
        assert [p.value for p in r.metric_history(k)] == pytest.approx(res[k])
    assert r.params["xgboost.objective"] == "binary:logistic"


def test_sklearn_api_and_copies_share_the_run(store, dmats):
    _, _, X, y = dmats
    cb = CairnCallback()
    with _run() as run:
        m = xgb.XGBClassifier(n_estimators=4, max_depth=2, callbacks=[cb])
        m.fit(X, y, eval_set=[(X, y)], verbose=False)
        c = copy.deepcopy(cb)
        assert c is not cb and c._run is cb._run is cairn.active_run()
    r = cairn.get_run(run.id)
    assert r.metric_summaries["validation_0-logloss"]["count"] == 4
    assert r.params["xgboost.max_depth"] == 2


def test_no_active_run_starts_one(store, dmats):
    dtr, _, _, _ = dmats
    xgb.train(PARAMS, dtr, 2, evals=[(dtr, "train")], verbose_eval=False,
              callbacks=[CairnCallback(project="auto-xgb")])
    run = cairn.active_run()
    assert run is not None and run.project == "auto-xgb"
    run.finish()
    (only,) = cairn.runs(project="auto-xgb")
    assert cairn.get_run(only.id).metric_summaries["train-auc"]["count"] == 2


def test_recording_failure_warns_and_training_goes_on(store, dmats):
    dtr, _, _, _ = dmats
    run = _run()
    run.finish()
    with pytest.warns(cairn.IntegrationWarning, match="is finished"):
        b = xgb.train(PARAMS, dtr, 3, evals=[(dtr, "train")], verbose_eval=False,
                      callbacks=[CairnCallback(run=run)])
    assert b.num_boosted_rounds() == 3


def test_helpers():
    assert metric_points({"a": {"m": [0.5, 0.25]}, "b-x": {"e": [(1.0, 0.5)]}, "c": {"n": []}}) == {
        "a-m": 0.25, "b-x-e-mean": 1.0, "b-x-e-std": 0.5}
    cfg = {"learner": {"learner_train_param": {"objective": "reg:squarederror", "booster": "gbtree"},
                       "gradient_booster": {"name": "gbtree", "gbtree_model_param": {"num_trees": "9"},
                                            "updater": {"u": {"train_param": {"eta": "0.300000012", "max_depth": "6"}},
                                                        "v": {"train_param": {"eta": "0.5"}}}},
                       "metrics": [{"name": "rmse"}, {"name": "rmse"}, {"name": "mae"}]}}
    assert booster_params(cfg) == {
        "xgboost.objective": "reg:squarederror", "xgboost.booster": "gbtree", "xgboost.eta": 0.3,
        "xgboost.max_depth": 6, "xgboost.eval_metric": "rmse,mae"}


def test_without_xgboost_a_clear_import_error(store):
    out = run_python(
        "import sys; sys.modules['xgboost'] = None\n"
        "try:\n"
        "    import cairn.xgboost\n"
        "except ImportError as e:\n"
        "    print('ERR', e)\n"
    ).stdout
    assert "ERR cairn.xgboost needs XGBoost" in out and "python3-xgboost" in out


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_example(store):
    p = subprocess.run([PYTHON, os.path.join(ROOT, "examples", "xgboost", "train.py"), "--rounds", "12"],
                       capture_output=True, text=True, env=_env(), timeout=300)
    assert p.returncode == 0, p.stderr
    (only,) = cairn.runs(project="xgboost")
    r = cairn.get_run(only.id)
    assert r.status == "finished" and r.params["rounds"] == 12 and r.params["xgboost.max_depth"] == 3
    n = r.metric_summaries["valid-auc"]["count"]
    assert 1 <= n <= 12 and r.metric_summaries["train-logloss"]["count"] == n
    assert 0.9 < r.metrics["valid-auc"] <= 1.0
    assert r.id[:8] in p.stdout


def test_example_under_cairn_run_logs_each_point_once(store):
    p = subprocess.run([CAIRN_BIN, "run", "-p", "wrapped", "--", PYTHON,
                        os.path.join(ROOT, "examples", "xgboost", "train.py"), "--rounds", "6"],
                       capture_output=True, text=True, env=_env(), timeout=300)
    assert p.returncode == 0, p.stderr
    (only,) = cairn.runs()
    r = cairn.get_run(only.id)
    assert r.project == "wrapped" and r.metric_summaries["valid-auc"]["count"] <= 6
