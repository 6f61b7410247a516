"""cairn.sweep: in-process searches on the library's sampler and the store's
trial queue.  A grid finds the known optimum, random repeats itself with a
seed, TPE beats random on a quadratic, maximize/minimize, trials are child
runs queryable like any run, a raising or bad objective fails its trial and
the search goes on, a bad space is one InvalidError naming the key, and
KeyboardInterrupt kills the sweep, re-queues the trial and resume_sweep
finishes it.  Python and `cairn sweep` record the same things and, with the
same spec and seed, try the same values."""

import json
import math
import statistics
import subprocess
import threading
import time
import warnings

import pytest

import cairn
from conftest import CAIRN_BIN, PYTHON, cli, run_python

GRID = {"x": {"values": [0.1, 0.3, 0.5]}, "k": {"min": 1, "max": 3}}


def quad(p):
    """Minimum 0 at x=0.3, k=2."""
    return (p["x"] - 0.3) ** 2 + (p["k"] - 2) ** 2


def sweep(fn, space, **kw):
    kw.setdefault("capture_code", False)
    kw.setdefault("capture_env", False)
    return cairn.sweep(fn, space, **kw)


def test_grid_finds_the_optimum_in_grid_order(store):
    best = sweep(quad, GRID, method="grid", name="g")
    assert isinstance(best, cairn.Trial)
    assert best.params == {"x": 0.3, "k": 2} and best.value == 0.0 and best.number == 4
    assert best.state == "done" and len(best.run_id) == 32 and len(best.sweep_id) == 32
    assert [t.number for t in best.trials] == list(range(9))
    assert [(t.params["x"], t.params["k"]) for t in best.trials] == [
        (x, k) for x in (0.1, 0.3, 0.5) for k in (1, 2, 3)
    ]
    assert all(t.state == "done" for t in best.trials)
    assert best.trials[0].value == pytest.approx(1.04)
    first = best.trials[0].params
    assert isinstance(first["k"], int) and isinstance(first["x"], float)
    s = cairn.get_run(best.sweep_id)
    assert s.name == "g" and s.tags == ["sweep"] and s.status == "finished"
    p = s.properties
    assert [p["sweep.method"], p["sweep.metric"], p["sweep.goal"]] == ["grid", "objective", "minimize"]
    assert p["sweep.best_trial"] == "4" and p["sweep.best_run"] == best.run_id
    assert float(p["sweep.best_value"]) == 0.0
    assert json.loads(p["sweep.best_params"]) == {"x": 0.3, "k": 2}
    state = json.loads(_read_artifact(s.id, "sweep.json"))
    assert state["driver"] == "python" and state["spec"]["method"] == "grid"


def _read_artifact(run_id, name):
    """An artifact's bytes through the library (the binding has no call for it)."""
    import ctypes

    from cairn import _lib, _store

    L = _lib.lib()
    sh, _ = _store.open_store()
    oid = ctypes.create_string_buffer(65)
    size, media = ctypes.c_int64(), ctypes.c_void_p()
    _lib.check(
        L.cairn_artifact_lookup(
            oid, ctypes.byref(size), ctypes.byref(media), sh, run_id.encode(), name.encode()
        )
    )
    L.cairn_free(media)
    data, n = ctypes.c_void_p(), ctypes.c_size_t()
    _lib.check(L.cairn_object_read(ctypes.byref(data), ctypes.byref(n), sh, oid.value, 1 << 20))
    try:
        return ctypes.string_at(data.value, n.value).decode()
    finally:
        L.cairn_free(data)


def test_grid_budget_and_early_end(store):
    assert len(sweep(quad, GRID, method="grid", n_trials=4).trials) == 4
    # a budget past the grid's end stops when the grid is exhausted
    best = sweep(quad, GRID, method="grid", n_trials=50)
    assert len(best.trials) == 9 and best.params == {"x": 0.3, "k": 2}


SPACE = {"x": {"min": -5.0, "max": 5.0}, "y": {"min": -5.0, "max": 5.0}}


def bowl(p):
    return (p["x"] - 1.5) ** 2 + (p["y"] + 0.5) ** 2


def test_random_with_a_seed_repeats_itself(store):
    a = sweep(bowl, SPACE, method="random", n_trials=6, seed=7)
    b = sweep(bowl, SPACE, method="random", n_trials=6, seed=7)
    c = sweep(bowl, SPACE, method="random", n_trials=6, seed=8)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert [t.value for t in a.trials] == [t.value for t in b.trials]
    assert [t.params for t in a.trials] != [t.params for t in c.trials]
    assert a.sweep_id != b.sweep_id and all(-5 <= t.params["x"] <= 5 for t in a.trials)


