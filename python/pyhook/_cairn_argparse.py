"""Reporting a Python program's argparse namespace to `cairn run`.

Loaded by the startup hook (sitecustomize.py beside this file) when the
program first imports ``argparse``.  ``patch()`` wraps
``ArgumentParser.parse_args``, ``parse_known_args`` and their intermixed
forms, so that the namespace of a successful parse of the program's own
command line is reported over the capture channel (``CAIRN_CAPTURE_FD``, see
src/cli/run-ctl.c): every dest with its value, defaults included, whether it
was typed on the command line, and the option strings that set it.  `cairn
run` records it as params (src/cli/run-params.c).

A parse is reported only when it is the outermost on its thread (a
subparser's parse is part of its parent's; ``parse_args`` calls
``parse_known_args``), has succeeded, parses ``sys.argv[1:]`` (not a list
the program made up), and is called from the program's code, not from a
library (site-packages, dist-packages or the standard library): a launcher's
or a framework's own parser (torchrun, Hydra) is not the program's
configuration.  Which values were typed: ``ArgumentParser._get_values`` is
called for each action taken from the command line and never for a default.

Values are typed as the Python binding types params (cairn._params): bool,
int, float and str as they are, None as "None", lists as JSON text, dicts
flattened to dotted keys, anything else as str().  Nothing of cairn is
imported; every failure is the caller's to swallow (``debug`` says it).
"""

import os
import sys

_debug = None  # set by patch()


# --- the channel --------------------------------------------------------------------


def _channel():
    """The capture channel's descriptor, when it is still cairn's pipe."""
    spec = os.environ.get("CAIRN_CAPTURE_FD", "")
    try:
        fd, ino = (int(x) for x in spec.split(":"))
        st = os.fstat(fd)
    except (ValueError, OSError):
        return None
    import stat

    return fd if stat.S_ISFIFO(st.st_mode) and st.st_ino == ino else None


def _send(line):
    fd = _channel()
    if fd is None:
        _debug("no capture channel (CAIRN_CAPTURE_FD=%r)" % os.environ.get("CAIRN_CAPTURE_FD"))
        return
    view = memoryview(line)
    while view:
        n = os.write(fd, view)
        view = view[n:]


# --- values, as cairn._params types them ------------------------------------------------

_INT64 = 2**63


def _jsonable(v):
    if isinstance(v, (set, frozenset)):
        return sorted((_jsonable(x) for x in v), key=repr)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    item = getattr(v, "item", None)
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    return str(v)


def _typed(v):
    """(type letter, text) for one value."""
    if isinstance(v, bool):
        return "b", "1" if v else "0"
    if isinstance(v, int):
        return ("i", str(v)) if -_INT64 <= v < _INT64 else ("s", str(v))
    if isinstance(v, float):
        return "f", repr(v)
    if isinstance(v, str):
        return "s", v
    if v is None:
        return "s", "None"
    if isinstance(v, (list, tuple, set, frozenset)):
        import json

        return "s", json.dumps(_jsonable(v), allow_nan=True)
    if isinstance(v, bytes):
        return "s", v.decode("utf-8", "replace")
    item = getattr(v, "item", None)
    if callable(item) and getattr(v, "ndim", None) == 0:
        return _typed(item())
    return "s", str(v)


def _flat(key, v, out, depth=0):
    if isinstance(v, dict) and v and depth < 64:
        for k, x in v.items():
            _flat("%s.%s" % (key, k), x, out, depth + 1)
    else:
        out.append((key, "{}" if isinstance(v, dict) else v))


# --- 2. argparse -----------------------------------------------------------------------


def _options(parser):
    """dest -> option strings, through subparsers."""
    out, todo, done = {}, [parser], set()
    while todo:
        p = todo.pop()
        if id(p) in done:
            continue
        done.add(id(p))
        for a in getattr(p, "_actions", ()):
            if a.option_strings:
                out.setdefault(a.dest, []).extend(a.option_strings)
            choices = getattr(a, "choices", None)
            if isinstance(choices, dict):
                todo.extend(c for c in choices.values() if hasattr(c, "_actions"))
    return out


def _from_library(frame, argparse_file):
    """Whether the parse was called by a library rather than the program."""
    while frame is not None and frame.f_code.co_filename in (argparse_file, __file__):
        frame = frame.f_back
    if frame is None:
        return True
    f = frame.f_code.co_filename
    stdlib = os.path.dirname(argparse_file) + os.sep
    return "site-packages" in f or "dist-packages" in f or f.startswith(stdlib)


def _report(parser, args, namespace, typed):
    argv = sys.argv[1:]
    if args is not None and list(args) != argv:
        _debug("a parse of a list other than sys.argv[1:]: not reported")
        return
    opts = _options(parser)
    params = []
    for dest, value in vars(namespace).items():
        flat = []
        _flat(dest, value, flat)
        for k, v in flat:
            t, text = _typed(v)
            params.append({"k": k, "t": t, "v": text, "typed": dest in typed, "opts": opts.get(dest, [])})
    import json

    line = "argparse " + json.dumps({"args": argv, "params": params}) + "\n"
    if len(line) > (1 << 20):
        _debug("the namespace is over 1 MiB: not reported")
        return
    _send(line.encode("utf-8", "surrogateescape"))


def patch(argparse, debug):
    global _debug
    _debug = debug
    AP = argparse.ArgumentParser
    if getattr(AP, "_cairn_hooked", False):
        return
    import _thread

    live = {}  # thread id -> the dests typed in the parse going on there
    argparse_file = argparse.__file__

    get_values = getattr(AP, "_get_values", None)
    if get_values is not None:

        def _get_values(self, action, arg_strings):
            seen = live.get(_thread.get_ident())
            if seen is not None and (arg_strings or action.option_strings):
                seen.add(action.dest)
            return get_values(self, action, arg_strings)

        AP._get_values = _get_values

    def wrap(orig):
        def parse(self, args=None, namespace=None):
            tid = _thread.get_ident()
            if tid in live:  # inside a parse (a subparser's, intermixed's passes)
                return orig(self, args, namespace)
            live[tid] = seen = set()
            try:
                result = orig(self, args, namespace)
            finally:
                del live[tid]
            try:
                ns = result[0] if isinstance(result, tuple) else result
                if get_values is None:  # typed: what differs from the default
                    seen.update(
                        a.dest for a in self._actions
                        if getattr(ns, a.dest, a.default) is not a.default
                    )
                if not _from_library(sys._getframe(1), argparse_file):
                    _report(self, args, ns, seen)
                else:
                    _debug("a parse called by a library: not reported")
            except Exception as e:
                _debug("cannot report the namespace: %r" % (e,))
            return result

        parse.__name__, parse.__doc__, parse.__wrapped__ = orig.__name__, orig.__doc__, orig
        return parse

    # parse_args calls parse_known_args and then fails on what is left over:
    # the outermost call reports, once it has succeeded
    for name in ("parse_args", "parse_known_args", "parse_intermixed_args",
                 "parse_known_intermixed_args"):
        if hasattr(AP, name):
            setattr(AP, name, wrap(getattr(AP, name)))
    AP._cairn_hooked = True
