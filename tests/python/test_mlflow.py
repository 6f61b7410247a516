"""MLflow's tracking REST API on `cairn server` (docs/mlflow.md), written
from the facts in ../shared/mlflow-rest.md: the shapes, conventions,
errors, limits, search grammar and paging MLflow's clients rely on.  Real
server over loopback, real store (SQLite, or PostgreSQL with
CAIRN_TEST_PG=1); requests through the standard library's http.client on
one keep-alive connection, as MLflow's client holds one (requests is not
everywhere the suite runs), with raw paths where a test needs them.
"""

import base64
import http.client
import json
import math
import os
import re
import subprocess
import time

import urllib.parse

import pytest

from conftest import CAIRN_BIN, cli


@pytest.fixture
def srv(store, tmp_path):
    """`cairn server --no-auth` on a free loopback port; yields its URL."""
    p = subprocess.Popen(
        [CAIRN_BIN, "server", "--no-auth", "--quiet", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = p.stdout.readline()
    m = re.search(r"http://[^ /]+:(\d+)", line)
    assert m, "no URL in %r (%s)" % (line, p.stderr.read() if p.poll() is not None else "")
    url = "http://127.0.0.1:%s" % m.group(1)
    yield url
    p.terminate()
    p.wait(timeout=10)


class Resp:
    def __init__(self, status, content):
        self.status_code = status
        self.content = content
        self.text = content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)


class Session:
    """A keep-alive HTTP/1.1 session on http.client (requests' shape)."""

    def __init__(self, url):
        self.host = url.split("//")[1]
        self.h = http.client.HTTPConnection(self.host, timeout=60)

    def request(self, method, url, params=None, data=None, json_body=None, headers=None):
        path = url.split(self.host, 1)[1] if "//" in url else url
        if params:
            path += "?" + urllib.parse.urlencode(params, doseq=True)
        hdrs = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode()
            hdrs["Content-Type"] = "application/json"
        if isinstance(data, str):
            data = data.encode()
        try:
            self.h.request(method, path, body=data, headers=hdrs)
            r = self.h.getresponse()
        except (http.client.HTTPException, OSError):
            self.h.close()
            self.h = http.client.HTTPConnection(self.host, timeout=60)
            self.h.request(method, path, body=data, headers=hdrs)
            r = self.h.getresponse()
        return Resp(r.status, r.read())

    def get(self, url, params=None):
        return self.request("GET", url, params=params)

    def post(self, url, json=None, data=None, headers=None):
        return self.request("POST", url, data=data, json_body=json, headers=headers)

    def put(self, url, data=None):
        return self.request("PUT", url, data=data)


class Client:
    def __init__(self, url):
        self.url = url
        self.s = Session(url)

    def post(self, path, body, status=200, prefix="/api/2.0/mlflow/"):
        r = self.s.post(self.url + prefix + path, json=body)
        assert r.status_code == status, (path, r.status_code, r.text)
        return r.json()

    def get(self, path, params=None, status=200, prefix="/api/2.0/mlflow/"):
        r = self.s.get(self.url + prefix + path, params=params)
        assert r.status_code == status, (path, r.status_code, r.text)
        return r.json()


@pytest.fixture
def c(srv):
    return Client(srv)


def new_run(c, exp="0", **kw):
    body = {"experiment_id": exp, "start_time": int(time.time() * 1000)}
    body.update(kw)
    return c.post("runs/create", body)["run"]["info"]["run_id"]


def err(r, code):
    assert r["error_code"] == code, r
    return r["message"]


# --- transport ------------------------------------------------------------------------


def test_health_version_and_ajax_prefix(c, srv):
    assert c.s.get(srv + "/health").text == "OK"
    assert re.match(r"^\d+\.\d+\.\d+$", c.s.get(srv + "/version").text)
    e = c.get("experiments/get", {"experiment_id": "0"}, prefix="/ajax-api/2.0/mlflow/")
    assert e["experiment"]["name"] == "Default"
    assert e["experiment"]["experiment_id"] == "0"


def test_content_type_required_and_unknown_fields(c, srv):
    r = c.s.post(srv + "/api/2.0/mlflow/experiments/create", data='{"name":"x"}')
    assert r.status_code == 400
    assert err(r.json(), "INVALID_PARAMETER_VALUE") == (
        "Bad Request. Content-Type must be one of ['application/json']."
    )
    # unknown fields are ignored; a JSON string holding JSON is decoded twice
    c.post("experiments/create", {"name": "a", "surprise": [1, 2]})
    r = c.s.post(
        srv + "/api/2.0/mlflow/experiments/create",
        data=json.dumps(json.dumps({"name": "b"})),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200 and r.json()["experiment_id"]


def test_unknown_endpoint_is_404(c):
    assert c.get("runs/nothing", status=404)["error_code"] == "ENDPOINT_NOT_FOUND"


# --- experiments ------------------------------------------------------------------------


def test_experiments_lifecycle(c):
    eid = c.post("experiments/create", {"name": "demo", "tags": [{"key": "team", "value": "v"}]})[
        "experiment_id"
    ]
    assert eid.isdigit() and eid != "0"
    m = err(c.post("experiments/create", {"name": "demo"}, status=400), "RESOURCE_ALREADY_EXISTS")
    assert m.startswith("Experiment(name=demo) already exists")
    e = c.get("experiments/get", {"experiment_id": eid})["experiment"]
    assert e["name"] == "demo" and e["lifecycle_stage"] == "active"
    assert e["tags"] == [{"key": "team", "value": "v"}]
    assert isinstance(e["creation_time"], int) and isinstance(e["last_update_time"], int)
    assert e["artifact_location"] == "mlflow-artifacts:/" + eid
    assert c.get("experiments/get-by-name", {"experiment_name": "demo"})["experiment"]["experiment_id"] == eid
    m = err(c.get("experiments/get-by-name", {"experiment_name": "trace-exp"}, status=404), "RESOURCE_DOES_NOT_EXIST")
    assert m == "Could not find experiment with name 'trace-exp'"
    err(c.get("experiments/get", {"experiment_id": "999"}, status=404), "RESOURCE_DOES_NOT_EXIST")
    # rename keeps the id
    assert c.post("experiments/update", {"experiment_id": eid, "new_name": "demo2"}) == {}
    assert c.get("experiments/get-by-name", {"experiment_name": "demo2"})["experiment"]["experiment_id"] == eid
    c.post("experiments/set-experiment-tag", {"experiment_id": eid, "key": "k", "value": "1"})
    tags = c.get("experiments/get", {"experiment_id": eid})["experiment"]["tags"]
    assert {"key": "k", "value": "1"} in tags
    c.post("experiments/delete-experiment-tag", {"experiment_id": eid, "key": "k"})
    # delete soft-deletes the runs; restore brings them back
    run = new_run(c, eid)
    c.post("experiments/delete", {"experiment_id": eid})
    assert c.get("experiments/get", {"experiment_id": eid})["experiment"]["lifecycle_stage"] == "deleted"
    assert c.get("runs/get", {"run_id": run})["run"]["info"]["lifecycle_stage"] == "deleted"
    err(c.post("runs/create", {"experiment_id": eid}, status=400), "INVALID_PARAMETER_VALUE")
    c.post("experiments/restore", {"experiment_id": eid})
    assert c.get("runs/get", {"run_id": run})["run"]["info"]["lifecycle_stage"] == "active"
    err(c.post("experiments/delete", {"experiment_id": "0"}, status=400), "INVALID_PARAMETER_VALUE")
    err(c.post("experiments/create", {}, status=400), "INVALID_PARAMETER_VALUE")


def test_experiments_search(c):
    ids = [c.post("experiments/create", {"name": n})["experiment_id"] for n in ("ab", "a", "Abc")]
    for m in ("GET", "POST"):
        if m == "GET":
            r = c.get("experiments/search", {"max_results": 10, "order_by": "name DESC"})
        else:
            r = c.post("experiments/search", {"max_results": 10, "order_by": ["name DESC"]})
        assert [e["name"] for e in r["experiments"]] == ["ab", "a", "Default", "Abc"]
    r = c.post("experiments/search", {"filter": "name LIKE 'a%'"})
    assert sorted(e["name"] for e in r["experiments"]) == ["a", "ab"]
    r = c.post("experiments/search", {"filter": "name ILIKE 'a%'"})
    assert sorted(e["name"] for e in r["experiments"]) == ["Abc", "a", "ab"]
    r = c.post("experiments/search", {"max_results": 2})
    assert len(r["experiments"]) == 2 and r["next_page_token"]
    r2 = c.post("experiments/search", {"max_results": 2, "page_token": r["next_page_token"]})
    assert len(r2["experiments"]) == 2 and "next_page_token" not in r2
    c.post("experiments/delete", {"experiment_id": ids[0]})
    r = c.post("experiments/search", {"view_type": "DELETED_ONLY"})
    assert [e["name"] for e in r["experiments"]] == ["ab"]


# --- runs -------------------------------------------------------------------------------------


def test_run_create_get_update(c):
    t0 = 1795838025151
    r = c.post(
        "runs/create",
        {
            "experiment_id": "0",
            "run_name": "t1",
            "start_time": t0,
            "user_id": "alice",
            "tags": [{"key": "mlflow.source.type", "value": "LOCAL"}, {"key": "team", "value": "x"}],
        },
    )["run"]
    info = r["info"]
    assert info["run_id"] == info["run_uuid"] and re.match(r"^[0-9a-f]{32}$", info["run_id"])
    assert info["status"] == "RUNNING" and "end_time" not in info
    assert info["start_time"] == t0 and info["run_name"] == "t1" and info["user_id"] == "alice"
    assert info["experiment_id"] == "0"
    assert info["artifact_uri"] == "mlflow-artifacts:/0/%s/artifacts" % info["run_id"]
    got = c.get("runs/get", {"run_id": info["run_id"]})["run"]
    assert got["inputs"] == {}
    tags = {t["key"]: t["value"] for t in got["data"]["tags"]}
    assert tags["mlflow.runName"] == "t1" and tags["mlflow.user"] == "alice"
    assert tags["team"] == "x" and tags["mlflow.source.type"] == "LOCAL"
    # update: status, end time, name; both run_id and run_uuid are accepted
    u = c.post("runs/update", {"run_uuid": info["run_id"], "status": "FINISHED", "end_time": t0 + 105, "run_name": "t2"})
    assert u["run_info"]["status"] == "FINISHED" and u["run_info"]["end_time"] == t0 + 105
    assert u["run_info"]["run_name"] == "t2"
    # setting mlflow.runName renames it
    c.post("runs/set-tag", {"run_id": info["run_id"], "key": "mlflow.runName", "value": "t3"})
    assert c.get("runs/get", {"run_id": info["run_id"]})["run"]["info"]["run_name"] == "t3"
    m = err(c.post("runs/create", {"run_name": "a", "tags": [{"key": "mlflow.runName", "value": "b"}]}, status=400), "INVALID_PARAMETER_VALUE")
    assert "mlflow.runName" in m
    # a generated name when none is given
    r = c.post("runs/create", {"experiment_id": "0"})["run"]
    assert r["info"]["run_name"]


def test_run_errors(c):
    m = err(c.get("runs/get", {"run_id": "deadbeef"}, status=404), "RESOURCE_DOES_NOT_EXIST")
    assert m == "Run with id=deadbeef not found"
    m = err(c.post("runs/log-metric", {"run_id": 31, "key": "a", "value": 1, "timestamp": 1}, status=400), "INVALID_PARAMETER_VALUE")
    assert m.startswith("Invalid value 31 for parameter 'run_id' supplied. Hint: Value was of type 'int'.")
    run = new_run(c)
    m = err(c.post("runs/log-parameter", {"run_id": run, "value": "1"}, status=400), "INVALID_PARAMETER_VALUE")
    assert m.startswith("Missing value for required parameter 'key'.")
    m = err(c.post("runs/log-batch", {"run_id": run, "metrics": [{"key": "a", "value": 1}]}, status=400), "INVALID_PARAMETER_VALUE")
    assert "Missing value for required parameter 'metrics[0].timestamp'" in m
    m = err(c.post("runs/log-batch", {"run_id": run, "metrics": "foo"}, status=400), "INVALID_PARAMETER_VALUE")
    assert m.startswith('Invalid value "foo" for parameter \'metrics\' supplied')
    err(c.post("runs/log-metric", {"run_id": run, "key": "a/../b", "value": 1, "timestamp": 1}, status=400), "INVALID_PARAMETER_VALUE")
    err(c.post("runs/log-metric", {"run_id": run, "key": "a=b", "value": 1, "timestamp": 1}, status=400), "INVALID_PARAMETER_VALUE")
    err(c.post("runs/log-metric", {"run_id": run, "key": "a", "value": True, "timestamp": 1}, status=400), "INVALID_PARAMETER_VALUE")
    m = err(c.post("runs/delete-tag", {"run_id": run, "key": "fakeTag"}, status=404), "RESOURCE_DOES_NOT_EXIST")
    assert m.startswith("No tag with name: fakeTag in run with id")
    err(c.post("runs/update", {"run_id": run, "status": "NOPE"}, status=400), "INVALID_PARAMETER_VALUE")
    err(c.post("runs/create", {"experiment_id": "12345"}, status=404), "RESOURCE_DOES_NOT_EXIST")
    # a deleted run refuses writes, and is restored
    c.post("runs/delete", {"run_id": run})
    m = err(c.post("runs/set-tag", {"run_id": run, "key": "a", "value": "b"}, status=400), "INVALID_PARAMETER_VALUE")
    assert m == "The run %s must be in the 'active' state. Current state is deleted." % run
    c.post("runs/restore", {"run_id": run})
    c.post("runs/set-tag", {"run_id": run, "key": "a", "value": "b"})


def test_metrics_nan_inf_history_and_latest(c):
    run = new_run(c)
    for v, ts, step in (("NaN", 5, 0), ("Infinity", 6, 1), ("-Infinity", 7, 2), (1.0, 8, 3), (0.5, "9", "3")):
        c.post("runs/log-metric", {"run_id": run, "run_uuid": run, "key": "m", "value": v, "timestamp": ts, "step": step})
    c.post("runs/log-metric", {"run_id": run, "key": "z", "value": 2, "timestamp": 0})
    data = c.get("runs/get", {"run_id": run})["run"]["data"]
    ms = {m["key"]: m for m in data["metrics"]}
    # the latest is the max by (step, timestamp, value)
    assert ms["m"] == {"key": "m", "value": 0.5, "timestamp": 9, "step": 3}
    assert ms["z"]["timestamp"] == 0 and ms["z"]["step"] == 0
    h = c.get("metrics/get-history", {"run_id": run, "metric_key": "m"})["metrics"]
    assert [x["value"] for x in h] == ["NaN", "Infinity", "-Infinity", 1.0, 0.5]
    assert [x["timestamp"] for x in h] == [5, 6, 7, 8, 9]
    raw = c.s.get(c.url + "/api/2.0/mlflow/metrics/get-history", params={"run_id": run, "metric_key": "m"}).text
    assert '"value":1.0' in raw.replace(" ", "")
    b = c.get("metrics/get-history-bulk-interval", {"run_ids": [run], "metric_key": "m", "start_step": 1, "end_step": 2})
    assert [(x["step"], x["run_id"]) for x in b["metrics"]] == [(1, run), (2, run)]
    err(c.get("metrics/get-history-bulk-interval", {"metric_key": "m"}, status=400), "INVALID_PARAMETER_VALUE")
    err(c.post("runs/log-metric", {"run_id": run, "key": "m", "value": "abc", "timestamp": 1}, status=400), "INVALID_PARAMETER_VALUE")


def log_steps(c, run, steps, key="m"):
    steps = list(steps)
    for i in range(0, len(steps), 1000):
        ms = [{"key": key, "value": float(st), "timestamp": 1000 + st, "step": st} for st in steps[i:i + 1000]]
        c.post("runs/log-batch", {"run_id": run, "metrics": ms})


def bulk(c, runs, status=200, **kw):
    q = {"run_ids": runs, "metric_key": "m"}
    q.update({k: str(v) for k, v in kw.items()})
    return c.get("metrics/get-history-bulk-interval", q, status=status)


def bulk_steps(c, runs, **kw):
    return [m["step"] for m in bulk(c, runs, **kw)["metrics"]]


def test_history_bulk_interval_samples_evenly(c):
    # MLflow's sample: max_results steps at even index intervals of the
    # steps logged in range, plus the range's last step
    a = new_run(c)
    log_steps(c, a, range(10))
    assert bulk_steps(c, [a], start_step=0, end_step=10, max_results=5) == [0, 2, 4, 6, 8, 9]
    assert bulk_steps(c, [a], start_step=4, end_step=8, max_results=5) == [4, 5, 6, 7, 8]  # fits: all
    b = new_run(c)
    log_steps(c, b, range(0, 101, 20))
    assert bulk_steps(c, [b], start_step=0, end_step=100, max_results=5) == [0, 20, 40, 60, 80, 100]
    d = new_run(c)
    log_steps(c, d, range(0, 1001, 10))
    assert bulk_steps(c, [d], start_step=0, end_step=1000, max_results=5) == [0, 200, 400, 600, 800, 1000]
    e = new_run(c)
    log_steps(c, e, range(900, 1200))
    assert bulk_steps(c, [e], start_step=1000, end_step=1100, max_results=50) == list(range(1000, 1101, 2))
    # without a range: [0, the greatest step]; the default max_results is 2500
    f = new_run(c)
    log_steps(c, f, range(3000))
    got = bulk_steps(c, [f])
    assert len(got) == 2501 and got[0] == 0 and got[-1] == 2999 and got == sorted(set(got))
    assert got[:4] == [0, 1, 2, 3] and got[-2] == 2998  # floor(i * 3000 / 2500)
    # several runs: one sample over the union of their steps, each run's
    # own first and last step added; runs in the order asked
    g, h = new_run(c), new_run(c)
    log_steps(c, g, range(100))
    log_steps(c, h, [3, 4, 5, 77])
    out = bulk(c, [h, g], max_results=10)["metrics"]
    sample = [0, 3, 10, 20, 30, 40, 50, 60, 70, 77, 80, 90, 99]
    assert [(m["run_id"], m["step"]) for m in out] == [(h, 3), (h, 77)] + [(g, st) for st in sample]
    assert out[0] == {"key": "m", "value": 3.0, "timestamp": 1003, "step": 3, "run_id": h}
    # a range clips the runs' ends too (h's 3 and 77 are outside 4..60)
    out = bulk(c, [h, g], start_step=4, end_step=60, max_results=3)["metrics"]
    assert [(m["run_id"], m["step"]) for m in out] == [(h, 4), (g, 4), (g, 23), (g, 42), (g, 60)]
    # every point at a chosen step, in time order; a run without the metric has none
    k = new_run(c)
    c.post("runs/log-batch", {"run_id": k, "metrics": [
        {"key": "m", "value": v, "timestamp": ts, "step": st} for v, ts, st in ((1, 5, 0), (2, 6, 0), ("NaN", 7, 1), (4, 8, 2))]})
    out = bulk(c, [k, new_run(c)], max_results=1)["metrics"]
    assert [(m["step"], m["timestamp"], m["value"]) for m in out] == [(0, 5, 1.0), (0, 6, 2.0), (2, 8, 4.0)]
    # MLflow's errors
    m = err(bulk(c, [a], status=400, start_step=1), "INVALID_PARAMETER_VALUE")
    assert m == "If either start step or end step are specified, both must be specified."
    m = err(bulk(c, [a], status=400, start_step=5, end_step=2), "INVALID_PARAMETER_VALUE")
    assert m == "end_step must be greater than start_step. Found start_step=5 and end_step=2."
    for bad in (0, 2501):
        m = err(bulk(c, [a], status=400, max_results=bad), "INVALID_PARAMETER_VALUE")
        assert m == "max_results must be between 1 and 2500."
    m = err(bulk(c, [a] * 101, status=400), "INVALID_PARAMETER_VALUE")
    assert m == "GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 101 run_ids."
    err(bulk(c, [a, "f" * 32], status=404), "RESOURCE_DOES_NOT_EXIST")
    err(bulk(c, [a], status=400, start_step="x", end_step=3), "INVALID_PARAMETER_VALUE")


def test_params_overwrite_rules(c):
    run = new_run(c)
    c.post("runs/log-parameter", {"run_id": run, "key": "lr", "value": "0.01"})
    c.post("runs/log-parameter", {"run_id": run, "key": "lr", "value": "0.01"})  # same: fine
    m = err(c.post("runs/log-parameter", {"run_id": run, "key": "lr", "value": "0.5"}, status=400), "INVALID_PARAMETER_VALUE")
    assert m == (
        "Changing param values is not allowed. Param with key='lr' was already logged with "
        "value='0.01' for run ID='%s'. Attempted logging new value '0.5'." % run
    )
    c.post("runs/log-parameter", {"run_id": run, "key": "empty", "value": ""})
    for k, v in (("a", "True"), ("b", "007"), ("c", "1e-3"), ("d", "32"), ("e", "1.0")):
        c.post("runs/log-parameter", {"run_id": run, "key": k, "value": v})
    got = {p["key"]: p["value"] for p in c.get("runs/get", {"run_id": run})["run"]["data"]["params"]}
    assert got == {"lr": "0.01", "empty": "", "a": "True", "b": "007", "c": "1e-3", "d": "32", "e": "1.0"}
    err(c.post("runs/log-batch", {"run_id": run, "params": [{"key": "x", "value": "1"}, {"key": "x", "value": "2"}]}, status=400), "INVALID_PARAMETER_VALUE")
    # a refused batch writes nothing
    err(c.post("runs/log-batch", {"run_id": run, "params": [{"key": "new", "value": "1"}, {"key": "lr", "value": "9"}],
                                  "metrics": [{"key": "q", "value": 1, "timestamp": 1}]}, status=400), "INVALID_PARAMETER_VALUE")
    data = c.get("runs/get", {"run_id": run})["run"]["data"]
    assert "new" not in {p["key"] for p in data["params"]} and data["metrics"] == []
    err(c.post("runs/log-parameter", {"run_id": run, "key": "long", "value": "x" * 6001}, status=400), "INVALID_PARAMETER_VALUE")


def test_batch_limits(c):
    run = new_run(c)
    ok = {"run_id": run, "metrics": [{"key": "m%d" % (i % 10), "value": i, "timestamp": i + 1, "step": i} for i in range(1000)],
          "params": [{"key": "p%d" % i, "value": str(i)} for i in range(0)],
          "tags": [{"key": "t%d" % i, "value": "v"} for i in range(0)]}
    c.post("runs/log-batch", ok)
    c.post("runs/log-batch", {"run_id": run, "params": [{"key": "p%d" % i, "value": "v"} for i in range(100)]})
    c.post("runs/log-batch", {"run_id": run, "tags": [{"key": "t%d" % i, "value": "v"} for i in range(100)]})
    for body in (
        {"metrics": [{"key": "m", "value": 1, "timestamp": 1}] * 1001},
        {"params": [{"key": "q%d" % i, "value": "v"} for i in range(101)]},
        {"tags": [{"key": "u%d" % i, "value": "v"} for i in range(101)]},
        {"metrics": [{"key": "m", "value": 1, "timestamp": 1}] * 950, "params": [{"key": "r%d" % i, "value": "v"} for i in range(51)]},
    ):
        body["run_id"] = run
        err(c.post("runs/log-batch", body, status=400), "INVALID_PARAMETER_VALUE")
    err(c.post("runs/set-tag", {"run_id": run, "key": "k" * 251, "value": "v"}, status=400), "INVALID_PARAMETER_VALUE")
    err(c.post("runs/set-tag", {"run_id": run, "key": "k", "value": "v" * 8001}, status=400), "INVALID_PARAMETER_VALUE")
    h = c.get("metrics/get-history", {"run_id": run, "metric_key": "m3"})["metrics"]
    assert [x["step"] for x in h] == list(range(3, 1000, 10))


def test_batch_metric_errors_name_the_member(c):
    # metric_read formats a member's name only for its message (the fast
    # path of a batch); each message still names the member that is wrong
    run = new_run(c)
    m = err(c.post("runs/log-metric", {"run_id": run, "key": "a", "value": 1}, status=400), "INVALID_PARAMETER_VALUE")
    assert m.startswith("Missing value for required parameter 'timestamp'."), m
    m = err(c.post("runs/log-metric", {"run_id": run, "value": 1, "timestamp": 1}, status=400), "INVALID_PARAMETER_VALUE")
    assert m.startswith("Missing value for required parameter 'key'."), m
    ok = {"key": "a", "value": 1, "timestamp": 1}
    for bad, where in (({"key": "a", "value": "abc", "timestamp": 1}, "'metrics[2].value'"),
                       ({"key": "a", "value": 1, "timestamp": 1.5}, "'metrics[2].timestamp'"),
                       ({"key": "a", "value": 1, "timestamp": 1, "step": "x"}, "'metrics[2].step'"),
                       ({"value": 1, "timestamp": 1}, "'metrics[2].key'"),
                       ({"key": 7, "value": 1, "timestamp": 1}, "'metrics[2].key'"),
                       ("nope", "'metrics[2]'")):
        m = err(c.post("runs/log-batch", {"run_id": run, "metrics": [ok, ok, bad]}, status=400), "INVALID_PARAMETER_VALUE")
        assert where in m, (bad, m)
    # a key is checked once per batch, but every new key is checked
    err(c.post("runs/log-batch", {"run_id": run, "metrics": [ok, ok, dict(ok, key="a/../b")]}, status=400),
        "INVALID_PARAMETER_VALUE")
    many = [dict(ok, key="k%d" % i) for i in range(12)] + [dict(ok, key="k=12")]
    err(c.post("runs/log-batch", {"run_id": run, "metrics": many}, status=400), "INVALID_PARAMETER_VALUE")
    assert c.get("runs/get", {"run_id": run})["run"]["data"]["metrics"] == []
    # numbers as strings and integral doubles take the general path, and log
    c.post("runs/log-batch", {"run_id": run, "metrics": [{"key": "s", "value": "0.25", "timestamp": "5", "step": "2"},
                                                         {"key": "s", "value": 0.5, "timestamp": 6.0, "step": 3.0}]})
    h = c.get("metrics/get-history", {"run_id": run, "metric_key": "s"})["metrics"]
    assert [(x["value"], x["timestamp"], x["step"]) for x in h] == [(0.25, 5, 2), (0.5, 6, 3)]
    # a member given twice: the first counts, as everywhere in MLflow's routes
    raw = '{"run_id": "%s", "metrics": [{"key": "d", "key": "e", "value": 1, "value": 2, "timestamp": 7}]}' % run
    r = c.s.post(c.url + "/api/2.0/mlflow/runs/log-batch", data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    got = {x["key"]: x["value"] for x in c.get("runs/get", {"run_id": run})["run"]["data"]["metrics"]}
    assert got.get("d") == 1.0 and "e" not in got, got


def test_tags_set_delete_and_system_tags(c):
    run = new_run(c)
    c.post("runs/set-tag", {"run_id": run, "key": "k", "value": "v1"})
    c.post("runs/set-tag", {"run_id": run, "key": "k", "value": "v2"})  # tags overwrite
    c.post("runs/set-tag", {"run_id": run, "key": "mlflow.note.content", "value": "a note"})
    c.post("runs/set-tag", {"run_id": run, "key": "mlflow.source.git.commit", "value": "3fa2b1c0"})
    tags = {t["key"]: t["value"] for t in c.get("runs/get", {"run_id": run})["run"]["data"]["tags"]}
    assert tags["k"] == "v2" and tags["mlflow.note.content"] == "a note"
    assert tags["mlflow.source.git.commit"] == "3fa2b1c0"
    shown = json.loads(cli("show", run, "--json"))
    assert shown["note"] == "a note" and "k=v2" in shown["tags"]
    c.post("runs/delete-tag", {"run_id": run, "key": "k"})
    tags = {t["key"] for t in c.get("runs/get", {"run_id": run})["run"]["data"]["tags"]}
    assert "k" not in tags


def test_log_inputs_are_cairn_datasets(c):
    run = new_run(c)
    c.post("runs/log-inputs", {"run_id": run, "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "training"}],
           "dataset": {"name": "iris", "digest": "abc123", "source_type": "local", "source": "/data/iris.csv", "schema": "{}"}}]})
    inp = c.get("runs/get", {"run_id": run})["run"]["inputs"]["dataset_inputs"]
    assert inp[0]["dataset"]["name"] == "iris" and inp[0]["dataset"]["digest"] == "abc123"
    assert {"key": "mlflow.data.context", "value": "training"} in inp[0]["tags"]
    shown = json.loads(cli("show", run, "--json"))
    assert any(d["name"] == "iris" and d["digest"] == "abc123" for d in shown["data"]) if "data" in shown else True
    err(c.post("runs/log-inputs", {"run_id": run, "datasets": [{"dataset": {"name": "x"}}]}, status=400), "INVALID_PARAMETER_VALUE")


# --- search ----------------------------------------------------------------------------------------


@pytest.fixture
def ten(c):
    eid = c.post("experiments/create", {"name": "s"})["experiment_id"]
    runs = []
    for i in range(10):
        r = c.post("runs/create", {"experiment_id": eid, "run_name": "r%d" % i, "start_time": 1000 + i})["run"]["info"]["run_id"]
        c.post("runs/log-batch", {"run_id": r,
               "metrics": [{"key": "common", "value": i / 10, "timestamp": 1}],
               "params": [{"key": "generic_2", "value": "some Other value" if i % 2 else "plain"}],
               "tags": [{"key": "generic_tag", "value": "p_val" if i < 5 else "q_val"}]})
        runs.append(r)
    return eid, runs


def search(c, eid, **kw):
    body = {"experiment_ids": [eid]}
    body.update(kw)
    return c.post("runs/search", body)


def names(r):
    return [x["info"]["run_name"] for x in r.get("runs", [])]


def test_search_paging(c, ten):
    eid, runs = ten
    seen, tok, pages = [], None, 0
    while True:
        kw = {"max_results": 4}
        if tok:
            kw["page_token"] = tok
        r = search(c, eid, **kw)
        pages += 1
        seen += names(r)
        tok = r.get("next_page_token")
        if not tok:
            break
    assert pages == 3 and len(seen) == 10
    assert seen == ["r%d" % i for i in range(9, -1, -1)]  # start_time DESC by default
    assert json.loads(base64.b64decode(search(c, eid, max_results=4)["next_page_token"])) == {"offset": 4}
    err(c.post("runs/search", {"experiment_ids": [eid], "page_token": "!!"}, status=400), "INVALID_PARAMETER_VALUE")
    m = err(c.post("runs/search", {"experiment_ids": [eid], "max_results": 123456789}, status=400), "INVALID_PARAMETER_VALUE")
    assert m.startswith("Invalid value 123456789 for parameter 'max_results' supplied")


def test_search_grammar(c, ten):
    eid, runs = ten
    f = lambda q: sorted(names(search(c, eid, filter=q)))  # noqa: E731
    assert f("params.generic_2 ILIKE '%Other%' and tags.generic_tag = 'p_val'") == ["r1", "r3"]
    assert f("params.generic_2 LIKE '%other%'") == []
    assert f("params.generic_2 LIKE 'pl_in'") == ["r0", "r2", "r4", "r6", "r8"]
    assert len(f("metrics.common >= 0.0")) == 10
    assert f("metrics.common > 0.75") == ["r8", "r9"]
    assert len(f("attribute.status != 'SCHEDULED'")) == 10
    assert f("run_name = 'r3' AND run_id IN ('%s')" % runs[3]) == ["r3"]
    assert f("run_id NOT IN ('%s')" % runs[3]) == sorted("r%d" % i for i in range(10) if i != 3)
    assert len(f("attributes.created > 1")) == 10
    assert f("attributes.start_time < 1002") == ["r0", "r1"]
    assert f("tags.`mlflow.runName` = 'r4'") == ["r4"]
    assert f('tags."mlflow.runName" LIKE \'r_\' and metrics."common" < 0.1') == ["r0"]
    assert f("attributes.`Run name` = 'r5'") == ["r5"]
    assert f("attr.run_name ILIKE 'R7'") == ["r7"]
    assert f("run name = 'r6'") == ["r6"]  # the two-word alias, bare and after attr.
    assert f("attr.run name LIKE 'r2'") == ["r2"]
    assert names(search(c, eid, order_by=["attributes.run name DESC"]))[:3] == ["r9", "r8", "r7"]
    assert names(search(c, eid, order_by=["run name"]))[:2] == ["r0", "r1"]
    assert f("run.status = 'RUNNING'") == sorted("r%d" % i for i in range(10))
    m = err(c.post("runs/search", {"experiment_ids": [eid], "filter": "metrics.common > abc"}, status=400), "INVALID_PARAMETER_VALUE")
    assert m == "Expected numeric value type for metric. Found abc"
    m = err(c.post("runs/search", {"experiment_ids": [eid], "filter": "metrics.a > 1 OR metrics.b > 2"}, status=400), "INVALID_PARAMETER_VALUE")
    assert m.startswith("Invalid clause(s) in filter string")
    err(c.post("runs/search", {"experiment_ids": [eid], "filter": "params.p = 3"}, status=400), "INVALID_PARAMETER_VALUE")
    err(c.post("runs/search", {"experiment_ids": [eid], "filter": "foo.bar = '3'"}, status=400), "INVALID_PARAMETER_VALUE")


def test_search_order_nan_missing_and_tiebreak(c):
    eid = c.post("experiments/create", {"name": "o"})["experiment_id"]
    vals = [("a", 1.0), ("b", "NaN"), ("c", "Infinity"), ("d", "-Infinity"), ("e", None), ("f", -5.0)]
    for n, v in vals:
        r = c.post("runs/create", {"experiment_id": eid, "run_name": n, "start_time": 5})["run"]["info"]["run_id"]
        if v is not None:
            c.post("runs/log-metric", {"run_id": r, "key": "x", "value": v, "timestamp": 1})
    asc = names(search(c, eid, order_by=["metrics.x ASC"]))
    desc = names(search(c, eid, order_by=["metrics.`x` DESC"]))
    assert asc == ["d", "f", "a", "c", "b", "e"]
    assert desc == ["c", "a", "f", "d", "b", "e"]
    # equal start times: run ids ascending
    r = search(c, eid)
    ids = [x["info"]["run_id"] for x in r["runs"]]
    assert ids == sorted(ids)
    err(c.post("runs/search", {"experiment_ids": [eid], "order_by": ["metrics.x", "metrics.x DESC"]}, status=400), "INVALID_PARAMETER_VALUE")


def test_search_view_types(c, ten):
    eid, runs = ten
    c.post("runs/delete", {"run_id": runs[0]})
    assert len(search(c, eid)["runs"]) == 9
    assert names(search(c, eid, run_view_type="DELETED_ONLY")) == ["r0"]
    assert len(search(c, eid, run_view_type="ALL")["runs"]) == 10


# --- artifacts -------------------------------------------------------------------------------------


def test_artifacts_upload_download_list_and_traversal(c, srv):
    run = new_run(c)
    base = srv + "/api/2.0/mlflow-artifacts/artifacts/0/%s/artifacts" % run
    r = c.s.put(base + "/model/weights.bin", data=b"\x00\x01binary")
    assert r.status_code == 200, r.text
    c.s.put(base + "/README.md", data=b"hello")
    assert c.s.get(base + "/model/weights.bin").content == b"\x00\x01binary"
    lst = c.s.get(srv + "/api/2.0/mlflow-artifacts/artifacts", params={"path": "0/%s/artifacts" % run}).json()
    assert sorted((f["path"], f["is_dir"]) for f in lst["files"]) == [("README.md", False), ("model", True)]
    lst = c.get("artifacts/list", {"run_id": run, "path": "model"})
    assert lst["files"] == [{"path": "model/weights.bin", "is_dir": False, "file_size": 8}]
    assert lst["root_uri"] == "mlflow-artifacts:/0/%s/artifacts" % run
    shown = json.loads(cli("show", run, "--json"))
    assert {a["path"] for a in shown["artifacts"]} == {"README.md", "model/weights.bin"}
    # traversal: the raw path, as requests would normalise it away
    host = srv.split("//")[1]
    for method in ("GET", "PUT"):
        h = http.client.HTTPConnection(host)
        h.request(method, "/api/2.0/mlflow-artifacts/artifacts/0/%s/artifacts/../../etc/passwd" % run, body=b"x" if method == "PUT" else None)
        resp = h.getresponse()
        assert resp.status == 400
        assert json.loads(resp.read()) == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}
    err(c.get("artifacts/list", {"run_id": run, "path": "../x"}, status=400), "INVALID_PARAMETER_VALUE")