def test_tpe_beats_random_on_a_quadratic(store):
    tpe, rnd = [], []
    for seed in range(5):
        rnd.append(sweep(bowl, SPACE, method="random", n_trials=30, seed=seed).value)
        tpe.append(sweep(bowl, SPACE, method="tpe", n_trials=30, seed=seed).value)
    assert statistics.median(tpe) <= statistics.median(rnd), (tpe, rnd)
    # seeded and deterministic: the same search gives the same trials
    again = sweep(bowl, SPACE, method="tpe", n_trials=30, seed=4)
    assert again.value == tpe[4]
    stored = cairn.sweep_trials(again.sweep_id)
    assert [t.params for t in again.trials] == [t.params for t in stored]


def test_maximize_and_minimize(store):
    space = {"a": {"values": [1, 5, 3]}}
    lo = sweep(lambda p: p["a"], space, method="grid")
    hi = sweep(lambda p: p["a"], space, method="grid", direction="maximize", metric="score")
    assert lo.params == {"a": 1} and lo.value == 1
    assert hi.params == {"a": 5} and hi.value == 5
    h = cairn.get_run(hi.sweep_id)
    assert h.properties["sweep.goal"] == "maximize" and h.properties["sweep.metric"] == "score"
    assert cairn.get_run(hi.run_id).metrics == {"score": 5.0}


def test_trials_are_child_runs_with_params_and_the_metric(store):
    best = sweep(quad, GRID, method="grid", project="salt", name="s")
    kids = cairn.runs("parent = %s" % best.sweep_id, sort="metrics.objective")
    assert len(kids) == 9 and kids[0].id == best.run_id and kids[0].name == "s-4"
    assert all(r.project == "salt" and r.status == "finished" for r in kids)
    assert kids[0].params == {"x": 0.3, "k": 2} and kids[0].metrics["objective"] == 0.0
    assert {r.name for r in kids} == {"s-%d" % i for i in range(9)}
    # the CLI sees the same: ls on the parent, best on the trials
    listed = json.loads(cli("ls", "parent = %s" % best.sweep_id[:8], "--format", "json"))
    assert len(listed) == 9
    assert "s-4" in cli("best", "metrics.objective", "--lower", "parent = %s" % best.sweep_id)
    assert cairn.get_run(best.sweep_id).project == "salt"


def test_the_objective_gets_the_trial_run(store):
    seen = []

    def fn(params, run):
        assert cairn.active_run() is run and run.name.endswith("-%d" % len(seen))
        seen.append(run.id)
        for step in range(3):
            run.log_metric("loss", params["a"] / (step + 1), step=step)
        return params["a"]

    best = sweep(fn, {"a": {"values": [2.0, 1.0]}}, method="grid")
    assert best.value == 1.0 and [t.run_id for t in best.trials] == seen
    h = cairn.get_run(best.run_id).metric_history("loss")
    assert [p.value for p in h] == [1.0, 0.5, 1.0 / 3]

    # keyword-only run; a second parameter with a default is not the run
    def kw(params, *, run):
        run.log_metric("objective", params["a"] * 10)  # logged, and None returned

    assert sweep(kw, {"a": {"values": [3, 2]}}, method="grid").value == 20.0

    def with_default(params, scale=2):
        return params["a"] * scale

    assert sweep(with_default, {"a": {"values": [3, 2]}}, method="grid").value == 4


def test_init_inside_the_objective_attaches_to_the_trial(store):
    """W&B style: the objective calls cairn.init() and logs into what it gets."""

    def train(params):
        with cairn.init(params={"batch": 32}, tags=["inner"]) as run:
            assert run.attached
            run.log_metric("objective", params["a"] * 2)
        assert not cairn.active_run() or cairn.active_run().id != run.id

    best = sweep(train, {"a": {"values": [3, 1, 2]}}, method="grid")
    assert best.value == 2.0 and best.params == {"a": 1}
    assert len(cairn.runs()) == 4  # the sweep and its three trials, no other run
    r = cairn.get_run(best.run_id)
    assert r.params == {"a": 1, "batch": 32} and r.tags == ["inner"] and r.status == "finished"
    # outside the objective, init() makes a run of its own again
    with cairn.init() as other:
        assert not other.attached

    # and so does another thread while an objective runs
    elsewhere = []

    def other_thread():
        with cairn.init(name="elsewhere") as r:
            elsewhere.append(r.attached)

    def fn(params):
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
        return 1

    sweep(fn, {"a": {"value": 1}}, method="grid")
    assert elsewhere == [False]
    assert [r.name for r in cairn.runs("name = elsewhere")] == ["elsewhere"]


