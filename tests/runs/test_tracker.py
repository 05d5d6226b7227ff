"""ProcessTracker on real Delta tables: registration, run lifecycle, holds, dependencies, cost."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pt_spark import (
    InvalidInput,
    NotFound,
    ProcessDependencyError,
    ProcessOnHold,
    ProcessRunFailed,
    ProcessRunRefused,
    ProcessTracker,
    ProcessTrackerError,
    TrackerConfig,
)
from pt_spark.store import store_for
from pt_spark.store.reads import create_missing
from tests.helpers import commits_since, rewritten_partitions, table, table_versions


def T(hour: int) -> datetime:
    return datetime(2020, 1, 1, hour)


@pytest.fixture
def start(spark: SparkSession, config: TrackerConfig):
    """Start a run with sensible defaults; keyword arguments override them."""

    def _start(process_name: str, **arguments: Any) -> ProcessTracker:
        defaults = {"process_type": "Load", "actor_name": "tester", "tool_name": "Spark"}
        return ProcessTracker(
            spark=spark, process_name=process_name, config=config, **{**defaults, **arguments}
        )

    return _start


def run_row(spark: SparkSession, config: TrackerConfig, run: ProcessTracker) -> dict[str, Any]:
    rows = table(spark, config, "process_tracking").where(
        F.col("process_tracking_id") == run.process_tracking_id
    )
    return rows.collect()[0].asDict()


def process_row(spark: SparkSession, config: TrackerConfig, name: str) -> dict[str, Any]:
    return table(spark, config, "process").where(F.col("process_name") == name).collect()[0].asDict()


def statuses(spark: SparkSession, config: TrackerConfig, name: str) -> list[str]:
    """Statuses of every run of the process, oldest first."""
    return [
        row.process_status_name
        for row in table(spark, config, "process_tracking")
        .join(table(spark, config, "process"), "process_id")
        .join(table(spark, config, "process_status_lkup"), "process_status_id")
        .where(F.col("process_name") == name)
        .orderBy("process_run_id")
        .collect()
    ]


# --- registration -------------------------------------------------------------------------------


def test_new_run_registers_the_process_and_starts_running(spark, config, start, unique):
    name = unique("Lahman Teams Load")
    run = start(name, sources="Lahman Baseball Dataset")

    process = process_row(spark, config, name)
    row = run_row(spark, config, run)
    assert row["process_run_id"] == 1 and row["is_latest_run"] is True
    assert row["process_id"] == process["process_id"] == run.process.process_id
    assert run.status == "running" and statuses(spark, config, name) == ["running"]
    assert row["process_run_start_date_time"] is not None and row["process_run_end_date_time"] is None
    assert run.actor.actor_name == "tester" and run.tool.tool_name == "Spark"
    assert run.process_type.process_type_name == "Load"
    assert run.schedule_frequency.schedule_frequency_name == "unscheduled"
    assert [s.source_name for s in run.sources] == ["Lahman Baseball Dataset"]
    assert run.process_name == name


def test_run_ids_increase_and_only_the_latest_run_is_flagged(spark, config, start, unique):
    name = unique("sequence")
    for _ in range(3):
        start(name).change_run_status("completed")
    rows = table(spark, config, "process_tracking").join(table(spark, config, "process"), "process_id")
    flags = [
        (r.process_run_id, r.is_latest_run)
        for r in rows.where(F.col("process_name") == name).orderBy("process_run_id").collect()
    ]
    assert flags == [(1, False), (2, False), (3, True)]


def test_a_runs_writes_rewrite_only_the_partition_of_latest_runs(spark, config, start, unique):
    name = unique("bounded rewrites")
    start(name).change_run_status("completed")
    before = table_versions(config)

    run = start(name)  # flips the previous run's flag
    run.set_process_run_low_high_dates(T(1), T(2))
    run.change_run_status("completed")

    # History (is_latest_run = false) is only ever appended to, so these calls cost the same
    # however many runs the store holds; an unpartitioned table would rewrite its one big file.
    rewritten = rewritten_partitions(before, config, "process_tracking")
    assert rewritten and all(values["is_latest_run"] == "true" for values in rewritten), rewritten
    assert run_row(spark, config, run)["is_latest_run"] is True


def test_dataset_types_link_sources_and_objects_once(spark, config, start, unique):
    name, b, c, t = unique("links"), unique("srcB"), unique("srcC"), unique("tgtB")
    arguments = {
        "dataset_types": [unique("Category 1"), unique("Category 2")],
        "source_objects": {b: ["o1", "o2"], c: ["o3"]},
        "target_objects": {t: ["to1"]},
    }
    start(name, **arguments).change_run_status("completed")

    def link_counts() -> tuple[int, int, int]:
        source_ids = (
            table(spark, config, "source_lkup").where(F.col("source_name").isin(b, c, t)).select("source_id")
        )
        object_ids = (
            table(spark, config, "source_object_lkup")
            .join(source_ids, "source_id")
            .select("source_object_id")
        )
        return (
            table(spark, config, "source_dataset_type").join(source_ids, "source_id").count(),
            table(spark, config, "source_object_dataset_type").join(object_ids, "source_object_id").count(),
            table(spark, config, "process_dataset_type")
            .where(F.col("process_id") == process_row(spark, config, name)["process_id"])
            .count(),
        )

    assert link_counts() == (6, 8, 2)
    before = table_versions(config)
    start(name, **arguments).change_run_status("completed")
    assert link_counts() == (6, 8, 2)
    changed = commits_since(before, config)
    assert set(changed) <= {"process_tracking", "process"}


def test_grain_precedence_and_a_target_that_is_also_a_source(spark, config, start, unique):
    name, shared = unique("grain"), unique("warehouse")
    run = start(
        name,
        sources=[unique("ignored-name")],
        source_objects={unique("ignored-src"): ["ignored"]},
        source_object_attributes={shared: {"team": ["team_id", "year"]}},
        targets=shared,
    )
    assert [s.source_name for s in run.sources] == [shared]
    assert [t.source_name for t in run.targets] == [shared]
    assert table(spark, config, "source_lkup").where(F.col("source_name") == shared).count() == 1
    attributes = run.find_process_source_attributes()
    assert attributes.columns == [
        "source_name",
        "source_type",
        "source_object_name",
        "source_object_attribute_name",
        "is_key",
        "is_filter",
        "is_partition",
    ]
    assert [tuple(r)[:4] for r in attributes.collect()] == [
        (shared, "Undefined", "team", "team_id"),
        (shared, "Undefined", "team", "year"),
    ]
    assert run.find_process_target_attributes().count() == 0
    assert table(spark, config, "source_lkup").where(F.col("source_name").startswith("ignored")).count() == 0


def test_target_attributes_finder_columns_and_order(spark, config, start, unique):
    target = unique("dw")
    run = start(unique("targets"), target_object_attributes={target: {"player": ["z_col", "a_col"]}})
    expected = spark.createDataFrame(
        [
            (target, "Undefined", "player", "a_col", False, False, False),
            (target, "Undefined", "player", "z_col", False, False, False),
        ],
        "target_name string, target_type string, target_object_name string, "
        "target_object_attribute_name string, is_key boolean, is_filter boolean, is_partition boolean",
    )
    assert_df_equality(run.find_process_target_attributes(), expected, ignore_nullable=True)


def test_existing_process_takes_new_type_tool_and_frequency(spark, config, start, unique):
    name = unique("changing")
    start(name, process_type="Extract", tool_name="Spark", schedule_frequency="daily").change_run_status(
        "completed"
    )
    run = start(name, process_type="Load", tool_name="Airflow", schedule_frequency="hourly")
    assert table(spark, config, "process").where(F.col("process_name") == name).count() == 1
    assert run.process_type.process_type_name == "Load" and run.tool.tool_name == "Airflow"
    assert run.schedule_frequency.schedule_frequency_name == "hourly"
    hourly = [r.process_name for r in run.find_process_by_schedule_frequency("hourly").collect()]
    assert name in hourly
    assert name not in [r.process_name for r in run.find_process_by_schedule_frequency("daily").collect()]


def test_process_type_may_be_omitted_only_for_an_existing_process(spark, config, start, unique):
    name = unique("typed")
    start(name, process_type="Extract").change_run_status("completed")
    run = ProcessTracker(spark=spark, process_name=name, config=config)
    assert run.process_type.process_type_name == "Extract"

    before = table_versions(config)
    with pytest.raises(NotFound, match="not found"):
        ProcessTracker(spark=spark, process_name=unique("never-registered"), config=config)
    assert commits_since(before, config) == {}


def test_spark_defaults_to_the_active_session(config, unique):
    run = ProcessTracker(process_name=unique("active"), process_type="Load", config=config)
    assert run.spark is SparkSession.getActiveSession()


# --- re-attach ----------------------------------------------------------------------------------


def test_reattach_restores_the_run_and_writes_nothing(spark, config, start, unique):
    name = unique("reattach")
    run = start(
        name,
        sources="src-a",
        targets="tgt-a",
        dataset_types="dt",
        schedule_frequency="weekly",
        process_run_name=unique("run"),
    )
    run.change_run_status("my custom status")
    before = table_versions(config)
    again = ProcessTracker(spark=spark, process_tracking_id=run.process_tracking_id, config=config)
    assert commits_since(before, config) == {}
    assert again.process_tracking_id == run.process_tracking_id
    assert again.process_run_name == run.process_run_name
    assert again.status == "my custom status"
    assert again.process_name == name and again.process.process_id == run.process.process_id
    assert again.actor.actor_name == "tester" and again.tool.tool_name == "Spark"
    assert again.process_type.process_type_name == "Load"
    assert again.schedule_frequency.schedule_frequency_name == "weekly"
    assert [s.source_name for s in again.sources] == ["src-a"]
    assert [t.source_name for t in again.targets] == ["tgt-a"]
    assert [d.dataset_type for d in again.dataset_types] == ["dt"]


def test_reattach_to_an_unknown_run_is_a_clear_error(spark, config):
    with pytest.raises(NotFound, match="999999"):
        ProcessTracker(spark=spark, process_tracking_id=999999, config=config)


# --- status, errors -----------------------------------------------------------------------------


def test_completed_and_failed_set_end_times_on_run_and_process(spark, config, start, unique):
    name = unique("ends")
    run = start(name)
    run.change_run_status("completed", end_date=T(10))
    assert run_row(spark, config, run)["process_run_end_date_time"] == T(10)
    assert process_row(spark, config, name)["last_completed_run_date_time"] == T(10)

    second = start(name)
    second.change_run_status("failed")
    assert run_row(spark, config, second)["process_run_end_date_time"] is not None
    assert process_row(spark, config, name)["last_failed_run_date_time"] is not None
    assert statuses(spark, config, name) == ["completed", "failed"]


def test_a_custom_status_is_created_once_and_does_not_block(spark, config, start, unique):
    name, custom = unique("custom"), unique("waiting for approval")
    start(name).change_run_status(custom)
    start(name).change_run_status(custom)
    assert (
        table(spark, config, "process_status_lkup").where(F.col("process_status_name") == custom).count() == 1
    )
    assert statuses(spark, config, name) == [custom, custom]


def test_raise_run_error_records_the_error_without_failing(spark, config, start, unique):
    name = unique("errors")
    run = start(name)
    run.raise_run_error("Data Error")
    run.raise_run_error(
        error_type_name="File Error", error_description="Data item out of bounds.", end_date=T(11)
    )
    errors = (
        table(spark, config, "error_tracking")
        .join(table(spark, config, "error_type_lkup"), "error_type_id")
        .where(F.col("process_tracking_id") == run.process_tracking_id)
        .orderBy("error_tracking_id")
        .select("error_type_name", "error_description")
        .collect()
    )
    assert [tuple(e) for e in errors] == [
        ("Data Error", "Unspecified error."),
        ("File Error", "Data item out of bounds."),
    ]
    assert process_row(spark, config, name)["last_errored_run_date_time"] is not None
    assert statuses(spark, config, name) == ["running"]


def test_raise_run_error_with_fail_run_fails_the_run_then_raises(spark, config, start, unique):
    name = unique("fail-run")
    run = start(name)
    with pytest.raises(ProcessRunFailed):
        run.raise_run_error("Process Error", "boom", fail_run=True, end_date=T(9))
    assert statuses(spark, config, name) == ["failed"] and run.status == "failed"
    assert run_row(spark, config, run)["process_run_end_date_time"] == T(9)
    process = process_row(spark, config, name)
    assert process["last_failed_run_date_time"] == T(9) == process["last_errored_run_date_time"]


def test_an_unknown_error_type_writes_nothing(spark, config, start, unique):
    run = start(unique("unknown-error"))
    before = table_versions(config)
    with pytest.raises(NotFound, match="Not An Error Type"):
        run.raise_run_error("Not An Error Type", "x")
    assert commits_since(before, config) == {}


# --- low/high dates and counts ------------------------------------------------------------------


def dates(spark, config, run) -> tuple[datetime, datetime]:
    row = run_row(spark, config, run)
    return row["process_run_low_date_time"], row["process_run_high_date_time"]


def test_low_high_dates_only_ever_widen(spark, config, start, unique):
    run = start(unique("widen"))
    run.set_process_run_low_high_dates(T(10), T(12))
    run.set_process_run_low_high_dates(low_date=T(9), high_date=T(13))
    run.set_process_run_low_high_dates(T(11), T(11))
    assert dates(spark, config, run) == (T(9), T(13))


def test_one_sided_dates_leave_the_other_side_alone(spark, config, start, unique):
    high_only = start(unique("high-only"))
    high_only.set_process_run_low_high_dates(high_date=T(12))
    high_only.set_process_run_low_high_dates(high_date="2020-01-01T13:00:00")
    assert dates(spark, config, high_only) == (None, T(13))
    low_only = start(unique("low-only"))
    low_only.set_process_run_low_high_dates(low_date=T(9))
    low_only.set_process_run_low_high_dates(low_date=T(8))
    assert dates(spark, config, low_only) == (T(8), None)


def test_widening_is_one_merge(spark, config, start, unique):
    run = start(unique("widen-cost"))
    before = table_versions(config)
    run.set_process_run_low_high_dates(T(10), T(12))
    assert commits_since(before, config) == {"process_tracking": 1}
    history = spark.sql(f"DESCRIBE HISTORY {config.schema_name}.process_tracking LIMIT 1").collect()
    assert history[0].operation == "MERGE"


def test_record_counts_replace_per_run_and_accumulate_per_process(spark, config, start, unique):
    name = unique("counts")
    first = start(name)
    first.set_process_run_record_count(1000)
    first.set_process_run_record_count(1500)
    first.change_run_status("completed")
    second = start(name)
    second.set_process_run_record_count(500, processing_type="insert")
    assert run_row(spark, config, first)["process_run_record_count"] == 1500
    row = run_row(spark, config, second)
    assert (
        row["process_run_record_count"],
        row["process_run_insert_count"],
        row["process_run_update_count"],
    ) == (500, 500, 0)
    assert process_row(spark, config, name)["total_record_count"] == 2000
    second.set_process_run_record_count(70, processing_type="update")
    assert run_row(spark, config, second)["process_run_update_count"] == 70
    assert process_row(spark, config, name)["total_record_count"] == 1570


# --- closing a run with its last dates and count -------------------------------------------------


def test_a_closing_status_writes_dates_and_count_in_its_own_two_merges(spark, config, start, unique):
    name = unique("close-with")
    earlier = start(name)
    earlier.set_process_run_record_count(300)
    earlier.change_run_status("completed")
    run = start(name)
    run.set_process_run_low_high_dates(T(5), T(6))
    before = table_versions(config)
    run.change_run_status(
        "completed", low_date=T(3), high_date=T(4), num_records=1200, processing_type="insert"
    )
    assert commits_since(before, config) == {"process_tracking": 1, "process": 1}
    row, process = run_row(spark, config, run), process_row(spark, config, name)
    assert (row["process_run_low_date_time"], row["process_run_high_date_time"]) == (T(3), T(6))
    assert (row["process_run_record_count"], row["process_run_insert_count"]) == (1200, 1200)
    assert row["process_run_end_date_time"] is not None and run.status == "completed"
    assert process["total_record_count"] == 1500
    assert process["last_completed_run_date_time"] == row["process_run_end_date_time"]


def test_a_custom_status_with_a_count_sets_the_total_too(spark, config, start, unique):
    name = unique("custom-with")
    run = start(name)
    before = table_versions(config)
    run.change_run_status(unique("validated"), num_records=42, high_date=T(9))
    assert commits_since(before, config)["process_tracking"] == 1
    row = run_row(spark, config, run)
    assert (row["process_run_record_count"], row["process_run_high_date_time"]) == (42, T(9))
    assert row["process_run_low_date_time"] is None
    assert process_row(spark, config, name)["total_record_count"] == 42


@pytest.mark.parametrize(
    "arguments",
    [
        {"low_date": T(5), "high_date": T(4)},
        {"num_records": -1},
        {"num_records": 1.5},
        {"processing_type": "insert"},
        {"num_records": 3, "processing_type": "upsert"},
    ],
    ids=["low after high", "negative count", "float count", "type without count", "unknown type"],
)
def test_bad_closing_values_write_nothing_and_keep_the_run_running(spark, config, start, unique, arguments):
    run = start(unique("close-bad"))
    before = table_versions(config)
    with pytest.raises(InvalidInput):
        run.change_run_status("completed", **arguments)
    assert commits_since(before, config) == {}
    assert run.status == "running" and run_row(spark, config, run)["process_run_end_date_time"] is None


def test_a_closing_count_past_the_bigint_total_writes_nothing(spark, config, start, unique):
    name = unique("close-overflow")
    first = start(name)
    first.set_process_run_record_count(2**63 - 10)
    first.change_run_status("completed")
    run = start(name)
    before = table_versions(config)
    with pytest.raises(InvalidInput, match="BIGINT maximum"):
        run.change_run_status("completed", num_records=11, low_date=T(1))
    assert commits_since(before, config) == {}
    row = run_row(spark, config, run)
    assert (row["process_run_record_count"], row["process_run_low_date_time"]) == (0, None)
    assert process_row(spark, config, name)["total_record_count"] == 2**63 - 10


# --- start rules --------------------------------------------------------------------------------


def test_a_running_process_refuses_a_second_start(spark, config, start, unique):
    name = unique("busy")
    start(name)
    before = table_versions(config)
    with pytest.raises(ProcessRunRefused, match=f"The process {name} is currently running."):
        start(name)
    assert commits_since(before, config) == {}


def test_max_concurrent_failures_puts_the_process_on_hold(spark, config, start, unique):
    name = unique("flaky")
    for _ in range(3):
        start(name).change_run_status("failed")
    with pytest.raises(ProcessOnHold, match=f"The process {name} is currently on hold."):
        start(name)
    assert statuses(spark, config, name) == ["failed", "failed", "failed", "on hold"]
    with pytest.raises(ProcessRunRefused, match="on hold"):
        start(name)
    assert statuses(spark, config, name) == ["failed", "failed", "failed", "on hold"]

    on_hold = table(spark, config, "process_tracking").join(table(spark, config, "process"), "process_id")
    hold_id = (
        on_hold.where((F.col("process_name") == name) & F.col("is_latest_run"))
        .collect()[0]
        .process_tracking_id
    )
    ProcessTracker(spark=spark, process_tracking_id=hold_id, config=config).change_run_status("completed")
    assert start(name).status == "running"


def test_max_concurrent_failures_comes_from_the_config(spark, config, unique):
    strict = config.model_copy(update={"max_concurrent_failures": 1})
    name = unique("strict")
    ProcessTracker(spark=spark, process_name=name, process_type="Load", config=strict).change_run_status(
        "failed"
    )
    with pytest.raises(ProcessOnHold):
        ProcessTracker(spark=spark, process_name=name, config=strict)


def test_only_failures_in_a_row_count_towards_on_hold(spark, config, start, unique):
    """A completed run breaks the streak: the start reads earlier runs only after a failure."""
    name = unique("streak")
    for status in ("failed", "failed", "completed", "failed", "failed"):
        start(name).change_run_status(status)
    run = start(name)  # two failures in a row, not three
    assert run.status == "running"
    run.change_run_status("failed")
    with pytest.raises(ProcessOnHold):
        start(name)  # the third failure in a row
    assert statuses(spark, config, name)[-4:] == ["failed", "failed", "failed", "on hold"]


def add_dependency(spark, config, parent: str, child: str) -> None:
    ids = {
        r.process_name: r.process_id
        for r in table(spark, config, "process").where(F.col("process_name").isin(parent, child)).collect()
    }
    store = store_for(spark, config)
    row = {"parent_process_id": ids[parent], "child_process_id": ids[child], "dependency_type_id": 2}
    create_missing(store, "process_dependency", [row])


def test_dependencies_are_judged_on_each_parents_latest_run(spark, config, start, unique):
    parent, idle_parent, child = unique("parent"), unique("idle-parent"), unique("child")
    parent_run = start(parent)
    parent_run.change_run_status("failed")
    recovered = start(parent)
    recovered.change_run_status("completed")
    start(child).change_run_status("completed")
    ProcessTracker(spark=spark, process_name=idle_parent, process_type="Load", config=config)  # running
    add_dependency(spark, config, parent, child)

    start(child).change_run_status("completed")  # latest parent run completed (after a failure)

    start(parent).change_run_status("failed")
    with pytest.raises(ProcessDependencyError, match="dependent on are running or failed"):
        start(child)
    start(parent)  # running again (a failed latest run does not block the parent itself)
    with pytest.raises(ProcessDependencyError):
        start(child)


def test_a_parent_with_no_runs_does_not_block(spark, config, start, unique):
    child = unique("orphan-child")
    start(child).change_run_status("completed")
    store = store_for(spark, config)
    create_missing(store, "process", [{"process_name": unique("never-run"), "total_record_count": 0}])
    never = table(spark, config, "process").orderBy(F.col("process_id").desc()).collect()[0].process_name
    add_dependency(spark, config, never, child)
    assert start(child).status == "running"


def test_process_run_names_are_unique(spark, config, start, unique):
    run_name = unique("nightly-2020-01-01")
    start(unique("named-a"), process_run_name=run_name)
    before = table_versions(config)
    with pytest.raises(InvalidInput, match="process_run_name"):
        start(unique("named-b"), process_run_name=run_name)
    assert commits_since(before, config) == {}


# --- bad input ----------------------------------------------------------------------------------


BAD_ARGUMENTS = [
    {"process_name": ""},
    {"process_name": "   "},
    {"process_name": 42},
    {"process_type": ""},
    {"actor_name": ["a"]},
    {"sources": 5},
    {"sources": ["ok", ""]},
    {"targets": {"a": "b"}},
    {"source_objects": ["not", "a", "dict"]},
    {"source_objects": {"src": "not-a-list"}},
    {"target_objects": {"": ["o"]}},
    {"source_object_attributes": {"src": ["not", "a", "dict"]}},
    {"target_object_attributes": {"src": {"obj": "not-a-list"}}},
    {"dataset_types": [1, 2]},
    {"schedule_frequency": 7},
    {"process_run_name": ""},
    {"process_tracking_id": "12"},
    {"process_tracking_id": -3},
]


@pytest.mark.parametrize(
    "bad", BAD_ARGUMENTS, ids=lambda bad: f"{next(iter(bad))}={next(iter(bad.values()))!r}"
)
def test_bad_constructor_arguments_raise_and_write_nothing(spark, config, unique, bad):
    arguments = {"process_name": unique("bad-input"), "process_type": "Load", **bad}
    before = table_versions(config)
    with pytest.raises(InvalidInput) as raised:
        ProcessTracker(spark=spark, config=config, **arguments)
    assert next(iter(bad)) in str(raised.value)
    assert commits_since(before, config) == {}


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda run: run.set_process_run_low_high_dates(T(13), T(12)), InvalidInput),
        (lambda run: run.set_process_run_low_high_dates("not a date"), InvalidInput),
        (lambda run: run.set_process_run_record_count(-1), InvalidInput),
        (lambda run: run.set_process_run_record_count(1.5), InvalidInput),
        (lambda run: run.set_process_run_record_count(10, processing_type="upsert"), InvalidInput),
        (lambda run: run.change_run_status(""), InvalidInput),
        (lambda run: run.change_run_status(None), InvalidInput),
        (lambda run: run.raise_run_error("Data Error", fail_run="yes"), InvalidInput),
        (lambda run: run.change_run_status("completed", end_date="yesterday"), InvalidInput),
    ],
)
def test_bad_method_arguments_raise_and_write_nothing(spark, config, start, unique, call, error):
    run = start(unique("bad-call"))
    before = table_versions(config)
    with pytest.raises(error):
        call(run)
    assert commits_since(before, config) == {}
    assert issubclass(error, ProcessTrackerError)


def test_hostile_strings_are_stored_verbatim(spark, config, start):
    hostile = "x'); DROP TABLE process;-- \\ \" ` % _ ünïcødé"
    run = start(hostile, sources=[hostile + " src"], actor_name=hostile)
    assert process_row(spark, config, hostile)["process_name"] == hostile
    assert run.actor.actor_name == hostile
    assert [s.source_name for s in run.sources] == [hostile + " src"]
    run.change_run_status("completed")


# --- cost ---------------------------------------------------------------------------------------


def test_steady_state_costs_one_commit_per_changed_table(spark, config, start, unique):
    name = unique("cost")
    arguments = {"sources": "cost-src", "targets": "cost-tgt", "dataset_types": "cost-dt"}
    start(name, **arguments).change_run_status("completed")

    def commits(action) -> dict[str, int]:
        before = table_versions(config)
        action()
        return commits_since(before, config)

    holder: dict[str, ProcessTracker] = {}
    assert commits(lambda: holder.setdefault("run", start(name, **arguments))) == {"process_tracking": 1}
    run = holder["run"]
    assert commits(lambda: run.set_process_run_record_count(10)) == {"process_tracking": 1, "process": 1}
    assert commits(lambda: run.set_process_run_low_high_dates(T(1), T(2))) == {"process_tracking": 1}
    assert commits(lambda: run.raise_run_error("Data Error")) == {"error_tracking": 1, "process": 1}
    assert commits(lambda: run.change_run_status("completed")) == {"process_tracking": 1, "process": 1}


def test_a_new_process_s_first_start_commits_once_per_table(spark, config, start, unique):
    before = table_versions(config)
    start(unique("first"), sources=unique("first-src"), dataset_types=unique("first-dt"))
    changed = commits_since(before, config)
    assert changed["process"] == 1
    assert changed["process_tracking"] == 1
    assert set(changed.values()) == {1}, changed


def test_a_registration_cut_short_before_the_first_run_is_completed_by_the_next_start(
    spark, config, start, unique
):
    """The process row carries its fingerprint from the insert; without a run, it is not trusted."""
    name, dataset = unique("cut-short"), unique("cut-dt")
    start(name, dataset_types=dataset)
    process_id = process_row(spark, config, name)["process_id"]
    for link in ("process_tracking", "process_dataset_type"):  # as if the job died mid-registration
        spark.sql(f"DELETE FROM {config.schema_name}.{link} WHERE process_id = {int(process_id)}")
    start(name, dataset_types=dataset)
    links = table(spark, config, "process_dataset_type").where(F.col("process_id") == process_id)
    assert links.count() == 1
    assert statuses(spark, config, name) == ["running"]


def test_a_remembered_process_id_the_store_contradicts_is_read_again(spark, config, start, unique):
    """A start the long way reads runs by the process id it remembers, and checks that id in the
    same job. (Forgetting the session's known starts keeps the starts from being one MERGE.)"""
    name = unique("remembered")
    store = store_for(spark, config)
    start(name).change_run_status("completed")
    assert name not in store.process_ids  # a new process: registered, then seen by the next start
    store.known_starts.pop(name)
    start(name).change_run_status("completed")
    real_id = process_row(spark, config, name)["process_id"]
    assert store.process_ids[name] == real_id
    store.process_ids[name] = real_id + 10_000  # as if the process was deleted and re-created
    store.known_starts.pop(name)
    run = start(name)
    assert run.process_run_id == 3
    assert store.process_ids[name] == real_id
    assert statuses(spark, config, name) == ["completed", "completed", "running"]


def test_finders_are_read_only(spark, config, start, unique):
    run = start(unique("finders"), source_object_attributes={"f-src": {"obj": ["a"]}})
    before = table_versions(config)
    for _ in range(2):
        run.find_process_source_attributes().collect()
        run.find_process_target_attributes().collect()
        run.find_process_contacts().collect()
        run.find_process_filters().collect()
        run.find_process_by_schedule_frequency("daily").collect()
    assert commits_since(before, config) == {}
