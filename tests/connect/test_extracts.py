"""Extracts over Spark Connect: ExtractTracker, locations, status changes, bulk change, finders."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from pt_spark import ExtractDependencyError, ExtractTracker, ProcessTracker
from tests.connect.helpers import dicts, table


def T(hour: int) -> datetime:
    return datetime(2020, 1, 1, hour)


@pytest.fixture
def run(spark, config, unique) -> ProcessTracker:
    return ProcessTracker(
        spark=spark,
        process_name=unique("connect extract proc"),
        process_type="Extract",
        actor_name="connect-bot",
        tool_name="Spark",
        sources="Connect Files",
        dataset_types="Connect Type",
        config=config,
    )


def statuses(spark, config, ids: list[int]) -> dict[int, str]:
    extracts = table(spark, config, "extract_tracking").where(F.col("extract_id").isin(ids))
    joined = extracts.join(table(spark, config, "extract_status_lkup"), "extract_status_id")
    return {row["extract_id"]: row["extract_status_name"] for row in joined.collect()}


def link_statuses(spark, config, run: ProcessTracker) -> dict[int, str]:
    links = table(spark, config, "extract_process_tracking").where(
        F.col("process_tracking_id") == run.process_tracking_id
    )
    joined = links.join(
        table(spark, config, "extract_status_lkup"),
        F.col("extract_process_status_id") == F.col("extract_status_id"),
    )
    return {row["extract_tracking_id"]: row["extract_status_name"] for row in joined.collect()}


def test_an_extract_life_cycle(spark, config, run, unique):
    folder = f"s3://{unique('bucket')}/landing"
    extract = ExtractTracker(run, location_path=f"{folder}/teams.csv.gz", file_size="2.5MB")
    assert (extract.filename, extract.status) == ("teams.csv.gz", "initializing")
    assert extract.location.location_type == "s3"

    extract.set_extract_low_high_dates(T(10), T(12), audit_type="write")
    extract.set_extract_low_high_dates(T(9), T(11), audit_type="write")  # widens the low end only
    extract.set_extract_record_count(120, audit_type="write")
    extract.change_extract_status("ready")
    attached = ExtractTracker(run, extract_id=extract.extract_id)  # re-attach by id
    assert (attached.full_filename, attached.status) == (f"{folder}/teams.csv.gz", "ready")

    [row] = dicts(table(spark, config, "extract_tracking").where(F.col("extract_id") == extract.extract_id))
    assert row["extract_filesize"] == 2621440
    assert (row["extract_write_low_date_time"], row["extract_write_high_date_time"]) == (T(9), T(12))
    assert row["extract_write_record_count"] == 120
    assert statuses(spark, config, [extract.extract_id]) == {extract.extract_id: "ready"}
    assert link_statuses(spark, config, run) == {extract.extract_id: "ready"}
    [location] = dicts(table(spark, config, "location_lkup").where(F.col("location_path") == folder))
    assert location["location_name"] == extract.location.location_name
    sources = table(spark, config, "extract_source").where(F.col("extract_id") == extract.extract_id)
    assert [row["source_id"] for row in sources.collect()] == run.source_ids


def test_dependencies_block_a_child_until_its_parent_is_loaded(spark, config, run, unique):
    folder = f"/connect/{unique('family')}"
    parent = ExtractTracker(run, filename="parent.csv", location_path=folder, status="ready")
    child = ExtractTracker(run, filename="child.csv", location_path=folder, status="ready")
    child.add_dependency("parent", parent)
    with pytest.raises(ExtractDependencyError):
        child.change_extract_status("loading")
    parent.change_extract_status("loaded")
    child.change_extract_status("loading")
    assert statuses(spark, config, [parent.extract_id, child.extract_id]) == {
        parent.extract_id: "loaded",
        child.extract_id: "loading",
    }


def test_register_a_folder_then_find_and_bulk_change(spark, config, run, tmp_path: Path):
    folder = tmp_path / "landing [2020]"  # a literal path: brackets are not a glob here
    folder.mkdir()
    for name in ("a.csv", "b.json.gz", "c.parquet"):
        (folder / name).write_text(name, encoding="utf-8")
    (folder / "_SUCCESS").write_text("", encoding="utf-8")  # hidden: not an extract

    assert run.register_extracts_by_location(str(folder)) == 3  # the server lists the folder
    assert run.register_extracts_by_location(str(folder)) == 0  # already registered
    [location] = dicts(table(spark, config, "location_lkup").where(F.col("location_path") == str(folder)))
    assert location["location_file_count"] == 3

    by_location = run.find_extracts_by_location(location_path=str(folder))
    assert sorted(row["extract_filename"] for row in by_location.collect()) == [
        "a.csv",
        "b.json.gz",
        "c.parquet",
    ]
    assert [row["extract_filename"] for row in run.find_extracts_by_filename("b.json").collect()] == [
        "b.json.gz"
    ]
    by_process = run.find_extracts_by_process(run.process_name)
    assert by_process.count() == 3

    run.bulk_change_extract_status(by_location, "loading")  # a finder's DataFrame, over Connect
    loading = run.find_extracts_by_location(location_path=str(folder), status="loading")
    ids = sorted(row["extract_id"] for row in loading.collect())
    assert len(ids) == 3
    assert set(statuses(spark, config, ids).values()) == {"loading"}
    assert {link_statuses(spark, config, run)[i] for i in ids} == {"loading"}
    run.bulk_change_extract_status(ids, "loaded")  # plain ids
    assert set(statuses(spark, config, ids).values()) == {"loaded"}
    assert run.find_extracts_by_location(location_path=str(folder)).count() == 0  # none ready now
