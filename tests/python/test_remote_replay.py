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

The second case (below): a group the server refuses as a whole goes record
by record, and the replayer is killed in the middle of that span.
"""

import contextlib
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
    answers are not passed on; "hang": the first hang_after requests to
    DROP_PATH pass, those after reach the server and their connections are
    held open unanswered (hung set); "pass": everything passes."""

    DROP_PATH = b"/api/v1/store/w/metrics_insert"

    def __init__(self, upstream_port):
        self.up = upstream_port
        self.mode = "closed"
        self.dropped = 0
        self.seen = 0
        self.hang_after = 0
        self.hung = threading.Event()
        self.closed = False
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
            if self.mode == "hang" and self.DROP_PATH in lines[0]:
                self.seen += 1
                if self.seen > self.hang_after:
                    self.hung.set()  # applied by the server, the client left waiting
                    while not self.closed:
                        time.sleep(0.05)
                    return
            c.sendall(answer)

    def close(self):
        self.closed = True
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


@contextlib.contextmanager
def offline_child(store, tmp_path, script):
    """A server, a relay before it, and a child process running script
    with the relay as its store; yields (srv, relay, env, child, go, procs),
    and kills what is still running in procs at the end."""
    srv = Server(store, free_port())
    srv.start()
    relay = Relay(srv.port)
    go = str(tmp_path / "go")
    env = dict(os.environ, CAIRN_DIR=relay.url, CAIRN_REMOTE_RETRY="0.3")
    child = subprocess.Popen([PYTHON, "-c", script, go], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    procs = [child]
    try:
        yield srv, relay, env, child, go, procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        relay.close()
        srv.stop()


def test_group_at_the_journal_end_is_applied_once(store, tmp_path):
    with offline_child(store, tmp_path, CHILD) as (srv, relay, env, child, go, _):
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


# --- a group refused as a whole, sent record by record, and a crash in the middle ---------
#
# A journal of six 1,000-point metrics records whose second one the server
# refuses for good (a point with a negative step, which the client never
# writes: the test puts it in the journal, with its checksum).  Replay sends
# the six as one group, the server refuses it as a whole, and replay goes on
# record by record: the first is applied, the second refused, the third
# applied and its answer never comes: the replayer (a live process, or
# `cairn sync`) is killed (-9) then.  `cairn sync` replays the rest.  Without
# the one-by-one span made durable it grouped records 3 to 6 under a new key
# and the server applied the third a second time (the summary's count
# 6,000 for 5,000 points stored).

ALONE_CHILD = r"""
import os, sys, time, cairn
go = sys.argv[1]
run = cairn.init(project="spool", name="alone", capture_code=False, capture_env=False)
print(run.id, flush=True)
for r in range(6):
    for s in range(r * 1000, (r + 1) * 1000):
        run.log_metric("loss", float(s), step=s)
    run.flush()  # one journal record each
print("offline", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
time.sleep(1.2)
run.log_metric("loss", 6000.0, step=6000)
run.flush()  # the next write probes: the journal is replayed
print("replayed", flush=True)
time.sleep(600)
"""


def journal_path(tmp_path):
    import glob

    got = glob.glob(str(tmp_path / "home/.local/share/cairn/spool/*/*.journal"))
    assert len(got) == 1, got
    return got[0]


def make_step_negative(path, which):
    """Give the first point of the journal's metrics record number `which`
    (from 0) a negative step, its checksum made again (the format:
    lib/store/remote/journal.h)."""
    import ctypes
    import struct

    xxh = ctypes.CDLL("libxxhash.so.0").XXH3_64bits_withSeed
    xxh.restype = ctypes.c_uint64
    xxh.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64]

    def wstr(b, at):
        n = struct.unpack_from("<I", b, at)[0]
        return b[at + 4:at + 4 + n].decode(), at + 4 + n + 1

    with open(path, "r+b") as f:
        data = f.read()
        (ulen,) = struct.unpack_from("<I", data, 16)
        off, k = 20 + ulen + 40, 0
        while off < len(data):
            n, seq = struct.unpack_from("<IQ", data, off)
            payload = bytearray(data[off + 20:off + 20 + n])
            op, at = wstr(payload, 0)
            _, at = wstr(payload, at)
            if op == "metrics_insert":
                if k == which:
                    for _ in range(2):  # runs, then keys
                        (cnt,) = struct.unpack_from("<I", payload, at)
                        at += 4
                        for _ in range(cnt):
                            _, at = wstr(payload, at)
                    struct.pack_into("<q", payload, at + 4 + 8, -1)  # point 0's step
                    f.seek(off + 12)
                    f.write(struct.pack("<Q", xxh(bytes(payload), n, seq)))
                    f.seek(off + 20)
                    f.write(payload)
                    return
                k += 1
            off += 20 + n
    raise AssertionError("no metrics record %d in %s" % (which, path))


def check_once(srv, run_id):
    run = srv.get("/api/v1/runs/" + run_id)
    steps = [p[0] for p in srv.get("/api/v1/runs/%s/metrics/loss?raw=1" % run_id)["points"]]
    assert len(steps) == len(set(steps))
    want = set(range(1000)) | set(range(2000, 6000))  # the refused record's are not stored
    assert want <= set(steps) and not set(range(1000, 2000)) & set(steps), steps[:5]
    assert run["metrics"]["loss"]["count"] == len(steps)  # no record applied twice


def test_one_by_one_span_after_cairn_sync_was_killed(store, tmp_path):
    """The replayer killed mid-span is `cairn sync` itself."""
    with offline_child(store, tmp_path, ALONE_CHILD) as (srv, relay, env, child, _, procs):
        run_id = child.stdout.readline().strip()
        assert child.stdout.readline().strip() == "offline"
        child.kill()
        child.wait()
        make_step_negative(journal_path(tmp_path), 1)
        # the group (refused), record 1 (applied), record 2 (refused), record 3 (hangs)
        relay.hang_after = 3
        relay.mode = "hang"
        sync = subprocess.Popen([CAIRN_BIN, "sync"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        procs.append(sync)
        assert relay.hung.wait(60)
        sync.kill()
        _, err1 = sync.communicate()
        relay.mode = "pass"
        r = subprocess.run([CAIRN_BIN, "sync"], env=env, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0 and r.stdout.startswith("sent "), (r.stdout, r.stderr)
        check_once(srv, run_id)
        # the bad record is reported once: by the sync that was killed, not again
        assert (err1 + r.stderr).count("refused by the server") == 1, (err1, r.stderr)
        assert "point 0 is out of range" in err1


def test_one_by_one_span_after_the_process_was_killed(store, tmp_path):
    """The replayer killed mid-span is the process that wrote the journal
    (its own replay, at a write after the server is back)."""
    with offline_child(store, tmp_path, ALONE_CHILD) as (srv, relay, env, child, go, _):
        run_id = child.stdout.readline().strip()
        assert child.stdout.readline().strip() == "offline"
        make_step_negative(journal_path(tmp_path), 1)  # in place: the process reads it again
        relay.hang_after = 3
        relay.mode = "hang"
        open(go, "w").close()
        assert relay.hung.wait(60)
        child.kill()
        child.wait()
        relay.mode = "pass"
        r = subprocess.run([CAIRN_BIN, "sync"], env=env, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0 and r.stdout.startswith("sent "), (r.stdout, r.stderr)
        check_once(srv, run_id)
        # refused by the process (its report died with it); sync does not send it again
        assert "refused by the server" not in r.stderr, r.stderr
