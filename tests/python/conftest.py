"""Shared fixtures for the Python binding's tests (run by `make test` with
CAIRN_LIB=build/libcairn.so, CAIRN_BIN=build/cairn and PYTHONPATH=python).

Every test gets a fresh store in a temporary directory (CAIRN_DIR), runs in
work/ beside it, and starts with no CAIRN_RUN_ID / CAIRN_PROJECT.

With CAIRN_TEST_PG=1 (as tests/e2e/lib.sh and tests/unit/unit.h), the store
is a fresh PostgreSQL database instead: CAIRN_DIR is its URI (its objects in
the temporary directory), on the cluster CAIRN_TEST_PG_URI names or on one
started for the session with scripts/pg-cluster.  A test that expects what
only one backend does checks conftest.PG.
"""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

import cairn  # noqa: E402  (this repository's copy, not an installed one)

PACKAGE_DIR = os.path.dirname(cairn.__file__)
CAIRN_BIN = os.environ.get("CAIRN_BIN") or os.path.join(ROOT, "build", "cairn")
PYTHON = sys.executable

PG = os.environ.get("CAIRN_TEST_PG") == "1"
PG_CLUSTER = os.path.join(ROOT, "scripts", "pg-cluster")


@pytest.fixture(scope="session")
def pg_base():
    """The base URI of the test cluster (started for the session if need be)."""
    uri = os.environ.get("CAIRN_TEST_PG_URI")
    if uri:
        yield uri
        return
    uri = subprocess.run([PG_CLUSTER, "start"], capture_output=True, text=True, check=True).stdout.strip()
    yield uri
    subprocess.run([PG_CLUSTER, "stop", uri], check=False)


_ndb = [0]


@pytest.fixture
def store(tmp_path, monkeypatch, request):
    """A fresh store as $CAIRN_DIR (a directory, or on PostgreSQL a fresh
    database's URI); the test runs in tmp_path/work."""
    d = tmp_path / "store"
    d.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    if PG:
        base = request.getfixturevalue("pg_base")
        _ndb[0] += 1
        name = "py%d_%d" % (os.getpid(), _ndb[0])
        uri = subprocess.run(
            [PG_CLUSTER, "createdb", base, name], capture_output=True, text=True, check=True
        ).stdout.strip()
        d = uri + "&objects=" + str(tmp_path / "store" / "objects")
    monkeypatch.setenv("CAIRN_DIR", str(d))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for v in ("CAIRN_RUN_ID", "CAIRN_PROJECT", "CAIRN_URI", "XDG_DATA_HOME", "JPY_SESSION_NAME"):
        monkeypatch.delenv(v, raising=False)
    monkeypatch.chdir(work)
    yield d


def cli(*args, env=None, check=True):
    """Run the cairn CLI; return its stdout."""
    r = subprocess.run(
        [CAIRN_BIN] + [str(a) for a in args], capture_output=True, text=True, env=env, timeout=120
    )
    if check and r.returncode != 0:
        raise AssertionError("cairn %s failed (%d): %s" % (" ".join(map(str, args)), r.returncode, r.stderr))
    return r.stdout


def run_python(code, cwd=None, env=None, args=(), check=True):
    """Run a Python snippet in a child interpreter with the binding importable."""
    e = dict(os.environ if env is None else env)
    e["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + e.get("PYTHONPATH", "")
    r = subprocess.run(
        [PYTHON, "-c", code] + list(args), capture_output=True, text=True, cwd=cwd, env=e, timeout=300
    )
    if check and r.returncode != 0:
        raise AssertionError("child failed (%d):\n%s\n%s" % (r.returncode, r.stdout, r.stderr))
    return r
