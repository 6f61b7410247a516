"""cairn._artifacts — reading a run's artifacts back: a checkpoint to resume
from, a model to evaluate.

``download(h, run_id, path, dest)`` copies the artifact at ``path`` (or
every artifact under it, when it names a directory) to ``dest``;
``open_(h, run_id, path, mode)`` opens one for reading.  Both go through the
library's object store (``cairn_artifact_lookup`` then
``cairn_object_path``): for objects in a bucket that is a file of the local
cache, downloaded once and checked against its content address, so the bytes
read are the bytes logged.  Nothing here writes to the store.  Stateless;
thread-safe as the library is.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil

from . import _lib
from ._errors import InvalidError, NotFoundError
from ._lib import check, dec, enc, take_string

_ENOTFOUND = -3


def _clean(path):
    if not isinstance(path, str) or not path:
        raise InvalidError("an artifact path is a non-empty relative path, not %r" % (path,))
    p = path.strip("/")
    if not p or path.startswith("/") or any(part in ("", ".", "..") for part in p.split("/")):
        raise InvalidError("artifact path '%s' is not a clean relative path" % path)
    return p


def _object_file(h, run_id, path):
    """The local file holding the artifact's bytes, or None when the run has
    no artifact at exactly ``path``."""
    L = _lib.lib()
    oid = ctypes.create_string_buffer(_lib.OID_HEXSZ + 1)
    size = ctypes.c_int64()
    media = ctypes.c_void_p()
    rc = L.cairn_artifact_lookup(oid, ctypes.byref(size), ctypes.byref(media), h, enc(run_id), enc(path))
    if media.value:
        L.cairn_free(media)
    if rc == _ENOTFOUND:
        return None
    check(rc)
    out = ctypes.c_void_p()
    check(L.cairn_object_path(ctypes.byref(out), h, oid.value))
    try:
        return dec(ctypes.string_at(out.value))
    finally:
        L.cairn_free(out)


def _under(h, run_id, path):
    """The run's artifact paths under directory ``path``."""
    data = json.loads(take_string(_lib.lib().cairn_run_get_json, h, enc(run_id)))
    pre = path + "/"
    return sorted(a["path"] for a in data.get("artifacts") or [] if a.get("path", "").startswith(pre))


def download(h, run_id, path, dest=None):
    """Copy artifact ``path`` of the run to ``dest`` and return where it went.
    A file goes to ``dest`` (default: its base name in the current
    directory; into ``dest`` when that is a directory); a directory's files
    go under ``dest`` (default: its base name) with their relative paths."""
    p = _clean(path)
    src = _object_file(h, run_id, p)
    if src is not None:
        if dest is None:
            dest = os.path.basename(p)
        elif os.path.isdir(dest):
            dest = os.path.join(dest, os.path.basename(p))
        parent = os.path.dirname(os.path.abspath(dest))
        os.makedirs(parent, exist_ok=True)
        tmp = dest + ".cairn-part"
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        return dest
    files = _under(h, run_id, p)
    if not files:
        raise NotFoundError("run %s has no artifact '%s'" % (run_id, p))
    if dest is None:
        dest = os.path.basename(p)
    for f in files:
        download(h, run_id, f, os.path.join(dest, f[len(p) + 1 :]))
    return dest


def open_(h, run_id, path, mode="rb", encoding=None):
    """Open artifact ``path`` for reading ("rb", or "r" for text)."""
    if mode not in ("r", "rb", "rt"):
        raise InvalidError("artifacts open for reading only ('r' or 'rb'), not mode %r" % (mode,))
    p = _clean(path)
    src = _object_file(h, run_id, p)
    if src is None:
        if _under(h, run_id, p):
            raise InvalidError("artifact '%s' is a directory: use download_artifact" % p)
        raise NotFoundError("run %s has no artifact '%s'" % (run_id, p))
    if mode == "rb":
        return open(src, "rb")
    return open(src, "r", encoding=encoding or "utf-8")
