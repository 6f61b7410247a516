"""The scikit-learn example (examples/sklearn) runs and records what its
README promises: params (the parsed options, defaults from the YAML config),
per-iteration AUCs, final metrics, the dataset digest, two images and the
model; its cairn-free variant works under `cairn run` and records the same
param and metric names; and train.py under `cairn run` logs each point once."""

import json
import os
import pickle
import subprocess

import pytest

import cairn
from conftest import CAIRN_BIN, PYTHON, ROOT

EX = os.path.join(ROOT, "examples", "sklearn")

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")
pytest.importorskip("yaml")


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    return env


def test_train_py(store, tmp_path):
    out = tmp_path / "out"
    p = subprocess.run(
        [PYTHON, os.path.join(EX, "train.py"), "--n-estimators", "15", "--learning-rate", "0.3", "--out", str(out)],
        capture_output=True, text=True, env=_env(), timeout=600,
    )
    assert p.returncode == 0, p.stderr
    runs = cairn.runs()
    assert len(runs) == 1
    r = cairn.get_run(runs[0].id)
    assert r.status == "finished" and r.project == "breast-cancer" and sorted(r.tags) == ["gbm", "sklearn"]
    assert r.params["learning_rate"] == 0.3 and r.params["n_estimators"] == 15
    assert r.params["max_depth"] == 3 and r.params["seed"] == 7  # defaults, from config.yaml
    assert r.params["valid_fraction"] == 0.25 and r.params["min_samples_leaf"] == 3
    for k in ("train_auc", "valid_auc"):
        assert r.metric_summaries[k]["count"] == 15 and r.metric_summaries[k]["step"] == 14
    assert 0.9 < r.metrics["final/valid_auc"] <= 1.0
    assert "final/valid_accuracy" in r.metrics and "final/valid_log_loss" in r.metrics
    ds = {d["name"]: d for d in r.datasets}
    assert ds["breast_cancer"]["files"] == 1 and ds["breast_cancer"]["digest"]
    arts = {a["path"]: a for a in r.artifacts}
    assert "images/diagnostics/confusion_matrix.png" in arts and "images/diagnostics/roc.png" in arts
    assert "model.pkl" in arts
    assert any(a["kind"] == "config" and a["path"].endswith("config.yaml") for a in r.artifacts)
    with open(out / "model.pkl", "rb") as f:
        assert pickle.load(f).n_estimators == 15
    assert r.id[:8] in p.stdout


HYPER = ("learning_rate", "n_estimators", "max_depth", "subsample", "min_samples_leaf", "valid_fraction", "seed")


def _cairn_run(tmp_path, script, *args):
    p = subprocess.run(
        [CAIRN_BIN, "run", "-p", "breast-cancer", "--", PYTHON, os.path.join(EX, script),
         "--out", str(tmp_path / "out"), *args],
        capture_output=True, text=True, env=_env(), timeout=600,
    )
    assert p.returncode == 0, p.stderr
    return cairn.get_run(cairn.runs(limit=1)[0].id)


def test_train_plain_under_cairn_run(store, tmp_path):
    r = _cairn_run(tmp_path, "train_plain.py", "--n-estimators", "12")
    assert r.status == "finished" and r.project == "breast-cancer"
    # every option, defaults included, by the names train.py records
    assert {k: r.params[k] for k in HYPER} == {
        "learning_rate": 0.1, "n_estimators": 12, "max_depth": 3, "subsample": 0.8,
        "min_samples_leaf": 3, "valid_fraction": 0.25, "seed": 7}
    assert set(json.loads(r.properties["argparse.defaults"])) == set(HYPER) - {"n_estimators"} | {
        "config", "project"}
    assert r.metric_summaries["valid_auc"]["count"] == 12
    assert {"final/valid_auc", "final/valid_accuracy", "final/valid_log_loss"} <= set(r.metrics)
    assert (tmp_path / "out" / "roc.png").exists()


def test_both_ways_line_up(store, tmp_path):
    """The demo's point: a `cairn run` row and an API row have the same param
    and metric names, so no column of `cairn ls` is half empty."""
    plain = _cairn_run(tmp_path, "train_plain.py", "--n-estimators", "10", "--learning-rate", "0.2")
    p = subprocess.run([PYTHON, os.path.join(EX, "train.py"), "--n-estimators", "10", "--learning-rate", "0.2",
                        "--out", str(tmp_path / "api")], capture_output=True, text=True, env=_env(), timeout=600)
    assert p.returncode == 0, p.stderr
    api = cairn.get_run(cairn.runs(limit=1)[0].id)
    assert api.id != plain.id
    assert set(plain.params) == set(api.params)
    for k in HYPER:
        assert plain.params[k] == api.params[k], k
    finals = {k for k in api.metrics if not k.startswith("sys/")}
    assert finals == {k for k in plain.metrics if not k.startswith("sys/")}
    assert plain.metrics["final/valid_auc"] == pytest.approx(api.metrics["final/valid_auc"], abs=1e-6)


def test_train_py_under_cairn_run_logs_each_point_once(store, tmp_path):
    r = _cairn_run(tmp_path, "train.py", "--n-estimators", "8")
    assert len(cairn.runs()) == 1
    assert r.metric_summaries["valid_auc"]["count"] == 8 and r.metric_summaries["train_auc"]["count"] == 8
    assert r.metric_summaries["final/valid_auc"]["count"] == 1
    assert r.params["n_estimators"] == 8 and r.params["learning_rate"] == 0.1
