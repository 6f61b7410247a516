"""Resuming a run (cairn.init(run_id=..., resume=True), and a $CAIRN_RUN_ID
naming a run that has ended) and nested runs (parent=, run.child(), the
active run returning to the parent).  docs/python.md, "Resuming a run" and
"Nested runs"."""

import os

import pytest

import cairn
from conftest import cli, run_python

# A script that logs three points without a step, then dies without
# finishing its run (os._exit skips every handler) or ends normally.
SCRIPT = """
import os, sys, cairn
run = cairn.init(capture_code=False, capture_env=False, params={"lr": 0.1})
for i in range(3):
    run.log_metric("loss", 1.0 / (i + 1))
print(run.id)
if sys.argv[1:] == ["crash"]:
    run.flush()
    os._exit(3)
"""


def _steps(rid, key="loss"):
    return [p.step for p in cairn.get_run(rid).metric_history(key)]


def _crashed_run():
    """A run whose process died: it reads as running until its heartbeat is
    stale (60 s), then as crashed."""
    r = run_python(SCRIPT, args=["crash"], check=False)
    assert r.returncode == 3
    rid = r.stdout.strip()
    assert len(rid) == 32
    assert cairn.get_run(rid).status == "running"
    return rid


def test_resume_true_returns_to_running_and_owns_the_run(store):
    with cairn.init(capture_code=False, capture_env=False, params={"lr": 0.1}) as r:
        for i in range(3):
            r.log_metric("loss", i)
    rid = r.id
    rec = cairn.get_run(rid)
    assert rec.status == "finished" and rec.end_time is not None
    assert rec.data["exit_code"] == 0
    with cairn.init(run_id=rid, resume=True, capture_code=False, capture_env=False) as r2:
        assert r2.id == rid and not r2.attached
        now = cairn.get_run(rid)
        assert now.status == "running"
        assert now.end_time is None and now.data["exit_code"] is None
        assert now.data["heartbeat"] >= rec.data["heartbeat"]  # the monitor beats at once
        assert now.data["pid"] == os.getpid()  # this process owns it now
        assert r2.last_step("loss") == 2
        r2.log_metric("loss", 3.0)  # no step: one after the last
        r2.log_metric("loss", 4.0)
    done = cairn.get_run(rid)
    assert done.status == "finished"  # finished again by the resumer
    assert _steps(rid) == [0, 1, 2, 3, 4]
    assert len(cairn.runs()) == 1


def test_resume_then_fail_sets_the_status(store):
    with cairn.init(capture_code=False, capture_env=False) as r:
        r.log_metric("x", 1)
    with pytest.raises(ValueError):
        with cairn.init(run_id=r.id, resume=True):
            raise ValueError("boom")
    rec = cairn.get_run(r.id)
    assert rec.status == "failed" and rec.data["exit_code"] == 1


def test_params_same_value_accepted_other_value_refused(store):
    with cairn.init(capture_code=False, capture_env=False, params={"lr": 0.1, "bs": 32}) as r:
        pass
    with cairn.init(run_id=r.id, resume=True, params={"lr": 0.1}) as r2:
        r2.log_param("bs", 32)
        with pytest.raises(cairn.ConflictError, match="write-once"):
            r2.log_param("lr", 0.2)
    with pytest.raises(cairn.ConflictError, match="write-once"):
        cairn.init(run_id=r.id, resume=True, params={"lr": 0.5})
    # the refused init left the run as it found it: resumed, then failed
    assert cairn.get_run(r.id).params == {"lr": 0.1, "bs": 32}
    assert cairn.get_run(r.id).status == "failed"


def test_ended_run_without_resume_is_an_error(store):
    with cairn.init(capture_code=False, capture_env=False) as r:
        pass
    with pytest.raises(cairn.ConflictError, match=r"is finished: .*resume=True"):
        cairn.init(run_id=r.id)
    assert cairn.get_run(r.id).status == "finished"


def test_running_run_by_id_is_attached(store):
    rid = cli("start").strip()
    with cairn.init(run_id=rid) as r:
        assert r.attached
        r.log_metric("x", 1)
    assert cairn.get_run(rid).status == "running"  # its starter finishes it


def test_unknown_and_deleted_runs(store):
    with pytest.raises(cairn.NotFoundError, match="no run 'f00dfeed'"):
        cairn.init(run_id="f00dfeed", resume=True)
    with pytest.raises(cairn.NotFoundError, match="no run"):
        cairn.init(run_id="f00dfeed")
    with cairn.init(capture_code=False, capture_env=False) as r:
        pass
    cli("rm", r.id)
    with pytest.raises(cairn.NotFoundError, match="is deleted: a deleted run cannot be resumed"):
        cairn.init(run_id=r.id, resume=True)
    with pytest.raises(cairn.InvalidError, match="needs run_id"):
        cairn.init(resume=True)


