"""libhwnas error codes as Python exceptions.

Every failing call raises a subclass of hwnas.Error whose message is the
library's hwnas_error_last() text, naming the file, line, key or value at
fault; the numeric code is in .code.
"""
from . import _native

OK = 0
EINVAL = -1
ENOMEM = -2
EIO = -3
EFORMAT = -4
ENOTFOUND = -5
EUSER = -6
ESTATE = -7
EVERSION = -8
EUNSUPPORTED = -9
EINVALID = -10
EINTERNAL = -11


class Error(Exception):
    """Base class of every libhwnas error."""

    code = None

    def __init__(self, message, code=None):
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidArgument(Error, ValueError):
    code = EINVAL


class OutOfMemory(Error, MemoryError):
    code = ENOMEM


class IOFailure(Error, OSError):
    code = EIO


class FormatError(Error, ValueError):
    code = EFORMAT


class NotFound(Error, LookupError):
    code = ENOTFOUND


class Stopped(Error):
    """A callback returned non-zero (or raised) and stopped the operation."""
    code = EUSER


class StateError(Error):
    code = ESTATE


class VersionError(Error):
    code = EVERSION


class Unsupported(Error):
    code = EUNSUPPORTED


class InvalidCandidate(Error):
    code = EINVALID


class InternalError(Error):
    code = EINTERNAL


_BY_CODE = {cls.code: cls for cls in (InvalidArgument, OutOfMemory, IOFailure, FormatError,
                                      NotFound, Stopped, StateError, VersionError, Unsupported,
                                      InvalidCandidate, InternalError)}


def error_str(code):
    """The library's fixed description of an error code."""
    return _native.lib.hwnas_error_str(code).decode("utf-8")


def check(rc):
    """Raise the exception for a negative return code; return rc otherwise."""
    if rc >= 0:
        return rc
    message = _native.lib.hwnas_error_last().decode("utf-8", "replace") or error_str(rc)
    raise _BY_CODE.get(rc, Error)(message, rc)