def raw(srv, method, path, body=None):
    """One request on its own connection with the path as given (no
    normalisation): (status, parsed JSON body)."""
    h = http.client.HTTPConnection(srv.split("//")[1])
    h.request(method, path, body=body)
    resp = h.getresponse()
    data = resp.read()
    h.close()
    return resp.status, json.loads(data) if data else None


def test_artifact_delete(c, srv):
    run = new_run(c)
    path = "/api/2.0/mlflow-artifacts/artifacts/0/%s/artifacts" % run
    for name, data in (("model/w.bin", b"w"), ("model/sub/cfg.json", b"{}"), ("models.txt", b"m"), ("a.txt", b"a")):
        assert c.s.put(srv + path + "/" + name, data=data).status_code == 200
    # a file: gone from both listings and from cairn, its download 404
    assert raw(srv, "DELETE", path + "/a.txt") == (200, {})
    lst = c.get("artifacts/list", {"run_id": run})
    assert sorted(f["path"] for f in lst["files"]) == ["model", "models.txt"]
    st, body = raw(srv, "GET", path + "/a.txt")
    assert st == 404 and body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    # a directory: every file under it, not the sibling that shares its prefix
    assert raw(srv, "DELETE", path + "/model") == (200, {})
    lst = c.s.get(srv + "/api/2.0/mlflow-artifacts/artifacts", params={"path": "0/%s/artifacts" % run}).json()
    assert lst["files"] == [{"path": "models.txt", "is_dir": False, "file_size": 1}]
    assert c.get("artifacts/list", {"run_id": run, "path": "model"})["files"] == []
    shown = json.loads(cli("show", run, "--json"))
    assert [a["path"] for a in shown["artifacts"]] == ["models.txt"]
    # nothing there: 404, MLflow's shape
    for p in ("/model", "/model/w.bin", "/mod", "/nope.txt"):
        st, body = raw(srv, "DELETE", path + p)
        assert st == 404, p
        assert body["error_code"] == "RESOURCE_DOES_NOT_EXIST" and "No artifact" in body["message"]
    # traversal and unclean paths: MLflow's exact answer, nothing deleted
    for p in ("/../../etc/passwd", "/./models.txt", "/models.txt/..", "//models.txt", "/a\\b"):
        assert raw(srv, "DELETE", path + p) == (400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}), p
    assert raw(srv, "DELETE", "/api/2.0/mlflow-artifacts/artifacts/0/%s/nope/models.txt" % run)[0] == 400
    assert c.s.get(srv + path + "/models.txt").content == b"m"
    # an unknown run: 404; a deleted run: 400 as every write to it
    st, body = raw(srv, "DELETE", "/api/2.0/mlflow-artifacts/artifacts/0/%s/artifacts/models.txt" % ("f" * 32))
    assert st == 404 and body == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run with id=%s not found" % ("f" * 32)}
    c.post("runs/delete", {"run_id": run})
    st, body = raw(srv, "DELETE", path + "/models.txt")
    assert st == 400 and body["message"] == "The run %s must be in the 'active' state. Current state is deleted." % run
    c.post("runs/restore", {"run_id": run})
    # the root: every artifact of the run
    assert c.s.put(srv + path + "/b/c.txt", data=b"c").status_code == 200
    assert raw(srv, "DELETE", path) == (200, {})
    assert c.get("artifacts/list", {"run_id": run})["files"] == []
    assert raw(srv, "DELETE", path)[0] == 404


