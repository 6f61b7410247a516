"""cairn._params — turning Python values into cairn's flat, typed params.

A run's params are a flat map of dotted keys to int, float, bool or string
(DESIGN.md §1).  Nested mappings are flattened (``{"model": {"lr": 0.1}}``
becomes ``model.lr = 0.1``); an ``argparse.Namespace`` is its ``vars()``;
lists, tuples and sets are recorded as their JSON text (as the config
flattener of ``cairn run`` records lists as strings); numpy scalars become
their Python value; ``None`` is recorded as the string ``"None"`` (so an
option left at its default is still visible); anything else as ``str()``.

Pure functions, no state.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._lib import TYPE_BOOL, TYPE_FLOAT, TYPE_INT, TYPE_STRING

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def as_mapping(params) -> Mapping:
    """A dict, a Mapping or an argparse.Namespace (anything with __dict__) as a Mapping."""
    if params is None:
        return {}
    if isinstance(params, Mapping):
        return params
    if hasattr(params, "__dict__") and not isinstance(params, type):
        return vars(params)
    raise TypeError(
        "params must be a dict or an argparse.Namespace, not %s" % type(params).__name__
    )


def flatten(params, prefix: str = "") -> list:
    """[(dotted key, value)] for a (nested) mapping or Namespace, in insertion order."""
    out = []
    _flatten(as_mapping(params), prefix, out, 0)
    return out


def _flatten(m: Mapping, prefix: str, out: list, depth: int) -> None:
    if depth > 64:
        raise ValueError("params nested more than 64 levels deep at '%s'" % prefix)
    for k, v in m.items():
        key = prefix + str(k)
        if isinstance(v, Mapping):
            if v:
                _flatten(v, key + ".", out, depth + 1)
            else:
                out.append((key, "{}"))
        else:
            out.append((key, v))


def _jsonable(v):
    if isinstance(v, (set, frozenset)):
        return sorted((_jsonable(x) for x in v), key=repr)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    item = getattr(v, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    return str(v)


def typed(v):
    """(cairn type, int, float, str) for one param value."""
    if isinstance(v, bool):
        return TYPE_BOOL, int(v), 0.0, None
    if isinstance(v, int):
        if _INT64_MIN <= v <= _INT64_MAX:
            return TYPE_INT, v, 0.0, None
        return TYPE_STRING, 0, 0.0, str(v)
    if isinstance(v, float):
        return TYPE_FLOAT, 0, v, None
    if isinstance(v, str):
        return TYPE_STRING, 0, 0.0, v
    if v is None:
        return TYPE_STRING, 0, 0.0, "None"
    if isinstance(v, (list, tuple, set, frozenset)):
        import json  # here, not at import time: `import cairn` stays cheap

        return TYPE_STRING, 0, 0.0, json.dumps(_jsonable(v), allow_nan=True)
    if isinstance(v, bytes):
        return TYPE_STRING, 0, 0.0, v.decode("utf-8", "replace")
    item = getattr(v, "item", None)  # numpy scalars, 0-d arrays
    if callable(item) and getattr(v, "ndim", None) == 0:
        return typed(item())
    return TYPE_STRING, 0, 0.0, str(v)
