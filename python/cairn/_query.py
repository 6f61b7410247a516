"""cairn._query — reading runs back: records, queries, history, diffs, digests.

``runs()`` returns a ``RunList`` (a list of ``RunRecord``) from the library's
query engine (``cairn_query_runs_json``: the query language of DESIGN.md §6,
sorting, limits — the compiler `cairn ls` and the HTTP API use).

A ``RunRecord`` is a snapshot: plain dicts and lists parsed from the run's
JSON (see docs/python.md), with non-finite metric values ("NaN",
"Infinity", "-Infinity" in JSON) and non-finite float params
({"$float": "NaN"} in JSON) turned back into floats, so a float param NaN
and a string param "NaN" stay apart.

Pure functions over the shared store handles of cairn._store; no state.
"""

from __future__ import annotations

import ctypes
import json
from collections import namedtuple

from . import _artifacts, _lib
from ._lib import enc, take_string
from ._store import active_run, open_store

_NONFINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}

MetricPoint = namedtuple("MetricPoint", "step timestamp value")


def _num(x):
    """A metric value from JSON: non-finite strings back to floats, ints to float."""
    if isinstance(x, str):
        return _NONFINITE.get(x, x)
    if isinstance(x, int) and not isinstance(x, bool):
        return float(x)
    return x


def _param(v):
    """A param value from JSON: {"$float": "NaN" | "Infinity" | "-Infinity"}
    is a non-finite float (docs/internals/json.md); everything else is as
    parsed (a string "NaN" stays a string)."""
    if isinstance(v, dict) and len(v) == 1 and "$float" in v:
        return _NONFINITE.get(v["$float"], float("nan"))
    return v


def _store(store):
    if store is None:
        r = active_run()
        if r is not None:
            return open_store(r.store)
    return open_store(store)


def _run_id(r):
    if isinstance(r, str):
        return r
    rid = getattr(r, "id", None)
    if isinstance(rid, str):
        return rid
    raise TypeError("expected a run id, a Run or a RunRecord, not %s" % type(r).__name__)


class RunRecord:
    """One run as stored.  Attributes: id, name, project, seq, status,
    start_time, end_time (seconds since the epoch), params (dict), metrics
    (dict key -> last value), metric_summaries (key -> {last, min, max,
    count, step, timestamp}), tags (list), properties (dict), note, code,
    environment, datasets, artifacts (as stored; artifacts only from
    ``get_run``), parent (the parent run's id, or None), children (how many
    runs have this one as parent), and ``data``: the whole JSON object."""

    def __init__(self, data: dict, store_dir: str):
        self.data = data
        self.store = store_dir
        self.id = data.get("id")
        self.name = data.get("name")
        self.project = data.get("project")
        self.seq = data.get("seq")
        self.status = data.get("status")
        self.start_time = data.get("start_time")
        self.end_time = data.get("end_time")
        self.parent = data.get("parent")
        self.children = data.get("children") or 0
        self.params = {k: _param(v) for k, v in (data.get("params") or {}).items()}
        summ = {}
        for k, s in (data.get("metrics") or {}).items():
            if isinstance(s, dict):
                summ[k] = {f: (_num(v) if f in ("last", "min", "max") else v) for f, v in s.items()}
            else:
                summ[k] = _num(s)
        self.metric_summaries = summ
        self.metrics = {k: (s.get("last") if isinstance(s, dict) else s) for k, s in summ.items()}
        self.tags = list(data.get("tags") or [])
        self.properties = dict(data.get("properties") or {})
        self.note = data.get("note")
        self.code = data.get("code")
        self.environment = data.get("environment")
        self.datasets = list(data.get("datasets") or [])
        self.artifacts = list(data.get("artifacts") or [])

    def download_artifact(self, path, dest=None):
        """Copy the artifact at ``path`` (a file, or every file under a
        directory) to ``dest``; returns where it went."""
        h, _ = _lib_store(self.store)
        return _artifacts.download(h, self.id, path, dest)

    def open_artifact(self, path, mode="rb", encoding=None):
        """Open the artifact at ``path`` for reading (``"rb"`` or ``"r"``)."""
        h, _ = _lib_store(self.store)
        return _artifacts.open_(h, self.id, path, mode, encoding)

    def metric_history(self, key, numpy=False):
        """Every point of metric ``key``: a list of MetricPoint(step,
        timestamp, value), or with numpy=True an (n, 3) float array with the
        columns step, timestamp, value."""
        h, _ = _lib_store(self.store)
        text = take_string(_lib.lib().cairn_run_metric_history_json, h, enc(self.id), enc(key))
        pts = [MetricPoint(p[0], p[1], _num(p[2])) for p in json.loads(text)]
        if numpy:
            import numpy as np

            return np.array(pts, dtype=np.float64).reshape(len(pts), 3)
        return pts

    def to_dict(self):
        return self.data

    def __repr__(self):
        return "<cairn.RunRecord %s %s (%s)>" % ((self.id or "")[:8], self.name, self.status)


