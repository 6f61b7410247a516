"""bench/python-binding.py — the Python binding's costs (run by
bench/python-binding.sh from `make bench`), each beside its floor:

- run.log_metric in a tight loop (target >= 300k calls/s), beside a Python
  loop calling a no-op ctypes function (cairn_error_clear) the same number
  of times: the cost of crossing into C at all;
- run.log_metrics with 100 keys per call (target >= 1M points/s), beside
  the same no-op loop counted per point (one crossing per point is what a
  binding without a batch entry point would pay at least);
- `import cairn` + cairn.init() with code and environment capture, as a
  whole `python3 -c` process in a clean git repository of 1,000 files
  (target < 150 ms over `python3 -c pass`, the floor).

Prints BENCH lines in the format of bench/bench.h.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

import cairn  # noqa: E402
from cairn import _lib  # noqa: E402

PY = sys.executable


def report(name, value, unit, floor, floor_unit, op, target, target_unit, ok):
    ratio = value / floor if floor else 0.0
    print(
        "BENCH %s: %.4g %s | floor %.4g %s | ratio %.3f | target %s %.4g %s | %s"
        % (name, value, unit, floor, floor_unit, ratio, op, target, target_unit, "PASS" if ok else "MISS"),
        flush=True,
    )


def best_rate(fn, n, repeat=3):
    best = 0.0
    for _ in range(repeat):
        t = time.perf_counter()
        fn(n)
        dt = time.perf_counter() - t
        best = max(best, n / dt)
    return best


def noop_loop(n):
    f = _lib.lib().cairn_error_clear
    for _ in range(n):
        f()


def main():
    with tempfile.TemporaryDirectory(prefix="cairn-bench-py.") as tmp:
        store = os.path.join(tmp, "store")
        os.makedirs(store)
        os.environ["CAIRN_DIR"] = store
        os.environ.pop("CAIRN_RUN_ID", None)
        floor = best_rate(noop_loop, 500_000)

        run = cairn.init(project="bench", capture_code=False, capture_env=False)
        lm = run.log_metric

        def metric_loop(n):
            for i in range(n):
                lm("loss", 0.5)

        rate = best_rate(metric_loop, 500_000)
        t = time.perf_counter()
        run.flush()
        flush_s = time.perf_counter() - t
        report("python log_metric", rate, "calls/s", floor, "no-op calls/s", ">=", 3e5, "calls/s", rate >= 3e5)

        metrics = {"metric_%03d" % i: i * 0.001 for i in range(100)}
        lms = run.log_metrics

        def metrics_loop(n):
            for step in range(n):
                lms(metrics, step=step)

        calls = 5_000
        best = 0.0
        for _ in range(3):
            t = time.perf_counter()
            metrics_loop(calls)
            best = max(best, calls * 100 / (time.perf_counter() - t))
        report("python log_metrics (100 keys)", best, "points/s", floor, "no-op calls/s", ">=", 1e6, "points/s",
               best >= 1e6)
        run.finish()
        print("# flush of the log_metric points took %.3f s (background writer)" % flush_s)

        # import + init with capture, as whole processes in a repo of 1,000 files
        repo = os.path.join(tmp, "repo")
        for i in range(1000):
            d = os.path.join(repo, "src", "m%02d" % (i % 50))
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "f%04d.py" % i), "w") as f:
                f.write("x = %d\n" % i)
        genv = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@e", GIT_COMMITTER_NAME="b",
                    GIT_COMMITTER_EMAIL="b@e")
        subprocess.run(["git", "init", "-q", repo], check=True, env=genv)
        subprocess.run(["git", "-C", repo, "add", "."], check=True, env=genv)
        subprocess.run(["git", "-C", repo, "commit", "-q", "-m", "bench"], check=True, env=genv)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.path.join(HERE, "..", "python")

        def wall(args, n=15):
            ts = []
            for _ in range(n):
                t = time.perf_counter()
                subprocess.run(args, cwd=repo, env=env, check=True)
                ts.append(time.perf_counter() - t)
            return statistics.median(ts)

        base = wall([PY, "-c", "pass"])
        full = wall([PY, "-c", "import cairn; cairn.init(project='startup')"])
        over_ms = (full - base) * 1000
        report("python import+init (code+env capture, 1,000-file repo)", full * 1000, "ms", base * 1000,
               "ms (python3 -c pass)", "<=", 150, "ms over the floor", over_ms <= 150)
        print("# import cairn + init: %.1f ms over python3 -c pass" % over_ms)


if __name__ == "__main__":
    main()
