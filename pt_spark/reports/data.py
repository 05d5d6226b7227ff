"""The reads behind the run report: small aggregates of the tracking tables, computed in Spark.

Every read goes through the DataFrame API, and the process name and time window travel as
Column literals (``F.lit``), never as SQL text. Only small results reach the driver: the newest
``MAX_RUNS`` runs (for the per-run figures), one row per day, process and status (for the series
and the summary), and one row per extract status.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pyspark.sql import functions as F

from pt_spark.errors import InvalidInput, NotFound
from pt_spark.store.reads import find_keys

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Row

    from pt_spark.store.store import Store

#: The most runs the per-run figures (durations, watermarks) show: the newest of the window.
MAX_RUNS = 2000
#: The most days ``days`` may reach back (about 270 years: past the earliest date Spark reads back).
MAX_DAYS = 100_000
_START, _END = "process_run_start_date_time", "process_run_end_date_time"


def check_days(days: Any) -> int | None:
    """Return ``days`` when it is None or a positive whole number of days, else raise ``InvalidInput``.

    Example:
        >>> check_days(7), check_days(None)
        (7, None)
    """
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days: expected a positive whole number of days up to {MAX_DAYS} (got {days!r})")
    return days


@dataclass(frozen=True)
class RunPoint:
    """One run as the per-run figures show it."""

    process_name: str
    process_run_id: int
    process_tracking_id: int
    status: str
    start: datetime | None
    end: datetime | None
    duration_seconds: int | None
    record_count: int | None
    low: datetime | None
    high: datetime | None


@dataclass(frozen=True)
class DayCount:
    """The runs of one process that started on one day in one status, with their records and time."""

    day: date | None
    process_name: str
    status: str
    runs: int
    records: int
    timed_runs: int
    duration_seconds: int


@dataclass(frozen=True)
class ReportData:
    """What the report shows, as read from the tracking tables.

    Attributes:
        store: Where the tracking store lives (its location, else its namespace).
        process: The one process reported on, or None for all.
        days: The window in days, or None for the whole history.
        since: The window's start (runs started then or later), or None.
        generated: When the data was read.
        runs: The newest runs of the window, newest first (at most ``MAX_RUNS``).
        total_runs: How many runs the window holds.
        daily: Run counts, records and durations per start day, process and status.
        extract_statuses: ``(status, extracts)`` pairs, most extracts first.
    """

    store: str
    process: str | None
    days: int | None
    since: datetime | None
    generated: datetime
    runs: tuple[RunPoint, ...]
    total_runs: int
    daily: tuple[DayCount, ...]
    extract_statuses: tuple[tuple[str, int], ...]


def _scoped_runs(store: Store, process: str | None, since: datetime | None) -> DataFrame:
    """Return the runs in scope with their process name and status name."""
    processes = store.read("process").select("process_id", "process_name")
    if process is not None:
        processes = processes.where(F.col("process_name") == F.lit(process))
    statuses = store.read("process_status_lkup").select("process_status_id", "process_status_name")
    runs = store.read("process_tracking").join(processes, "process_id")
    if since is not None:
        runs = runs.where(F.col(_START) >= F.lit(since))
    return runs.join(statuses, "process_status_id", "left").withColumn(
        "duration_seconds", (F.unix_timestamp(F.col(_END)) - F.unix_timestamp(F.col(_START))).cast("long")
    )


def _newest_runs(runs: DataFrame) -> list[Row]:
    newest = [F.col(_START).desc_nulls_last(), F.col("process_tracking_id").desc()]
    return (
        runs.orderBy(*newest)
        .limit(MAX_RUNS)
        .select(
            "process_name",
            "process_run_id",
            "process_tracking_id",
            "process_status_name",
            _START,
            _END,
            "duration_seconds",
            "process_run_record_count",
            "process_run_low_date_time",
            "process_run_high_date_time",
        )
        .collect()
    )


def _daily(runs: DataFrame) -> list[Row]:
    return (
        runs.groupBy(F.to_date(F.col(_START)).alias("day"), "process_name", "process_status_name")
        .agg(
            F.count(F.lit(1)).alias("runs"),
            F.coalesce(F.sum("process_run_record_count"), F.lit(0)).cast("long").alias("records"),
            F.count("duration_seconds").alias("timed_runs"),
            F.coalesce(F.sum("duration_seconds"), F.lit(0)).cast("long").alias("duration_seconds"),
        )
        .orderBy("day", "process_name", "process_status_name")
        .collect()
    )


def _extract_statuses(store: Store, runs_of_process: DataFrame | None, since: datetime | None) -> list[Row]:
    """Count extracts by current status: registered in the window, linked to the process's runs."""
    extracts = store.read("extract_tracking").select("extract_id", "extract_status_id")
    if since is not None:
        registered = store.read("extract_tracking").where(
            F.col("extract_registration_date_time") >= F.lit(since)
        )
        extracts = registered.select("extract_id", "extract_status_id")
    if runs_of_process is not None:
        linked = (
            store.read("extract_process_tracking")
            .join(runs_of_process.select("process_tracking_id"), "process_tracking_id", "left_semi")
            .select(F.col("extract_tracking_id").alias("extract_id"))
        )
        extracts = extracts.join(linked, "extract_id", "left_semi")
    names = store.read("extract_status_lkup").select("extract_status_id", "extract_status_name")
    return (
        extracts.groupBy("extract_status_id")
        .agg(F.count(F.lit(1)).alias("extracts"))
        .join(names, "extract_status_id", "left")
        .select(F.coalesce("extract_status_name", F.lit("(unknown)")).alias("status"), "extracts")
        .orderBy(F.col("extracts").desc(), "status")
        .collect()
    )


