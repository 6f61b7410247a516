"""The run API end to end on a temporary store: lifecycle, metrics, params,
tags, properties, notes, text and artifacts, reading back."""

import datetime
import json
import math
import os

import pytest

import cairn
from conftest import cli, run_python


def test_init_log_finish_roundtrip(store):
    with cairn.init(project="salt", name="first", tags=["baseline", "t2"], note="hello") as run:
        assert len(run.id) == 32 and run.name == "first" and run.project == "salt"
        assert run.seq == 1 and run.store == str(store) and not run.attached
        assert cairn.active_run() is run
        for i in range(5):
            run.log_metric("loss", 1.0 / (i + 1))
        run.log_param("lr", 0.1)
        run.set_property("owner", "ana")
    assert run.finished and run.status == "finished"
    assert cairn.active_run() is None
    r = cairn.get_run(run.id)
    assert r.status == "finished" and r.name == "first" and r.project == "salt"
    assert r.params == {"lr": 0.1}
    assert r.metrics["loss"] == pytest.approx(0.2)
    assert r.metric_summaries["loss"]["count"] == 5
    assert r.metric_summaries["loss"]["min"] == pytest.approx(0.2)
    assert r.metric_summaries["loss"]["step"] == 4
    assert sorted(r.tags) == ["baseline", "t2"]
    assert r.properties["owner"] == "ana"
    assert r.note == "hello"
    # the CLI sees the same run
    shown = json.loads(cli("show", run.id, "--json"))
    assert shown["id"] == run.id and shown["params"]["lr"] == 0.1


def test_context_manager_failed_and_killed(store):
    with pytest.raises(RuntimeError):
        with cairn.init() as run:
            run.log_metric("x", 1)
            raise RuntimeError("boom")
    assert cairn.get_run(run.id).status == "failed"
    assert cairn.get_run(run.id).data["exit_code"] == 1
    with pytest.raises(KeyboardInterrupt):
        with cairn.init() as run2:
            raise KeyboardInterrupt
    assert cairn.get_run(run2.id).status == "killed"


def test_finish_statuses_and_idempotence(store):
    run = cairn.init()
    run.finish("failed", exit_code=3)
    run.finish()  # a second finish changes nothing
    r = cairn.get_run(run.id)
    assert r.status == "failed" and r.data["exit_code"] == 3
    run = cairn.init()
    with pytest.raises(cairn.InvalidError):
        run.finish("done")
    run.finish()


def test_logging_after_finish_raises(store):
    run = cairn.init()
    run.finish()
    with pytest.raises(cairn.Error, match="finished"):
        run.log_metric("x", 1)
    with pytest.raises(cairn.Error, match="finished"):
        run.log_param("x", 1)
    with pytest.raises(cairn.Error, match="finished"):
        run.log_metrics({"x": 1})


def test_metrics_steps_timestamps(store):
    with cairn.init() as run:
        run.log_metric("a", 1)  # step 0
        run.log_metric("a", 2)  # step 1
        run.log_metric("a", 3, step=10)
        run.log_metric("a", 4)  # step 11
        run.log_metric("t", 5, timestamp=1_700_000_000.5)
        run.log_metric("d", 6, timestamp=datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc))
        run.log_metric("np", 7, step=_np_int(3))
    r = cairn.get_run(run.id)
    assert [(p.step, p.value) for p in r.metric_history("a")] == [(0, 1), (1, 2), (10, 3), (11, 4)]
    assert r.metric_history("t")[0].timestamp == pytest.approx(1_700_000_000.5)
    assert r.metric_history("d")[0].timestamp == pytest.approx(1704153600.0)
    assert r.metric_history("np")[0].step == 3


def _np_int(v):
    np = pytest.importorskip("numpy")
    return np.int64(v)


def test_metric_values_non_finite_and_numeric_types(store):
    np = pytest.importorskip("numpy")
    from decimal import Decimal
    from fractions import Fraction

    with cairn.init() as run:
        run.log_metric("nan", float("nan"))
        run.log_metric("inf", float("inf"))
        run.log_metric("ninf", -math.inf)
        run.log_metric("f32", np.float32(0.25))
        run.log_metric("i64", np.int64(7))
        run.log_metric("arr0", np.array(1.5))
        run.log_metric("bool", True)
        run.log_metric("dec", Decimal("0.5"))
        run.log_metric("frac", Fraction(1, 4))
        run.log_metric("big", 10**30)
    m = cairn.get_run(run.id).metrics
    assert math.isnan(m["nan"]) and m["inf"] == math.inf and m["ninf"] == -math.inf
    assert m["f32"] == 0.25 and m["i64"] == 7 and m["arr0"] == 1.5 and m["bool"] == 1
    assert m["dec"] == 0.5 and m["frac"] == 0.25 and m["big"] == pytest.approx(1e30)
    h = cairn.get_run(run.id).metric_history("nan")
    assert math.isnan(h[0].value)


