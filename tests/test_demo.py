"""The demo pipeline on a temporary store, checked in the tracking tables (and the target table).

``run_pipeline`` runs twice per module: the checks of the first run read its runs by id, and the
second run is compared with a snapshot taken just before it.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import reduce
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pt_spark import TrackerConfig
from pt_spark.demo.pipeline import EXTRACT_PROCESS, LOAD_PROCESS, file_name, print_summary, run_pipeline
from pt_spark.store.schema import TABLES
from tests.helpers import table

pytestmark = pytest.mark.slow

GOOD_FILES = {file_name(4), file_name(6), file_name(8)}
MALFORMED_FILE = file_name(10)
#: Tables a re-run must not grow: every lookup, and the process-level links.
LOOKUPS = sorted(
    {spec.name for spec in TABLES if spec.name.endswith("_lkup")}
    | {"process", "process_dependency", "process_source", "process_target", "process_dataset_type"}
    | {"source_dataset_type"}
)


def runs(spark: SparkSession, config: TrackerConfig) -> DataFrame:
    """Every run with its process name and status name."""
    return (
        table(spark, config, "process_tracking")
        .join(table(spark, config, "process"), "process_id")
        .join(table(spark, config, "process_status_lkup"), "process_status_id")
    )


def run_row(spark: SparkSession, config: TrackerConfig, tracking_id: int) -> dict[str, Any]:
    rows = runs(spark, config).where(F.col("process_tracking_id") == tracking_id).collect()
    assert len(rows) == 1
    return rows[0].asDict()


def extracts_of(spark: SparkSession, config: TrackerConfig, tracking_id: int) -> dict[str, dict[str, Any]]:
    """The extracts linked to a run, by file name, with their status and the link's status."""
    links = table(spark, config, "extract_process_tracking").where(
        F.col("process_tracking_id") == tracking_id
    )
    statuses = table(spark, config, "extract_status_lkup")
    link_status = statuses.select(
        F.col("extract_status_id").alias("extract_process_status_id"),
        F.col("extract_status_name").alias("link_status"),
    )
    rows = (
        table(spark, config, "extract_tracking")
        .join(links, F.col("extract_id") == F.col("extract_tracking_id"))
        .join(statuses, "extract_status_id")
        .join(link_status, "extract_process_status_id")
        .collect()
    )
    return {row["extract_filename"]: row.asDict() for row in rows}


def row_counts(spark: SparkSession, config: TrackerConfig, names: list[str]) -> dict[str, int]:
    """Row counts of several tables, in one Spark job."""
    counts = [
        table(spark, config, name).select(F.lit(name).alias("name"), F.count(F.lit(1)).alias("n"))
        for name in names
    ]
    return {row["name"]: row["n"] for row in reduce(DataFrame.unionByName, counts).collect()}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo_data")


@pytest.fixture(scope="module")
def first(spark: SparkSession, config: TrackerConfig, data_dir: Path) -> dict[str, Any]:
    return run_pipeline(spark, config, data_dir)


@pytest.fixture(scope="module")
def second(
    spark: SparkSession, config: TrackerConfig, data_dir: Path, first: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, int], dict[str, int]]:
    """The summary of a second run, with row counts taken just before and just after it."""
    watched = [*LOOKUPS, "process_tracking", "extract_tracking", "error_tracking"]
    before = row_counts(spark, config, watched)
    summary = run_pipeline(spark, config, data_dir)
    return summary, before, row_counts(spark, config, watched)


def test_both_processes_complete_with_dates_and_counts(spark, config, first):
    extract = run_row(spark, config, first["extract_run"]["process_tracking_id"])
    load = run_row(spark, config, first["load_run"]["process_tracking_id"])

    assert (extract["process_name"], extract["process_status_name"]) == (EXTRACT_PROCESS, "completed")
    assert (load["process_name"], load["process_status_name"]) == (LOAD_PROCESS, "completed")
    assert extract["process_run_end_date_time"] is not None and load["process_run_end_date_time"] is not None
    assert load["process_run_start_date_time"] >= extract["process_run_end_date_time"]
    assert extract["process_run_low_date_time"] == datetime(2024, 4, 1)
    assert extract["process_run_high_date_time"] == datetime(2024, 10, 20)
    assert load["process_run_low_date_time"] == datetime(
        2024, 4, 1
    )  # the malformed October file is not loaded
    assert load["process_run_high_date_time"] == datetime(2024, 9, 30)
    assert 10_000 < load["process_run_record_count"] == load["process_run_insert_count"]
    assert extract["process_run_record_count"] > load["process_run_record_count"]
    assert [first["extract_run"]["status"], first["load_run"]["status"]] == ["completed", "completed"]


