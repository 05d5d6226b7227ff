"""maintain(): OPTIMIZE compacts small files without losing rows; VACUUM never goes below 168 hours."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from helpers import table, table_versions
from pyspark.sql import SparkSession

from pt_spark import InvalidInput, TrackerConfig
from pt_spark.store.maintenance import maintain
from pt_spark.store.schema import TABLES

SMALL_COMMITS = 12


def _file_count(spark: SparkSession, config: TrackerConfig, name: str) -> int:
    return int(spark.sql(f"DESCRIBE DETAIL {config.schema_name}.{name}").first()["numFiles"])


def _rows(spark: SparkSession, config: TrackerConfig, name: str) -> set[tuple]:
    return {tuple(row) for row in table(spark, config, name).collect()}


def test_maintain_compacts_small_files_and_keeps_every_row(
    spark: SparkSession, config: TrackerConfig
) -> None:
    target = f"{config.schema_name}.actor_lkup"
    for i in range(SMALL_COMMITS):  # one commit, one small file each
        frame = spark.createDataFrame(
            [(10**15 + i, f"maintain-actor-{i}")], "actor_id long, actor_name string"
        )
        frame.write.format("delta").mode("append").saveAsTable(target)
    before_files = _file_count(spark, config, "actor_lkup")
    before_rows = _rows(spark, config, "actor_lkup")
    assert before_files >= SMALL_COMMITS

    report = maintain(spark, config=config, tables=["actor_lkup"])

    assert set(report) == {"actor_lkup"}
    assert report["actor_lkup"]["files_before"] == before_files
    assert report["actor_lkup"]["files_after"] == 1
    assert report["actor_lkup"]["vacuumed"] is True
    assert report["actor_lkup"]["vacuum_ran"] is False  # the compacted files are younger than 7 days
    assert _file_count(spark, config, "actor_lkup") == 1
    assert _rows(spark, config, "actor_lkup") == before_rows


def test_maintain_defaults_to_every_table_and_leaves_compact_tables_alone(
    spark: SparkSession, config: TrackerConfig
) -> None:
    maintain(spark, config=config, tables=["actor_lkup"], vacuum_retention_hours=None)
    versions = table_versions(config)

    report = maintain(spark, config=config, vacuum_retention_hours=None)

    assert set(report) == {spec.name for spec in TABLES}
    assert report["actor_lkup"] == {
        "files_before": 1,
        "files_added": 0,
        "files_removed": 0,
        "files_after": 1,
        "vacuumed": False,
        "vacuum_ran": False,
    }
    assert table_versions(config)["actor_lkup"] == versions["actor_lkup"]


@pytest.mark.parametrize("hours", [0, 1, 167.9, -5, True, "168", float("nan")])
def test_maintain_refuses_unsafe_or_malformed_retention(
    spark: SparkSession, config: TrackerConfig, hours: object
) -> None:
    versions = table_versions(config)
    with pytest.raises(InvalidInput, match="vacuum_retention_hours"):
        maintain(spark, config=config, vacuum_retention_hours=hours)  # type: ignore[arg-type]
    assert table_versions(config) == versions


def test_maintain_refuses_unknown_tables(spark: SparkSession, config: TrackerConfig) -> None:
    with pytest.raises(InvalidInput, match="no_such_table"):
        maintain(spark, config=config, tables=["process", "no_such_table"])


def test_vacuum_runs_only_where_it_has_an_old_unused_file_to_delete(
    spark: SparkSession, config: TrackerConfig
) -> None:
    """Issue 22.3: a no-op VACUUM printed "Deleted 0 files ..." for each of the 46 tables."""
    assert config.location is not None
    folder = Path(config.location) / "process_status_lkup"
    live = next(folder.rglob("*.parquet"))
    orphan = live.with_name("part-00000-orphan-left-by-a-failed-write.snappy.parquet")
    shutil.copy(live, orphan)  # a file no snapshot uses, as a failed write leaves behind
    ten_days_ago = time.time() - 10 * 24 * 3600
    os.utime(orphan, (ten_days_ago, ten_days_ago))
    rows = _rows(spark, config, "process_status_lkup")

    report = maintain(spark, config=config, tables=["process_status_lkup", "error_type_lkup"])

    assert (report["process_status_lkup"]["vacuum_ran"], report["error_type_lkup"]["vacuum_ran"]) == (
        True,
        False,
    )
    assert not orphan.exists() and live.exists()
    assert _rows(spark, config, "process_status_lkup") == rows