@pytest.mark.parametrize("bad", ["1.0", b"1", None, [1], {"a": 1}, 1j, object()])
def test_log_metric_non_numeric_is_type_error(store, bad):
    with cairn.init() as run:
        with pytest.raises(TypeError, match="not a number"):
            run.log_metric("x", bad)
    assert "x" not in cairn.get_run(run.id).metrics


def test_log_metric_bad_key_and_step(store):
    with cairn.init() as run:
        with pytest.raises(TypeError):
            run.log_metric(3, 1.0)
        with pytest.raises(cairn.InvalidError, match="empty metric key"):
            run.log_metric("", 1.0)
        with pytest.raises(cairn.InvalidError, match="negative step"):
            run.log_metric("x", 1.0, step=-1)
        with pytest.raises(TypeError):
            run.log_metric("x", 1.0, step=1.5)
        with pytest.raises(TypeError):
            run.log_metric("x", 1.0, step="1")


def test_log_metrics(store):
    np = pytest.importorskip("numpy")
    with cairn.init() as run:
        run.log_metrics({"a": 1, "b": 2.5}, step=3)
        run.log_metrics({"a": np.float32(4), "b": float("nan")})  # each key's next step
        run.log_metrics({"a": 5, "c": 6}, step=7, timestamp=1_700_000_000)
        run.log_metrics({})
        with pytest.raises(TypeError, match="'b'.*not a number"):
            run.log_metrics({"a": 1, "b": "x"})
        with pytest.raises(cairn.InvalidError):
            run.log_metrics({"ok": 1, "": 2})
        with pytest.raises(TypeError):
            run.log_metrics({"a": 1}, step=2.0)
    r = cairn.get_run(run.id)
    assert [(p.step, p.value) for p in r.metric_history("a")] == [(3, 1), (4, 4), (7, 5)]
    b = r.metric_history("b")
    assert b[0] == (3, b[0].timestamp, 2.5) and b[1].step == 4 and math.isnan(b[1].value)
    assert r.metric_history("c")[0].timestamp == 1_700_000_000
    assert "ok" not in r.metrics  # a bad key logs nothing of its batch


def test_log_metrics_many_keys_reuses_batches(store):
    keys = {"k%03d" % i: float(i) for i in range(100)}
    with cairn.init() as run:
        for step in range(20):
            run.log_metrics(keys, step=step)
    r = cairn.get_run(run.id)
    assert len(r.metrics) == 100 and r.metric_summaries["k099"]["count"] == 20


def test_params_types_and_conflicts(store):
    with cairn.init() as run:
        run.log_param("i", 3)
        run.log_param("f", 0.5)
        run.log_param("b", False)
        run.log_param("s", "adam")
        run.log_param("n", None)
        run.log_param("l", [1, 2, "x"])
        run.log_param("huge", 2**70)
        run.log_param("i", 3)  # same value again: fine
        with pytest.raises(cairn.ConflictError, match="write-once") as e:
            run.log_param("i", 4)
        assert e.value.code == -6
        run.set_param("i", 5)  # an explicit override
        with pytest.raises(cairn.InvalidError):
            run.log_param("", 1)
        with pytest.raises(TypeError):
            run.log_param(1, 1)
    p = cairn.get_run(run.id).params
    assert p == {
        "i": 5,
        "f": 0.5,
        "b": False,
        "s": "adam",
        "n": "None",
        "l": '[1, 2, "x"]',
        "huge": str(2**70),
    }


def test_tags_properties_note_name(store):
    with cairn.init(tags="single") as run:
        run.set_tag("a")
        run.set_tags(["b", "c"])
        run.remove_tag("b")
        run.set_property("k", 1.5)
        run.set_note("a note")
        run.set_name("renamed")
        with pytest.raises(cairn.InvalidError):
            run.set_tag("")
    r = cairn.get_run("renamed")
    assert sorted(r.tags) == ["a", "c", "single"]
    assert r.properties["k"] == "1.5" and r.note == "a note" and r.name == "renamed"


