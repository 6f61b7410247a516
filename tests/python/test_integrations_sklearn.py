"""cairn.sklearn.autolog(): a LogisticRegression, a GradientBoosting, a
Pipeline inside a GridSearchCV and a forest fitted on threads record their
params at fit and their scores where the caller computes them, read back
through the query API; the return values are those of scikit-learn;
autolog is idempotent and undone by disable=True; classes defined after it
are covered; recording failures warn without breaking fit; and without
scikit-learn autolog says what is missing."""

import os
import subprocess

import pytest

import cairn
from conftest import CAIRN_BIN, PYTHON, ROOT, run_python

pytest.importorskip("sklearn")  # a guard only: scripts/install-deps installs python3-sklearn

import sklearn.metrics  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import cairn.sklearn  # noqa: E402

ORIG_FIT = LogisticRegression.fit
ORIG_SCORE = ClassifierMixin.score
ORIG_ACCURACY = sklearn.metrics.accuracy_score


@pytest.fixture
def data():
    return make_classification(n_samples=120, n_features=5, n_informative=3, random_state=0)


@pytest.fixture
def autolog(store):
    cairn.sklearn.autolog()
    yield
    cairn.sklearn.autolog(disable=True)
    r = cairn.active_run()
    if r is not None:
        r.finish()


def _run():
    return cairn.init(project="sk", capture_code=False, capture_env=False)


def test_fit_score_and_metrics_recorded(autolog, data):
    X, y = data
    with _run() as run:
        m = LogisticRegression(C=0.5, max_iter=200).fit(X, y)
        s = m.score(X, y)
        acc = sklearn.metrics.accuracy_score(y, m.predict(X))
        auc = sklearn.metrics.roc_auc_score(y, m.predict_proba(X)[:, 1])
        per_class = sklearn.metrics.precision_score(y, m.predict(X), average=None)  # not one number
    r = cairn.get_run(run.id)
    p = {k: v for k, v in r.params.items() if k.startswith("LogisticRegression.")}
    assert p["LogisticRegression.C"] == 0.5 and p["LogisticRegression.max_iter"] == 200
    assert p["LogisticRegression.penalty"] == "l2" and p["LogisticRegression.class_weight"] == "None"
    assert set(p) == {"LogisticRegression." + k for k in m.get_params()}
    # the values recorded are the ones the caller got, unchanged
    assert s == ORIG_SCORE(m, X, y) and acc == ORIG_ACCURACY(y, m.predict(X))
    assert r.metrics["LogisticRegression.score"] == s
    assert r.metrics["accuracy_score"] == acc and r.metrics["roc_auc_score"] == auc
    assert len(per_class) == 2 and "precision_score" not in r.metrics
    # ClassifierMixin.score calls accuracy_score: recorded once, as the score
    assert r.metric_summaries["accuracy_score"]["count"] == 1
    assert r.metric_summaries["LogisticRegression.score"]["count"] == 1


def test_gradient_boosting_two_scores_are_two_points(autolog, data):
    X, y = data
    with _run() as run:
        m = GradientBoostingClassifier(n_estimators=10, learning_rate=0.2, random_state=1).fit(X[:80], y[:80])
        train, valid = m.score(X[:80], y[:80]), m.score(X[80:], y[80:])
    r = cairn.get_run(run.id)
    assert r.params["GradientBoostingClassifier.n_estimators"] == 10
    assert r.params["GradientBoostingClassifier.learning_rate"] == 0.2
    assert r.params["GradientBoostingClassifier.init"] == "None"
    hist = r.metric_history("GradientBoostingClassifier.score")
    assert [(p.step, p.value) for p in hist] == [(0, train), (1, valid)]


