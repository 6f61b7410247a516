"""Inside `cairn run` (or after `export CAIRN_RUN_ID=$(cairn start)`),
cairn.init() logs into that run instead of creating one, and leaves its
status to whoever started it."""

import os

import pytest

import cairn
from conftest import cli, run_python, CAIRN_BIN, PYTHON

SCRIPT = """
import argparse, cairn
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--epochs", type=int, default=3)
args = p.parse_args()
with cairn.init(project="ignored", params=args, tags=["from-python"]) as run:
    assert run.attached
    for e in range(args.epochs):
        run.log_metric("valid_auc", 0.5 + e / 10, step=e)
    print(run.id)
"""


def test_attach_to_cairn_start(store, tmp_path):
    rid = cli("start", "-p", "wrapped", "-t", "outer").strip()
    env = dict(os.environ, CAIRN_RUN_ID=rid)
    out = run_python(SCRIPT, env=env, args=["--lr", "0.3"])
    assert out.stdout.strip() == rid
    r = cairn.get_run(rid)
    assert r.project == "wrapped"  # the run's own project, not init()'s
    assert r.params == {"lr": 0.3, "epochs": 3}
    assert r.metric_summaries["valid_auc"]["count"] == 3
    assert sorted(r.tags) == ["from-python", "outer"]
    assert r.status == "running"  # the starter finishes it, not the script
    assert len(cairn.runs()) == 1  # no second run was created
    cli("finish", rid)
    assert cairn.get_run(rid).status == "finished"


def test_attached_exception_leaves_status_to_owner(store):
    rid = cli("start").strip()
    env = dict(os.environ, CAIRN_RUN_ID=rid)
    r = run_python(
        "import cairn\nwith cairn.init() as run:\n    run.log_metric('x', 1)\n    raise ValueError('no')\n",
        env=env,
        check=False,
    )
    assert r.returncode != 0
    rec = cairn.get_run(rid)
    assert rec.status == "running" and rec.metrics == {"x": 1}


def test_attach_in_process_and_name(store, monkeypatch):
    rid = cli("start").strip()
    monkeypatch.setenv("CAIRN_RUN_ID", rid)
    run = cairn.init(name="named-by-script", config={"a": 1})
    assert run.attached and run.id == rid
    run.log_metric("m", 2)
    run.finish()
    assert run.finished
    r = cairn.get_run(rid)
    assert r.name == "named-by-script" and r.params == {"a": 1} and r.status == "running"


def test_attach_false_creates_a_child_run(store, monkeypatch):
    rid = cli("start").strip()
    monkeypatch.setenv("CAIRN_RUN_ID", rid)
    with cairn.init(attach=False, parent=rid) as child:
        assert not child.attached and child.id != rid
    assert cairn.get_run(child.id).data["parent"] == rid


def test_attach_to_unknown_run_fails(store, monkeypatch):
    monkeypatch.setenv("CAIRN_RUN_ID", "0123456789abcdef0123456789abcdef")
    with pytest.raises(cairn.NotFoundError):
        cairn.init()


def test_inside_cairn_run(store, tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(os.path.dirname(cairn.__file__), "..") + os.pathsep + env.get("PYTHONPATH", "")
    import subprocess

    p = subprocess.run(
        [CAIRN_BIN, "run", "-p", "wrapped", "--", PYTHON, str(script), "--lr", "0.2", "--epochs", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    rid = p.stdout.strip().splitlines()[-1]
    runs = cairn.runs()
    assert len(runs) == 1 and runs[0].id == rid
    r = cairn.get_run(rid)
    assert r.status == "finished" and r.project == "wrapped"
    assert r.params["lr"] == 0.2 and r.params["epochs"] == 2
    assert r.metric_summaries["valid_auc"]["count"] >= 2
    assert "from-python" in r.tags

    # a failing script: the wrapper marks the run failed with the exit code
    bad = tmp_path / "bad.py"
    bad.write_text("import cairn, sys\nrun = cairn.init()\nrun.log_metric('x', 1)\nsys.exit(3)\n")
    p = subprocess.run([CAIRN_BIN, "run", "--", PYTHON, str(bad)], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 3
    newest = cairn.runs(limit=1)[0]
    assert newest.status == "failed" and newest.data["exit_code"] == 3 and newest.metrics["x"] == 1
