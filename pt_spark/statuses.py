"""The system statuses of runs and extracts, declared once.

``setup`` seeds them (``store.defaults``), the start rules and the run administration decide by
``RunStatus``, and the extract code by ``ExtractStatus``. Both are ``str`` enums: a member equals,
hashes and formats as its stored name (``RunStatus.ON_HOLD == "on hold"``), so it compares with
what a table holds. Custom statuses (any other name) are plain strings.
"""

from __future__ import annotations

from enum import Enum


class _StoredName(str, Enum):
    """An enum whose members are the names stored in a status lookup table."""

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every member's stored name, in declaration order (the order setup seeds them)."""
        return tuple(member.value for member in cls)


class RunStatus(_StoredName):
    """The statuses of a process run (``process_status_lkup``)."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    ON_HOLD = "on hold"
    ABANDONED = "abandoned"


class ExtractStatus(_StoredName):
    """The statuses of an extract file (``extract_status_lkup``)."""

    INITIALIZING = "initializing"
    READY = "ready"
    LOADING = "loading"
    LOADED = "loaded"
    ARCHIVED = "archived"
    DELETED = "deleted"
    ERROR = "error"


__all__ = ["ExtractStatus", "RunStatus"]
