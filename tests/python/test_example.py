"""The scikit-learn example (examples/sklearn) runs and records what its
README promises: params from the YAML config and the command line,
per-iteration AUCs, final metrics, the dataset digest, two images and the
model; and its cairn-free variant works under `cairn run`."""

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
    assert r.params["model.learning_rate"] == 0.3 and r.params["model.n_estimators"] == 15
    assert r.params["model.max_depth"] == 3 and r.params["seed"] == 7
    assert r.params["data.n_train"] + r.params["data.n_valid"] == 569
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


def test_train_plain_under_cairn_run(store, tmp_path):
    p = subprocess.run(
        [CAIRN_BIN, "run", "-p", "breast-cancer", "--", PYTHON, os.path.join(EX, "train_plain.py"),
         "--n-estimators", "12", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=_env(), timeout=600,
    )
    assert p.returncode == 0, p.stderr
    r = cairn.runs()[0]
    r = cairn.get_run(r.id)
    assert r.status == "finished" and r.project == "breast-cancer"
    assert r.params.get("n_estimators") == 12
    assert r.metric_summaries["valid_auc"]["count"] == 12
    assert (tmp_path / "out" / "roc.png").exists()