def test_resume_through_cairn_run_id_after_a_crash(store):
    """The bug of issue 18: a second script with $CAIRN_RUN_ID naming a
    crashed run left it crashed; it is resumed, continues the steps and
    finishes it."""
    rid = _crashed_run()
    # its heartbeat is still fresh: the dead process on this host tells
    env = dict(os.environ, CAIRN_RUN_ID=rid)
    out = run_python(SCRIPT, env=env)
    assert out.stdout.strip() == rid
    rec = cairn.get_run(rid)
    assert rec.status == "finished"
    assert _steps(rid) == [0, 1, 2, 3, 4, 5]  # no step twice
    assert rec.metric_summaries["loss"]["count"] == 6
    assert len(cairn.runs()) == 1


def test_resume_through_cairn_run_id_stale_heartbeat(store):
    rid = _crashed_run()
    env = dict(os.environ, CAIRN_HEARTBEAT_STALE="0.001")
    assert '"status":"crashed"' in cli("show", rid, "--json", env=env)
    env["CAIRN_RUN_ID"] = rid
    run_python(SCRIPT, env=env)
    assert cairn.get_run(rid).status == "finished"
    assert _steps(rid) == [0, 1, 2, 3, 4, 5]


def test_resume_through_cairn_run_id_after_finish(store):
    rid = run_python(SCRIPT).stdout.strip()
    assert cairn.get_run(rid).status == "finished"
    env = dict(os.environ, CAIRN_RUN_ID=rid)
    run_python(SCRIPT, env=env)
    assert cairn.get_run(rid).status == "finished"
    assert _steps(rid) == [0, 1, 2, 3, 4, 5]


def test_explicit_step_logged_again_keeps_both_points(store):
    """The documented choice (docs/python.md, "Resuming a run"): a point is
    keyed by (step, time), so a step logged again at another time keeps
    both points; at the same time (to the millisecond) it replaces it."""
    t0 = 1_700_000_000.0
    with cairn.init(capture_code=False, capture_env=False) as r:
        r.log_metric("loss", 1.0, step=0, timestamp=t0)
        r.log_metric("loss", 0.5, step=1, timestamp=t0 + 1)
    with cairn.init(run_id=r.id, resume=True) as r2:
        r2.log_metric("loss", 0.4, step=1, timestamp=t0 + 2)  # kept beside 0.5
        r2.log_metric("loss", 0.9, step=0, timestamp=t0)  # replaces 1.0
        r2.log_metric("loss", 0.3, timestamp=t0 + 3)  # no step: after the last
    pts = cairn.get_run(r.id).metric_history("loss")
    assert [(p.step, p.value) for p in pts] == [(0, 0.9), (1, 0.5), (1, 0.4), (2, 0.3)]


# --- nested runs ---------------------------------------------------------------


def test_child_runs_and_the_active_run(store):
    with cairn.init(capture_code=False, capture_env=False, project="cv") as parent:
        assert cairn.active_run() is parent
        with parent.child("fold-0") as f0:
            assert cairn.active_run() is f0
            f0.log_metric("acc", 0.8)
            with f0.child("inner") as inner:
                assert cairn.active_run() is inner
            assert cairn.active_run() is f0
        assert cairn.active_run() is parent
        with cairn.init(parent=parent, name="fold-1", capture_code=False) as f1:
            assert cairn.active_run() is f1
        assert cairn.active_run() is parent
    assert cairn.active_run() is None
    c0, c1 = cairn.get_run(f0.id), cairn.get_run(f1.id)
    assert c0.parent == parent.id and c1.parent == parent.id
    assert c0.project == "cv"
    assert cairn.get_run(parent.id).children == 2
    assert cairn.get_run(f0.id).children == 1
    ids = {r.id for r in cairn.runs("parent = %s" % parent.id)}
    assert ids == {f0.id, f1.id}
    assert {r.id for r in cairn.runs("children")} == {parent.id, f0.id}
    assert {r.id for r in cairn.runs("children = 2")} == {parent.id}


def test_active_run_skips_a_parent_finished_first(store):
    parent = cairn.init(capture_code=False, capture_env=False)
    child = parent.child("c")
    parent.finish()
    assert cairn.active_run() is child
    child.finish()
    assert cairn.active_run() is None


def test_a_resumed_run_is_not_resumed_again_while_its_resumer_lives(store):
    """The resumer becomes the run's owner (pid, host): a second script with
    $CAIRN_RUN_ID attaches to it rather than taking it over."""
    rid = _crashed_run()  # its creator is dead
    with cairn.init(run_id=rid, resume=True) as r:
        env = dict(os.environ, CAIRN_RUN_ID=rid)
        out = run_python("import cairn\nr = cairn.init()\nprint(r.attached)\nr.finish()\n", env=env)
        assert out.stdout.strip() == "True"
        assert cairn.get_run(rid).status == "running"
        r.log_metric("loss", 0.1)
    assert cairn.get_run(rid).status == "finished"
    assert _steps(rid) == [0, 1, 2, 3]
