"""cairn._signals — SIGTERM for the runs this process owns.

A preempted job (SLURM, Kubernetes, a batch system's time limit) gets
SIGTERM, and Python's default action for it is to die at once: no
``finally``, no ``atexit``, so the run stayed ``running`` and showed as
``crashed`` once its heartbeat went stale.  The binding installs a handler
for SIGTERM when it first creates (or takes over) an owned run, chained to
whatever handler was there:

1. every owned live run is flushed and marked ``killed`` with exit code
   128 + the signal number (as ``cairn run`` records a command killed by a
   signal); the handles stay usable, so a previous handler that saves a
   checkpoint and exits cleanly can still log, and the run keeps ``killed``
   whatever it finishes with later;
2. the previous handler runs: a Python function is called; the default
   action is restored and the signal raised again, so the process dies of
   it as it would have without cairn (the exit status says SIGTERM).

Not installed when SIGTERM is ignored (the process would not die of it),
when it was set from C (``signal.getsignal`` answers None: that handler
cannot be called from here), or off the main thread (Python allows
handlers only there).  A handler the program installs later replaces this
one, as Python's signal module always does.  SIGINT needs none: it is
KeyboardInterrupt, which ``with`` blocks and the exit hook already record
as ``killed``.
"""

from __future__ import annotations

import os
import signal
import threading

_installed: dict = {}  # signum -> the previous handler


def install(on_signal):
    """Install the chained handler once per process; ``on_signal(signum)``
    marks the runs.  Quietly does nothing where it cannot (see above)."""
    for signum in (signal.SIGTERM,):
        if signum in _installed:
            continue
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            prev = signal.getsignal(signum)
        except (ValueError, OSError):
            continue
        if prev is None or prev == signal.SIG_IGN:
            continue

        def handler(sig, frame, prev=prev):
            try:
                on_signal(sig)
            finally:
                _hand_over(sig, frame, prev)

        try:
            signal.signal(signum, handler)
        except (ValueError, OSError):
            continue
        _installed[signum] = prev


def _hand_over(sig, frame, prev):
    if callable(prev) and prev not in (signal.SIG_DFL, signal.SIG_IGN):
        prev(sig, frame)
        return
    # the default action: die of the signal, as without cairn
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)
