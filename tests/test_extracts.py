"""ExtractTracker on real Delta tables: registration, locations, status, dependencies, audit values."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pt_spark import (
    ExtractDependencyError,
    InvalidInput,
    NotFound,
    ProcessTracker,
    ProcessTrackerError,
    TrackerConfig,
)
from pt_spark.extracts import ExtractTracker
from pt_spark.locations import derive_types, join_path, parse_file_size, parse_location_path, split_file_name
from tests.helpers import commits_since, table, table_versions


def T(hour: int) -> datetime:
    return datetime(2020, 1, 1, hour)


@pytest.fixture
def run(spark: SparkSession, config: TrackerConfig, unique: Callable[[str], str]) -> ProcessTracker:
    """A fresh run of a new extract process with one source and one dataset type."""
    return ProcessTracker(
        spark=spark,
        process_name=unique("extract proc"),
        process_type="Extract",
        actor_name="tester",
        tool_name="Spark",
        sources="Unittests",
        dataset_types="Category 1",
        config=config,
    )


def rows_of(frame: DataFrame, column: str, value: Any) -> list[dict[str, Any]]:
    return [row.asDict() for row in frame.where(F.col(column) == value).collect()]


def extract_row(spark: SparkSession, config: TrackerConfig, extract_id: int) -> dict[str, Any]:
    extracts = table(spark, config, "extract_tracking").join(
        table(spark, config, "extract_status_lkup"), "extract_status_id"
    )
    return rows_of(extracts, "extract_id", extract_id)[0]


def run_links(spark: SparkSession, config: TrackerConfig, extract_id: int) -> list[dict[str, Any]]:
    links = table(spark, config, "extract_process_tracking").join(
        table(spark, config, "extract_status_lkup"),
        F.col("extract_process_status_id") == F.col("extract_status_id"),
    )
    return rows_of(links, "extract_tracking_id", extract_id)


# --- pure helpers (no Spark) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [(1024, 1024), ("1024", 1024), ("10KB", 10240), ("2.5MB", 2621440), ("50GB", 50 * 1024**3),
     (" 3 kib ", 3072), ("1.5B", 2), ("0", 0), (None, None)],
)
def test_file_sizes_are_bytes_with_binary_units(given: Any, expected: int | None) -> None:
    assert parse_file_size(given) == expected


@pytest.mark.parametrize("bad", ["abc", "-1", "10XB", "", "1.5.5KB", 1.5, True, -3, ["10KB"], str(2**70)])
def test_malformed_file_sizes_are_refused(bad: Any) -> None:
    with pytest.raises(InvalidInput, match="file_size"):
        parse_file_size(bad)


def test_types_are_derived_from_extensions() -> None:
    assert derive_types("teams_2019.csv.gz") == ("csv", "gzip")
    assert derive_types("part-0.snappy.parquet") == ("parquet", None)
    assert derive_types("archive.zip") == (None, "zip")
    assert derive_types("README") == (None, None)


@pytest.mark.parametrize(
    ("path", "stored", "location_type", "bucket", "name"),
    [
        ("/home/test/extract_dir", "/home/test/extract_dir", "local filesystem", None, "local - extract_dir"),
        ("/home/test/extract_dir/f.csv", "/home/test/extract_dir", "local filesystem", None, "local - extract_dir"),
        ("file:///tmp/landing/", "file:///tmp/landing/", "local filesystem", None, "local - landing"),
        ("s3://my-bucket/raw/teams/", "s3://my-bucket/raw/teams/", "s3", "my-bucket", "s3 my-bucket - teams"),
        ("s3a://my-bucket/raw", "s3a://my-bucket/raw", "s3", "my-bucket", "s3 my-bucket - raw"),
        ("gs://b1/dir/file.json.gz", "gs://b1/dir", "gs", "b1", "gs b1 - dir"),
        ("abfss://box@acct.dfs.core.windows.net/in", "abfss://box@acct.dfs.core.windows.net/in", "abfss", "box",
         "abfss box - in"),
        ("dbfs:/mnt/raw", "dbfs:/mnt/raw", "dbfs", None, "dbfs - raw"),
        ("/data/v1.2", "/data/v1.2", "local filesystem", None, "local - v1.2"),
        ("/tmp/s3_files", "/tmp/s3_files", "local filesystem", None, "local - s3_files"),
    ],
)
def test_location_type_bucket_and_name_come_from_the_uri(
    path: str, stored: str, location_type: str, bucket: str | None, name: str
) -> None:
    parsed = parse_location_path(path)
    assert (parsed.path, parsed.location_type, parsed.bucket, parsed.derived_name) == (
        stored,
        location_type,
        bucket,
        name,
    )


def test_unknown_schemes_and_joins() -> None:
    with pytest.raises(InvalidInput, match="'http'"):
        parse_location_path("http://example.com/files")
    assert join_path("/a/b", "f.csv") == join_path("/a/b/", "f.csv") == "/a/b/f.csv"
    assert join_path("s3://bucket", "f.csv") == "s3://bucket/f.csv"
    assert split_file_name("/a/b/f.csv") == ("/a/b", "f.csv")
    assert split_file_name("/a/b/") == ("/a/b/", None)
