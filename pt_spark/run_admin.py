"""On-call operations on runs: release a held process, list the latest runs (``pt-spark runs``).

``pt_spark.admin`` re-exports both; this module keeps them apart from the lookup/link topics.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from pt_spark.config import TrackerConfig, resolve_config
from pt_spark.errors import NotFound, SessionError
from pt_spark.store.reads import find_keys
from pt_spark.store.store import Store, store_for
from pt_spark.store.writes import int_literals, merge_update
from pt_spark.validation import clean_name, optional_name, positive_id

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


def store_from(spark: SparkSession | None, config: TrackerConfig | None) -> Store:
    """Return the store of ``config`` on ``spark`` (None: the active SparkSession)."""
    if spark is None:
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()
        if spark is None:
            raise SessionError("No active SparkSession: pass spark= (e.g. pt_spark.session.local_spark()).")
    return store_for(spark, resolve_config(spark, config))


def release_hold(
    spark: SparkSession | None, process_name: str | None, config: TrackerConfig | None = None
) -> int:
    """Move a process's held run to ``completed`` so the process can start again (SPEC §2.2).

    The process's latest run must be ``on hold``; its end time is set to now when empty.

    Args:
        spark: The SparkSession (None: the active one).
        process_name: The process.
        config: Which store; resolved as in SPEC §7 when None.

    Returns:
        The ``process_run_id`` of the released run.

    Raises:
        NotFound: no such process, or its latest run is not on hold.
    """
    name = clean_name(process_name, "process_name")
    store = store_from(spark, config)
    statuses = find_keys(store, {"process_status_lkup": [("on hold",), ("completed",)]})[
        "process_status_lkup"
    ]
    latest = (
        store.read("process_tracking")
        .join(store.read("process").where(F.col("process_name") == F.lit(name)), "process_id")
        .orderBy(F.col("process_run_id").desc())
        .select("process_tracking_id", "process_id", "process_run_id", "process_status_id")
        .limit(1)
        .collect()
    )
    if not latest and not find_keys(store, {"process": [(name,)]})["process"]:
        raise NotFound(f"Process {name!r} not found")
    if not latest or latest[0]["process_status_id"] != statuses[("on hold",)]:
        raise NotFound(f"Process {name} has no run on hold")
    run_id, end = latest[0]["process_run_id"], "process_run_end_date_time"
    row = {
        "process_tracking_id": latest[0]["process_tracking_id"],
        "process_id": latest[0]["process_id"],
        "process_status_id": statuses[("completed",)],
        end: datetime.now(),
    }
    assignments = {"process_status_id": "s.process_status_id", end: f"coalesce(t.{end}, s.{end})"}
    when = f"t.process_status_id = {int_literals([int(statuses[('on hold',)])])}"
    merge_update(store, "process_tracking", [row], ["process_tracking_id"], assignments, when)
    log.info("released the hold on process %r (run %s)", name, run_id)
    return int(run_id)


def latest_runs(
    spark: SparkSession | None,
    process_name: str | None = None,
    limit: int = 20,
    config: TrackerConfig | None = None,
) -> DataFrame:
    """Return the newest runs (of one process, or of all), newest first: what on-call reads first.

    Columns: ``process_name, process_run_id, process_tracking_id, process_status_name,
    process_run_start_date_time, process_run_end_date_time, duration_seconds,
    process_run_record_count, process_run_low_date_time, process_run_high_date_time,
    error_count``. Read-only.

    Raises:
        NotFound: ``process_name`` is given and no such process exists.
    """
    name = optional_name(process_name, "process_name")
    limit = positive_id(limit, "limit")
    store = store_from(spark, config)
    processes = store.read("process").select("process_id", "process_name")
    if name is not None:
        processes = processes.where(F.col("process_name") == F.lit(name))
    newest = [F.col("process_run_start_date_time").desc_nulls_last(), F.col("process_tracking_id").desc()]
    top = store.read("process_tracking").join(processes, "process_id").orderBy(*newest).limit(limit)
    errors = (
        store.read("error_tracking")
        .join(top.select("process_tracking_id"), "process_tracking_id", "left_semi")
        .groupBy("process_tracking_id")
        .agg(F.count(F.lit(1)).alias("error_count"))
    )
    statuses = store.read("process_status_lkup").select("process_status_id", "process_status_name")
    start, end = F.col("process_run_start_date_time"), F.col("process_run_end_date_time")
    runs = (
        top.join(statuses, "process_status_id", "left")
        .join(errors, "process_tracking_id", "left")
        .select(
            "process_name",
            "process_run_id",
            "process_tracking_id",
            "process_status_name",
            start.alias("process_run_start_date_time"),
            end.alias("process_run_end_date_time"),
            (F.unix_timestamp(end) - F.unix_timestamp(start)).alias("duration_seconds"),
            "process_run_record_count",
            "process_run_low_date_time",
            "process_run_high_date_time",
            F.coalesce(F.col("error_count"), F.lit(0)).cast("long").alias("error_count"),
        )
        .orderBy(*newest)
    )
    if name is not None and not find_keys(store, {"process": [(name,)]})["process"]:
        raise NotFound(f"Process {name!r} not found")
    return runs


__all__ = ["latest_runs", "release_hold", "store_from"]
