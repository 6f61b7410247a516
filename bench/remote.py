"""bench/remote.py — logging to a `cairn server` by its URL (issue 14),
each figure beside the floor it is measured against in the same run:

  remote ingest    run.log_metric in a loop, one Python process, to a
                   loopback server over an SQLite store   vs  the same loop
                   into a local SQLite store (target >= 300k points/s, and
                   the local rate is the floor)
  cairn run        `cairn run -- true` against the server  vs  against the
                   local store (target: at most 50 ms more), medians
  spool replay     `cairn sync` of a journal of N points written while the
                   server was down  vs  the server's batched ingest of the
                   same points from an online client (target >= 1M points/s);
                   once as the loop's writer flushed it (big records), once
                   with a flush every 1,000 points (records of 1,000 points,
                   which the replay coalesces: lib/store/remote/coalesce.c)

Environment: CAIRN (the binary), CAIRN_LIB (libcairn.so), REMOTE_POINTS
(default 1,000,000), REMOTE_RUNS (cairn run samples, default 20).
Prints BENCH lines in the format of bench/bench.h.
"""

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
CAIRN = os.environ.get("CAIRN") or os.path.join(ROOT, "build-rel", "cairn")
N = int(os.environ.get("REMOTE_POINTS", "1000000"))
RUNS = int(os.environ.get("REMOTE_RUNS", "20"))


def bench(name, value, unit, floor, funit, ratio, target, tval, tunit, note):
    print("BENCH %s: %.4g %s | floor %.4g %s | ratio %.3f | target %s %.4g %s | %s"
          % (name, value, unit, floor, funit, ratio, target, tval, tunit, note), flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    def __init__(self, store):
        self.store, self.port, self.p = store, free_port(), None
        self.url = "http://127.0.0.1:%d" % self.port

    def start(self):
        self.p = subprocess.Popen([CAIRN, "server", "--store", self.store, "--listen",
                                   "127.0.0.1:%d" % self.port, "--quiet", "--no-auth"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                urllib.request.urlopen(self.url + "/api/v1/", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("the server did not start")

    def stop(self):
        self.p.terminate()
        self.p.wait()


LOOP = r"""
import sys, time, cairn
n, every = int(sys.argv[1]), int(sys.argv[3])
run = cairn.init(project="bench", name=sys.argv[2], capture_code=False, capture_env=False)
log = run.log_metric
t = time.perf_counter()
if every:
    for i in range(n):
        log("loss", 1.0 / (i + 1), step=i)
        if i % every == every - 1:
            run.flush()
else:
    for i in range(n):
        log("loss", 1.0 / (i + 1), step=i)
run.finish()
print(time.perf_counter() - t)
"""


def loop(store, n, name, env=None, every=0):
    e = dict(os.environ if env is None else env, CAIRN_DIR=store,
             PYTHONPATH=os.path.join(ROOT, "python"))
    r = subprocess.run([sys.executable, "-c", LOOP, str(n), name, str(every)], env=e, capture_output=True,
                       text=True, check=True)
    return float(r.stdout.split()[-1])


def main():
    tmp = tempfile.mkdtemp()
    os.environ["HOME"] = tmp
    os.environ.pop("XDG_DATA_HOME", None)
    try:
        local = os.path.join(tmp, "local")
        served = os.path.join(tmp, "served")
        os.makedirs(local)
        os.makedirs(served)
        subprocess.run([CAIRN, "init", local], check=True, capture_output=True)
        subprocess.run([CAIRN, "init", served], check=True, capture_output=True)
        local, served = local + "/.cairn", served + "/.cairn"
        srv = Server(served)
        srv.start()

        # --- remote ingest from one Python process ---------------------------------
        t_local = loop(local, N, "ingest-local")
        t_remote = loop(srv.url, N, "ingest-remote")
        r_local, r_remote = N / t_local, N / t_remote
        bench("remote ingest (Python run.log_metric, loopback)", r_remote, "points/s", r_local,
              "points/s (local store)", r_remote / r_local, ">=", 300000, "points/s",
              "%d points, finish included" % N)

        # --- cairn run -- true --------------------------------------------------------
        def one(store):
            t = time.perf_counter()
            subprocess.run([CAIRN, "--store", store, "run", "--", "true"], check=True,
                           capture_output=True, cwd=tmp)
            return time.perf_counter() - t
        a, b = [], []
        for _ in range(RUNS):
            a.append(one(local))
            b.append(one(srv.url))
        ma, mb = statistics.median(a) * 1000, statistics.median(b) * 1000
        bench("cairn run -- true against a server", mb, "ms", ma, "ms (local store)", mb / ma,
              "<= floor +", 50, "ms", "median of %d, %.1f ms over the local figure" % (RUNS, mb - ma))

        # --- spool replay ----------------------------------------------------------------
        srv.stop()
        t0 = time.perf_counter()
        loop(srv.url, N, "spooled")  # the server is down: everything goes to the journal
        t_spool = time.perf_counter() - t0
        srv.start()
        t = time.perf_counter()
        out = subprocess.run([CAIRN, "sync", srv.url], check=True, capture_output=True,
                             text=True).stdout
        t_sync = time.perf_counter() - t
        r_sync = N / t_sync
        bench("spool replay (cairn sync)", r_sync, "points/s", r_remote,
              "points/s (online remote ingest)", r_sync / r_remote, ">=", 1000000, "points/s",
              "%d points; spooling them took %.2f s; %s" % (N, t_spool, out.strip()))

        # the same replay from a journal of 1,000-point records: what a training loop that
        # flushes every 1,000 points leaves while offline (one record per flush)
        srv.stop()
        loop(srv.url, N, "spooled-small", every=1000)
        srv.start()
        t = time.perf_counter()
        out = subprocess.run([CAIRN, "sync", srv.url], check=True, capture_output=True,
                             text=True).stdout
        t_small = time.perf_counter() - t
        r_small = N / t_small
        bench("spool replay, 1,000-point records (cairn sync)", r_small, "points/s", r_remote,
              "points/s (online remote ingest)", r_small / r_remote, ">=", 1000000, "points/s",
              "%d points in %d records; %s" % (N, N // 1000, out.strip()))
        srv.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()
