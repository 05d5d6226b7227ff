"""The ``ProcessTrackerError`` hierarchy: every error pt_spark raises on purpose.

Errors keep their context as attributes, and those that are also a builtin kind of error
(``ValueError``, ``LookupError``) inherit it, so callers can catch either.
"""

from __future__ import annotations


class ProcessTrackerError(Exception):
    """Root of every error raised by pt_spark."""


class InvalidInput(ProcessTrackerError, ValueError):
    """An argument has the wrong type, shape or value; nothing was written."""


class ConfigError(InvalidInput):
    """A configuration value is invalid; the message names the key."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.detail = message
        super().__init__(f"Invalid configuration value for '{key}': {message}")


class NotFound(ProcessTrackerError, LookupError):
    """A referenced row (process, run, extract, lookup value) does not exist."""


class StoreNotReady(ProcessTrackerError):
    """The tracking store is missing, incomplete or older than this library; run ``setup``."""


class StoreAccessError(ProcessTrackerError):
    """The tracking store's location cannot be written (read-only, a file in its place, no rights)."""


class SessionError(ProcessTrackerError):
    """No usable SparkSession (none passed, none active, or Delta jars missing)."""


class ProtectedRowError(ProcessTrackerError):
    """A system (default) row cannot be renamed or deleted."""


class ProcessRunRefused(ProcessTrackerError):
    """A new run was refused because the process is already running or on hold."""

    def __init__(self, message: str, process_name: str | None = None) -> None:
        self.process_name = process_name
        super().__init__(message)


class ProcessOnHold(ProcessRunRefused):
    """The process reached ``max_concurrent_failures``; an ``on hold`` run was recorded."""


class ProcessDependencyError(ProcessTrackerError):
    """A parent process's latest run is running, failed or on hold."""


class ProcessRunFailed(ProcessTrackerError):
    """Raised by ``raise_run_error(fail_run=True)`` after the failure is recorded."""


class ExtractDependencyError(ProcessTrackerError):
    """A parent extract is not yet loaded, so its child cannot start loading."""


class ConcurrentUpdateError(ProcessTrackerError):
    """Delta kept reporting concurrent-writer conflicts after every retry."""


__all__ = [
    "ConcurrentUpdateError",
    "ConfigError",
    "ExtractDependencyError",
    "InvalidInput",
    "NotFound",
    "ProcessDependencyError",
    "ProcessOnHold",
    "ProcessRunFailed",
    "ProcessRunRefused",
    "ProcessTrackerError",
    "ProtectedRowError",
    "SessionError",
    "StoreAccessError",
    "StoreNotReady",
]
