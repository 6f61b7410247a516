"""Errors: library failures surface as cairn.Error subclasses carrying the
library's message and code; a missing library says where it looked."""

import os
import shutil
import subprocess

import pytest

import cairn
from cairn import _errors
from conftest import PG, ROOT, PYTHON


def test_hierarchy_and_codes():
    assert issubclass(cairn.InvalidError, cairn.Error) and issubclass(cairn.InvalidError, ValueError)
    assert issubclass(cairn.NotFoundError, LookupError)
    assert issubclass(cairn.AmbiguousError, LookupError)
    assert issubclass(cairn.FileSystemError, OSError)
    assert issubclass(cairn.TooBigError, ValueError)
    assert issubclass(cairn.LibraryNotFoundError, ImportError)
    codes = {
        -2: cairn.InvalidError,
        -3: cairn.NotFoundError,
        -4: cairn.ExistsError,
        -5: cairn.AmbiguousError,
        -6: cairn.ConflictError,
        -7: cairn.FileSystemError,
        -8: cairn.StoreError,
        -9: cairn.OutOfMemoryError,
        -10: cairn.BusyError,
        -11: cairn.TooBigError,
        -12: cairn.DirtyError,
    }
    for code, cls in codes.items():
        e = _errors.error_for(code, "msg %d" % code)
        assert type(e) is cls and e.code == code and str(e) == "msg %d" % code
    e = _errors.error_for(-1, "")
    assert type(e) is cairn.Error and str(e) == "cairn error -1"
    e = _errors.error_for(-99, "odd")
    assert type(e) is cairn.Error and e.code == -99
    fs = cairn.FileSystemError("disk gone", -7)
    assert str(fs) == "disk gone" and fs.message == "disk gone"


def test_library_messages(store):
    with pytest.raises(cairn.NotFoundError) as e:
        cairn.get_run("abcd")
    assert "abcd" in str(e.value) and e.value.code == -3
    with cairn.init() as run:
        with pytest.raises(cairn.InvalidError) as e:
            run.log_metric("a\x01b", 1)
        assert "control character" in str(e.value)
        with pytest.raises(cairn.TooBigError):
            run.set_property("big", "x" * (70 << 10))


def test_ambiguous_name(store):
    for _ in range(2):
        with cairn.init(name="twin"):
            pass
    with pytest.raises(cairn.AmbiguousError, match="ambiguous") as e:
        cairn.get_run("twin")
    assert e.value.code == -5


