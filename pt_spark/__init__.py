"""pt_spark: ProcessTracker for Spark, with its state in Delta Lake tables.

Example:
    >>> from pt_spark import ProcessTracker, TrackerConfig, setup  # doctest: +SKIP
    >>> run = ProcessTracker(spark=spark, process_name="Teams Load", process_type="Load")
    >>> run.change_run_status("completed")
"""

from pt_spark import admin
from pt_spark._version import __version__
from pt_spark.config import TrackerConfig
from pt_spark.errors import (
    ConcurrentUpdateError,
    ConfigError,
    ExtractDependencyError,
    InvalidInput,
    NotFound,
    ProcessDependencyError,
    ProcessOnHold,
    ProcessRunFailed,
    ProcessRunRefused,
    ProcessTrackerError,
    ProtectedRowError,
    SessionError,
    StoreAccessError,
    StoreNotReady,
)
from pt_spark.extracts.tracker import ExtractTracker
from pt_spark.reports import report
from pt_spark.runs.tracker import ProcessTracker
from pt_spark.store import setup
from pt_spark.store.maintenance import maintain

__all__ = [
    "ConcurrentUpdateError",
    "ConfigError",
    "ExtractDependencyError",
    "ExtractTracker",
    "InvalidInput",
    "NotFound",
    "ProcessDependencyError",
    "ProcessOnHold",
    "ProcessRunFailed",
    "ProcessRunRefused",
    "ProcessTracker",
    "ProcessTrackerError",
    "ProtectedRowError",
    "SessionError",
    "StoreAccessError",
    "StoreNotReady",
    "TrackerConfig",
    "__version__",
    "admin",
    "maintain",
    "report",
    "setup",
]