def test_search_over_pipeline_records_the_search_not_its_candidates(autolog, data):
    X, y = data
    with _run() as run:
        pipe = Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression())])
        g = GridSearchCV(pipe, {"clf__C": [0.1, 1.0]}, cv=3).fit(X, y)
        s = g.score(X, y)
    r = cairn.get_run(run.id)
    assert r.params["GridSearchCV.cv"] == 3
    assert r.params["GridSearchCV.estimator"] == "Pipeline"
    assert r.params["GridSearchCV.estimator.clf"] == "LogisticRegression"
    assert r.params["GridSearchCV.estimator.clf.C"] == 1.0  # the base value
    assert r.params["GridSearchCV.estimator.steps"] == '[["scaler", "StandardScaler"], ["clf", "LogisticRegression"]]'
    assert r.params["GridSearchCV.param_grid.clf__C"] == "[0.1, 1.0]"
    assert r.params["GridSearchCV.best_params.clf.C"] == g.best_params_["clf__C"]
    assert r.metrics["GridSearchCV.best_score"] == pytest.approx(g.best_score_)
    assert r.metrics["GridSearchCV.score"] == s
    # nothing of the 7 inner fits and 6 inner scores
    assert not [k for k in r.params if not k.startswith("GridSearchCV.")]
    assert set(r.metrics) - {k for k in r.metrics if k.startswith("sys/")} == {
        "GridSearchCV.best_score", "GridSearchCV.score"}


def test_forest_on_threads_records_no_tree(autolog, data):
    X, y = data
    with _run() as run:
        RandomForestClassifier(n_estimators=4, n_jobs=2, random_state=0).fit(X, y)
    r = cairn.get_run(run.id)
    assert r.params["RandomForestClassifier.n_estimators"] == 4
    assert not [k for k in r.params if k.startswith("DecisionTree")]


def test_no_active_run_starts_one_that_later_calls_share(store, data):
    X, y = data
    cairn.sklearn.autolog(project="auto")
    try:
        assert cairn.active_run() is None
        m = LogisticRegression().fit(X, y)
        run = cairn.active_run()
        assert run is not None and run.project == "auto"
        m.score(X, y)
        LogisticRegression(C=2.0).fit(X, y)  # the same run: the later fit's value
        assert cairn.active_run() is run
        run.finish()
    finally:
        cairn.sklearn.autolog(disable=True)
    (only,) = cairn.runs(project="auto")
    r = cairn.get_run(only.id)
    assert r.id == run.id and r.params["LogisticRegression.C"] == 2.0
    assert "LogisticRegression.score" in r.metrics


def test_idempotent_and_disable_restores(store, data):
    X, y = data
    cairn.sklearn.autolog()
    cairn.sklearn.autolog()
    try:
        assert LogisticRegression.fit._cairn_original is ORIG_FIT
        assert ClassifierMixin.score._cairn_original is ORIG_SCORE
        assert sklearn.metrics.accuracy_score._cairn_original is ORIG_ACCURACY
        with _run() as run:
            LogisticRegression().fit(X, y).score(X, y)
        assert cairn.get_run(run.id).metric_summaries["LogisticRegression.score"]["count"] == 1
        cairn.sklearn.autolog(metrics=False)  # options change without a second patch
        assert sklearn.metrics.accuracy_score is ORIG_ACCURACY
        assert LogisticRegression.fit._cairn_original is ORIG_FIT
    finally:
        cairn.sklearn.autolog(disable=True)
    assert LogisticRegression.fit is ORIG_FIT and ClassifierMixin.score is ORIG_SCORE
    assert sklearn.metrics.accuracy_score is ORIG_ACCURACY
    assert "__init_subclass__" not in BaseEstimator.__dict__
    with _run() as run:
        LogisticRegression().fit(X, y).score(X, y)
    r = cairn.get_run(run.id)
    assert not r.params and not [k for k in r.metrics if not k.startswith("sys/")]
    cairn.sklearn.autolog(disable=True)  # disabling twice is fine


def test_classes_defined_after_autolog_are_covered(autolog, data):
    X, y = data

    class Threshold(ClassifierMixin, BaseEstimator):
        def __init__(self, cut=0.0):
            self.cut = cut

        def fit(self, X, y):
            self.classes_ = [0, 1]
            return self

        def predict(self, X):
            return (X[:, 0] > self.cut).astype(int)

    assert Threshold.fit._cairn_original
    with _run() as run:
        s = Threshold(cut=0.25).fit(X, y).score(X, y)
    r = cairn.get_run(run.id)
    assert r.params["Threshold.cut"] == 0.25 and r.metrics["Threshold.score"] == s


def test_recording_failure_warns_and_fit_goes_on(autolog, data):
    X, y = data

    class Broken(BaseEstimator):
        def fit(self, X, y):
            self.fitted_ = True
            return self

        def get_params(self, deep=True):
            raise RuntimeError("no params here")

    with _run():
        with pytest.warns(cairn.IntegrationWarning, match="scikit-learn params: no params here"):
            b = Broken().fit(X, y)
    assert b.fitted_


