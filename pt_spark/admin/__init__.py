"""Administration of lookups, links, held and stale runs: the Python side of ``pt-spark``.

``api`` holds the calls (re-exported here, so ``pt_spark.admin.create(...)`` works), ``topics``
declares what each topic edits, ``runs`` the run administration (holds, stale runs, timeouts).
"""

from pt_spark.admin.api import (
    create,
    delete,
    fail_run,
    latest_runs,
    release_hold,
    set_stale_run_timeout,
    stale_runs,
    update,
)

__all__ = [
    "create",
    "delete",
    "fail_run",
    "latest_runs",
    "release_hold",
    "set_stale_run_timeout",
    "stale_runs",
    "update",
]