def test_text_and_artifacts(store, tmp_path):
    f = tmp_path / "model.bin"
    f.write_bytes(b"\x00\x01weights")
    d = tmp_path / "outdir"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("A")
    (d / "sub" / "b.txt").write_text("B")
    with cairn.init() as run:
        run.log_text("notes/summary.md", "# done\n")
        run.log_artifact(f)
        run.log_artifact(str(f), name="models/best.bin")
        run.log_artifact(d, name="out")
        with pytest.raises(cairn.NotFoundError):
            run.log_artifact(tmp_path / "missing")
        with pytest.raises(cairn.InvalidError):
            run.log_artifact(f, name="../escape")
        with pytest.raises(TypeError):
            run.log_text("x.txt", b"bytes")
    arts = {a["path"]: a for a in cairn.get_run(run.id).artifacts}
    assert set(arts) == {"notes/summary.md", "model.bin", "models/best.bin", "out/a.txt", "out/sub/b.txt"}
    assert arts["model.bin"]["size"] == 9 and arts["notes/summary.md"]["media_type"] == "text/markdown"
    assert arts["model.bin"]["digest"] == arts["models/best.bin"]["digest"]


def test_script_exit_finishes_runs(store, tmp_path):
    """A run left open is finished at interpreter exit: finished normally,
    failed after an uncaught exception."""
    ok = run_python("import cairn; r = cairn.init(); r.log_metric('x', 1); print(r.id)")
    rid = ok.stdout.strip()
    r = cairn.get_run(rid)
    assert r.status == "finished" and r.metrics == {"x": 1}
    bad = run_python(
        "import cairn, sys; r = cairn.init(); print(r.id); sys.stdout.flush(); raise SystemError('x')",
        check=False,
    )
    assert bad.returncode != 0
    assert cairn.get_run(bad.stdout.strip()).status == "failed"


def test_heartbeat_recorded(store):
    with cairn.init() as run:
        assert cairn.get_run(run.id).data["heartbeat"] is not None


def test_command_and_script_recorded(store, tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import cairn\nr = cairn.init()\nprint(r.id)\nr.finish()\n")
    out = run_python(
        "import runpy, sys; sys.argv = [%r, '--lr', '0.1', '--api-token', 'hunter2', "
        "'--db=postgres://u:pw@h/db']; runpy.run_path(%r, run_name='__main__')"
        % (str(script), str(script))
    )
    r = cairn.get_run(out.stdout.strip())
    assert r.properties["script"] == str(script)
    cmd = r.data["command"]
    assert str(script) in cmd and "--lr 0.1" in cmd
    assert "hunter2" not in cmd and "pw@" not in cmd


def test_secret_params_left_out(store):
    with pytest.warns(cairn.CaptureWarning, match="api_key"):
        run = cairn.init(params={"api_key": "sk-123", "lr": 0.1})
    run.log_param("explicit_token", "kept")  # explicit: recorded
    run.finish()
    p = cairn.get_run(run.id).params
    assert p == {"lr": 0.1, "explicit_token": "kept"}


def test_repr(store):
    run = cairn.init(name="reprname")
    assert "reprname" in repr(run) and run.id[:8] in repr(run)
    run.finish()
    assert "reprname" in repr(cairn.get_run(run.id))


def test_explicit_store_argument(tmp_path, monkeypatch):
    monkeypatch.delenv("CAIRN_DIR", raising=False)
    monkeypatch.delenv("CAIRN_RUN_ID", raising=False)
    s = tmp_path / "explicit"
    s.mkdir()
    with cairn.init(store=s, project="p") as run:
        run.log_metric("m", 1)
    assert run.store == str(s)
    assert cairn.get_run(run.id, store=s).metrics == {"m": 1}
    assert [r.id for r in cairn.runs(store=s)] == [run.id]
    with pytest.raises(cairn.Error):
        cairn.init(store=tmp_path / "does-not-exist")


def test_threads_log_concurrently(store):
    import threading

    with cairn.init() as run:

        def work(k):
            for i in range(2000):
                run.log_metric(k, i, step=i)

        ts = [threading.Thread(target=work, args=("t%d" % i,)) for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    m = cairn.get_run(run.id).metric_summaries
    assert all(m["t%d" % i]["count"] == 2000 for i in range(4))


def test_environment_does_not_leak_between_tests(store):
    assert os.environ.get("CAIRN_RUN_ID") is None


def test_fork_child_starts_afresh(store):
    code = """
import os, sys, cairn
a = cairn.init(name="parent")
a.log_metric("x", 1)
pid = os.fork()
if pid == 0:
    b = cairn.init(name="child")
    b.log_metric("y", 2)
    sys.exit(0)  # atexit in the child finishes b, and leaves a alone
_, status = os.waitpid(pid, 0)
assert status == 0, status
a.log_metric("x", 3)
a.finish()
"""
    run_python(code)
    a, b = cairn.get_run("parent"), cairn.get_run("child")
    assert a.status == "finished" and a.metric_summaries["x"]["count"] == 2
    assert b.status == "finished" and b.metrics == {"y": 2}