def _lib_store(store_dir):
    return open_store(store_dir)


class RunList(list):
    """A list of RunRecord with ``to_pandas()``."""

    total = None  # runs matching the query before the limit, when the library says

    def to_pandas(self):
        """One row per run: id, name, project, status, start_time, end_time,
        tags, then ``params.K`` and ``metrics.K`` columns.  Needs pandas."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "RunList.to_pandas() needs pandas (pip install pandas, "
                "or apt-get install python3-pandas)"
            ) from None
        rows = []
        for r in self:
            row = {
                "id": r.id,
                "name": r.name,
                "project": r.project,
                "status": r.status,
                "start_time": r.start_time,
                "end_time": r.end_time,
                "tags": ",".join(r.tags),
            }
            for k, v in r.params.items():
                row["params." + k] = v
            for k, v in r.metrics.items():
                row["metrics." + k] = v
            rows.append(row)
        df = pd.DataFrame(rows)
        for c in ("start_time", "end_time"):
            if c in df:
                df[c] = pd.to_datetime(df[c], unit="s", utc=True)
        return df


def runs(query="", sort=None, limit=None, project=None, store=None, include_deleted=False):
    """Runs matching ``query`` (DESIGN.md §6, e.g. ``'metrics.auc > 0.9 and
    params.model = "gbm"'``), sorted by ``sort`` (e.g. ``"-metrics.auc"``),
    at most ``limit`` (None: all; 0 or less is a ValueError, as ``cairn ls
    --limit 0`` is a usage error); newest first by default."""
    if limit is not None and int(limit) < 1:
        raise ValueError("limit must be at least 1 (None lists every run), not %r" % (limit,))
    h, sdir = _store(store)
    o = _lib.QueryOptions(
        _lib.QUERY_OPTIONS_VERSION,
        enc(query or ""),
        enc(sort) if sort else None,
        int(limit) if limit is not None else 0,
        0,
        enc(project) if project else None,
        1 if include_deleted else 0,
    )
    data = json.loads(take_string(_lib.lib().cairn_query_runs_json, h, ctypes.byref(o)))
    out = RunList(RunRecord(d, sdir) for d in data.get("runs", []))
    out.total = data.get("total")
    return out


def get_run(run_id, store=None):
    """One run by id, unique id prefix (4+ hex digits) or name."""
    h, sdir = _store(store)
    text = take_string(_lib.lib().cairn_run_get_json, h, enc(_run_id(run_id)))
    return RunRecord(json.loads(text), sdir)


def diff(a, b, store=None):
    """The difference of two runs across every dimension, as ``cairn diff
    --json`` prints it, as a dict."""
    h, _ = _store(store)
    return json.loads(
        take_string(_lib.lib().cairn_run_diff_json, h, enc(_run_id(a)), enc(_run_id(b)))
    )


class Digest(str):
    """A path's digest, ``"<algo>:<hex>"``, with ``algo``, ``files``,
    ``bytes``, ``path`` and ``errors`` attributes."""

    def __new__(cls, info: dict):
        self = super().__new__(cls, info.get("digest") or "")
        self.info = info
        self.path = info.get("path")
        self.algo = info.get("algo")
        self.files = info.get("files")
        self.bytes = info.get("bytes")
        self.errors = list(info.get("errors") or [])
        return self


def hash_path(path, digest="xxh128", store=None):
    """The digest of a file or directory (``"xxh128:…"``; ``digest`` may be
    "sha256" or "md5"), using the store's hash cache when a store is given or
    a run is active."""
    h = None
    if store is not None:
        h, _ = open_store(store)
    elif active_run() is not None:
        h, _ = open_store(active_run().store)
    import os

    text = take_string(
        _lib.lib().cairn_hash_path_json, h, enc(os.fspath(path)), enc(digest) if digest else None
    )
    return Digest(json.loads(text))
