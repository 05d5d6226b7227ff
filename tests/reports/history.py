"""A run history of known shape for the report tests, written with the store's own writers.

Four processes: an extract process with completed, failed and old runs; a load process whose
three failures in a row end on hold; a process whose name is HTML; one with no runs. Extracts
in five statuses, linked to the runs that wrote and loaded them. Five commits in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pyspark.sql import SparkSession

from pt_spark import TrackerConfig
from pt_spark.config import resolve_config
from pt_spark.store.reads import ensure_names, ensure_rows
from pt_spark.store.store import store_for
from pt_spark.store.writes import append_rows, in_parallel, with_new_ids

EXTRACT = "Report Extract"
LOAD = "Report Load"
HTML_NAME = "Report </script><b>x</b> & 'co'"
IDLE = "Report Idle"
#: Runs: (process, run id, days ago, status, minutes long or None, records, (low, high) or None).
RUNS: tuple[tuple[str, int, int, str, int | None, int | None, tuple[str, str] | None], ...] = (
    (EXTRACT, 1, 40, "completed", 10, 1000, ("2024-01-01", "2024-01-31")),
    (EXTRACT, 2, 12, "completed", 5, 2000, ("2024-02-01", "2024-02-29")),
    (EXTRACT, 3, 5, "failed", 1, None, None),
    (EXTRACT, 4, 2, "completed", 20, 4000, ("2024-03-01", "2024-03-31")),
    (LOAD, 1, 12, "completed", 30, 1500, ("2024-01-01", "2024-02-29")),
    (LOAD, 2, 5, "failed", 2, None, None),
    (LOAD, 3, 4, "failed", 3, None, None),
    (LOAD, 4, 3, "failed", 1, None, None),
    (LOAD, 5, 2, "on hold", None, None, None),
    (HTML_NAME, 1, 1, "completed", 4, 10, None),
)
#: Extracts: (file, status, days since registration, process that wrote it, its run, loading run).
EXTRACTS: tuple[tuple[str, str, int, int, int | None], ...] = (
    ("old.csv", "archived", 40, 1, None),
    ("a.csv", "loaded", 12, 2, 1),
    ("b.csv", "loaded", 12, 2, 1),
    ("c.csv", "loaded", 2, 4, 1),
    ("d.csv", "error", 2, 4, 1),
    ("e.csv", "ready", 2, 4, None),
    ("f.csv", "ready", 2, 4, None),
)


@dataclass(frozen=True)
class History:
    """When the history was written, and the runs' tracking ids by ``(process, run id)``."""

    written: datetime
    tracking_ids: dict[tuple[str, int], int]


def at(days_ago: int, hour: int) -> datetime:
    """Return ``hour`` o'clock ``days_ago`` days before today (always in the past for days_ago >= 1)."""
    today = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago) + timedelta(hours=hour)


def write_history(spark: SparkSession, config: TrackerConfig) -> History:
    """Write ``RUNS`` and ``EXTRACTS`` into the store of ``config``."""
    store = store_for(spark, resolve_config(spark, config))
    names = [EXTRACT, LOAD, HTML_NAME, IDLE]
    found = ensure_rows(store, {"process": [{"process_name": n, "total_record_count": 0} for n in names]})
    process_ids = {key[0]: int(value) for key, value in found["process"].items()}
    run_status = ensure_names(store, "process_status_lkup", ["completed", "failed", "on hold"])
    extract_status = ensure_names(store, "extract_status_lkup", ["archived", "loaded", "error", "ready"])
    latest = {name: max(run for process, run, *_ in RUNS if process == name) for name, *_ in RUNS}
    runs: list[dict[str, Any]] = []
    for process, run_id, days_ago, status, minutes, records, dates in RUNS:
        start = at(days_ago, 9)
        runs.append(
            {
                "process_id": process_ids[process],
                "process_status_id": run_status[status],
                "process_run_id": run_id,
                "process_run_start_date_time": start,
                "process_run_end_date_time": None if minutes is None else start + timedelta(minutes=minutes),
                "process_run_record_count": records,
                "process_run_low_date_time": None if dates is None else datetime.fromisoformat(dates[0]),
                "process_run_high_date_time": None if dates is None else datetime.fromisoformat(dates[1]),
                "is_latest_run": latest[process] == run_id,
            }
        )
    runs = with_new_ids("process_tracking", runs)
    ids = {
        (process, row["process_run_id"]): row["process_tracking_id"]
        for (process, *_), row in zip(RUNS, runs, strict=True)
    }
    extracts = with_new_ids(
        "extract_tracking",
        [
            {
                "extract_filename": name,
                "extract_location_id": 1,
                "extract_status_id": extract_status[status],
                "extract_registration_date_time": at(days_ago, 9),
            }
            for name, status, days_ago, _, _ in EXTRACTS
        ],
    )
    links = []
    for row, (_, status, days_ago, wrote, loaded) in zip(extracts, EXTRACTS, strict=True):
        for process, run_id in ((EXTRACT, wrote), (LOAD, loaded)):
            if run_id is not None:
                links.append(
                    {
                        "extract_tracking_id": row["extract_id"],
                        "process_tracking_id": ids[(process, run_id)],
                        "extract_process_status_id": extract_status[status],
                        "extract_process_event_date_time": at(days_ago, 10),
                    }
                )
    in_parallel(
        [
            lambda: append_rows(store, "process_tracking", runs),
            lambda: append_rows(store, "extract_tracking", extracts),
            lambda: append_rows(store, "extract_process_tracking", links),
        ]
    )
    return History(written=datetime.now(), tracking_ids=ids)
