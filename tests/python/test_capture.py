"""Capture from Python: the interpreter's packages (checked against
importlib.metadata), secret-looking names, the script path, and code and
environment through the library's capture."""

import json
import os
import subprocess
import sys

import pytest

import cairn
from cairn import _capture
from conftest import CAIRN_BIN, PYTHON, ROOT, run_python


def _canon(name):
    n = name.lower().replace("_", "-").replace(".", "-")
    while "--" in n:
        n = n.replace("--", "-")
    return n


def test_packages_match_importlib_metadata():
    import importlib.metadata as md

    want = {}
    for d in md.distributions():
        name = d.metadata["Name"]
        if name and _canon(name) not in want:
            want[_canon(name)] = d.version
    got = {}
    for name, version in _capture.packages().items():  # names as found: the library normalises
        got.setdefault(_canon(name), version)
    assert got == want
    assert "pytest" in got
    json.loads(_capture.packages_json())


def test_packages_from_unusual_entries(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "Foo_Bar-1.2.3.dist-info").mkdir(parents=True)
    (site / "plainpkg.egg-info").mkdir()
    (site / "plainpkg.egg-info" / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: plainpkg\nVersion: 0.9\n\n")
    (site / "single.egg-info").write_text("Metadata-Version: 1.0\nName: single\nVersion: 4.5\n")
    (site / "debian_pkg-2.0.egg-info").mkdir()
    (site / "nover.dist-info").mkdir()  # no version anywhere: left out
    monkeypatch.setattr(sys, "path", [str(site), str(tmp_path / "missing")])
    assert _capture.packages() == {"Foo_Bar": "1.2.3", "plainpkg": "0.9", "single": "4.5", "debian_pkg": "2.0"}


def test_secret_names():
    assert _capture.name_is_secret("api_key") and _capture.name_is_secret("DB_PASSWORD")
    assert not _capture.name_is_secret("learning_rate")


def test_not_in_jupyter():
    assert not _capture.in_jupyter() and _capture.notebook_path() is None


def test_script_path(tmp_path):
    s = tmp_path / "s.py"
    s.write_text("from cairn import _capture\nprint(_capture.script_path())\n")
    r = run_python("import runpy, sys; sys.argv=[%r]; runpy.run_path(%r)" % (str(s), str(s)))
    assert r.stdout.strip() == str(s)
    assert run_python("from cairn import _capture; print(_capture.script_path())").stdout.strip() == "None"


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo)] + list(args), check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
                            GIT_COMMITTER_EMAIL="t@e"))


@pytest.fixture
def repo(store, tmp_path, monkeypatch):
    r = tmp_path / "repo"
    r.mkdir()
    _git(r, "init", "-q", "-b", "main")
    (r / "train.py").write_text("print('hi')\n")
    (r / "requirements.txt").write_text("numpy\n")
    _git(r, "add", ".")
    _git(r, "commit", "-q", "-m", "first")
    monkeypatch.chdir(r)
    return r


def test_capture_code_and_env(repo):
    (repo / "train.py").write_text("print('changed')\n")  # dirty
    (repo / "extra.cfg").write_text("x=1\n")
    with cairn.init(upload_source_files=["*.cfg"]) as run:
        pass
    r = cairn.get_run(run.id)
    assert r.code and len(r.code["commit"]) == 40 and r.code["branch"] == "main" and r.code["dirty"]
    env = r.environment
    assert env and env["python"]["executable"] == sys.executable
    assert env["packages"].get("pytest") == _capture.packages()["pytest"]
    assert env["cpu_count"] >= 1 and env["os"]


def test_library_normalises_package_names(store, monkeypatch):
    """PEP 503 in one place (the library): lower case, runs of -_. as one -,
    the first of a name (the first on sys.path) wins, sorted."""
    monkeypatch.setattr(_capture, "packages", lambda: {
        "Foo.Bar__baz": "1.0", "foo-bar-baz": "2.0", "Jinja2": "3.1", "PyYAML": "6.0", "zope.interface": "5"})
    with cairn.init(capture_code=False) as run:
        pass
    pk = cairn.get_run(run.id).environment["packages"]
    assert pk == {"foo-bar-baz": "1.0", "jinja2": "3.1", "pyyaml": "6.0", "zope-interface": "5"}
    assert list(pk) == sorted(pk)


def test_package_lists_equal_from_cairn_run_and_the_api(store, tmp_path):
    """`cairn run` asks the interpreter (importlib.metadata), the binding walks
    sys.path: on the same interpreter both store the same list, so `cairn diff`
    of the two runs shows no package change."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "python")
    p = subprocess.run([CAIRN_BIN, "run", "-n", "wrapped", "--no-code", "--", PYTHON, "-c", "pass"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    run_python("import cairn\ncairn.init(name='api', capture_code=False).finish()\n", env=env)
    pk = {r.name: cairn.get_run(r.id).environment["packages"] for r in cairn.runs()}
    assert pk["wrapped"] == pk["api"] and len(pk["api"]) > 5
    assert all(k == _canon(k) for k in pk["api"])
    if "PyYAML" in _capture.packages() or "pyyaml" in _capture.packages():
        assert "pyyaml" in pk["wrapped"]
    diff = json.loads(subprocess.run([CAIRN_BIN, "diff", "wrapped", "api", "--json"], capture_output=True,
                                     text=True, env=env, timeout=120).stdout)
    assert not any(diff["environment"]["packages"].values())


def test_capture_off(repo):
    with cairn.init(capture_code=False, capture_env=False) as run:
        pass
    r = cairn.get_run(run.id)
    assert not r.code and not r.environment


def test_require_clean(repo):
    with cairn.init(require_clean=True) as run:  # clean tree: fine
        pass
    (repo / "train.py").write_text("print('dirty')\n")
    with pytest.raises(cairn.DirtyError):
        cairn.init(require_clean=True)
    assert [r.id for r in cairn.runs()] == [run.id]  # the refused run left nothing behind
