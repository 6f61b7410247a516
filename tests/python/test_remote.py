"""The Python binding logging to a `cairn server` by its URL (issue 14): a
real server process on loopback over the test's store (SQLite, or
PostgreSQL with CAIRN_TEST_PG=1).

- a training loop (run.log_metric) whose server is stopped in the middle and
  restarted 5 s later: every point and the final state arrive once, sent by
  the process itself;
- the same loop with the server down from the start, then `cairn sync`;
- a journal of many small records (a flush every 1,000 points), replayed
  coalesced: every point once, in order, the finish after them, also when
  the server is killed in the middle of the replay and it is run again;
- the store protocol's idempotency key: a write resent with the same key is
  not applied again, even with another body;
- deleting artifacts through the server (the remote backend's op);
- cairn.sweep over a server store gives the trials it gives on the store.
"""

import json
import os
import socket
import struct
import subprocess
import time
import urllib.request

import pytest

from conftest import CAIRN_BIN, cli, run_python

LOOP = r"""
import sys, time, cairn
n, pause = int(sys.argv[1]), float(sys.argv[2])
run = cairn.init(project="remote", name=sys.argv[3], params={"lr": 0.1})
print(run.id, flush=True)
for i in range(n):
    run.log_metric("loss", 1.0 / (i + 1), step=i)
    time.sleep(pause)
run.finish()
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, store, port):
        self.store, self.port, self.p = str(store), port, None
        self.url = "http://127.0.0.1:%d" % port

    def start(self):
        env = dict(os.environ, CAIRN_DIR=self.store)
        self.p = subprocess.Popen(
            [CAIRN_BIN, "server", "--listen", "127.0.0.1:%d" % self.port, "--quiet", "--no-auth"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url + "/api/v1/", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def stop(self):
        if self.p:
            self.p.terminate()
            self.p.wait(timeout=30)
            self.p = None

    def get(self, path):
        return json.loads(urllib.request.urlopen(self.url + path, timeout=10).read())


@pytest.fixture
def server(store):
    srv = Server(store, free_port())
    srv.start()
    yield srv
    srv.stop()


def client_env(srv):
    env = dict(os.environ, CAIRN_DIR=srv.url)
    return env


def steps_of(srv, run_id):
    pts = srv.get("/api/v1/runs/%s/metrics/loss?raw=1" % run_id)["points"]
    return [p[0] for p in pts]


def spool_journals():
    root = os.path.join(os.environ["HOME"], ".local", "share", "cairn", "spool")
    out = []
    for d, _, files in os.walk(root):
        out += [os.path.join(d, f) for f in files if f.endswith(".journal")]
    return out


def test_server_stopped_mid_loop(server):
    child = subprocess.Popen(
        ["python3", "-c", LOOP, "300", "0.03", "mid"],
        env=dict(client_env(server), PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "..", "python")),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(2.5)
    server.stop()
    time.sleep(5)
    server.start()
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    run_id = out.split()[0]
    steps = steps_of(server, run_id)
    assert steps == list(range(300))  # every point, once
    run = server.get("/api/v1/runs/" + run_id)
    assert run["status"] == "finished"
    assert run["params"]["lr"] == 0.1
    assert spool_journals() == []  # the process sent its spool itself


def test_server_down_from_the_start_then_sync(store):
    srv = Server(store, free_port())
    r = run_python(LOOP, env=client_env(srv), args=["50", "0", "offline"])
    run_id = r.stdout.split()[0]
    assert len(spool_journals()) == 1
    status = cli("sync", "--status", env=client_env(srv))
    assert "50 metric points" in status
    srv.start()
    try:
        out = cli("sync", env=client_env(srv))
        assert out.startswith("sent ") and "(50 metric points)" in out
        assert steps_of(srv, run_id) == list(range(50))
        assert srv.get("/api/v1/runs/" + run_id)["status"] == "finished"
        assert spool_journals() == []
    finally:
        srv.stop()


SMALL = r"""
import sys, cairn
n = int(sys.argv[1])
run = cairn.init(project="remote", name="small", capture_code=False, capture_env=False)
print(run.id, flush=True)
for i in range(n):
    run.log_metric("loss", float(i), step=i)
    if i % 1000 == 999:
        run.flush()
    if i == n // 2:
        run.set_tag("half")
run.finish()
"""


def journal_progress(path):
    """(done, size) of a spool journal: the replayed bytes (its header's
    `done`, lib/store/remote/journal.h) and the file's length."""
    with open(path, "rb") as f:
        head = f.read(16)
    return struct.unpack("<Q", head[8:16])[0], os.path.getsize(path)