def test_fit_error_propagates_after_params(autolog):
    with _run() as run:
        with pytest.raises(ValueError):
            LogisticRegression(C=3.0).fit([[1.0], [2.0]], [0, 0])  # one class only
    assert cairn.get_run(run.id).params["LogisticRegression.C"] == 3.0


def test_without_sklearn_a_clear_import_error(store):
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "import cairn.sklearn\n"
        "try:\n"
        "    cairn.sklearn.autolog()\n"
        "except ImportError as e:\n"
        "    print('ERR', e)\n"
        "cairn.sklearn.autolog(disable=True)\n"
        "print('imported:', 'sklearn' in sys.modules and sys.modules['sklearn'] is not None)\n"
    )
    out = run_python(code).stdout
    assert "ERR cairn.sklearn.autolog() needs scikit-learn" in out and "python3-sklearn" in out
    assert "imported: False" in out


def test_import_cairn_imports_no_framework(store):
    out = run_python(
        "import sys, cairn, cairn.sklearn, cairn.torch, cairn.tensorboard\n"
        "print(sorted(m for m in ('sklearn', 'xgboost', 'torch', 'numpy') if m in sys.modules))\n"
    ).stdout
    assert out.strip() == "[]"


EX = os.path.join(ROOT, "examples", "sklearn-autolog", "train.py")


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_example(store):
    p = subprocess.run([PYTHON, EX], capture_output=True, text=True, env=_env(), timeout=300)
    assert p.returncode == 0, p.stderr
    (only,) = cairn.runs(project="sklearn-autolog")
    r = cairn.get_run(only.id)
    assert r.status == "finished"
    assert r.params["GridSearchCV.estimator.clf"] == "LogisticRegression"
    assert "GridSearchCV.best_params.clf.C" in r.params
    assert 0.8 < r.metrics["GridSearchCV.score"] <= 1.0
    assert 0.8 < r.metrics["roc_auc_score"] <= 1.0
    assert r.id[:8] in p.stdout


def test_example_under_cairn_run(store):
    p = subprocess.run(
        [CAIRN_BIN, "run", "-p", "wrapped", "--", PYTHON, EX],
        capture_output=True, text=True, env=_env(), timeout=300,
    )
    assert p.returncode == 0, p.stderr
    (only,) = cairn.runs()
    r = cairn.get_run(only.id)
    assert r.project == "wrapped" and r.status == "finished"
    assert r.params["GridSearchCV.cv"] == 3 and "roc_auc_score" in r.metrics


def test_process_workers_with_a_main_estimator(store):
    # loky pickles a class of __main__ by value, wrappers included: they
    # must pickle, and record nothing in the workers
    code = (
        "import cairn, cairn.sklearn\n"
        "cairn.sklearn.autolog()\n"
        "from sklearn.base import BaseEstimator, ClassifierMixin\n"
        "from sklearn.model_selection import GridSearchCV\n"
        "from sklearn.datasets import make_classification\n"
        "class Threshold(ClassifierMixin, BaseEstimator):\n"
        "    def __init__(self, cut=0.0):\n"
        "        self.cut = cut\n"
        "    def fit(self, X, y):\n"
        "        self.classes_ = [0, 1]\n"
        "        return self\n"
        "    def predict(self, X):\n"
        "        return (X[:, 0] > self.cut).astype(int)\n"
        "X, y = make_classification(n_samples=100, random_state=0)\n"
        "with cairn.init(project='procs', capture_code=False, capture_env=False) as run:\n"
        "    g = GridSearchCV(Threshold(), {'cut': [-0.5, 0.0, 0.5]}, cv=3, n_jobs=2).fit(X, y)\n"
        "print(g.best_params_['cut'])\n"
    )
    best = float(run_python(code).stdout.strip())
    (only,) = cairn.runs()
    r = cairn.get_run(only.id)
    assert r.params["GridSearchCV.best_params.cut"] == best and r.params["GridSearchCV.n_jobs"] == 2
    assert not [k for k in r.params if k.startswith("Threshold.")]
    assert len(cairn.runs()) == 1  # the workers started no runs