# --- the same runs in cairn ---------------------------------------------------------------------------


def test_mlflow_run_is_a_cairn_run(c):
    a = new_run(c, run_name="ml-a")
    b = new_run(c, run_name="ml-b")
    for r, lr, loss in ((a, "0.01", 0.5), (b, "0.1", 0.25)):
        c.post("runs/log-batch", {"run_id": r, "metrics": [{"key": "loss", "value": loss, "timestamp": 1000, "step": 2}],
               "params": [{"key": "lr", "value": lr}], "tags": [{"key": "team", "value": "vision"}]})
        c.post("runs/update", {"run_id": r, "status": "FINISHED", "end_time": int(time.time() * 1000)})
    s = json.loads(cli("show", a, "--json"))
    assert s["name"] == "ml-a" and s["status"] == "finished" and s["project"] == "default"
    assert s["params"]["lr"] == 0.01 and s["metrics"]["loss"]["last"] == 0.5
    assert "team=vision" in s["tags"]
    d = json.loads(cli("diff", a, b, "--json"))
    assert "lr" in json.dumps(d["params"]) and "loss" in json.dumps(d["metrics"])
    out = cli("ls", 'tags.team = "vision" and params.lr < 0.05', "--format", "json")
    assert [x["id"] for x in json.loads(out)] == [a]


