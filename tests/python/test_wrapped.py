"""A Python program under `cairn run`: metrics it logs through the API and
also prints are recorded once, and its argparse namespace (defaults
included) is recorded through the startup hook (python/pyhook), named by
dest as the API names it."""

import json
import os
import subprocess
import textwrap

import pytest

import cairn
from conftest import CAIRN_BIN, PYTHON, ROOT

HOOK = os.path.join(ROOT, "python", "pyhook")


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "python")
    env.pop("PYTHONUNBUFFERED", None)
    env.update(extra)
    return env


def _run(tmp_path, script, *args, cairn_args=(), env=None, check=True):
    f = tmp_path / "train.py"
    f.write_text(textwrap.dedent(script))
    p = subprocess.run([CAIRN_BIN, "run", *cairn_args, "--", PYTHON, str(f), *args],
                       capture_output=True, text=True, env=env or _env(), timeout=300)
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p, cairn.get_run(cairn.runs(limit=1)[0].id)


def _defaults(r):
    return json.loads(r.properties["argparse.defaults"])


# --- metrics logged once -------------------------------------------------------------

LOG_AND_PRINT = """
    import cairn, sys
    first = sys.argv[1]
    with cairn.init() as run:
        for e in range(3):
            loss = 1.0 / (e + 1)
            if first == "print":
                print(f"epoch {e} loss={loss}", flush=True)
            run.log_metric("loss", loss, step=e)
            run.log_metrics({"acc": e / 10, "f1": e / 20}, step=e)
            if first == "log":
                print(f"epoch {e} loss={loss} acc={e / 10} f1: {e / 20}", flush=True)
            print(f"lr={0.1 / (e + 1)}", flush=True)  # printed only: the parser's
"""


@pytest.mark.parametrize("first", ["log", "print"])
def test_api_keys_are_not_doubled_by_the_output_parser(store, tmp_path, first):
    p, r = _run(tmp_path, LOG_AND_PRINT, first, cairn_args=["-v"])
    for k in ("loss", "acc", "f1"):
        assert r.metric_summaries[k]["count"] == 3, (k, r.metric_summaries)
    assert r.metric_summaries["loss"]["step"] == 2 and r.metrics["loss"] == pytest.approx(1 / 3)
    assert r.metric_summaries["lr"]["count"] == 3  # a key the API never logs stays the parser's
    assert "metric points printed by the command were not recorded" in p.stderr


def test_block_buffered_output_is_not_doubled_either(store, tmp_path):
    # no flush: the printed lines reach cairn run at exit, long after the claims
    script = LOG_AND_PRINT.replace(", flush=True", "")
    _, r = _run(tmp_path, script, "log")
    assert [r.metric_summaries[k]["count"] for k in ("loss", "acc", "f1", "lr")] == [3, 3, 3, 3]


def test_under_a_shell_script_too(store, tmp_path):
    """The channel is given to any command, so a Python program started by a
    shell script under `cairn run` is not doubled either."""
    (tmp_path / "train.py").write_text(textwrap.dedent(LOG_AND_PRINT))
    sh = tmp_path / "run.sh"
    sh.write_text("#!/bin/sh\nexec %s %s log\n" % (PYTHON, tmp_path / "train.py"))
    sh.chmod(0o755)
    p = subprocess.run([CAIRN_BIN, "run", "--", str(sh)], capture_output=True, text=True, env=_env(), timeout=300)
    assert p.returncode == 0, p.stderr
    r = cairn.get_run(cairn.runs(limit=1)[0].id)
    assert r.metric_summaries["loss"]["count"] == 3 and r.metric_summaries["lr"]["count"] == 3


def test_points_printed_before_the_api_attached_stay(store, tmp_path):
    """The rule is per key from the API's first point on: a value printed
    well before the program attached is the parser's and is kept."""
    script = """
        import time, cairn
        print("warmup_loss=9", flush=True)
        time.sleep(1.5)
        with cairn.init() as run:
            run.log_metric("warmup_loss", 1.0)
            print("warmup_loss=1.0", flush=True)
    """
    _, r = _run(tmp_path, script)
    assert r.metric_summaries["warmup_loss"]["count"] == 2
    assert r.metric_summaries["warmup_loss"]["max"] == 9