def test_numpy_values_in_the_space_and_as_the_objective(store):
    np = pytest.importorskip("numpy")
    space = {"a": {"values": [np.int64(3), np.float64(0.5)]}, "b": {"min": np.int32(1), "max": 2}}
    best = sweep(lambda p: np.float32(p["a"] * p["b"]), space, method="grid")
    assert [t.params for t in best.trials] == [
        {"a": 3, "b": 1}, {"a": 3, "b": 2}, {"a": 0.5, "b": 1}, {"a": 0.5, "b": 2}
    ]
    assert best.params == {"a": 0.5, "b": 1} and best.value == 0.5
    grid = sweep(lambda p: p["a"], {"a": {"values": np.linspace(0.0, 1.0, 3)}}, method="grid")
    assert [t.params["a"] for t in grid.trials] == [0.0, 0.5, 1.0]


def test_conditional_parameters(store):
    space = {
        "opt": {"values": ["adam", "sgd"]},
        "momentum": {"values": [0.5, 0.9], "when": {"opt": "sgd"}},
    }
    best = sweep(lambda p: p.get("momentum", 1.0), space, method="grid")
    assert [t.params for t in best.trials] == [
        {"opt": "adam"},
        {"opt": "sgd", "momentum": 0.5},
        {"opt": "sgd", "momentum": 0.9},
    ]
    assert best.params == {"opt": "sgd", "momentum": 0.5}
    assert cairn.get_run(best.trials[0].run_id).params == {"opt": "adam"}


def test_a_raising_objective_fails_its_trial_and_the_search_goes_on(store):
    def fn(p):
        if p["k"] == 2:
            raise ZeroDivisionError("no k=2 today")
        return quad(p)

    said = r"trial 1 of sweep .* raised ZeroDivisionError: no k=2 today"
    with pytest.warns(cairn.SweepWarning, match=said):
        best = sweep(fn, GRID, method="grid")
    states = [t.state for t in best.trials]
    assert states == ["done", "failed", "done"] * 3
    # the best of the rest: k=1 and k=3 tie at x=0.3, the first one wins
    assert best.params == {"x": 0.3, "k": 1} and best.value == 1.0 and best.number == 3
    failed = best.trials[1]
    assert failed.value is None and failed.run_id
    r = cairn.get_run(failed.run_id)
    assert r.status == "failed" and "objective" not in r.metrics
    assert any(a["path"] == "logs/traceback.log" and a["kind"] == "log" for a in r.artifacts)
    assert "ZeroDivisionError: no k=2 today" in _read_artifact(failed.run_id, "logs/traceback.log")
    assert cairn.get_run(best.sweep_id).status == "finished"


def test_bad_returns_fail_their_trial_with_a_warning(store):
    outs = {0: None, 1: float("nan"), 2: "0.5", 3: float("inf"), 4: True, 5: 0.25}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        best = sweep(lambda p: outs[p["i"]], {"i": {"min": 0, "max": 5}}, method="grid")
    msgs = [str(w.message) for w in caught if issubclass(w.category, cairn.SweepWarning)]
    assert len(msgs) == 5
    assert "returned None and logged no finite 'objective'" in msgs[0]
    assert "returned nan, not a finite number" in msgs[1]
    assert "returned '0.5' (a str), not a number" in msgs[2]
    assert "returned True (a bool), not a number" in msgs[4]
    assert best.number == 5 and best.value == 0.25
    assert [t.state for t in best.trials] == ["failed"] * 5 + ["done"]
    # no usable value: the run finished (as a CLI trial without the metric);
    # not a number at all: the run failed too
    status = [cairn.get_run(t.run_id).status for t in best.trials]
    assert status == ["finished", "finished", "failed", "finished", "failed", "finished"]
    assert all("objective" not in cairn.get_run(t.run_id).metrics for t in best.trials[:5])


def test_no_trial_succeeding_raises_with_the_cause(store):
    def broken(p):
        raise KeyError("typo")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        said = r"no trial of sweep .* succeeded \(3 failed"
        with pytest.raises(cairn.SweepError, match=said) as ei:
            sweep(broken, {"a": {"values": [1, 2, 3]}}, method="grid")
    e = ei.value
    assert isinstance(e.__cause__, KeyError) and len(e.trials) == 3
    assert cairn.get_run(e.sweep_id).status == "failed"


