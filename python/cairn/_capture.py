"""cairn._capture — what only the running interpreter knows: its installed
packages, the script it runs, its command line, and in Jupyter the notebook.

The library captures code and environment itself (``cairn_run_capture``);
this module supplies the parts the C side cannot see from outside:

- ``packages()``: name -> version of every distribution importable from
  ``sys.path``.  It finds the same ``*.dist-info`` / ``*.egg-info`` entries
  ``importlib.metadata`` finds, but reads name and version from the entry's
  name (the standard layout ``<name>-<version>.dist-info``) and opens a
  metadata file only when the name lacks the version.  Importing
  ``importlib.metadata`` alone costs ~35 ms and reading every METADATA file
  ~30 ms more; this walk costs about 1 ms.  Names are reported as they are
  found, in sys.path order: the library normalises them (PEP 503: lower case,
  runs of ``-_.`` -> ``-``) and keeps the first of each name, the one that
  imports, in one place for this path and `cairn run`'s (lib/capture/env.c).
- ``capture_channel()``, ``channel_send()``: inside `cairn run`, the pipe
  on which an attached run names the metric keys it logs (so the wrapper does
  not record their printed copies too; src/cli/run-ctl.c).
- ``notebook_path()``: the .ipynb file of the Jupyter kernel we run in, from,
  in order: ``JPY_SESSION_NAME`` (set by jupyter-server for its kernels),
  ``__session__`` / ``__vsc_ipynb_file__`` in the user namespace (IPython,
  VS Code), the running Jupyter servers' session lists matched against our
  kernel's connection file, and last the only .ipynb in the working
  directory (a kernel runs in its notebook's directory; this is what finds
  the notebook under ``jupyter nbconvert --execute`` and papermill).

No state except the one-time "notebook not found" warning flag.
"""

from __future__ import annotations

import os
import sys


