"""The health views of the store, declared once as data: plain SQL over the tracking tables.

``setup`` creates (or replaces) every view beside the tables, and ``Store.ensure_ready`` creates
the ones a session's catalog lacks (a local session forgets them, as it forgets the tables), so
analysts query them by name: ``SELECT * FROM process_tracker.v_process_health``.

* ``v_latest_runs``: each process's latest run, with its status, duration and platform run ids.
* ``v_process_health``: one row a process: late for its schedule frequency, its failing streak,
  on hold, a running latest run whose heartbeat is stale.
* ``v_watermark_gaps``: gaps and overlaps between consecutive completed runs' low/high dates.
* ``v_volume_anomalies``: each completed run's record count against the trailing median and
  MAD (median absolute deviation) of the process's previous completed runs.

The view text holds only table names from the schema and numbers of the library (never user
values); the thresholds below are its constants.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pt_spark.store.schema import SPECS

if TYPE_CHECKING:
    from pt_spark.store.store import Store

log = logging.getLogger(__name__)

#: Seconds between two runs of a process, by schedule frequency (``unscheduled`` is never late).
EXPECTED_EVERY_SECONDS = {
    "hourly": 3_600,
    "daily": 86_400,
    "weekly": 7 * 86_400,
    "monthly": 31 * 86_400,
    "quarterly": 92 * 86_400,
    "annually": 366 * 86_400,
}
#: A running run's heartbeat is stale after the process's own timeout, else the config's
#: ``stale_run_timeout``, else this many seconds (as ``admin.stale_runs``).
DEFAULT_STALE_SECONDS = 1_800
#: How many previous completed runs the volume check compares a run with, and the fewest it needs.
TRAILING_RUNS = 10
MIN_TRAILING_RUNS = 3
#: A count is an anomaly when its robust z-score, 0.6745 * (count - median) / MAD, exceeds this
#: (Iglewicz and Hoaglin's 3.5); with a MAD of 0, any count other than the median is one.
ROBUST_Z_LIMIT = 3.5


@dataclass(frozen=True)
class ViewSpec:
    """A view of the store: its name, what it shows, and its SELECT (table names as ``{table}``)."""

    name: str
    comment: str
    select: str

    @property
    def tables(self) -> tuple[str, ...]:
        """Return the tables the view reads."""
        return tuple(table for table in SPECS if "{" + table + "}" in self.select)


def _runs_with_status(where: str = "") -> str:
    return (
        "SELECT t.*, s.process_status_name FROM {process_tracking} AS t "
        "JOIN {process_status_lkup} AS s ON s.process_status_id = t.process_status_id " + where
    )


def _frequency_seconds() -> str:
    cases = " ".join(f"WHEN '{name}' THEN {seconds:d}" for name, seconds in EXPECTED_EVERY_SECONDS.items())
    return f"CASE f.schedule_frequency_name {cases} END"


def _since(column: str) -> str:
    return f"(unix_timestamp(current_timestamp()) - unix_timestamp({column}))"


LATEST_RUNS = ViewSpec(
    "v_latest_runs",
    "The latest run of each process (pt_spark view).",
    "SELECT r.process_id, p.process_name, r.process_tracking_id, r.process_run_id, r.process_run_name, "
    "r.process_status_name, r.process_run_start_date_time, r.process_run_end_date_time, "
    "unix_timestamp(coalesce(r.process_run_end_date_time, current_timestamp())) "
    "- unix_timestamp(r.process_run_start_date_time) AS duration_seconds, "
    "r.process_run_low_date_time, r.process_run_high_date_time, r.process_run_record_count, "
    "r.last_heartbeat_date_time, r.platform_name, r.platform_job_id, r.platform_job_run_id, "
    "r.platform_task_run_id, r.platform_task_key "
    f"FROM ({_runs_with_status('WHERE t.is_latest_run')}) AS r "
    "JOIN {process} AS p ON p.process_id = r.process_id",
)


def _health_select(stale_seconds: int) -> str:
    streak = (
        "max(CASE WHEN process_status_name <> 'failed' THEN process_run_id END) "
        "OVER (PARTITION BY process_id) AS last_unfailed_run_id"
    )
    per_process = (
        "SELECT process_id, "
        "count(CASE WHEN process_status_name = 'failed' "
        "AND process_run_id > coalesce(last_unfailed_run_id, 0) THEN 1 END) AS failing_streak, "
        "max(CASE WHEN process_status_name = 'completed' THEN process_run_end_date_time END) "
        "AS last_completed_run_date_time "
        f"FROM (SELECT *, {streak} FROM ({_runs_with_status()})) GROUP BY process_id"
    )
    expected, stale_after = _frequency_seconds(), f"coalesce(p.stale_run_timeout_seconds, {stale_seconds:d})"
    beat_age = _since("coalesce(l.last_heartbeat_date_time, l.process_run_start_date_time)")
    return (
        "SELECT p.process_id, p.process_name, f.schedule_frequency_name, "
        "l.process_status_name AS latest_status_name, l.process_run_id AS latest_run_id, "
        "l.process_run_start_date_time AS latest_run_start_date_time, "
        f"a.last_completed_run_date_time, {expected} AS expected_every_seconds, "
        f"coalesce({expected} IS NOT NULL AND (a.last_completed_run_date_time IS NULL "
        f"OR {_since('a.last_completed_run_date_time')} > {expected}), false) AS is_late, "
        "coalesce(a.failing_streak, 0) AS failing_streak, "
        "coalesce(l.process_status_name = 'on hold', false) AS is_on_hold, "
        "l.last_heartbeat_date_time, "
        f"coalesce(l.process_status_name = 'running' AND {beat_age} > {stale_after}, false) "
        "AS is_heartbeat_stale "
        "FROM {process} AS p "
        "LEFT JOIN {schedule_frequency_lkup} AS f ON f.schedule_frequency_id = p.schedule_frequency_id "
        f"LEFT JOIN ({_runs_with_status('WHERE t.is_latest_run')}) AS l ON l.process_id = p.process_id "
        f"LEFT JOIN ({per_process}) AS a ON a.process_id = p.process_id"
    )


WATERMARK_GAPS = ViewSpec(
    "v_watermark_gaps",
    "Gaps and overlaps between consecutive completed runs' low/high dates (pt_spark view).",
    "SELECT c.process_id, p.process_name, c.previous_run_id, c.process_run_id, "
    "c.previous_high_date_time, c.process_run_low_date_time, "
    "CASE WHEN c.process_run_low_date_time > c.previous_high_date_time THEN 'gap' ELSE 'overlap' END "
    "AS kind, "
    "unix_timestamp(c.process_run_low_date_time) - unix_timestamp(c.previous_high_date_time) AS gap_seconds "
    "FROM (SELECT process_id, process_run_id, process_run_low_date_time, "
    "lag(process_run_id) OVER w AS previous_run_id, "
    "lag(process_run_high_date_time) OVER w AS previous_high_date_time "
    f"FROM ({_runs_with_status()}) WHERE process_status_name = 'completed' "
    "AND process_run_low_date_time IS NOT NULL AND process_run_high_date_time IS NOT NULL "
    "WINDOW w AS (PARTITION BY process_id ORDER BY process_run_id)) AS c "
    "JOIN {process} AS p ON p.process_id = c.process_id "
    "WHERE c.previous_run_id IS NOT NULL AND c.process_run_low_date_time <> c.previous_high_date_time",
)


def _anomalies_select() -> str:
    completed = (
        "SELECT process_id, process_tracking_id, process_run_id, process_run_start_date_time, "
        "process_run_record_count AS record_count, "
        "row_number() OVER (PARTITION BY process_id ORDER BY process_run_id) AS n "
        f"FROM ({_runs_with_status()}) WHERE process_status_name = 'completed' "
        "AND process_run_record_count IS NOT NULL"
    )
    pairs = (
        "SELECT r.process_tracking_id, q.record_count AS prior_count FROM completed AS r "
        "JOIN completed AS q ON q.process_id = r.process_id "
        f"AND q.n BETWEEN r.n - {TRAILING_RUNS:d} AND r.n - 1"
    )
    medians = (
        "SELECT process_tracking_id, percentile(prior_count, 0.5) AS trailing_median, "
        "count(*) AS trailing_runs FROM pairs GROUP BY process_tracking_id"
    )
    mads = (
        "SELECT m.process_tracking_id, m.trailing_median, m.trailing_runs, "
        "percentile(abs(q.prior_count - m.trailing_median), 0.5) AS trailing_mad "
        "FROM medians AS m JOIN pairs AS q ON q.process_tracking_id = m.process_tracking_id "
        "GROUP BY m.process_tracking_id, m.trailing_median, m.trailing_runs"
    )
    z = "0.6745 * (c.record_count - m.trailing_median) / m.trailing_mad"
    return (
        f"WITH completed AS ({completed}), pairs AS ({pairs}), medians AS ({medians}), mads AS ({mads}) "
        "SELECT c.process_id, p.process_name, c.process_tracking_id, c.process_run_id, "
        "c.process_run_start_date_time, c.record_count, m.trailing_runs, m.trailing_median, m.trailing_mad, "
        f"CASE WHEN m.trailing_mad > 0 THEN {z} END AS robust_z, "
        f"CASE WHEN m.trailing_mad > 0 THEN abs({z}) > {ROBUST_Z_LIMIT} "
        "ELSE c.record_count <> m.trailing_median END AS is_anomaly "
        "FROM completed AS c JOIN mads AS m ON m.process_tracking_id = c.process_tracking_id "
        "JOIN {process} AS p ON p.process_id = c.process_id "
        f"WHERE m.trailing_runs >= {MIN_TRAILING_RUNS:d}"
    )


VOLUME_ANOMALIES = ViewSpec(
    "v_volume_anomalies",
    "Each completed run's record count against the trailing median / MAD of its process (pt_spark view).",
    _anomalies_select(),
)


def views(stale_seconds: int | None = None) -> tuple[ViewSpec, ...]:
    """Return every view of the store; ``stale_seconds``: the config's ``stale_run_timeout``."""
    health = ViewSpec(
        "v_process_health",
        "One row a process: late, failing streak, on hold, stale heartbeat (pt_spark view).",
        _health_select(stale_seconds or DEFAULT_STALE_SECONDS),
    )
    return (LATEST_RUNS, health, WATERMARK_GAPS, VOLUME_ANOMALIES)


def create_views(store: Store, replace: bool) -> None:
    """Create the views (``replace``: re-create them, as ``setup`` does after an upgrade).

    Without ``replace``, a view already in the catalog is left as it is.
    """
    for view in views(store.config.stale_run_timeout):
        names = {table: store.qualified(table) for table in view.tables}
        verb = "CREATE OR REPLACE VIEW" if replace else "CREATE VIEW IF NOT EXISTS"
        comment = view.comment.replace("'", "")  # a constant of the library
        store.spark.sql(
            f"{verb} {store.config.table(view.name)} COMMENT '{comment}' AS {view.select.format_map(names)}"
        )
    log.debug("views ready in %s", store.config.namespace)


__all__ = ["ViewSpec", "create_views", "views"]
