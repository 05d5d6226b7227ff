"""The one place that reads Spark and Delta errors: which kind of fault an error is.

Spark Connect hands the client only strings (the JVM error class and message), so a fault is
recognised by its error-class text, and a Delta conflict also by Delta's Python exception
classes. Every marker is declared once here, as data (``MARKERS``); the modules that turn
faults into pt_spark's errors ask ``is_fault`` and hold no markers of their own:

* ``store.retry``: ``CONFLICT`` (run the whole statement again) and ``LOST_REPLY`` (it may have
  committed: run its idempotent form);
* ``store.store``: ``MISSING``, ``OUTDATED`` and ``NO_ACCESS`` become ``StoreNotReady`` and
  ``StoreAccessError``; ``NOT_DELTA`` tells an empty folder from a table; ``NO_DELTA_SESSION``
  becomes ``SessionError``;
* ``store.bootstrap``: ``ALREADY_EXISTS`` and ``NON_EMPTY_LOCATION`` of racing setups;
* ``extracts.batch``: ``NO_SUCH_PATH`` and ``BAD_URI`` of a folder to scan.

This is also the only module that imports ``delta.exceptions``.
"""

from __future__ import annotations

from enum import Enum

from delta.exceptions import (
    ConcurrentAppendException,
    ConcurrentDeleteDeleteException,
    ConcurrentDeleteReadException,
    ConcurrentTransactionException,
    ConcurrentWriteException,
    DeltaConcurrentModificationException,
    MetadataChangedException,
    ProtocolChangedException,
)


class Fault(Enum):
    """A kind of Spark/Delta error that pt_spark reacts to."""

    CONFLICT = "a lost Delta optimistic-concurrency race (nothing was committed)"
    LOST_REPLY = "the reply was lost: the statement may have committed"
    MISSING = "a table whose files are gone (its folder was deleted after registration)"
    OUTDATED = "a column this library declares and the table lacks (an older store)"
    NO_ACCESS = "a location the process cannot write"
    NOT_DELTA = "a folder that holds no Delta table"
    NO_DELTA_SESSION = "a session without Delta's grammar, catalog or data source"
    ALREADY_EXISTS = "a table name a racing setup registered first"
    NON_EMPTY_LOCATION = "a folder a racing setup is half-way through creating"
    NO_SUCH_PATH = "a folder that does not exist"
    BAD_URI = "a path Hadoop cannot parse"


#: Delta's conflict exceptions (they share no useful base class).
DELTA_CONFLICTS: tuple[type[BaseException], ...] = (
    ConcurrentAppendException,
    ConcurrentDeleteDeleteException,
    ConcurrentDeleteReadException,
    ConcurrentTransactionException,
    ConcurrentWriteException,
    DeltaConcurrentModificationException,
    MetadataChangedException,
    ProtocolChangedException,
)

#: The text that marks each fault: Spark/Delta error classes first, then message fragments.
MARKERS: dict[Fault, tuple[str, ...]] = {
    Fault.CONFLICT: ("DELTA_CONCURRENT_", "DELTA_METADATA_CHANGED", "DELTA_PROTOCOL_CHANGED"),
    Fault.LOST_REPLY: (
        "StatusCode.UNAVAILABLE",
        "Connection reset",
        "Broken pipe",
        "Answer from Java side is empty",
    ),
    Fault.MISSING: (
        "DELTA_TABLE_NOT_FOUND",
        "DELTA_PATH_DOES_NOT_EXIST",
        "DELTA_MISSING_DELTA_TABLE",
        "PATH_NOT_FOUND",
        "FileNotFoundException",
        "TABLE_OR_VIEW_NOT_FOUND",
    ),
    Fault.OUTDATED: ("UNRESOLVED_COLUMN", "DELTA_MERGE_UNRESOLVED_EXPRESSION"),
    Fault.NO_ACCESS: (
        "DELTA_CANNOT_CREATE_LOG_PATH",
        "AccessDeniedException",
        "Permission denied",
        "Read-only file system",
        "Mkdirs failed",
        "ParentNotDirectoryException",
        "Not a directory",
    ),
    Fault.NOT_DELTA: ("DELTA_MISSING_DELTA_TABLE", "not a Delta table", "PATH_NOT_FOUND", "doesn't exist"),
    Fault.NO_DELTA_SESSION: (
        "PARSE_SYNTAX_ERROR",
        "Cannot find catalog plugin class",
        "DATA_SOURCE_NOT_FOUND",
        "Failed to find the data source: delta",
    ),
    Fault.ALREADY_EXISTS: ("ALREADY_EXISTS",),
    Fault.NON_EMPTY_LOCATION: ("NON_EMPTY_LOCATION",),
    Fault.NO_SUCH_PATH: ("PATH_NOT_FOUND", "does not exist"),
    Fault.BAD_URI: ("URISyntaxException",),
}
#: Faults whose error class Spark spells in words in some versions ("already exists").
_SPELLED_OUT = (Fault.ALREADY_EXISTS, Fault.NON_EMPTY_LOCATION)
#: Exception classes that mean the reply was lost, whatever their text.
_LOST_REPLY_CLASSES = ("Py4JNetworkError", "ConnectionError", "BrokenPipeError", "ConnectionResetError")


def is_fault(error: BaseException, fault: Fault) -> bool:
    """Return True when ``error`` is ``fault``.

    Example:
        >>> is_fault(RuntimeError("[DELTA_CONCURRENT_APPEND] files were added"), Fault.CONFLICT)
        True
    """
    if fault is Fault.CONFLICT and isinstance(error, DELTA_CONFLICTS):
        return True
    if fault is Fault.LOST_REPLY:
        if {cls.__name__ for cls in type(error).__mro__}.intersection(_LOST_REPLY_CLASSES):
            return True
        if type(error).__name__ != "SparkConnectGrpcException":  # classic: a text match is no proof
            return False
    text = str(error)
    if fault in _SPELLED_OUT:
        text = text.upper().replace(" ", "_")
    return any(marker in text for marker in MARKERS[fault])


def fault_line(error: BaseException, fault: Fault) -> str | None:
    """Return the first line of ``error`` that carries ``fault``'s marker (None: not that fault)."""
    lines = [line.strip(" :") for line in str(error).splitlines()]
    return next((line for line in lines if any(marker in line for marker in MARKERS[fault])), None)


def is_conflict(error: BaseException) -> bool:
    """Return True when ``error`` is a Delta concurrent-modification conflict."""
    return is_fault(error, Fault.CONFLICT)


def is_unknown_outcome(error: BaseException) -> bool:
    """Return True when ``error`` says the reply was lost: the statement may have committed."""
    return is_fault(error, Fault.LOST_REPLY)


__all__ = [
    "DELTA_CONFLICTS",
    "Fault",
    "MARKERS",
    "fault_line",
    "is_conflict",
    "is_fault",
    "is_unknown_outcome",
]