def test_extracts_are_loaded_and_the_malformed_one_is_marked_error(spark, config, first):
    written = extracts_of(spark, config, first["extract_run"]["process_tracking_id"])
    loaded = extracts_of(spark, config, first["load_run"]["process_tracking_id"])

    assert set(written) == set(loaded) == GOOD_FILES | {MALFORMED_FILE}
    assert {name: row["extract_status_name"] for name, row in written.items()} == {
        **dict.fromkeys(GOOD_FILES, "loaded"),
        MALFORMED_FILE: "error",
    }
    assert {name: row["link_status"] for name, row in loaded.items()} == {
        **dict.fromkeys(GOOD_FILES, "loaded"),
        MALFORMED_FILE: "error",
    }
    assert all(row["link_status"] == "ready" for row in written.values())  # as the extract run left them
    for row in written.values():
        assert row["extract_write_record_count"] > 0 and row["extract_filesize"] > 0
        assert row["extract_write_low_date_time"] <= row["extract_write_high_date_time"]
    good_rows = sum(written[name]["extract_write_record_count"] for name in GOOD_FILES)
    load = run_row(spark, config, first["load_run"]["process_tracking_id"])
    assert load["process_run_record_count"] == good_rows
    assert first["extracts"] == {"loaded": 3, "error": 1}


def test_the_malformed_file_records_a_data_error_without_failing_the_run(spark, config, first):
    errors = (
        table(spark, config, "error_tracking")
        .join(table(spark, config, "error_type_lkup"), "error_type_id")
        .where(
            F.col("process_tracking_id").isin(
                first["extract_run"]["process_tracking_id"], first["load_run"]["process_tracking_id"]
            )
        )
        .collect()
    )

    assert [(e["process_tracking_id"], e["error_type_name"]) for e in errors] == [
        (first["load_run"]["process_tracking_id"], "Data Error")
    ]
    assert MALFORMED_FILE in errors[0]["error_description"]
    assert first["error_count"] == 1
    process = table(spark, config, "process").where(F.col("process_name") == LOAD_PROCESS).collect()[0]
    assert process["last_errored_run_date_time"] == errors[0]["error_occurrence_date_time"]
    assert process["last_failed_run_date_time"] is None


def test_the_second_start_is_refused_and_the_dependency_declared(spark, config, first):
    assert first["refused"] is True
    assert first["refused_message"] == f"The process {LOAD_PROCESS} is currently running."
    load = run_row(spark, config, first["load_run"]["process_tracking_id"])
    assert load["process_run_id"] == 1  # the refused start left no run behind
    processes = table(spark, config, "process").select("process_id", "process_name")
    dependencies = (
        table(spark, config, "process_dependency")
        .join(processes.toDF("parent_process_id", "parent"), "parent_process_id")
        .join(processes.toDF("child_process_id", "child"), "child_process_id")
        .select("parent", "child")
        .collect()
    )
    assert [tuple(row) for row in dependencies] == [(EXTRACT_PROCESS, LOAD_PROCESS)]


def test_the_target_table_holds_the_good_rows_of_the_load_run(spark, config, first):
    load_id = first["load_run"]["process_tracking_id"]
    target = (
        spark.read.format("delta")
        .load(first["target_table"])
        .where(F.col("load_process_tracking_id") == load_id)
    )
    files = {Path(row[0]).name for row in target.select("source_file").distinct().collect()}

    assert files == GOOD_FILES
    assert target.count() == run_row(spark, config, load_id)["process_run_record_count"]
    assert Path(first["extract_dir"]).parent == Path(first["target_table"]).parent.parent
    assert sorted(p.name for p in Path(first["extract_dir"]).iterdir()) == sorted(
        GOOD_FILES | {MALFORMED_FILE}
    )


def test_a_second_run_adds_new_runs_and_no_duplicate_lookups(spark, config, first, second):
    summary, before, after = second
    grown = {name: after[name] - before[name] for name in after if after[name] != before[name]}

    assert grown == {"process_tracking": 2, "extract_tracking": 4, "error_tracking": 1, "location_lkup": 1}
    assert summary["extract_dir"] != first["extract_dir"]  # a new folder: the one new location
    assert summary["extracts"] == {"loaded": 3, "error": 1}  # only its own extracts were ready
    assert summary["refused"] is True
    ids = [summary[key]["process_tracking_id"] for key in ("extract_run", "load_run")]
    assert [run_row(spark, config, i)["process_run_id"] for i in ids] == [2, 2]
    assert [run_row(spark, config, i)["process_status_name"] for i in ids] == ["completed", "completed"]
    latest = (
        runs(spark, config)
        .where(F.col("is_latest_run"))
        .where(F.col("process_name").isin(EXTRACT_PROCESS, LOAD_PROCESS))
    )
    assert sorted(row["process_tracking_id"] for row in latest.collect()) == sorted(ids)


def test_the_demo_writes_the_run_report_and_prints_its_path(first, data_dir, capsys):
    print_summary(first)
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Run report:")]

    assert len(printed) == 1
    path = Path(printed[0].split(":", 1)[1].split(" (open it")[0].strip())
    assert path == Path(first["report"]) == data_dir.resolve() / "report.html"
    assert path.is_file()
    page = path.read_text(encoding="utf-8")
    drawn = re.findall(r'<script type="application/json" data-figure="fig-([a-z]+)">', page)
    assert drawn == ["durations", "records", "watermarks", "extracts"]
    assert "No failed, held or abandoned runs in this window." in page  # the demo's runs all complete
    assert EXTRACT_PROCESS in page and LOAD_PROCESS in page
