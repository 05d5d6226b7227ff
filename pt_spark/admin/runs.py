"""On-call operations on runs, apart from the lookup/link topics (``pt_spark.admin`` re-exports them).

Release a held process, list the latest runs (``pt-spark runs``), find stale runs
(``pt-spark runs --stale``), fail one by hand (``pt-spark fail-run``), and set a process's own
stale-run timeout.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from pt_spark.config import TrackerConfig, resolve_config
from pt_spark.errors import InvalidInput, NotFound, SessionError
from pt_spark.runs.start import FAILED, HEARTBEAT, ON_HOLD, PROCESS_ERROR, RUNNING
from pt_spark.statuses import RunStatus
from pt_spark.store.reads import find_keys, system_ids
from pt_spark.store.store import Store, store_for
from pt_spark.store.writes import append_rows, int_literals, merge_update, with_new_ids
from pt_spark.validation import clean_name, optional_name, optional_text, positive_id, positive_seconds

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)
#: The most runs ``latest_runs`` lists at once (Spark sorts them in the driver's memory).
MAX_LISTED_RUNS = 100_000


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
    """Move a process's held run to ``completed`` so the process can start again (docs/SPEC.md §2.2).

    The process's latest run must be ``on hold``; its end time is set to now when empty.

    Args:
        spark: The SparkSession (None: the active one).
        process_name: The process.
        config: Which store; resolved as in docs/SPEC.md §7 when None.

    Returns:
        The ``process_run_id`` of the released run.

    Raises:
        NotFound: no such process, or its latest run is not on hold.
    """
    name = clean_name(process_name, "process_name")
    store = store_from(spark, config)
    held, completed = (RunStatus.ON_HOLD.value,), (RunStatus.COMPLETED.value,)
    statuses = find_keys(store, {"process_status_lkup": [held, completed]})["process_status_lkup"]
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
    if not latest or latest[0]["process_status_id"] != statuses[held]:
        raise NotFound(f"Process {name} has no run on hold")
    run_id, end = latest[0]["process_run_id"], "process_run_end_date_time"
    row = {
        "process_tracking_id": latest[0]["process_tracking_id"],
        "process_id": latest[0]["process_id"],
        "process_status_id": statuses[completed],
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
    if limit > MAX_LISTED_RUNS:
        raise InvalidInput(f"limit: at most {MAX_LISTED_RUNS} runs at a time (got {limit})")
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


#: The stale-run age ``stale_runs`` uses when neither the call, the process nor the config sets one.
DEFAULT_STALE_SECONDS = 1800


def stale_runs(
    spark: SparkSession | None, older_than: float | None = None, config: TrackerConfig | None = None
) -> DataFrame:
    """Return the running latest runs whose heartbeat (else start) is older than a limit, oldest first.

    Args:
        spark: The SparkSession (None: the active one).
        older_than: Seconds without a heartbeat; None: each process's own stale-run timeout, else
            the config's ``stale_run_timeout``, else 30 minutes.
        config: Which store; resolved as in docs/SPEC.md §7 when None.

    Columns: ``process_name, process_run_id, process_tracking_id, process_run_start_date_time,
    last_heartbeat_date_time, seconds_since_heartbeat, stale_after_seconds``. Read-only.
    """
    limit = None if older_than is None else positive_seconds(older_than, "older_than")
    store = store_from(spark, config)
    running = system_ids(store, "process_status_lkup", [RUNNING])[RUNNING]
    fallback = store.config.stale_run_timeout or DEFAULT_STALE_SECONDS
    processes = store.read("process").select("process_id", "process_name", "stale_run_timeout_seconds")
    seen = F.coalesce(F.col(HEARTBEAT), F.col("process_run_start_date_time"))
    silent = F.unix_timestamp(F.current_timestamp()) - F.unix_timestamp(seen)
    after = (
        F.lit(limit) if limit is not None else F.coalesce(F.col("stale_run_timeout_seconds"), F.lit(fallback))
    )
    return (
        store.read("process_tracking")
        .where(F.col("is_latest_run") & (F.col("process_status_id") == F.lit(running)))
        .join(processes, "process_id")
        .select(
            "process_name",
            "process_run_id",
            "process_tracking_id",
            "process_run_start_date_time",
            HEARTBEAT,
            silent.cast("long").alias("seconds_since_heartbeat"),
            after.cast("long").alias("stale_after_seconds"),
        )
        .where(F.col("seconds_since_heartbeat") > F.col("stale_after_seconds"))
        .orderBy(F.col("seconds_since_heartbeat").desc(), "process_tracking_id")
    )


def fail_run(
    spark: SparkSession | None,
    process_tracking_id: int,
    reason: str | None = None,
    config: TrackerConfig | None = None,
) -> int:
    """Close a running (or held) run by hand as ``failed``, with a ``Process Error`` saying why.

    For a run whose job died without a ``stale_run_timeout`` to take it over. The run's end time
    is set to now when empty; its process's last-failed time too.

    Returns:
        The ``process_run_id`` of the failed run.

    Raises:
        NotFound: no run has that id.
        InvalidInput: the run has already ended (completed, failed, abandoned, ...).
    """
    run_id = positive_id(process_tracking_id, "process_tracking_id")
    why = optional_text(reason, "reason") or "closed by hand (pt-spark fail-run)"
    store = store_from(spark, config)
    statuses = system_ids(store, "process_status_lkup", [RUNNING, ON_HOLD, FAILED])
    found = (
        store.read("process_tracking")
        .where(F.col("process_tracking_id") == F.lit(run_id))
        .join(store.read("process").select("process_id", "process_name"), "process_id")
        .select("process_id", "process_name", "process_run_id", "process_status_id")
        .collect()
    )
    if not found:
        raise NotFound(f"Process run {run_id} not found")
    run = found[0]
    open_ids = [statuses[RUNNING], statuses[ON_HOLD]]
    if run["process_status_id"] not in open_ids:
        raise InvalidInput(f"process_tracking_id: run {run_id} has already ended; only a running or held run")
    now, end = datetime.now(), "process_run_end_date_time"
    row = {
        "process_tracking_id": run_id,
        "process_id": run["process_id"],
        "process_status_id": statuses[FAILED],
    }
    written = merge_update(
        store,
        "process_tracking",
        [{**row, end: now}],
        ["process_tracking_id"],
        {"process_status_id": "s.process_status_id", end: f"coalesce(t.{end}, s.{end})"},
        f"t.process_status_id IN ({int_literals(open_ids)})",
    )
    if written.updated != 1:
        raise InvalidInput(f"process_tracking_id: run {run_id} ended while it was being failed")
    error_type = system_ids(store, "error_type_lkup", [PROCESS_ERROR])[PROCESS_ERROR]
    error = {
        "error_type_id": error_type,
        "process_tracking_id": run_id,
        "error_description": why,
        "error_occurrence_date_time": now,
    }
    append_rows(store, "error_tracking", with_new_ids("error_tracking", [error]))
    process = {
        "process_id": run["process_id"],
        "process_name": run["process_name"],
        "last_failed_run_date_time": now,
    }
    merge_update(
        store,
        "process",
        [process],
        ["process_id"],
        {"last_failed_run_date_time": "s.last_failed_run_date_time"},
    )
    log.info("failed process run %s (%s run %s) by hand", run_id, run["process_name"], run["process_run_id"])
    return int(run["process_run_id"])


def set_stale_run_timeout(
    spark: SparkSession | None,
    process_name: str | None,
    seconds: float | None,
    config: TrackerConfig | None = None,
) -> None:
    """Set a process's own stale-run timeout (whole seconds), or clear it with None.

    A start of the process then takes over a running run silent for that long, whatever the
    config's ``stale_run_timeout`` (see the README's "Reliability" section).

    Raises:
        NotFound: no such process.
    """
    name = clean_name(process_name, "process_name")
    value = None if seconds is None else int(positive_seconds(seconds, "seconds"))
    store = store_from(spark, config)
    found = find_keys(store, {"process": [(name,)]})["process"]
    if (name,) not in found:
        raise NotFound(f"Process {name!r} not found")
    row = {"process_id": int(found[(name,)]), "process_name": name, "stale_run_timeout_seconds": value}
    merge_update(
        store, "process", [row], ["process_id"], {"stale_run_timeout_seconds": "s.stale_run_timeout_seconds"}
    )
    log.info("process %r: stale-run timeout %s", name, "cleared" if value is None else f"{value} s")


__all__ = ["fail_run", "latest_runs", "release_hold", "set_stale_run_timeout", "stale_runs", "store_from"]