def test_tag_values_in_cairn_and_order_by_tags(c):
    # MLflow's tag values may hold spaces and commas: ls quotes them, groups
    # and sorts by them; order_by on a tag sorts by its value
    runs = {}
    for name, team in (("t1", "vision"), ("t2", "nlp"), ("t3", "a, b")):
        runs[name] = new_run(c, run_name=name)
        c.post("runs/set-tag", {"run_id": runs[name], "key": "team", "value": team})
    c.post("runs/set-tag", {"run_id": runs["t1"], "key": "src", "value": "train v2.py"})
    out = cli("ls", "--columns", "name,tags", "--format", "csv").splitlines()
    rows = dict(line.split(",", 1) for line in out[1:])
    assert rows["t1"] == '"""src=train v2.py"",team=vision"'  # CSV quoting around ls's quoting
    assert rows["t3"] == '"""team=a, b"""'
    grp = json.loads(cli("ls", "--group", "tags.team", "--format", "json"))
    assert [(g["value"], g["count"]) for g in grp["groups"]] == [("a, b", 1), ("nlp", 1), ("vision", 1)]
    eid = "0"
    assert names(search(c, eid, order_by=["tags.team DESC"]))[:3] == ["t1", "t2", "t3"]
    assert names(search(c, eid, order_by=["tags.`team` ASC"]))[:3] == ["t3", "t2", "t1"]


def test_cairn_run_shows_up_in_search(c, tmp_path):
    cli("run", "-p", "native", "-n", "cli-run", "--param", "lr=0.5", "-t", "team=nlp", "--", "sh", "-c", "echo loss=0.3")
    exps = c.post("experiments/search", {"filter": "name = 'native'"})["experiments"]
    assert len(exps) == 1
    eid = exps[0]["experiment_id"]
    runs = c.post("runs/search", {"experiment_ids": [eid], "filter": "tags.team = 'nlp'"})["runs"]
    assert len(runs) == 1
    r = runs[0]
    assert r["info"]["run_name"] == "cli-run" and r["info"]["status"] == "FINISHED"
    assert {"key": "lr", "value": "0.5"} in r["data"]["params"]
    assert {"key": "team", "value": "nlp"} in r["data"]["tags"]
    assert math.isclose(next(m["value"] for m in r["data"]["metrics"] if m["key"] == "loss"), 0.3)
