"""The offline spool's coalesced replay, exactly once at the journal's end
(lib/store/remote/coalesce.c): a real `cairn server` on loopback behind a
small HTTP relay the test controls, so an answer can be lost after the
server applied the write.

The case: a process replays its own journal, whose last group of metrics
records ends at the journal's end; the server applies the group, its
answer is lost, the process appends more metrics records behind it and is
killed (-9).  `cairn sync` then replays the journal.  Without the group's
end made durable it sent a longer group under another key and the server
applied the first records a second time (only the summary's count showed
it, points being replaced); with it, the same span goes under the same key
and is answered from the kept answer.
"""

import os
import socket
import subprocess
import threading
import time

from conftest import CAIRN_BIN, PYTHON, cli
from test_remote import Server, free_port


class Relay:
    """HTTP/1.1 relay, one request per connection (it asks the server to
    close).  mode "closed": every connection is closed unanswered (a server
    that is down); "drop": requests to DROP_PATH reach the server, their
    answers are not passed on; "pass": everything passes."""

    DROP_PATH = b"/api/v1/store/w/metrics_insert"

    def __init__(self, upstream_port):
        self.up = upstream_port
        self.mode = "closed"
        self.dropped = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    @staticmethod
    def read_request(c):
        data = b""
        while b"\r\n\r\n" not in data:
            got = c.recv(65536)
            if not got:
                return None
            data += got
        head, rest = data.split(b"\r\n\r\n", 1)
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v.strip())
        while len(rest) < n:
            got = c.recv(65536)
            if not got:
                return None
            rest += got
        return head, rest

    def one(self, c):
        with c:
            if self.mode == "closed":
                return
            req = self.read_request(c)
            if not req:
                return
            head, body = req
            lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"connection:")]
            lines.append(b"Connection: close")
            up = socket.create_connection(("127.0.0.1", self.up))
            with up:
                up.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
                answer = b""
                while True:
                    got = up.recv(65536)
                    if not got:
                        break
                    answer += got
            if self.mode == "drop" and self.DROP_PATH in lines[0]:
                self.dropped += 1
                return  # applied by the server, the answer lost
            c.sendall(answer)

    def close(self):
        self.sock.close()


CHILD = r"""
import os, sys, time, cairn
go = sys.argv[1]
run = cairn.init(project="spool", name="end", capture_code=False, capture_env=False)
print(run.id, flush=True)
step = 0
def records(k):
    global step
    for _ in range(k):
        for _ in range(1000):
            run.log_metric("loss", float(step), step=step)
            step += 1
        run.flush()  # one journal record each
records(5)
print("offline", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
time.sleep(1.2)  # the next write probes: the journal is replayed, the group's answer lost
records(1)
records(3)  # behind the group, before the next probe
print("appended", flush=True)
time.sleep(600)
"""


def test_group_at_the_journal_end_is_applied_once(store, tmp_path):
    srv = Server(store, free_port())
    srv.start()
    relay = Relay(srv.port)
    go = str(tmp_path / "go")
    env = dict(os.environ, CAIRN_DIR=relay.url, CAIRN_REMOTE_RETRY="0.3")
    child = subprocess.Popen([PYTHON, "-c", CHILD, go], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        run_id = child.stdout.readline().strip()
        assert child.stdout.readline().strip() == "offline"
        relay.mode = "drop"
        open(go, "w").close()
        assert child.stdout.readline().strip() == "appended"
        assert relay.dropped >= 1  # the group reached the server, its answer did not
        child.kill()
        child.wait()
        relay.mode = "pass"
        out = cli("sync", env=env)
        assert out.startswith("sent "), out
        run = srv.get("/api/v1/runs/" + run_id)
        pts = srv.get("/api/v1/runs/%s/metrics/loss?raw=1" % run_id)["points"]
        assert [p[0] for p in pts] == list(range(9000))
        assert run["metrics"]["loss"]["count"] == 9000  # no record applied twice
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        relay.close()
        srv.stop()
