"""Administration of lookups, links, held and stale runs: the Python side of ``pt-spark``.

``api`` holds the calls (re-exported here, so ``pt_spark.admin.create(...)`` works), ``topics``
declares what each topic edits, ``runs`` the run administration (holds, stale runs, timeouts).
"""

from pt_spark.admin import api
from pt_spark.admin.api import *  # noqa: F403  (the calls, as listed in api.__all__)

__all__ = api.__all__