@pytest.mark.parametrize(
    "space, message",
    [
        ({"lr": {"min": 1, "max": "abc"}}, r"space\.lr\.max: expected a number, got 'abc'"),
        ({"lr": {"min": 1, "max": 2, "budget": 3}}, r"space\.lr: unknown key 'budget'"),
        ({"lr": 0.1}, r"space\.lr: expected a mapping"),
        (
            {"m": {"values": [1], "when": {"opt": "sgd"}}},
            r"space\.m\.when: 'opt' is not a parameter declared before 'm'",
        ),
        ({"lr": {"min": 1e-4, "max": 1e-1, "distribution": "log"}}, r"space\.lr\.distribution"),
        (
            {"lr": {"values": [object()]}},
            r"space\.lr\.values\[0\]: <object object at .*> \(a object\) is not a number",
        ),
        ({}, r"space: declare at least one parameter"),
        ([("lr", {"values": [1]})], r"space must be a mapping"),
    ],
)
def test_a_bad_space_is_one_error_naming_the_key(store, space, message):
    with pytest.raises(cairn.InvalidError, match=r"^cairn\.sweep: " + message):
        sweep(quad, space, n_trials=3, method="random")
    assert cairn.runs() == []  # nothing stored


def test_bad_arguments(store):
    with pytest.raises(cairn.InvalidError, match="direction must be minimize or maximize"):
        sweep(quad, GRID, method="grid", direction="up")
    with pytest.raises(cairn.InvalidError, match="method must be grid, random or tpe"):
        sweep(quad, GRID, method="bayes", n_trials=3)
    with pytest.raises(cairn.InvalidError, match="n_trials is required for method 'tpe'"):
        sweep(quad, GRID)
    with pytest.raises(cairn.InvalidError, match=r"n_trials: 0 is out of range"):
        sweep(quad, GRID, n_trials=0)
    with pytest.raises(TypeError, match="n_trials must be an int"):
        sweep(quad, GRID, n_trials=2.5)
    with pytest.raises(TypeError, match="objective_fn must take the trial's params"):
        sweep(lambda: 1, GRID, method="grid")
    with pytest.raises(TypeError, match="objective_fn must be callable"):
        sweep(3, GRID, method="grid")
    with pytest.raises(cairn.InvalidError, match="tpe.candidates"):
        sweep(quad, GRID, n_trials=3, tpe={"candidates": "many"})
    assert cairn.runs() == []


def test_keyboard_interrupt_kills_the_sweep_and_resume_finishes_it(store):
    calls = []

    def fn(p):
        calls.append(p)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return bowl(p)

    with pytest.raises(KeyboardInterrupt):
        sweep(fn, SPACE, method="tpe", n_trials=5, seed=2, name="ki")
    (s,) = cairn.runs("name = ki")
    assert s.status == "killed" and s.data["exit_code"] == 130
    trials = cairn.sweep_trials(s.id)
    assert [t.state for t in trials] == ["done", "done", "queued"]
    assert cairn.get_run(trials[2].run_id).status == "killed"
    assert s.properties["sweep.best_trial"] in ("0", "1")
    # the CLI cannot resume it (its objective is this function) and says where to
    r = subprocess.run([CAIRN_BIN, "sweep", "--resume", s.id], capture_output=True, text=True)
    assert r.returncode == 1 and "cairn.resume_sweep('%s', objective_fn)" % s.id[:8] in r.stderr
    # resume: the interrupted trial again with the same params, then the rest
    best = cairn.resume_sweep(s.id[:8], fn)
    assert calls[3] == calls[2]
    trials = best.trials
    assert [t.state for t in trials] == ["done"] * 5 and len(calls) == 6
    assert trials[2].params == calls[2]
    assert cairn.get_run(s.id).status == "finished"
    assert len(cairn.runs("parent = %s" % s.id)) == 6  # the killed run stays, as in the CLI
    # the resumed TPE search is the one an uninterrupted search makes
    straight = sweep(bowl, SPACE, method="tpe", n_trials=5, seed=2)
    assert [t.params for t in straight.trials] == [t.params for t in trials]
    with pytest.raises(cairn.InvalidError, match="is not a sweep"):
        cairn.resume_sweep(trials[0].run_id, fn)


