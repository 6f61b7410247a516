"""The JSON API's write routes and their Idempotency-Key, against a real
`cairn server` process on loopback (SQLite, or PostgreSQL with
CAIRN_TEST_PG=1): the points of POST /api/v1/runs/ID/metrics and the key
are committed in one transaction (server/idem.c, lib/run/writer.c), so

- the same request twice is applied once, even with auto steps and the
  server's clock for timestamps (which a double could not absorb);
- a server killed (-9) in the middle of a stream of keyed batches, then
  every batch resent with its key after a restart, holds every point
  exactly once: none lost (an answered batch whose points were still in
  the buffered writer) and none twice (one applied and not remembered).

The store protocol's route: test_remote.py; the library's part, with a
process dying between write and key: tests/unit/test-idem.c.
"""

import json
import threading
import urllib.error
import urllib.request

from test_remote import Server, free_port


def call(srv, method, path, body=None, key=None, timeout=10):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(srv.url + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.loads(r.read())


def batch(i, n):
    return {"metrics": [{"key": "loss", "value": i * n + j} for j in range(n)]}


def points(srv, run_id):
    return call(srv, "GET", "/api/v1/runs/%s/metrics/loss?raw=1" % run_id)[1]["points"]


def test_the_same_keyed_batch_twice_is_applied_once(store):
    srv = Server(store, free_port())
    srv.start()
    try:
        run_id = call(srv, "POST", "/api/v1/runs", {"project": "idem"})[1]["id"]
        path = "/api/v1/runs/%s/metrics" % run_id
        a = call(srv, "POST", path, batch(0, 5), key="json-a")
        b = call(srv, "POST", path, batch(1, 5), key="json-a")  # another body, same key
        assert a == b == (200, {"logged": 5})
        assert [p[0] for p in points(srv, run_id)] == list(range(5))
        # keyed tags and finish: answered again, not applied again
        t1 = call(srv, "POST", "/api/v1/runs/%s/tags" % run_id, {"tags": ["x"]}, key="json-t")
        t2 = call(srv, "POST", "/api/v1/runs/%s/tags" % run_id, {"tags": ["y"]}, key="json-t")
        assert t1 == t2 and t2[1]["tags"] == ["x"]
        f1 = call(srv, "POST", "/api/v1/runs/%s/finish" % run_id, {}, key="json-f")
        f2 = call(srv, "POST", "/api/v1/runs/%s/finish" % run_id, {}, key="json-f")
        assert f1 == f2 and f1[0] == 200  # not 409 "already finished"
        # a refused write keeps nothing but its refusal
        try:
            call(srv, "POST", path, {"metrics": [{"key": "k"}]}, key="json-bad")
            raise AssertionError("accepted a bad key")
        except urllib.error.HTTPError as e:
            assert e.code == 400
        assert len(points(srv, run_id)) == 5
    finally:
        srv.stop()


def test_kill_mid_stream_then_resend_every_batch(store):
    nb, per = 400, 50
    srv = Server(store, free_port())
    srv.start()
    try:
        run_id = call(srv, "POST", "/api/v1/runs", {"project": "idem"})[1]["id"]
        path = "/api/v1/runs/%s/metrics" % run_id
        answered = []
        progress = threading.Event()

        def stream():
            for i in range(nb):
                try:
                    call(srv, "POST", path, batch(i, per), key="stream-%d" % i, timeout=5)
                except (OSError, urllib.error.URLError):
                    return
                answered.append(i)
                if len(answered) == nb // 4:
                    progress.set()

        th = threading.Thread(target=stream)
        th.start()
        assert progress.wait(60)
        srv.p.kill()  # -9, while batches are being answered
        srv.p.wait()
        srv.p = None
        th.join(60)
        assert nb // 4 <= len(answered) < nb
        srv.start()
        for i in range(nb):  # every batch again, in order, with its key
            assert call(srv, "POST", path, batch(i, per), key="stream-%d" % i) == (200, {"logged": per})
        pts = points(srv, run_id)
        assert [p[0] for p in pts] == list(range(nb * per))  # each point once, auto steps
        assert [p[-1] for p in pts] == [float(v) for v in range(nb * per)]
        run = call(srv, "GET", "/api/v1/runs/" + run_id)[1]
        assert run["metrics"]["loss"]["count"] == nb * per
    finally:
        srv.stop()
