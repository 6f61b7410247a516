"""A notebook executed headless (`jupyter nbconvert --execute`) logs a run
and records its notebook file; when the notebook cannot be found, the
binding says so once."""

import json
import os
import shutil
import subprocess

import pytest

import cairn
from conftest import ROOT

NBCONVERT = shutil.which("jupyter-nbconvert")
pytestmark = pytest.mark.skipif(NBCONVERT is None, reason="jupyter-nbconvert is not installed (scripts/install-deps)")


def notebook(cells):
    return {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": src}
            for src in cells
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


TRAIN = [
    "import cairn\n"
    "run = cairn.init(project='nb', params={'lr': 0.1})\n"
    "for i in range(3):\n"
    "    run.log_metric('loss', 1 / (i + 1))\n",
    "import numpy as np\nrun.log_image('noise', np.zeros((4, 4), dtype=np.uint8))\n"
    "print('RUN', run.id)\nprint('NOTEBOOK', run.notebook)\nrun.finish()\n",
]


def execute(nb_path, out_dir, env_extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    p = subprocess.run(
        [NBCONVERT, "--to", "notebook", "--execute", "--output-dir", str(out_dir),
         "--ExecutePreprocessor.timeout=120", str(nb_path)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    with open(os.path.join(out_dir, os.path.basename(nb_path))) as f:
        done = json.load(f)
    stdout, stderr = "", ""
    for c in done["cells"]:
        for o in c.get("outputs", []):
            if o.get("output_type") == "stream":
                text = "".join(o["text"])
                if o["name"] == "stdout":
                    stdout += text
                else:
                    stderr += text
    return stdout, stderr


def _field(stdout, name):
    for line in stdout.splitlines():
        if line.startswith(name + " "):
            return line.split(" ", 1)[1]
    raise AssertionError("no %s line in %r" % (name, stdout))


def test_notebook_logs_a_run_and_records_itself(store, tmp_path):
    d = tmp_path / "nbdir"
    d.mkdir()
    nb = d / "experiment.ipynb"
    nb.write_text(json.dumps(notebook(TRAIN)))
    nbjson = notebook(TRAIN + ["r1 = cairn.init()\nr2 = cairn.init()  # a re-run cell\n"
                               "print('R1', r1.finished, r2.finished)\nr2.finish()\n"])
    nb.write_text(json.dumps(nbjson))
    stdout, stderr = execute(nb, tmp_path / "out")
    rid = _field(stdout, "RUN")
    assert _field(stdout, "NOTEBOOK") == str(nb)
    assert _field(stdout, "R1") == "True False"  # a new init finishes the previous run
    r = cairn.get_run(rid)
    assert r.status == "finished" and r.project == "nb" and r.params == {"lr": 0.1}
    assert r.metric_summaries["loss"]["count"] == 3
    assert r.properties["notebook"] == str(nb)
    assert "script" not in r.properties  # the kernel launcher is not the script
    arts = {a["path"]: a for a in r.artifacts}
    assert "notebook/experiment.ipynb" in arts and "images/noise.png" in arts
    assert arts["notebook/experiment.ipynb"]["size"] == nb.stat().st_size
    assert r.data["command"] is None
    assert "cannot find the notebook" not in stderr


def test_notebook_found_through_jpy_session_name(store, tmp_path):
    d = tmp_path / "nbdir"
    d.mkdir()
    (d / "other.ipynb").write_text(json.dumps(notebook(["1"])))
    nb = d / "mine.ipynb"
    nb.write_text(json.dumps(notebook(TRAIN)))
    # jupyter-server gives kernels the notebook's path relative to its root
    stdout, _ = execute(nb, tmp_path / "out", {"JPY_SESSION_NAME": "some/root/nbdir/mine.ipynb"})
    assert _field(stdout, "NOTEBOOK") == str(nb)
    assert cairn.get_run(_field(stdout, "RUN")).properties["notebook"] == str(nb)


def test_notebook_not_found_is_said_once(store, tmp_path):
    d = tmp_path / "nbdir"
    d.mkdir()
    (d / "other.ipynb").write_text(json.dumps(notebook(["1"])))
    cells = list(TRAIN) + ["run2 = cairn.init(project='nb')\nrun2.finish()\nprint('RUN2', run2.id)\n"]
    nb = d / "mine.ipynb"
    nb.write_text(json.dumps(notebook(cells)))
    stdout, stderr = execute(nb, tmp_path / "out")
    assert _field(stdout, "NOTEBOOK") == "None"
    assert stderr.count("cannot find the notebook file") == 1, stderr
    assert "cairn.init(notebook=" in stderr
    r = cairn.get_run(_field(stdout, "RUN"))
    assert r.status == "finished" and "notebook" not in r.properties


def test_notebook_given_explicitly(store, tmp_path):
    d = tmp_path / "nbdir"
    d.mkdir()
    (d / "other.ipynb").write_text(json.dumps(notebook(["1"])))
    nb = d / "explicit.ipynb"
    cells = [TRAIN[0].replace("cairn.init(", "cairn.init(notebook='explicit.ipynb', "), TRAIN[1]]
    nb.write_text(json.dumps(notebook(cells)))
    stdout, stderr = execute(nb, tmp_path / "out")
    assert _field(stdout, "NOTEBOOK") == str(nb) and "cannot find" not in stderr