def _run_point(row: Row) -> RunPoint:
    return RunPoint(
        process_name=row["process_name"],
        process_run_id=int(row["process_run_id"]),
        process_tracking_id=int(row["process_tracking_id"]),
        status=row["process_status_name"] or "(unknown)",
        start=row[_START],
        end=row[_END],
        duration_seconds=row["duration_seconds"],
        record_count=row["process_run_record_count"],
        low=row["process_run_low_date_time"],
        high=row["process_run_high_date_time"],
    )


def _day_count(row: Row) -> DayCount:
    return DayCount(
        day=row["day"],
        process_name=row["process_name"],
        status=row["process_status_name"] or "(unknown)",
        runs=int(row["runs"]),
        records=int(row["records"]),
        timed_runs=int(row["timed_runs"]),
        duration_seconds=int(row["duration_seconds"]),
    )


def read_report_data(store: Store, process: str | None = None, days: int | None = None) -> ReportData:
    """Read what the report shows from the tracking tables (read-only; three small Spark jobs).

    Args:
        store: The tracking store.
        process: Only this process (a clean name), or None for every process.
        days: Only runs started (and extracts registered) in the last ``days`` days, or None.

    Raises:
        NotFound: ``process`` is given and no such process exists.
    """
    generated = datetime.now()
    since = None if days is None else generated - timedelta(days=days)
    with store.explained():
        if process is not None and not find_keys(store, {"process": [(process,)]})["process"]:
            raise NotFound(f"Process {process!r} not found")
        runs = _scoped_runs(store, process, since)
        runs_of_process = None if process is None else _scoped_runs(store, process, None)
        with ThreadPoolExecutor(max_workers=3) as pool:
            newest = pool.submit(_newest_runs, runs)
            daily = pool.submit(_daily, runs)
            extracts = pool.submit(_extract_statuses, store, runs_of_process, since)
            newest_rows, daily_rows, extract_rows = newest.result(), daily.result(), extracts.result()
    day_counts = tuple(_day_count(row) for row in daily_rows)
    return ReportData(
        store=store.config.location or store.config.namespace,
        process=process,
        days=days,
        since=since,
        generated=generated,
        runs=tuple(_run_point(row) for row in newest_rows),
        total_runs=sum(count.runs for count in day_counts),
        daily=day_counts,
        extract_statuses=tuple((row["status"], int(row["extracts"])) for row in extract_rows),
    )


__all__ = ["MAX_RUNS", "DayCount", "ReportData", "RunPoint", "check_days", "read_report_data"]