def test_coalesced_replay_applies_every_point_once_in_order(store):
    n = 300000
    srv = Server(store, free_port())
    r = run_python(SMALL, env=client_env(srv), args=[str(n)])
    run_id = r.stdout.split()[0]
    [journal] = spool_journals()
    srv.start()
    try:
        # the server killed (-9) once the replay is under way, then run again
        sync = subprocess.Popen([CAIRN_BIN, "sync"], env=client_env(srv),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        killed = False
        start = journal_progress(journal)[0]
        while sync.poll() is None:
            done, size = journal_progress(journal)
            if start < done < size:
                srv.p.kill()
                srv.p.wait()
                srv.p = None
                killed = True
                break
            time.sleep(0.001)
        out, err = sync.communicate(timeout=120)
        if killed:
            assert sync.returncode != 0, out
            assert "cannot reach the server" in err, err
            srv.start()
            out = cli("sync", env=client_env(srv))
        assert out.startswith("sent "), out
        pts = srv.get("/api/v1/runs/%s/metrics/loss?raw=1" % run_id)["points"]
        assert [p[0] for p in pts] == list(range(n))  # every point once, in order
        assert all(p[-1] == float(p[0]) for p in pts)
        run = srv.get("/api/v1/runs/" + run_id)
        assert run["status"] == "finished"  # the finish after every point
        assert "half" in run["tags"]
        assert run["metrics"]["loss"]["count"] == n  # not one point counted twice
        assert spool_journals() == []
    finally:
        srv.stop()


DELETE_ARTIFACTS = r"""
import cairn
run = cairn.init(project="remote", name="arts")
run.log_text("model/w.txt", "weights")
run.log_text("model/sub/cfg.txt", "config")
run.log_text("models.txt", "plural")
print(run.id, run.delete_artifact("model"), flush=True)
try:
    run.delete_artifact("model")
    print("no error")
except cairn.NotFoundError as e:
    print("not found:", e)
try:
    run.delete_artifact("../x")
except cairn.InvalidError:
    print("invalid")
run.finish()
"""


def test_delete_artifact_through_the_server(server):
    r = run_python(DELETE_ARTIFACTS, env=client_env(server))
    lines = r.stdout.splitlines()
    run_id, n = lines[0].split()
    assert n == "2"
    assert lines[1].startswith("not found:") and "model" in lines[1]
    assert lines[2] == "invalid"
    run = server.get("/api/v1/runs/" + run_id)
    assert [a["path"] for a in run["artifacts"]] == ["models.txt"]


def wire_str(s):
    b = s.encode()
    return struct.pack("<I", len(b)) + b + b"\0"


def metrics_body(run_id, key, step, value):
    return (struct.pack("<I", 1) + wire_str(run_id) + struct.pack("<I", 1) + wire_str(key)
            + struct.pack("<I", 1) + struct.pack("<IIqqd", 0, 0, step, int(time.time() * 1000), value))


def post(srv, path, body, key):
    req = urllib.request.Request(srv.url + path, data=body, method="POST",
                                 headers={"Content-Type": "application/x-cairn", "Idempotency-Key": key})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.read()


def test_resent_write_with_the_same_key_is_applied_once(server):
    r = run_python(LOOP, env=client_env(server), args=["1", "0", "idem"])
    run_id = r.stdout.split()[0]
    a = post(server, "/api/v1/store/w/metrics_insert", metrics_body(run_id, "k", 10, 1.0), "test-key-1")
    # the same key with another body: the first answer again, nothing applied
    b = post(server, "/api/v1/store/w/metrics_insert", metrics_body(run_id, "k", 11, 2.0), "test-key-1")
    assert a == b == (200, b"\0\0\0\0")
    pts = server.get("/api/v1/runs/%s/metrics/k?raw=1" % run_id)["points"]
    assert [(p[0], p[2]) for p in pts] == [(10, 1.0)]
    post(server, "/api/v1/store/w/metrics_insert", metrics_body(run_id, "k", 11, 2.0), "test-key-2")
    pts = server.get("/api/v1/runs/%s/metrics/k?raw=1" % run_id)["points"]
    assert [(p[0], p[2]) for p in pts] == [(10, 1.0), (11, 2.0)]


def test_a_malformed_body_is_refused(server):
    req = urllib.request.Request(server.url + "/api/v1/store/w/metrics_insert", data=b"\x01\x00", method="POST",
                                 headers={"Content-Type": "application/x-cairn"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 400
    body = e.value.read()
    assert struct.unpack("<i", body[:4])[0] == -2  # CAIRN_EINVALID
    assert b"malformed" in body


SWEEP = r"""
import sys, cairn
space = {"x": {"min": 0.0, "max": 1.0}, "k": {"min": 1, "max": 3}}
best = cairn.sweep(lambda p: (p["x"] - 0.3) ** 2 + (p["k"] - 2) ** 2, space, n_trials=6,
                   method="tpe", seed=3, tpe={"startup_trials": 2}, name=sys.argv[1])
print(best.sweep_id, flush=True)
for t in best.trials:
    print(t.number, t.state, sorted(t.params.items()), t.value)
"""


def test_python_sweep_through_the_server(server):
    """cairn.sweep over a server store: the claim crosses the wire (the
    client proposes, the server creates the trial in one transaction), and
    the TPE search is the one the same sweep makes on the store itself."""
    remote = run_python(SWEEP, env=client_env(server), args=["viaserver"]).stdout.splitlines()[1:]
    local = run_python(SWEEP, env=dict(os.environ, CAIRN_DIR=server.store),
                       args=["local"]).stdout.splitlines()[1:]
    assert len(remote) == 6
    assert all(" done " in line for line in remote)
    assert remote == local