def test_a_sweep_killed_outright_resumes(store, monkeypatch):
    child = (
        "import os, signal, cairn\n"
        "def fn(p):\n"
        "    if p['a'] == 3:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return p['a']\n"
        "cairn.sweep(fn, {'a': {'values': [2, 1, 3, 0]}}, method='grid', name='k9',\n"
        "            capture_env=False)\n"
    )
    monkeypatch.setenv("CAIRN_HEARTBEAT_STALE", "0.2")  # read when the store is opened
    r = run_python(child, check=False)
    assert r.returncode == -9
    time.sleep(0.5)
    (s,) = cairn.runs("name = k9")
    assert s.status == "crashed"
    assert [t.state for t in cairn.sweep_trials(s.id)] == ["done", "done", "running"]
    best = cairn.resume_sweep("k9", lambda p: p["a"])
    assert best.params == {"a": 0} and [t.state for t in best.trials] == ["done"] * 4
    killed = [r for r in cairn.runs("parent = %s" % s.id) if r.name == "k9-2"]
    assert sorted(r.status for r in killed) == ["crashed", "finished"]


def test_a_running_sweep_is_not_resumed(store):
    seen = []

    def fn(p):
        with pytest.raises(cairn.ConflictError, match="sweep 'live' is still running"):
            cairn.resume_sweep("live", quad)
        seen.append(p)
        return 1

    assert sweep(fn, {"a": {"value": 1}}, method="grid", name="live").value == 1
    assert seen == [{"a": 1}]


def test_cli_and_python_sweeps_record_the_same(store, tmp_path):
    """The same spec and seed: the same trials, values and sweep properties."""
    (tmp_path / "obj.py").write_text(
        "import sys\n"
        "x, k, opt = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]\n"
        "print('objective=%.6f' % ((x - 0.3) ** 2 + (k - 2) ** 2 + (0.5 if opt == 'sgd' else 0)))\n"
    )
    space = {
        "x": {"min": 0.0, "max": 1.0},
        "k": {"min": 1, "max": 4},
        "opt": {"values": ["adam", "sgd"]},
        "momentum": {"min": 0.0, "max": 0.99, "when": {"opt": "sgd"}},
    }
    spec = {"method": "tpe", "metric": {"name": "objective"}, "trials": 10, "seed": 3,
            "tpe": {"startup_trials": 4}, "parameters": space}
    (tmp_path / "sweep.json").write_text(json.dumps(spec))
    obj = tmp_path / "obj.py"
    cli("sweep", "-q", "-c", tmp_path / "sweep.json", "-n", "c", "--", PYTHON, obj, "{x}", "{k}", "{opt}")
    (c,) = cairn.runs("name = c")

    def fn(p):
        v = (p["x"] - 0.3) ** 2 + (p["k"] - 2) ** 2 + (0.5 if p["opt"] == "sgd" else 0)
        return float("%.6f" % v)  # what obj.py prints

    best = sweep(fn, space, n_trials=10, seed=3, tpe={"startup_trials": 4}, name="py")
    ct = cairn.sweep_trials(c.id)
    assert [t.params for t in best.trials] == [t.params for t in ct]
    assert [t.value for t in best.trials] == [t.value for t in ct]
    assert [t.state for t in best.trials] == [t.state for t in ct]
    p = cairn.get_run(best.sweep_id).properties
    for k in ("sweep.method", "sweep.metric", "sweep.goal", "sweep.best_trial", "sweep.best_value"):
        assert p[k] == c.properties[k], k
    assert json.loads(p["sweep.best_params"]) == json.loads(c.properties["sweep.best_params"])
    py_kids = cairn.runs("parent = %s" % best.sweep_id, sort="name")
    cli_kids = cairn.runs("parent = %s" % c.id, sort="name")
    assert [r.params for r in py_kids] == [r.params for r in cli_kids]
    assert [r.status for r in py_kids] == [r.status for r in cli_kids]
    assert cairn.get_run(best.sweep_id).tags == c.tags == ["sweep"]


def test_capture_is_on_the_sweep_run(store):
    space = {"x": {"value": 0.3}, "k": {"value": 2}}
    best = cairn.sweep(quad, space, method="grid", capture_code=False)
    s = cairn.get_run(best.sweep_id)
    assert s.environment and s.environment.get("os")
    assert "sys/" not in " ".join(s.metrics)  # the sweep run has a heartbeat only
    assert s.properties["script"] == cairn.get_run(best.run_id).properties["script"]
    t = cairn.get_run(best.run_id)
    assert not t.environment and t.data["command"] == s.data["command"]
    assert math.isclose(best.value, 0.0)