def test_store_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("CAIRN_RUN_ID", raising=False)
    notastore = tmp_path / "file"
    notastore.write_text("x")
    with pytest.raises(cairn.Error):
        cairn.init(store=notastore)
    bad = tmp_path / "badstore"
    bad.mkdir()
    (bad / "cairn.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(cairn.Error) as e:
        cairn.init(store=bad)
    assert e.value.code in (-8, -7, -1)


def _isolated_copy(tmp_path):
    """The package copied where no build tree is next to it."""
    dst = tmp_path / "iso"
    shutil.copytree(os.path.join(ROOT, "python", "cairn"), dst / "cairn", ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
    return dst


def test_library_not_found_lists_where_it_looked(tmp_path):
    iso = _isolated_copy(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH",)}
    env["CAIRN_LIB"] = str(tmp_path / "nowhere" / "libcairn.so")
    env["PYTHONPATH"] = str(iso)
    code = (
        "import cairn\n"
        "try:\n    cairn.init()\nexcept cairn.LibraryNotFoundError as e:\n    print(e)\n"
        "else:\n    print('LOADED', cairn.library_path())\n"
    )
    r = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=60)
    assert r.returncode == 0, r.stderr
    if r.stdout.startswith("LOADED"):
        pytest.skip("a libcairn is installed on the system path: " + r.stdout)
    out = r.stdout
    assert "cannot load libcairn" in out
    assert str(tmp_path / "nowhere" / "libcairn.so") in out and "$CAIRN_LIB" in out
    assert "next to the package" in out and "the build tree" in out
    assert "libcairn.so.0 (the system library path)" in out


def test_library_that_is_not_cairn(tmp_path):
    iso = _isolated_copy(tmp_path)
    import ctypes.util

    libz = ctypes.util.find_library("z")
    if not libz:
        pytest.skip("no libz to stand in for a wrong library")
    env = dict(os.environ, CAIRN_LIB=libz, PYTHONPATH=str(iso))
    r = subprocess.run(
        [PYTHON, "-c", "import cairn\ntry:\n    cairn.runs()\nexcept cairn.LibraryNotFoundError as e:\n    print(e)\n"],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        timeout=60,
    )
    assert "not a usable libcairn (lacks cairn_" in r.stdout or "LOADED" in r.stdout, r.stdout + r.stderr


def test_cairn_lib_directory_and_import_is_lazy(tmp_path):
    iso = _isolated_copy(tmp_path)
    build = os.path.dirname(os.environ.get("CAIRN_LIB") or os.path.join(ROOT, "build", "libcairn.so"))
    env = dict(os.environ, CAIRN_LIB=build, PYTHONPATH=str(iso))
    code = (
        "import cairn, cairn._lib as L\n"
        "assert L._lib is None, 'import must not load the library'\n"
        "print(cairn.library_path()); print(cairn.library_version())\n"
    )
    r = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=60)
    assert r.returncode == 0, r.stderr
    path, version = r.stdout.split()
    assert path == os.path.join(build, "libcairn.so") and version == cairn.__version__


def test_nul_in_keys_is_refused(store):
    """C sees a str end at its NUL: 'nul\\0suffix' would log to 'nul'."""
    with cairn.init() as run:
        for call in (
            lambda: run.log_metric("nul\0suffix", 3),
            lambda: run.log_metrics({"ok": 1, "nul\0suffix": 2}),
            lambda: run.log_param("p\0q", 1),
            lambda: run.set_tag("t\0u"),
            lambda: run.set_property("k\0", "v"),
        ):
            with pytest.raises(cairn.InvalidError, match="NUL"):
                call()
        rid = run.id
    got = cairn.get_run(rid)
    assert not got.metrics and not got.params and not got.tags


def test_steps_out_of_range_are_refused(store):
    """ctypes wraps a too-large int silently: 2**63 became 0, 2**64+5 became 5."""
    with cairn.init() as run:
        for step in (2**63, 2**64 + 5, -1, -(2**63)):
            with pytest.raises(cairn.InvalidError, match="out of range|negative step"):
                run.log_metric("s", 1.0, step=step)
            with pytest.raises(cairn.InvalidError, match="out of range|negative step"):
                run.log_metrics({"s": 1.0}, step=step)
        run.log_metric("s", 1.0, step=2**63 - 1)
        with pytest.raises(cairn.InvalidError, match="no step after"):
            run.log_metric("s", 2.0)
        for ts in (1e16, 1e300, -5.0, float("nan"), float("inf")):
            with pytest.raises(cairn.InvalidError, match="timestamp"):
                run.log_metric("t", 1.0, timestamp=ts)
        rid = run.id
    got = cairn.get_run(rid)
    assert [p.step for p in got.metric_history("s")] == [2**63 - 1] and "t" not in got.metrics


def test_bytes_that_are_not_utf8_read_back(store):
    """A note with bytes that are not UTF-8 comes back through JSON as lone
    surrogates (surrogateescape), which encode back to the same bytes; a key
    with such bytes is refused."""
    raw = b"caf\xe9 \xff end"
    with cairn.init() as run:
        if PG:  # a postgresql store holds UTF-8 text only (docs/internals/store.md, "Text")
            with pytest.raises(cairn.InvalidError, match="postgresql store holds UTF-8 text only"):
                run.set_note(raw.decode("utf-8", "surrogateescape"))
            assert cairn.get_run(run.id).note in (None, "")
            return
        run.set_note(raw.decode("utf-8", "surrogateescape"))
        with pytest.raises(cairn.InvalidError, match="not valid UTF-8"):
            run.log_metric(b"k\xff".decode("utf-8", "surrogateescape"), 1)
        rid = run.id
    note = cairn.get_run(rid).note
    assert note.encode("utf-8", "surrogateescape") == raw
