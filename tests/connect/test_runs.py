"""A whole run life cycle over Spark Connect, checked in the Delta tables over Connect."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pt_spark import (
    ProcessOnHold,
    ProcessRunFailed,
    ProcessRunRefused,
    ProcessTracker,
    TrackerConfig,
    admin,
)
from pt_spark.store.schema import TABLES
from tests.connect.helpers import dicts, process_row, run_row, run_statuses, table


def T(hour: int) -> datetime:
    return datetime(2020, 1, 1, hour)


def start(spark: SparkSession, config: TrackerConfig, name: str, **arguments: Any) -> ProcessTracker:
    defaults = {"process_type": "Load", "actor_name": "connect-bot", "tool_name": "Spark"}
    return ProcessTracker(spark=spark, process_name=name, config=config, **{**defaults, **arguments})


def test_setup_over_connect_made_every_table(spark, config):
    """The module's store is a copy of the lane's template, which ``setup()`` made over Connect.

    (``pt-spark setup --remote`` runs setup again on an existing store: tests/connect/test_cli.py.)
    """
    for spec in TABLES:  # every table is a Delta folder with the spec's columns
        assert set(spec.column_names) <= set(table(spark, config, spec.name).columns), spec.name
    statuses = {row["process_status_name"] for row in dicts(table(spark, config, "process_status_lkup"))}
    assert {"running", "completed", "failed", "on hold"} <= statuses
    assert table(spark, config, "process_tracking").count() == 0


def test_a_run_life_cycle(spark, config, unique):
    name = unique("connect load")
    run = start(
        spark,
        config,
        name,
        sources="Connect Source",
        targets="Connect Warehouse",
        dataset_types=["Baseball"],
        schedule_frequency="daily",
    )
    assert run.status == "running"
    assert run_row(spark, config, run.process_tracking_id)["process_status_name"] == "running"

    run.set_process_run_low_high_dates(low_date=T(10), high_date=T(12))
    run.set_process_run_low_high_dates(low_date=T(11), high_date=T(14))  # only ever widens
    run.set_process_run_record_count(40, processing_type="insert")
    run.set_process_run_record_count(42, processing_type="insert")  # replaces the count
    run.raise_run_error("Data Error", "first line\n\tindented second line")
    run.change_run_status("waiting for approval")  # a new custom status
    assert run_row(spark, config, run.process_tracking_id)["process_status_name"] == "waiting for approval"
    run.change_run_status("completed")

    row = run_row(spark, config, run.process_tracking_id)
    assert row["process_status_name"] == "completed"
    assert (row["process_run_low_date_time"], row["process_run_high_date_time"]) == (T(10), T(14))
    assert row["process_run_record_count"] == 42
    assert row["process_run_end_date_time"] is not None
    errors = table(spark, config, "error_tracking").where(
        F.col("process_tracking_id") == run.process_tracking_id
    )
    [error] = dicts(errors.join(table(spark, config, "error_type_lkup"), "error_type_id"))
    assert error["error_description"] == "first line\n\tindented second line"
    assert error["error_type_name"] == "Data Error"
    process = process_row(spark, config, name)
    assert process["total_record_count"] == 42
    assert process["last_completed_run_date_time"] is not None
    frequencies = table(spark, config, "schedule_frequency_lkup")
    [frequency] = dicts(frequencies.where(F.col("schedule_frequency_id") == process["schedule_frequency_id"]))
    assert frequency["schedule_frequency_name"] == "daily"

    again = start(spark, config, name)  # the next run of the same process
    assert again.process_tracking_id != run.process_tracking_id
    again.set_process_run_record_count(8)
    again.change_run_status("completed")
    assert process_row(spark, config, name)["total_record_count"] == 50
    assert run_statuses(spark, config, name) == ["completed", "completed"]

    third = start(spark, config, name)  # started as the last run was: the one guarded MERGE
    third.change_run_status("completed", low_date=T(1), high_date=T(2), num_records=5)
    row = run_row(spark, config, third.process_tracking_id)
    assert third.process_run_id == again.process_run_id + 1
    assert (row["process_run_low_date_time"], row["process_run_high_date_time"]) == (T(1), T(2))
    assert row["process_run_record_count"] == 5
    assert process_row(spark, config, name)["total_record_count"] == 55
    assert run_statuses(spark, config, name) == ["completed", "completed", "completed"]


def test_refusals_failures_holds_and_release(spark, config, unique):
    name = unique("connect flaky")
    run = start(spark, config, name)
    with pytest.raises(ProcessRunRefused):
        start(spark, config, name)  # the latest run is still running
    with pytest.raises(ProcessRunFailed):
        run.raise_run_error("Process Error", "boom", fail_run=True)
    assert process_row(spark, config, name)["last_failed_run_date_time"] is not None
    for _ in range(2):  # three failures in a row (the default limit) ...
        with pytest.raises(ProcessRunFailed):
            start(spark, config, name).raise_run_error("Process Error", "boom", fail_run=True)
    with pytest.raises(ProcessOnHold):  # ... put the next start on hold
        start(spark, config, name)
    assert run_statuses(spark, config, name) == ["failed", "failed", "failed", "on hold"]
    with pytest.raises(ProcessRunRefused):
        start(spark, config, name)
    admin.release_hold(spark, name, config=config)
    assert run_statuses(spark, config, name)[-1] == "completed"
    start(spark, config, name).change_run_status("completed")


def test_reattach_and_the_active_session(spark, config, unique):
    name = unique("connect attach")
    run = start(spark, config, name, sources="Attach Source", dataset_types="Attach Type")
    attached = ProcessTracker(spark=spark, process_tracking_id=run.process_tracking_id, config=config)
    assert (attached.process_name, attached.status) == (name, "running")
    assert [source.source_name for source in attached.sources] == ["Attach Source"]
    # spark=None: the active session of this thread, which over Connect is the remote session.
    implicit = ProcessTracker(process_tracking_id=run.process_tracking_id, config=config)
    assert implicit.process_tracking_id == run.process_tracking_id
    attached.change_run_status("completed")
    assert run_row(spark, config, run.process_tracking_id)["process_status_name"] == "completed"


def test_two_starts_at_once_over_one_connect_session_give_one_run(spark, config, unique):
    """Threads share the remote session; Delta conflicts arrive as Connect errors and are retried."""
    name = unique("connect race")
    start(spark, config, name).change_run_status("completed")  # the process exists
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def go() -> None:
        barrier.wait()
        try:
            start(spark, config, name)
            outcomes.append("started")
        except ProcessRunRefused:
            outcomes.append("refused")

    threads = [threading.Thread(target=go) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "started"]
    assert run_statuses(spark, config, name) == ["completed", "running"]
