"""SIGTERM to a process logging through the Python API (python/cairn/_signals.py):
the run ends `killed` with exit code 143, what it logged is stored, the
previous handler still runs, and an ignored SIGTERM changes nothing."""

import json
import os
import signal
import subprocess

from conftest import PYTHON, ROOT, cli

PRELUDE = """
import os, signal, sys, time
import cairn
"""

WAIT = """
print("ready", flush=True)
for _ in range(300):
    time.sleep(0.1)
"""


def _spawn(tmp_path, body):
    f = tmp_path / "train.py"
    f.write_text(PRELUDE + body + WAIT)
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    p = subprocess.Popen([PYTHON, str(f)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    line = p.stdout.readline()
    assert line == "ready\n", p.stderr.read()
    return p


def _show(name):
    rows = json.loads(cli("ls", "--format", "json", "name = %s" % name))
    assert len(rows) == 1
    return json.loads(cli("show", rows[0]["id"], "--json"))


def test_sigterm_marks_the_run_killed_and_dies_of_it(store, tmp_path):
    p = _spawn(tmp_path, """
run = cairn.init(name="term", capture_code=False, capture_env=False)
for i in range(5):
    run.log_metric("loss", 1.0 / (i + 1))
""")
    p.send_signal(signal.SIGTERM)
    assert p.wait(30) == -signal.SIGTERM  # the default action, as without cairn
    j = _show("term")
    assert j["status"] == "killed"
    assert j["exit_code"] == 128 + signal.SIGTERM
    assert j["metrics"]["loss"]["count"] == 5  # flushed before it died
    assert j["end_time"] is not None


def test_sigterm_hands_over_to_the_previous_handler(store, tmp_path):
    # a preemption handler that saves and exits cleanly: it still runs, can
    # still log, and the run stays killed
    p = _spawn(tmp_path, """
def on_term(sig, frame):
    run.log_metric("saved", 1)
    print("handler", sig, flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
run = cairn.init(name="chained", capture_code=False, capture_env=False)
run.log_metric("loss", 0.5)
""")
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert out == "handler %d\n" % signal.SIGTERM
    j = _show("chained")
    assert j["status"] == "killed"
    assert j["exit_code"] == 143
    assert j["metrics"]["saved"]["count"] == 1


def test_an_ignored_sigterm_is_left_ignored(store, tmp_path):
    f = tmp_path / "ign.py"
    f.write_text(PRELUDE + """
signal.signal(signal.SIGTERM, signal.SIG_IGN)
run = cairn.init(name="ignored", capture_code=False, capture_env=False)
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(0.2)
run.log_metric("after", 1)
""")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    r = subprocess.run([PYTHON, str(f)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    j = _show("ignored")
    assert j["status"] == "finished"
    assert j["metrics"]["after"]["count"] == 1


def test_a_with_block_after_sigterm_keeps_killed(store, tmp_path):
    p = _spawn(tmp_path, """
def on_term(sig, frame):
    raise SystemExit(3)
signal.signal(signal.SIGTERM, on_term)
with cairn.init(name="block", capture_code=False, capture_env=False) as run:
    run.log_metric("loss", 0.1)
""" + WAIT.replace("\n", "\n    ") + "\n")
    p.send_signal(signal.SIGTERM)
    assert p.wait(30) == 3
    j = _show("block")
    assert j["status"] == "killed"
    assert j["exit_code"] == 143
