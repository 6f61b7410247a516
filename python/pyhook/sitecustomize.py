"""cairn's startup hook for Python commands run by `cairn run`.

`cairn run` puts this directory first on the command's PYTHONPATH, so Python
imports this file at startup (site.py imports ``sitecustomize``).  It then:

1. takes itself back out: its directory leaves ``sys.path`` and
   ``PYTHONPATH`` (so the program, and any Python it starts, sees the
   environment it was given), and the ``sitecustomize`` that would have run
   without cairn (the next one on ``sys.path``) is imported in its place,
   with site.py's handling of its errors;
2. when ``argparse`` is first imported, and only then, loads
   ``_cairn_argparse.py`` from this directory, which wraps the parser so the
   program's parsed namespace is reported to `cairn run` (see there).  A
   program that does not use argparse pays for this file only: it is kept
   small because it is compiled on every start where no bytecode cache can
   be written (an installed, read-only share/cairn/pyhook);
3. when ``CAIRN_SHIM_SOCK`` is set (automatic capture, docs/internals/
   auto-capture.md), adds an audit hook (``sys.addaudithook``) that reports
   each file the program opens by path, once per process, on the same
   socket and in the same message format as the LD_PRELOAD shim
   (src/cli/fevent.h): so opens the shim cannot see (a static Python, an
   environment without LD_PRELOAD) are caught too.  `cairn run` dedupes the
   two.  Files under the interpreter's prefixes and bytecode are not sent.

The hook must never break the program: every failure is swallowed.  With
CAIRN_PYHOOK_DEBUG=1 it says what failed on stderr (or appends to the file
CAIRN_PYHOOK_DEBUG names).  It imports nothing of cairn.
"""

import os
import sys

def _debug(msg):
    where = os.environ.get("CAIRN_PYHOOK_DEBUG")
    if not where:
        return
    try:
        line = "cairn pyhook: %s\n" % msg
        if where == "1":
            sys.stderr.write(line)
        else:
            with open(where, "a") as f:
                f.write(line)
    except Exception:
        pass


# --- 1. out of the way ------------------------------------------------------------


def _leave(here):
    real = os.path.realpath(here)

    def ours(p):
        try:
            return bool(p) and os.path.realpath(p) == real
        except Exception:
            return False

    sys.path[:] = [p for p in sys.path if not ours(p)]
    pp = os.environ.get("PYTHONPATH")
    if pp is not None:
        parts = pp.split(os.pathsep)
        if parts and ours(parts[0]):
            parts = parts[1:]
        if parts:
            os.environ["PYTHONPATH"] = os.pathsep.join(parts)
        else:
            del os.environ["PYTHONPATH"]


def _chain():
    """Import the sitecustomize that would have run without cairn."""
    me = sys.modules.pop("sitecustomize", None)
    try:
        try:
            __import__("sitecustomize")
            return
        except ImportError as exc:
            if exc.name != "sitecustomize":
                raise
    except Exception as err:  # as site.py reports an error in sitecustomize
        if sys.flags.verbose:
            sys.excepthook(*sys.exc_info())
        else:
            sys.stderr.write(
                "Error in sitecustomize; set PYTHONVERBOSE for traceback:\n%s: %s\n"
                % (err.__class__.__name__, err)
            )
    if me is not None and "sitecustomize" not in sys.modules:
        sys.modules["sitecustomize"] = me


class _ArgparseFinder:
    """Finds argparse as the other finders would, and has it patched (by
    _cairn_argparse, from this directory) once it has been executed."""

    here = None

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "argparse":
            return None
        try:
            sys.meta_path.remove(cls)
        except ValueError:
            pass
        try:
            spec = None
            for f in sys.meta_path:
                find = getattr(f, "find_spec", None)
                if find is not None:
                    spec = find(name, path, target)
                    if spec is not None:
                        break
            loader = spec.loader if spec is not None else None
            if loader is None or not hasattr(loader, "exec_module"):
                return spec
            orig = loader.exec_module

            def exec_module(module):
                orig(module)
                try:
                    sys.path.insert(0, cls.here)
                    try:
                        import _cairn_argparse
                    finally:
                        sys.path.remove(cls.here)
                    _cairn_argparse.patch(module, _debug)
                except Exception as e:
                    _debug("cannot wrap argparse: %r" % (e,))

            loader.exec_module = exec_module
            return spec
        except Exception as e:
            _debug("cannot find argparse: %r" % (e,))
            return None


# --- 3. files opened ----------------------------------------------------------------


def _file_hook(name):
    addr = "\0" + name
    seen = set()
    skip = tuple(
        p + os.sep
        for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        if p and p != os.sep
    )
    state = {"sock": None, "pid": None, "dead": False}
    acc = os.O_ACCMODE if hasattr(os, "O_ACCMODE") else 3
    wmask = os.O_CREAT | os.O_TRUNC

    def hook(event, args):
        if event != "open" or state["dead"]:
            return
        try:
            path, mode, flags = args
            if isinstance(path, int) or path is None:
                return
            path = os.fsdecode(path)
            if not isinstance(flags, int) or flags < 0:
                flags = 0
                if isinstance(mode, str) and any(c in mode for c in "wax+"):
                    flags = os.O_WRONLY | os.O_CREAT
            op = "r" if (flags & acc) == os.O_RDONLY and not (flags & wmask) else "w"
            if not path.startswith(os.sep):
                path = os.path.join(os.getcwd(), path)
            if path.startswith(skip) or path.endswith((".pyc", ".pyo")):
                return
            key = (op, path)
            if key in seen:
                return
            if len(seen) >= 65536:  # bounded: a path may then be sent again
                seen.clear()
            seen.add(key)
            pid = os.getpid()
            if state["sock"] is None or state["pid"] != pid:
                # _socket, not socket: the C module alone, loaded on the
                # first file worth sending (its import opens files too:
                # those are under the prefix and return above)
                import _socket

                state["sock"] = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM)
                state["sock"].settimeout(1.0)
                state["pid"] = pid
            msg = ("cairn1 %d %s %x " % (pid, op, flags & 0xFFFFFFFF)).encode() + os.fsencode(path)
            state["sock"].sendto(msg, addr)
        except ConnectionRefusedError:
            state["dead"] = True
        except Exception:
            pass

    sys.addaudithook(hook)


def _install():
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        _leave(here)
    except Exception as e:
        _debug("cannot leave sys.path: %r" % (e,))
    try:
        if os.environ.get("CAIRN_CAPTURE_FD"):
            _ArgparseFinder.here = here
            sys.meta_path.insert(0, _ArgparseFinder)
            if "argparse" in sys.modules:  # imported before us: patch it now
                sys.meta_path.remove(_ArgparseFinder)
                sys.path.insert(0, here)
                try:
                    import _cairn_argparse
                finally:
                    sys.path.remove(here)
                _cairn_argparse.patch(sys.modules["argparse"], _debug)
    except Exception as e:
        _debug("cannot install the argparse hook: %r" % (e,))
    try:
        name = os.environ.get("CAIRN_SHIM_SOCK")
        if name and hasattr(sys, "addaudithook"):
            _file_hook(name)
    except Exception as e:
        _debug("cannot install the file hook: %r" % (e,))
    _chain()


_install()
