"""MLflow's routes on a `cairn server` with authentication on (no --no-auth;
docs/mlflow.md, "Endpoints"; docs/team.md): the token MLflow's client sends
as `Authorization: Bearer` (MLFLOW_TRACKING_TOKEN) decides, with MLflow's
error bodies.

- no token, a malformed, unknown or revoked one: 401 UNAUTHENTICATED;
- a read token reads (GET routes, the two POST searches, downloads) and is
  403 PERMISSION_DENIED on every write, which changes nothing;
- a write token writes, and is the user of the runs it creates;
- a token limited to a project sees and writes that project's experiment
  only (others are 404, as missing ones);
- /health answers without a token, as MLflow's authenticated server does.
Real server over loopback, real store (SQLite, or PostgreSQL with
CAIRN_TEST_PG=1).
"""

import json
import re
import subprocess
import time

import pytest

from conftest import CAIRN_BIN, cli
from test_mlflow import Session

ART = "/api/2.0/mlflow-artifacts/artifacts/"


@pytest.fixture
def auth_srv(store):
    """`cairn server` on a free loopback port with tokens required."""
    p = subprocess.Popen(
        [CAIRN_BIN, "server", "--quiet", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = p.stdout.readline()
    m = re.search(r"http://[^ /]+:(\d+)", line)
    assert m, "no URL in %r (%s)" % (line, p.stderr.read() if p.poll() is not None else "")
    yield "http://127.0.0.1:%s" % m.group(1)
    p.terminate()
    p.wait(timeout=10)


def token(scope, name, project=None):
    args = ["token", "create", "--scope", scope, "--name", name]
    if project:
        args += ["--project", project]
    return cli(*args).strip()


class As:
    """Requests carrying one token (None: none)."""

    def __init__(self, url, tok):
        self.url, self.s = url, Session(url)
        self.h = {"Authorization": "Bearer " + tok} if tok else {}

    def call(self, method, path, body=None, params=None, raw=None):
        hdrs = dict(self.h)
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if params:
            import urllib.parse
            path += "?" + urllib.parse.urlencode(params, doseq=True)
        return self.s.request(method, self.url + path, data=data, headers=hdrs)

    def post(self, rpc, body):
        return self.call("POST", "/api/2.0/mlflow/" + rpc, body=body)

    def get(self, rpc, params=None):
        return self.call("GET", "/api/2.0/mlflow/" + rpc, params=params)


def check(r, status, code=None):
    assert r.status_code == status, (r.status_code, r.text)
    if code:
        j = r.json()
        assert set(j) == {"error_code", "message"} and j["error_code"] == code, j
        return j["message"]
    return r.json() if r.content and r.content[:1] == b"{" else r.text


def reads(c, run):
    """Every kind of read, with what each answers."""
    return [
        c.get("experiments/search", {"max_results": 10}),
        c.post("experiments/search", {"max_results": 10}),
        c.get("experiments/get", {"experiment_id": "0"}),
        c.get("experiments/get-by-name", {"experiment_name": "Default"}),
        c.post("runs/search", {"experiment_ids": ["0"]}),
        c.get("runs/get", {"run_id": run}),
        c.get("metrics/get-history", {"run_id": run, "metric_key": "m"}),
        c.get("metrics/get-history-bulk-interval", {"run_ids": [run], "metric_key": "m"}),
        c.get("artifacts/list", {"run_id": run}),
        c.call("GET", ART + "0/%s/artifacts/a.txt" % run),
        c.call("GET", ART.rstrip("/"), params={"path": "0/%s/artifacts" % run}),
        c.call("GET", "/ajax-api/2.0/mlflow/runs/get", params={"run_id": run}),
        c.call("GET", "/version"),
    ]


def writes(c, run):
    """Every kind of write (each would change the store)."""
    return [
        c.post("experiments/create", {"name": "made-by-" + str(id(c))}),
        c.post("experiments/set-experiment-tag", {"experiment_id": "0", "key": "k", "value": "v"}),
        c.post("runs/create", {"experiment_id": "0"}),
        c.post("runs/log-metric", {"run_id": run, "key": "m", "value": 9, "timestamp": 9, "step": 9}),
        c.post("runs/log-parameter", {"run_id": run, "key": "p2", "value": "x"}),
        c.post("runs/set-tag", {"run_id": run, "key": "t", "value": "x"}),
        c.post("runs/delete-tag", {"run_id": run, "key": "team"}),
        c.post("runs/log-batch", {"run_id": run, "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 5}]}),
        c.post("runs/update", {"run_id": run, "status": "FINISHED"}),
        c.call("PUT", ART + "0/%s/artifacts/b.txt" % run, raw=b"b"),
        c.call("DELETE", ART + "0/%s/artifacts/a.txt" % run),
        c.call("POST", "/ajax-api/2.0/mlflow/runs/set-tag", body={"run_id": run, "key": "t", "value": "y"}),
        c.post("runs/delete", {"run_id": run}),  # last: the others write to the run
    ]


def seed(w):
    """A run in the default experiment with a metric, a tag and an artifact."""
    run = check(w.post("runs/create", {"experiment_id": "0", "run_name": "seeded"}), 200)["run"]["info"]["run_id"]
    check(w.post("runs/log-metric", {"run_id": run, "key": "m", "value": 1, "timestamp": 1, "step": 0}), 200)
    check(w.post("runs/set-tag", {"run_id": run, "key": "team", "value": "vision"}), 200)
    check(w.call("PUT", ART + "0/%s/artifacts/a.txt" % run, raw=b"a"), 200)
    return run


def state(run):
    return json.loads(cli("show", run, "--json"))


def test_without_a_valid_token_every_route_is_401(auth_srv):
    w = As(auth_srv, token("write", "w"))
    run = seed(w)
    before = state(run)
    revoked = token("write", "gone")
    cli("token", "revoke", "gone")
    for tok in (None, "cairn_" + "0" * 64, "not-a-token", revoked):
        c = As(auth_srv, tok)
        for r in reads(c, run) + writes(c, run):
            msg = check(r, 401, "UNAUTHENTICATED")
            assert msg
    assert state(run) == before
    # /health is open (probes ask it), and says OK
    assert As(auth_srv, None).call("GET", "/health").text == "OK"


def test_read_token_reads_and_cannot_write(auth_srv):
    w = As(auth_srv, token("write", "w"))
    run = seed(w)
    before = state(run)
    r = As(auth_srv, token("read", "reader"))
    got = reads(r, run)
    for x in got:
        assert x.status_code == 200, x.text
    assert got[5].json()["run"]["info"]["run_id"] == run
    assert got[9].content == b"a"
    assert [m["step"] for m in got[7].json()["metrics"]] == [0]
    for x in writes(r, run):
        msg = check(x, 403, "PERMISSION_DENIED")
        assert "'reader' has the read scope" in msg and "needs write" in msg
    assert state(run) == before
    assert [e["name"] for e in check(r.post("experiments/search", {}), 200)["experiments"]] == ["Default"]


def test_write_token_writes_as_its_name(auth_srv):
    w = As(auth_srv, token("write", "trainer"))
    run = seed(w)
    for x in writes(w, run):
        assert x.status_code == 200, x.text
    info = check(w.get("runs/get", {"run_id": run}), 200)["run"]["info"]
    assert info["user_id"] == "trainer" and info["lifecycle_stage"] == "deleted"
    data = check(w.get("runs/get", {"run_id": run}), 200)["run"]["data"]
    assert {"key": "t", "value": "y"} in data["tags"]  # the ajax-api write
    made = check(w.post("runs/search", {"experiment_ids": ["0"]}), 200)["runs"]
    assert {x["info"]["user_id"] for x in made} == {"trainer"}


def test_project_token_sees_its_experiment_only(auth_srv):
    admin = As(auth_srv, token("write", "w"))
    other = seed(admin)  # in the default experiment
    eid = check(admin.post("experiments/create", {"name": "p1"}), 200)["experiment_id"]
    p = As(auth_srv, token("write", "p1-bot", project="p1"))
    mine = check(p.post("runs/create", {"experiment_id": eid, "run_name": "mine"}), 200)["run"]["info"]["run_id"]
    check(p.post("runs/log-metric", {"run_id": mine, "key": "m", "value": 2, "timestamp": 2}), 200)
    check(p.call("PUT", ART + "%s/%s/artifacts/x.txt" % (eid, mine), raw=b"x"), 200)
    check(p.call("DELETE", ART + "%s/%s/artifacts/x.txt" % (eid, mine)), 200)
    exps = check(p.post("experiments/search", {}), 200)["experiments"]
    assert [e["name"] for e in exps] == ["p1"]
    runs = check(p.post("runs/search", {"experiment_ids": ["0", eid]}), 200)["runs"]
    assert [x["info"]["run_id"] for x in runs] == [mine]
    before = state(other)
    check(p.get("runs/get", {"run_id": other}), 404, "RESOURCE_DOES_NOT_EXIST")
    check(p.get("experiments/get", {"experiment_id": "0"}), 404, "RESOURCE_DOES_NOT_EXIST")
    check(p.post("runs/set-tag", {"run_id": other, "key": "t", "value": "x"}), 404, "RESOURCE_DOES_NOT_EXIST")
    check(p.call("DELETE", ART + "0/%s/artifacts/a.txt" % other), 404, "RESOURCE_DOES_NOT_EXIST")
    check(p.call("GET", ART + "0/%s/artifacts/a.txt" % other), 404, "RESOURCE_DOES_NOT_EXIST")
    check(p.get("metrics/get-history-bulk-interval", {"run_ids": [mine, other], "metric_key": "m"}), 404,
          "RESOURCE_DOES_NOT_EXIST")
    m = check(p.post("runs/create", {"experiment_id": "0"}), 403, "PERMISSION_DENIED")
    assert "'p1-bot' may create runs in project 'p1' only" in m
    for rpc, body in (("experiments/create", {"name": "p2"}),
                      ("experiments/update", {"experiment_id": "0", "new_name": "x"}),
                      ("experiments/delete", {"experiment_id": "0"})):
        m = check(p.post(rpc, body), 403, "PERMISSION_DENIED")
        assert m == "the token 'p1-bot' may use project 'p1' only", rpc
    names = [e["name"] for e in check(admin.post("experiments/search", {}), 200)["experiments"]]
    assert sorted(names) == ["Default", "p1"]
    assert state(other) == before
