"""cairn._errors — the exceptions the binding raises.

Every failing library call becomes an instance of ``cairn.Error`` (or the
subclass matching the library's error code) carrying the library's own
message (``cairn_error_last()``) and the code.  Subclasses also derive from
the closest built-in exception, so ``except ValueError`` or ``except
LookupError`` code keeps working.
"""

from __future__ import annotations


class Error(Exception):
    """A cairn library call failed.  ``code`` is the negative library error
    code (see include/cairn/common.h), ``message`` the library's message."""

    code = -1

    def __init__(self, message: str = "", code: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class InvalidError(Error, ValueError):
    """Bad input: a key, value, option or query (CAIRN_EINVALID)."""

    code = -2


class NotFoundError(Error, LookupError):
    """No such run, object, path or key (CAIRN_ENOTFOUND)."""

    code = -3


class ExistsError(Error):
    """It already exists (CAIRN_EEXISTS)."""

    code = -4


class AmbiguousError(Error, LookupError):
    """A run id prefix matches several runs (CAIRN_EAMBIGUOUS)."""

    code = -5


class ConflictError(Error):
    """A param re-logged with a different value, and the like (CAIRN_ECONFLICT)."""

    code = -6


class FileSystemError(Error, OSError):
    """A filesystem operation failed (CAIRN_EIO)."""

    code = -7

    def __init__(self, message: str = "", code: int | None = None):
        # OSError's own __init__ would reinterpret the arguments; keep ours.
        Error.__init__(self, message, code)

    def __str__(self) -> str:
        return self.message


class StoreError(Error):
    """The database failed or is not a cairn store (CAIRN_ESTORE)."""

    code = -8


class OutOfMemoryError(Error, MemoryError):
    """The library ran out of memory (CAIRN_ENOMEM)."""

    code = -9


class BusyError(Error):
    """The store stayed locked past the timeout (CAIRN_EBUSY)."""

    code = -10


class TooBigError(Error, ValueError):
    """An input is over a size cap (CAIRN_ETOOBIG)."""

    code = -11


class DirtyError(Error):
    """A dirty working tree was refused (CAIRN_EDIRTY, require_clean=True)."""

    code = -12


class LibraryNotFoundError(Error, ImportError):
    """libcairn.so could not be loaded; the message lists every place tried."""

    code = -1


_BY_CODE = {
    cls.code: cls
    for cls in (
        InvalidError,
        NotFoundError,
        ExistsError,
        AmbiguousError,
        ConflictError,
        FileSystemError,
        StoreError,
        OutOfMemoryError,
        BusyError,
        TooBigError,
        DirtyError,
    )
}


def error_for(code: int, message: str) -> Error:
    """The exception for a library error code and message."""
    cls = _BY_CODE.get(code, Error)
    return cls(message or "cairn error %d" % code, code)
