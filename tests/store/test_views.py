"""The health views, read with plain SQL by name, on generated history with known answers.

The history is written straight into the module's store (two appends), with dates relative to
now, so each view's answer is known in advance.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from pt_spark import setup
from pt_spark.store import store_for
from pt_spark.store.ids import new_id
from pt_spark.store.reads import system_ids
from pt_spark.store.views import views
from pt_spark.store.writes import append_rows

DAY = timedelta(days=1)
#: Statuses of a run that has not ended.
OPEN = ("running", "on hold")
#: Ten ordinary counts around 100 (median 100, MAD 1), then a normal one and a spike.
COUNTS = [100, 102, 98, 101, 99, 100, 103, 97, 100, 101, 100, 1000]


def _run(process: dict[str, Any], run_id: int, status: str, start: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "process_tracking_id": new_id(),
        "process_id": process["process_id"],
        "process_status_id": status,
        "process_run_id": run_id,
        "process_run_start_date_time": start,
        "process_run_end_date_time": None if status in OPEN else start + timedelta(minutes=5),
        "process_run_record_count": 0,
        "is_latest_run": False,
        "last_heartbeat_date_time": start,
        **extra,
    }


def _history(frequency: dict[str, int], now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the process rows and run rows (statuses as names) of a history that ends ``now``."""

    def process(name: str, every: str = "unscheduled", timeout: int | None = None) -> dict[str, Any]:
        return {
            "process_id": new_id(),
            "process_name": name,
            "total_record_count": 0,
            "schedule_frequency_id": frequency[every],
            "stale_run_timeout_seconds": timeout,
        }

    steady, late, failing = process("steady", "daily"), process("late", "daily"), process("failing")
    held, stale, fresh = process("held"), process("stale"), process("fresh")
    own_timeout = process("own timeout", timeout=300)
    runs = []
    first = now - timedelta(hours=len(COUNTS) + 1)
    for run_id, count in enumerate(COUNTS, start=1):
        low = datetime(2024, 1, run_id)
        high = low + DAY
        if run_id == 5:  # a one-day gap after run 4
            low, high = low + DAY, high + DAY
        if run_id >= 6:
            low, high = low + DAY, high + DAY
        if run_id == 8:  # starts two hours before run 7 ended
            low -= timedelta(hours=2)
        runs.append(
            _run(
                steady,
                run_id,
                "completed",
                first + timedelta(hours=run_id),
                process_run_record_count=count,
                process_run_low_date_time=low,
                process_run_high_date_time=high,
            )
        )
    runs.append(_run(late, 1, "completed", now - 3 * DAY))
    runs += [_run(failing, 1, "completed", now - 5 * DAY)]
    runs += [_run(failing, n, "failed", now - (5 - n) * DAY) for n in (2, 3, 4)]
    runs += [_run(held, 1, "failed", now - 2 * DAY), _run(held, 2, "on hold", now - DAY)]
    runs.append(_run(stale, 1, "running", now - 3 * timedelta(hours=1)))
    runs.append(_run(fresh, 1, "running", now - timedelta(hours=3), last_heartbeat_date_time=now))
    runs.append(_run(own_timeout, 1, "running", now - timedelta(minutes=10)))
    latest: dict[int, dict[str, Any]] = {}
    for row in runs:
        if row["process_run_id"] >= latest.get(row["process_id"], {"process_run_id": 0})["process_run_id"]:
            latest[row["process_id"]] = row
    for row in latest.values():
        row["is_latest_run"] = True
    return [steady, late, failing, held, stale, fresh, own_timeout], runs


@pytest.fixture(scope="module")
def history(spark, config):
    store = store_for(spark, config)
    statuses = system_ids(store, "process_status_lkup", ["completed", "failed", "on hold", "running"])
    frequency = system_ids(store, "schedule_frequency_lkup", ["daily", "unscheduled"])
    # Dates relative to when the history is written, not to when the module was collected (a
    # heartbeat of "now" must still be fresh when the views are read).
    processes, runs = _history(frequency, datetime.now().replace(microsecond=0))
    for row in runs:
        row["process_status_id"] = statuses[row["process_status_id"]]
    append_rows(store, "process", processes)
    append_rows(store, "process_tracking", runs)
    return config


def _by_process(spark, config, view: str) -> dict[str, Any]:
    rows = spark.sql(f"SELECT * FROM {config.schema_name}.{view}").collect()
    return {row.process_name: row for row in rows}


def test_every_view_is_there_by_name_and_setup_puts_back_a_dropped_one(spark, config):
    names = {view.name for view in views()}
    assert names == {"v_latest_runs", "v_process_health", "v_watermark_gaps", "v_volume_anomalies"}
    for name in names:
        assert spark.catalog.tableExists(f"{config.schema_name}.{name}"), name
    spark.sql(f"DROP VIEW {config.schema_name}.v_process_health")
    setup(spark, config=config)
    assert spark.catalog.tableExists(f"{config.schema_name}.v_process_health")


def test_v_latest_runs_has_one_row_per_process_with_its_latest_run(spark, history):
    latest = _by_process(spark, history, "v_latest_runs")
    assert {name: row.process_run_id for name, row in latest.items()} == {
        "steady": 12,
        "late": 1,
        "failing": 4,
        "held": 2,
        "stale": 1,
        "fresh": 1,
        "own timeout": 1,
    }
    assert latest["failing"].process_status_name == "failed"
    assert latest["steady"].duration_seconds == 300 and latest["steady"].process_run_record_count == 1000


def test_v_process_health_flags_late_failing_held_and_stale_processes(spark, history):
    health = _by_process(spark, history, "v_process_health")
    flags = {
        name: (row.is_late, row.failing_streak, row.is_on_hold, row.is_heartbeat_stale)
        for name, row in health.items()
    }
    assert flags == {
        "steady": (False, 0, False, False),  # daily, last completed ~1 hour ago
        "late": (True, 0, False, False),  # daily, last completed 3 days ago
        "failing": (False, 3, False, False),  # unscheduled: never late
        "held": (False, 0, True, False),
        "stale": (False, 0, False, True),  # no beat for 3 hours > the default 30 minutes
        "fresh": (False, 0, False, False),  # started 3 hours ago, beat just now
        "own timeout": (False, 0, False, True),  # 10 minutes > its own 5
    }
    assert health["late"].expected_every_seconds == 86_400
    assert health["failing"].expected_every_seconds is None


def test_v_watermark_gaps_lists_the_gap_and_the_overlap_between_consecutive_runs(spark, history):
    rows = spark.sql(
        f"SELECT process_name, previous_run_id, process_run_id, kind, gap_seconds "
        f"FROM {history.schema_name}.v_watermark_gaps ORDER BY process_run_id"
    ).collect()
    assert [tuple(row) for row in rows] == [
        ("steady", 4, 5, "gap", 86_400),
        ("steady", 7, 8, "overlap", -7_200),  # run 9 starts where run 8 ended: no row
    ]


def test_v_volume_anomalies_flags_only_the_spike(spark, history):
    rows = spark.sql(
        f"SELECT process_run_id, trailing_runs, trailing_median, trailing_mad, is_anomaly "
        f"FROM {history.schema_name}.v_volume_anomalies WHERE process_name = 'steady' ORDER BY process_run_id"
    ).collect()
    assert [row.process_run_id for row in rows] == list(range(4, 13))  # 3 prior runs needed
    assert [row.process_run_id for row in rows if row.is_anomaly] == [12]
    spike = rows[-1]
    assert (spike.trailing_runs, spike.trailing_median, spike.trailing_mad) == (10, 100.0, 1.0)