def test_no_metrics_and_a_closed_channel(store, tmp_path):
    script = """
        import os, cairn
        os.close(int(os.environ["CAIRN_CAPTURE_FD"].split(":")[0]))  # the program closes it
        r, w = os.pipe()  # and the number may be reused by a pipe of its own
        with cairn.init() as run:
            run.log_metric("loss", 0.5)
            print("loss=0.5", flush=True)
        os.close(w)
        assert os.read(r, 100) == b""  # nothing of cairn's went into the program's pipe
    """
    _, r = _run(tmp_path, script)
    assert r.status == "finished"
    assert r.metric_summaries["loss"]["count"] == 2  # no channel: the old behaviour, nothing breaks
    _, r = _run(tmp_path, LOG_AND_PRINT, "log", cairn_args=["--no-metrics"])
    assert r.metric_summaries["loss"]["count"] == 3 and "lr" not in r.metrics


# --- argparse: the full namespace ------------------------------------------------------

PARSER = """
    import argparse, sys
    p = argparse.ArgumentParser()
    p.add_argument("--lr", "--learning-rate", dest="learning_rate", type=float, default=0.1)
    p.add_argument("-k", "--k-neighbors", type=int, default=5)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--augment", action="store_true")
    p.add_argument("--no-shuffle", dest="shuffle", action="store_false")
    p.add_argument("--layers", type=int, nargs="+", default=[64, 64])
    p.add_argument("--resume", default=None)
    p.add_argument("--api-token", default="s3cr3t")
    p.add_argument("--db", default="postgres://bob:pw@db/x")
    p.add_argument("overrides", nargs="*")
    args, extra = p.parse_known_args()
"""


def test_namespace_with_defaults_is_recorded(store, tmp_path):
    _, r = _run(tmp_path, PARSER, "model.depth=4", "-k", "3", "--learning-rate", "0.2", "--no-shuffle",
                "--unknown", "7", "--layers", "1", "2", cairn_args=["--param", "epochs=9"])
    assert r.params == {
        "learning_rate": 0.2,        # by dest, not by the flag typed (lr or learning_rate)
        "k_neighbors": 3,            # -k 3: the dest, no "k"
        "epochs": 9,                 # --param wins over the namespace
        "optimizer": "adam",         # a default, invisible on the command line
        "augment": False,
        "shuffle": False,
        "layers": "[1, 2]",          # lists as JSON text, as the API records them
        "resume": "None",            # None as the API records it
        "db": "postgres://***@db/x",  # credentials masked; api_token left out (a secret name)
        "overrides": '["model.depth=4"]',
        "model.depth": 4,            # key=value arguments stay the command line's
        "unknown": 7,                # so do options the parser does not know
    }
    assert _defaults(r) == ["epochs", "optimizer", "augment", "resume", "db"]


def test_show_marks_defaults(store, tmp_path):
    _, r = _run(tmp_path, PARSER, "--epochs", "4")
    shown = subprocess.run([CAIRN_BIN, "show", r.id], capture_output=True, text=True, timeout=60).stdout
    lines = {ln.split()[0]: ln for ln in shown.splitlines() if ln.startswith("  ") and ln.split()}
    assert lines["optimizer"].split()[1:] == ["adam", "(default)"]
    assert lines["epochs"].split()[1:] == ["4"]


def test_same_names_as_the_api(store, tmp_path):
    """`cairn.init(params=args)` and `cairn run` of the same script without
    cairn give the same keys, values and types."""
    api = textwrap.dedent(PARSER) + "import cairn\ncairn.init(params=args, attach=False).finish()\n"
    _run(tmp_path, api, "-k", "3")
    runs = cairn.runs()
    wrapped, by_api = (cairn.get_run(r.id) for r in sorted(runs, key=lambda r: r.seq))
    assert "api_token" not in by_api.params and "api_token" not in wrapped.params  # a secret, both ways
    assert wrapped.params.pop("db") == "postgres://***@db/x"
    by_api.params.pop("db")
    assert wrapped.params == by_api.params
    assert [type(v) for v in wrapped.params.values()] == [type(by_api.params[k]) for k in wrapped.params]