def _version_from_file(path: str):
    """The Version: header of a METADATA / PKG-INFO file (first 64 lines)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for i, line in enumerate(f):
                if line.startswith("Version:"):
                    return line[8:].strip()
                if i > 64 or not line.strip():
                    break
    except OSError:
        pass
    return None


def packages() -> dict:
    """{name as found: version} for the distributions on sys.path, in
    sys.path order (the library normalises the names)."""
    found = {}
    for entry in sys.path:
        d = entry or "."
        try:
            it = os.scandir(d)
        except OSError:
            continue
        with it:
            for de in it:
                n = de.name
                if n.endswith(".dist-info"):
                    base, meta = n[:-10], "METADATA"
                elif n.endswith(".egg-info"):
                    base, meta = n[:-9], "PKG-INFO"
                else:
                    continue
                parts = base.split("-")
                name = parts[0]
                if not name or name in found:
                    continue
                version = parts[1] if len(parts) > 1 and parts[1][:1].isdigit() else None
                if version is None:
                    mp = os.path.join(d, n, meta) if de.is_dir() else os.path.join(d, n)
                    version = _version_from_file(mp)
                if version:
                    found[name] = version
    return found


def packages_json() -> str:
    import json

    return json.dumps(packages())  # in sys.path order: the first of a name wins


def capture_channel():
    """Inside `cairn run`: the descriptor of its capture channel
    (CAIRN_CAPTURE_FD=N:INODE), when N is still that pipe; else None."""
    spec = os.environ.get("CAIRN_CAPTURE_FD")
    if not spec:
        return None
    try:
        import stat

        fd, ino = (int(x) for x in spec.split(":"))
        st = os.fstat(fd)
        return fd if stat.S_ISFIFO(st.st_mode) and st.st_ino == ino else None
    except (ValueError, OSError):
        return None


def channel_send(fd, line: bytes) -> bool:
    """Write one message line; False when the channel is gone (`cairn run`
    ended, or the program closed the descriptor)."""
    try:
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view):]
        return True
    except OSError:
        return False


def name_is_secret(name: str) -> bool:
    """Whether a param / option name looks like it holds a secret (the
    library's rule, shared with `cairn run`)."""
    from . import _lib

    return bool(_lib.lib().cairn_name_is_secret(_lib.enc(name)))


def command_line():
    """The command line that started this interpreter, secrets masked as
    `cairn run` masks them (option values, credentials inside URLs)."""
    import ctypes

    from . import _lib

    argv = [sys.executable or "python3"] + list(sys.argv)
    arr = (ctypes.c_char_p * len(argv))(*[_lib.enc(a) for a in argv])
    return _lib.take_string(_lib.lib().cairn_command_line_masked, len(argv), arr)


def script_path():
    """The absolute path of the running script, or None (REPL, -c, notebook)."""
    if in_jupyter():
        return None
    s = sys.argv[0] if sys.argv else ""
    if s and s not in ("-c", "-m", "-") and os.path.isfile(s):
        return os.path.abspath(s)
    return None


def _ipython():
    ip_mod = sys.modules.get("IPython")
    if ip_mod is None:
        return None
    try:
        return ip_mod.get_ipython()
    except Exception:
        return None


def in_jupyter() -> bool:
    """Whether we run inside a Jupyter kernel (not a terminal IPython)."""
    ip = _ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


def _resolve(p):
    """An existing .ipynb for a session path: absolute, relative to the working
    directory, or its base name there (the kernel runs in the notebook's dir)."""
    if not p or not isinstance(p, str):
        return None
    if p.startswith("file://"):
        p = p[7:]
    for cand in (p, os.path.join(os.getcwd(), p), os.path.join(os.getcwd(), os.path.basename(p))):
        if cand.endswith(".ipynb") and os.path.isfile(cand):
            return os.path.abspath(cand)
    return None


def _from_servers():
    """Ask running Jupyter servers which session owns our kernel."""
    try:
        from ipykernel import get_connection_file
        import json
        import glob
        import urllib.request

        kernel_id = os.path.basename(get_connection_file())
        kernel_id = kernel_id.split("-", 1)[-1].rsplit(".", 1)[0]
        try:
            from jupyter_core.paths import jupyter_runtime_dir

            runtime = jupyter_runtime_dir()
        except Exception:
            runtime = os.path.dirname(get_connection_file())
        for info_file in sorted(glob.glob(os.path.join(runtime, "*server-*.json"))):
            try:
                with open(info_file, encoding="utf-8") as f:
                    info = json.load(f)
                url = info["url"].rstrip("/") + "/api/sessions"
                req = urllib.request.Request(url)
                if info.get("token"):
                    req.add_header("Authorization", "token " + info["token"])
                with urllib.request.urlopen(req, timeout=1.0) as resp:
                    sessions = json.load(resp)
            except Exception:
                continue
            for s in sessions:
                if (s.get("kernel") or {}).get("id") == kernel_id:
                    rel = s.get("path") or (s.get("notebook") or {}).get("path")
                    root = info.get("root_dir") or info.get("notebook_dir") or ""
                    found = _resolve(os.path.join(root, rel) if rel else None) or _resolve(rel)
                    if found:
                        return found
    except Exception:
        return None
    return None


def notebook_path():
    """The notebook file of this kernel, or None (see the module comment)."""
    if not in_jupyter():
        return None
    found = _resolve(os.environ.get("JPY_SESSION_NAME"))
    if found:
        return found
    ns = getattr(_ipython(), "user_ns", None) or {}
    for name in ("__session__", "__vsc_ipynb_file__"):
        found = _resolve(ns.get(name))
        if found:
            return found
    found = _from_servers()
    if found:
        return found
    try:
        nbs = [e for e in os.listdir(".") if e.endswith(".ipynb") and os.path.isfile(e)]
    except OSError:
        nbs = []
    if len(nbs) == 1:
        return os.path.abspath(nbs[0])
    return None


_warned_notebook = False


def warn_notebook_not_found() -> None:
    """Say once per process that the notebook could not be found."""
    global _warned_notebook
    if _warned_notebook:
        return
    _warned_notebook = True
    import warnings

    from . import CaptureWarning

    warnings.warn(
        "cairn: running in Jupyter but cannot find the notebook file (no JPY_SESSION_NAME or "
        "__session__, no Jupyter server lists this kernel, and the working directory does not "
        "hold exactly one .ipynb); the notebook is not recorded. "
        "Pass cairn.init(notebook='path/to/notebook.ipynb') to record it.",
        CaptureWarning,
        stacklevel=4,
    )
