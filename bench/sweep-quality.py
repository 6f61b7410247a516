"""bench/sweep-quality.py — search quality of cairn's TPE against Optuna's TPE
(the reference) and random search (the floor both must beat): Branin (2-d),
Hartmann-6 and a scikit-learn gradient-boosting AUC, 50 trials, 10 seeds
each.  cairn's sampler is driven in-process through libcairn.so (ctypes), so
both searches see the same objective calls.

Pass rule, per objective: the median best value of cairn's TPE is no worse
than Optuna's TPE median by more than TOL of the spread between Optuna's
median and random search's median (TOL = 0.25), and cairn's TPE beats
random's median.  Both distributions are printed.

  CAIRN_LIB          the library (default build-rel/libcairn.so)
  SWEEP_QUALITY_SEEDS / _TRIALS / _OBJECTIVES (comma list) shrink a run.
"""
import ctypes
import math
import os
import statistics
import sys
import time

import numpy as np

SEEDS = int(os.environ.get("SWEEP_QUALITY_SEEDS", 10))
TRIALS = int(os.environ.get("SWEEP_QUALITY_TRIALS", 50))
TOL = 0.25

lib = ctypes.CDLL(os.environ.get("CAIRN_LIB", "build-rel/libcairn.so"))
vp = ctypes.c_void_p
lib.cairn_sweep_spec_parse.argtypes = [ctypes.POINTER(vp), ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p]
lib.cairn_sweep_spec_set_seed.argtypes = [vp, ctypes.c_uint64]
lib.cairn_sweep_spec_free.argtypes = [vp]
lib.cairn_sampler_new.argtypes = [ctypes.POINTER(vp), vp]
lib.cairn_sampler_free.argtypes = [vp]
lib.cairn_sampler_suggest_x.argtypes = [ctypes.POINTER(ctypes.c_double), vp, ctypes.c_int64]
lib.cairn_sampler_tell_x.argtypes = [vp, ctypes.POINTER(ctypes.c_double), ctypes.c_int, ctypes.c_double]
lib.cairn_error_last.restype = ctypes.c_char_p


def cairn_search(method, space, goal, f, seed):
    params = "".join("  %s: %s\n" % (k, v[0]) for k, v in space.items())
    text = ("method: %s\nmetric: {name: y, goal: %s}\ntrials: %d\nseed: %d\nparameters:\n%s"
            % (method, goal, TRIALS, seed, params)).encode()
    spec, sm = vp(), vp()
    if lib.cairn_sweep_spec_parse(ctypes.byref(spec), text, len(text), b"bench"):
        raise RuntimeError(lib.cairn_error_last().decode())
    lib.cairn_sampler_new(ctypes.byref(sm), spec)
    x = (ctypes.c_double * len(space))()
    best = None
    for t in range(TRIALS):
        lib.cairn_sampler_suggest_x(x, sm, t)
        y = f(dict(zip(space, list(x))))
        best = y if best is None else (max(best, y) if goal == "maximize" else min(best, y))
        lib.cairn_sampler_tell_x(sm, x, 2, y)
    lib.cairn_sampler_free(sm)
    lib.cairn_sweep_spec_free(spec)
    return best


def optuna_search(kind, space, goal, f, seed):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed) if kind == "tpe" else optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(direction=goal, sampler=sampler)

    def obj(trial):
        p = {k: v[1](trial, k) for k, v in space.items()}
        return f(p)

    study.optimize(obj, n_trials=TRIALS)
    return study.best_value


def uni(lo, hi):
    return ("{min: %r, max: %r}" % (float(lo), float(hi)), lambda t, k: t.suggest_float(k, lo, hi))


def logu(lo, hi):
    return ("{min: %r, max: %r, distribution: log_uniform}" % (lo, hi),
            lambda t, k: t.suggest_float(k, lo, hi, log=True))


def intu(lo, hi):
    return ("{min: %d, max: %d}" % (lo, hi), lambda t, k: t.suggest_int(k, lo, hi))


def branin(p):
    x0, x1 = p["x0"], p["x1"]
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x1 - b * x0 * x0 + c * x0 - 6) ** 2 + 10 * (1 - t) * math.cos(x0) + 10


H_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
H_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                       [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
H_C = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(p):
    x = np.array([p["x%d" % i] for i in range(6)])
    return float(-np.sum(H_C * np.exp(-np.sum(H_A * (x - H_P) ** 2, axis=1))))


_gb = {}


def gb_auc(p):
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    if "data" not in _gb:
        X, y = load_breast_cancer(return_X_y=True)
        _gb["data"] = train_test_split(X, y, test_size=0.4, random_state=0)
    key = tuple(sorted(p.items()))
    if key in _gb:
        return _gb[key]
    Xtr, Xva, ytr, yva = _gb["data"]
    m = GradientBoostingClassifier(n_estimators=int(p["n_estimators"]), learning_rate=p["learning_rate"],
                                   max_depth=int(p["max_depth"]), subsample=p["subsample"], random_state=0)
    m.fit(Xtr, ytr)
    _gb[key] = v = float(roc_auc_score(yva, m.predict_proba(Xva)[:, 1]))
    return v


OBJECTIVES = {
    "branin": ({"x0": uni(-5, 10), "x1": uni(0, 15)}, "minimize", branin),
    "hartmann6": ({"x%d" % i: uni(0, 1) for i in range(6)}, "minimize", hartmann6),
    "gb_auc": ({"n_estimators": intu(5, 60), "learning_rate": logu(0.001, 1.0), "max_depth": intu(1, 5),
                "subsample": uni(0.3, 1.0)}, "maximize", gb_auc),
}

want = os.environ.get("SWEEP_QUALITY_OBJECTIVES", ",".join(OBJECTIVES)).split(",")
fails = 0
for name in want:
    space, goal, f = OBJECTIVES[name]
    t0 = time.time()
    res = {"cairn-tpe": [], "optuna-tpe": [], "cairn-random": [], "optuna-random": []}
    for s in range(SEEDS):
        res["cairn-tpe"].append(cairn_search("tpe", space, goal, f, s))
        res["cairn-random"].append(cairn_search("random", space, goal, f, s))
        res["optuna-tpe"].append(optuna_search("tpe", space, goal, f, s))
        res["optuna-random"].append(optuna_search("random", space, goal, f, s))
    med = {k: statistics.median(v) for k, v in res.items()}
    sign = 1 if goal == "minimize" else -1  # loss = sign * value
    rnd = statistics.median(res["cairn-random"] + res["optuna-random"])
    spread = abs(sign * (rnd - med["optuna-tpe"]))
    slack = TOL * spread
    ok_ref = sign * (med["cairn-tpe"] - med["optuna-tpe"]) <= slack
    ok_floor = sign * (med["cairn-tpe"] - rnd) < 0
    print("%s (%s, %d trials, %d seeds, %.0fs):" % (name, goal, TRIALS, SEEDS, time.time() - t0))
    for k, v in res.items():
        q = np.percentile(v, [0, 25, 50, 75, 100])
        print("  %-13s median %.6g   [min %.6g q1 %.6g q3 %.6g max %.6g]" % (k, med[k], q[0], q[1], q[3], q[4]))
    passed = ok_ref and ok_floor
    fails += not passed
    print("BENCH sweep quality %s: cairn tpe median %.6g | floor optuna tpe median %.6g, random %.6g | "
          "tolerance %.3g (%.2f x the tpe-random gap) | %s"
          % (name, med["cairn-tpe"], med["optuna-tpe"], rnd, slack, TOL, "PASS" if passed else "MISS"))
    sys.stdout.flush()