def test_two_parses_subparsers_and_what_is_not_reported(store, tmp_path):
    script = """
        import argparse
        pre = argparse.ArgumentParser(add_help=False)
        pre.add_argument("--config", default="base.yaml")
        known, _ = pre.parse_known_args()          # first a config option
        argparse.ArgumentParser().parse_args([])     # a made-up list: not reported
        p = argparse.ArgumentParser(parents=[pre])
        sub = p.add_subparsers(dest="cmd")
        t = sub.add_parser("train")
        t.add_argument("--steps", type=int, default=10)
        t.add_argument("--warmup", type=int, default=1)
        p.parse_args()                               # then everything
    """
    _, r = _run(tmp_path, script, "--config", "x.yaml", "train", "--steps", "5")
    assert r.params == {"config": "x.yaml", "cmd": "train", "steps": 5, "warmup": 1}
    assert _defaults(r) == ["warmup"]


def test_a_failed_parse_records_the_command_line(store, tmp_path):
    p, r = _run(tmp_path, PARSER.replace("parse_known_args()", "parse_args(), None"), "-k", "3", "--bogus",
                check=False)
    assert p.returncode == 2 and r.status == "failed"
    assert r.params == {"k": 3, "bogus": True} and "argparse.defaults" not in r.properties


def test_without_argparse_the_command_line_is_recorded(store, tmp_path):
    _, r = _run(tmp_path, "import sys\nprint(sys.argv)\n", "--lr", "0.1", "x=2")
    assert r.params == {"lr": 0.1, "x": 2}


def test_hook_off_and_hook_failures(store, tmp_path):
    _, r = _run(tmp_path, PARSER, "-k", "3", env=_env(CAIRN_PYHOOK="0"))
    assert r.params == {"k": 3} and "argparse.defaults" not in r.properties
    # a value that cannot be made text: the program goes on, silently, and the
    # command line is recorded; CAIRN_PYHOOK_DEBUG says why
    script = """
        import argparse
        class Odd:
            def __str__(self): raise RuntimeError("no text")
            __repr__ = __str__
        p = argparse.ArgumentParser()
        p.add_argument("--lr", type=float)
        p.add_argument("--odd", default=Odd())
        a = p.parse_args()
        print("ok", a.lr)
    """
    log = tmp_path / "hook.log"
    p, r = _run(tmp_path, script, "--lr", "0.5", env=_env(CAIRN_PYHOOK_DEBUG=str(log)))
    assert "ok 0.5" in p.stdout and p.stderr == ""
    assert r.params == {"lr": 0.5}
    assert "cannot report the namespace" in log.read_text()


def test_hook_stays_out_of_the_program(store, tmp_path):
    """The program sees its own PYTHONPATH and sys.path, and the
    sitecustomize it would have had runs."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import os\nos.environ['MY_SITECUSTOMIZE'] = 'ran'\n")
    script = """
        import os, sys, json, sitecustomize
        print(json.dumps({"pp": os.environ.get("PYTHONPATH"), "path": sys.path,
                          "mine": os.environ.get("MY_SITECUSTOMIZE"), "mod": sitecustomize.__file__}))
    """
    pp = str(site) + os.pathsep + os.path.join(ROOT, "python")
    p, _ = _run(tmp_path, script, env=_env(PYTHONPATH=pp))
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["pp"] == pp and out["mine"] == "ran" and out["mod"] == str(site / "sitecustomize.py")
    assert not any(os.path.realpath(x) == os.path.realpath(HOOK) for x in out["path"] if x)


def test_hook_types_values_as_the_binding_does():
    """The startup hook cannot import cairn (it would load libcairn into
    every Python program), so it keeps its own copy of cairn._params'
    typing; this keeps the two copies equal."""
    import importlib.util
    import math

    from cairn import _lib, _params

    spec = importlib.util.spec_from_file_location(
        "_cairn_argparse_copy", os.path.join(HOOK, "_cairn_argparse.py"))
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    letters = {_lib.TYPE_BOOL: "b", _lib.TYPE_INT: "i", _lib.TYPE_FLOAT: "f",
               _lib.TYPE_STRING: "s"}
    values = [True, False, 0, -7, 2**63 - 1, -2**63, 2**63, 0.1, -0.0, math.inf,
              math.nan, 1e300, "", "0.1", "NaN", None, [1, 2.5, "x"], (3,),
              {"b", "a"}, [{"k": [1, None]}], b"raw\xff", object.__name__]
    for v in values:
        t, i, f, s = _params.typed(v)
        want = (letters[t], {_lib.TYPE_BOOL: str(i), _lib.TYPE_INT: str(i),
                             _lib.TYPE_FLOAT: repr(f), _lib.TYPE_STRING: s}[t])
        if t == _lib.TYPE_BOOL:
            want = ("b", "1" if i else "0")
        assert hook._typed(v) == want, v
