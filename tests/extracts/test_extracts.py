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
from pt_spark.extracts.locations import (
    derive_types,
    join_path,
    parse_file_size,
    parse_location_path,
    split_file_name,
)
from pt_spark.extracts.paths import normalize_path, path_spellings
from pt_spark.extracts.tracker import ExtractTracker
from tests.helpers import commits_since, extract_run, table, table_versions


def T(hour: int) -> datetime:
    return datetime(2020, 1, 1, hour)


@pytest.fixture
def run(spark: SparkSession, config: TrackerConfig, unique: Callable[[str], str]) -> ProcessTracker:
    """A fresh run of a new extract process with one source and one dataset type."""
    return extract_run(spark, config, unique("extract proc"))


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
    [
        (1024, 1024),
        ("1024", 1024),
        ("10KB", 10240),
        ("2.5MB", 2621440),
        ("50GB", 50 * 1024**3),
        (" 3 kib ", 3072),
        ("1.5B", 2),
        ("0", 0),
        (None, None),
    ],
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
        (
            "/home/test/extract_dir/f.csv",
            "/home/test/extract_dir",
            "local filesystem",
            None,
            "local - extract_dir",
        ),
        ("file:///tmp/landing/", "/tmp/landing", "local filesystem", None, "local - landing"),
        ("s3://my-bucket/raw/teams/", "s3://my-bucket/raw/teams", "s3", "my-bucket", "s3 my-bucket - teams"),
        ("s3://my-bucket/", "s3://my-bucket", "s3", "my-bucket", "s3 my-bucket - my-bucket"),
        ("s3a://my-bucket/raw", "s3a://my-bucket/raw", "s3", "my-bucket", "s3 my-bucket - raw"),
        ("gs://b1/dir/file.json.gz", "gs://b1/dir", "gs", "b1", "gs b1 - dir"),
        (
            "abfss://box@acct.dfs.core.windows.net/in",
            "abfss://box@acct.dfs.core.windows.net/in",
            "abfss",
            "box",
            "abfss box - in",
        ),
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


@pytest.mark.parametrize(
    ("spellings", "stored"),
    [
        (["/data/in", "/data/in/", "file:/data/in", "file:/data/in/", "file:///data//in/"], "/data/in"),
        (["file://localhost/data/in", "//data//in//"], "/data/in"),
        (["/", "file:/", "file:///"], "/"),
        (["s3://bucket/dir", "s3://bucket/dir/", "S3://bucket//dir//"], "s3://bucket/dir"),
        (["s3://bucket", "s3://bucket/"], "s3://bucket"),
        (["dbfs:/mnt/raw/", "dbfs:/mnt//raw"], "dbfs:/mnt/raw"),
        (["dbfs:/"], "dbfs:/"),
        (["hdfs://nn:8020/in/"], "hdfs://nn:8020/in"),
        (["C:\\data\\in\\", "C:\\data\\in"], "C:\\data\\in"),
        (["data/in/"], "data/in"),
    ],
)
def test_each_folder_has_one_stored_spelling(spellings: list[str], stored: str) -> None:
    """Issue 22.4: ``/data/in/`` and ``/data/in`` were two locations."""
    assert {normalize_path(spelling) for spelling in spellings} == {stored}
    assert {parse_location_path(spelling, folder=True).path for spelling in spellings} == {stored}


def test_older_verbatim_spellings_are_still_looked_up() -> None:
    assert path_spellings("/data/in") == [
        "/data/in",
        "/data/in/",
        "file:/data/in",
        "file:/data/in/",
        "file:///data/in",
        "file:///data/in/",
    ]
    assert path_spellings("s3://bucket/dir") == ["s3://bucket/dir", "s3://bucket/dir/"]
    assert path_spellings("/") == ["/", "file:/", "file:///"]


def test_unknown_schemes_and_joins() -> None:
    with pytest.raises(InvalidInput, match="'http'"):
        parse_location_path("http://example.com/files")
    assert join_path("/a/b", "f.csv") == join_path("/a/b/", "f.csv") == "/a/b/f.csv"
    assert join_path("s3://bucket", "f.csv") == "s3://bucket/f.csv"
    assert split_file_name("/a/b/f.csv") == ("/a/b", "f.csv")
    assert split_file_name("/a/b/") == ("/a/b/", None)


# --- registration -----------------------------------------------------------------------------


def test_a_new_extract_is_registered_initializing_and_linked(spark, config, run) -> None:
    extract = ExtractTracker(
        run, filename="test_extract_filename.csv", location_path="/home/test/extract_dir"
    )

    assert extract.full_filename == "/home/test/extract_dir/test_extract_filename.csv"
    assert extract.status == "initializing"
    assert extract.location.location_type == "local filesystem"
    assert extract.location.location_name == "local - extract_dir"
    stored = extract_row(spark, config, extract.extract_id)
    assert (stored["extract_filename"], stored["extract_status_name"]) == (
        "test_extract_filename.csv",
        "initializing",
    )
    filetypes = table(spark, config, "extract_filetype_lkup")
    assert (
        rows_of(filetypes, "extract_filetype_id", stored["extract_filetype_id"])[0]["extract_filetype_code"]
        == "csv"
    )
    links = run_links(spark, config, extract.extract_id)
    assert [(link["process_tracking_id"], link["extract_status_name"]) for link in links] == [
        (run.process_tracking_id, "initializing")
    ]
    assert rows_of(table(spark, config, "extract_dataset_type"), "extract_id", extract.extract_id) == [
        {"extract_id": extract.extract_id, "dataset_type_id": run.dataset_type_ids[0]}
    ]
    assert rows_of(table(spark, config, "extract_source"), "extract_id", extract.extract_id) == [
        {"extract_id": extract.extract_id, "source_id": run.source_ids[0]}
    ]
    source_locations = table(spark, config, "source_location").where(
        F.col("location_id") == extract.location.location_id
    )
    assert [row.source_id for row in source_locations.collect()] == run.source_ids


def test_a_path_ending_in_a_file_name_gives_the_filename_and_folder(spark, config, run, unique) -> None:
    folder = f"s3://{unique('bucket')}/landing"
    extract = ExtractTracker(run, location_path=f"{folder}/teams.csv.gz", file_size="2.5MB")

    assert (extract.filename, extract.location.location_path) == ("teams.csv.gz", folder)
    assert extract.location.location_type == "s3"
    assert extract.location.location_name == f"s3 {extract.location.location_bucket_name} - landing"
    stored = extract_row(spark, config, extract.extract_id)
    assert stored["extract_filesize"] == 2621440
    compressions = table(spark, config, "extract_compression_type_lkup")
    compression = rows_of(compressions, "extract_compression_type_id", stored["extract_compression_type_id"])
    assert compression[0]["extract_compression_type"] == "gzip"


def test_named_filetype_and_compression_are_looked_up(spark, config, run, unique) -> None:
    extract = ExtractTracker(
        run,
        filename="teams.dat",
        location_path=f"/data/{unique('named')}",
        filetype="Comma Separated Values",
        compression_type="bzip2",
        file_size=1024,
        status="ready",
    )

    stored = extract_row(spark, config, extract.extract_id)
    assert (stored["extract_status_name"], stored["extract_filesize"]) == ("ready", 1024)
    types = table(spark, config, "extract_filetype_lkup")
    assert rows_of(types, "extract_filetype_id", stored["extract_filetype_id"])[0]["extract_filetype"] == (
        "Comma Separated Values"
    )
    assert run_links(spark, config, extract.extract_id)[0]["extract_status_name"] == "ready"


def test_registering_an_existing_extract_keeps_its_status_and_id(spark, config, run, unique) -> None:
    folder = f"/data/{unique('again')}"
    first = ExtractTracker(run, filename="a.csv", location_path=folder)
    first.change_extract_status("ready")
    before = table_versions(config)

    again = ExtractTracker(run, filename="a.csv", location_path=folder, status="initializing")

    assert (again.extract_id, again.status) == (first.extract_id, "ready")
    assert extract_row(spark, config, first.extract_id)["extract_status_name"] == "ready"
    assert commits_since(before, config) == {}
    assert (
        table(spark, config, "extract_tracking")
        .where(F.col("extract_location_id") == first.location.location_id)
        .count()
        == 1
    )


def test_reattaching_by_id_only_links_the_new_run(spark, config, run, unique) -> None:
    extract = ExtractTracker(run, filename="b.csv", location_path=f"/data/{unique('attach')}")
    extract.change_extract_status("ready")
    run.change_run_status("completed")
    later = ProcessTracker(spark=spark, process_name=run.process_name, config=config, actor_name="tester")
    before = table_versions(config)

    attached = ExtractTracker(later, extract_id=extract.extract_id)

    assert commits_since(before, config) == {"extract_process_tracking": 1}
    assert (attached.filename, attached.full_filename, attached.status) == (
        "b.csv",
        extract.full_filename,
        "ready",
    )
    assert attached.location.location_name == extract.location.location_name
    assert attached.location.location_type == "local filesystem"
    links = {
        link["process_tracking_id"]: link["extract_status_name"]
        for link in run_links(spark, config, extract.extract_id)
    }
    assert links == {run.process_tracking_id: "ready", later.process_tracking_id: "ready"}


def test_derived_location_names_get_a_suffix_when_taken(run, unique) -> None:
    folder = unique("raw")
    first = ExtractTracker(run, filename="x.csv", location_path=f"/one/{folder}")
    second = ExtractTracker(run, filename="x.csv", location_path=f"/two/{folder}")
    third = ExtractTracker(run, filename="x.csv", location_path=f"/three/{folder}/")
    named = ExtractTracker(
        run, filename="x.csv", location_path=f"/four/{folder}", location_name=unique("Mine")
    )

    assert first.location.location_name == f"local - {folder}"
    assert second.location.location_name == f"local - {folder} - 1"
    assert third.location.location_name == f"local - {folder} - 2"
    assert named.location.location_name.startswith("Mine-")
    assert len({first.extract_id, second.extract_id, third.extract_id, named.extract_id}) == 4


# --- status, dependencies, audit values ---------------------------------------------------------


def test_change_status_updates_the_extract_and_this_runs_link(spark, config, run, unique) -> None:
    extract = ExtractTracker(run, filename="c.csv", location_path=f"/data/{unique('status')}")
    registered = run_links(spark, config, extract.extract_id)[0]["extract_process_event_date_time"]
    before = table_versions(config)

    extract.change_extract_status(status="ready")

    assert commits_since(before, config) == {"extract_tracking": 1, "extract_process_tracking": 1}
    assert extract_row(spark, config, extract.extract_id)["extract_status_name"] == "ready"
    link = run_links(spark, config, extract.extract_id)[0]
    assert link["extract_status_name"] == "ready"
    assert link["extract_process_event_date_time"] >= registered


def test_a_child_waits_for_its_parent_to_be_loaded(spark, config, run, unique) -> None:
    folder = f"/data/{unique('deps')}"
    parent = ExtractTracker(run, filename="parent.csv", location_path=folder, status="ready")
    child = ExtractTracker(run, filename="child.csv", location_path=folder, status="ready")
    child.add_dependency("parent", parent)
    before = table_versions(config)
    child.add_dependency("parent", parent)  # same pair twice: no-op
    assert commits_since(before, config) == {}

    with pytest.raises(ExtractDependencyError, match=str(parent.extract_id)):
        child.change_extract_status("loading")

    assert commits_since(before, config) == {}
    assert extract_row(spark, config, child.extract_id)["extract_status_name"] == "ready"
    parent.change_extract_status("loaded")
    child.change_extract_status("loading")
    assert extract_row(spark, config, child.extract_id)["extract_status_name"] == "loading"
    with pytest.raises(InvalidInput, match="already the parent"):
        parent.add_dependency("parent", child)


def test_add_dependency_child_records_the_other_way_round(spark, config, run, unique) -> None:
    folder = f"/data/{unique('child')}"
    parent = ExtractTracker(run, filename="p.csv", location_path=folder)
    child = ExtractTracker(run, filename="c.csv", location_path=folder)

    parent.add_dependency("child", child)

    links = table(spark, config, "extract_dependency").where(F.col("child_extract_id") == child.extract_id)
    assert [row.parent_extract_id for row in links.collect()] == [parent.extract_id]


def test_low_high_dates_widen_in_one_commit_per_call(spark, config, run, unique) -> None:
    extract = ExtractTracker(run, filename="d.csv", location_path=f"/data/{unique('dates')}")
    before = table_versions(config)

    extract.set_extract_low_high_dates(T(10), T(12), audit_type="write")
    extract.set_extract_low_high_dates(T(9), T(13), audit_type="write")
    extract.set_extract_low_high_dates("2020-01-01T11:00:00", T(11), audit_type="write")
    extract.set_extract_low_high_dates(low_date=T(5))  # load side only, low only

    assert commits_since(before, config) == {"extract_tracking": 4}
    stored = extract_row(spark, config, extract.extract_id)
    assert (stored["extract_write_low_date_time"], stored["extract_write_high_date_time"]) == (T(9), T(13))
    assert (stored["extract_load_low_date_time"], stored["extract_load_high_date_time"]) == (T(5), None)


def test_record_counts_are_replaced(spark, config, run, unique) -> None:
    extract = ExtractTracker(run, filename="e.csv", location_path=f"/data/{unique('counts')}")

    extract.set_extract_record_count(100)
    extract.set_extract_record_count(40)
    extract.set_extract_record_count(7, audit_type="write")

    stored = extract_row(spark, config, extract.extract_id)
    assert (stored["extract_load_record_count"], stored["extract_write_record_count"]) == (40, 7)


def test_hostile_names_are_stored_verbatim(spark, config, run) -> None:
    hostile = "x'); DROP TABLE process;-- %_.csv"
    extract = ExtractTracker(
        run, filename=hostile, location_path='/data/it\'s "quoted"', location_name="n'; --"
    )

    assert extract_row(spark, config, extract.extract_id)["extract_filename"] == hostile
    assert extract.location.location_path == '/data/it\'s "quoted"'
    assert table(spark, config, "process").count() > 0


# --- bad input: a clear error and nothing written -----------------------------------------------


def _bad_calls(folder: str) -> list[tuple[str, Callable[[ProcessTracker, ExtractTracker], Any]]]:
    return [
        ("needs a filename and a location", lambda r, e: ExtractTracker(r)),
        ("no folder", lambda r, e: ExtractTracker(r, filename="lonely.csv")),
        ("does not end in a file name", lambda r, e: ExtractTracker(r, location_path=folder)),
        (
            "not a valid extract status type",
            lambda r, e: ExtractTracker(r, "f.csv", location_path=folder, status="bogus"),
        ),
        (
            "not a known extract file type",
            lambda r, e: ExtractTracker(r, "f.csv", location_path=folder, filetype="Bogus"),
        ),
        (
            "not a known compression",
            lambda r, e: ExtractTracker(r, "f.csv", location_path=folder, compression_type="rar"),
        ),
        ("file_size", lambda r, e: ExtractTracker(r, "f.csv", location_path=folder, file_size="ten KB")),
        ("filename: expected a string", lambda r, e: ExtractTracker(r, filename=123, location_path=folder)),
        (
            "location_path: expected a string",
            lambda r, e: ExtractTracker(r, filename="f.csv", location_path=["/x"]),
        ),
        ("unsupported URI scheme", lambda r, e: ExtractTracker(r, "f.csv", location_path="ftp://host/dir")),
        (
            "either location or location_path",
            lambda r, e: ExtractTracker(r, "f.csv", location=folder, location_path=folder),
        ),
        ("give no other", lambda r, e: ExtractTracker(r, filename="f.csv", extract_id=e.extract_id)),
        ("extract_id", lambda r, e: ExtractTracker(r, extract_id="1")),
        ("not found", lambda r, e: ExtractTracker(r, extract_id=10**12)),
        ("not a valid extract status type", lambda r, e: e.change_extract_status("bogus")),
        ("new_status", lambda r, e: e.change_extract_status()),
        ("dependency_type", lambda r, e: e.add_dependency("sibling", e)),
        ("depend on itself", lambda r, e: e.add_dependency("parent", e)),
        ("expected an ExtractTracker", lambda r, e: e.add_dependency("parent", 5)),
        ("later than", lambda r, e: e.set_extract_low_high_dates(T(12), T(10))),
        ("audit_type", lambda r, e: e.set_extract_low_high_dates(T(1), T(2), audit_type="read")),
        ("ISO-8601", lambda r, e: e.set_extract_low_high_dates("yesterday")),
        ("num_records", lambda r, e: e.set_extract_record_count(-1)),
        ("num_records", lambda r, e: e.set_extract_record_count("12")),
        ("audit_type", lambda r, e: e.set_extract_record_count(1, audit_type=None)),
    ]


def test_bad_input_raises_a_clear_error_and_writes_nothing(config, run, unique) -> None:
    folder = f"/data/{unique('bad')}"
    extract = ExtractTracker(run, filename="ok.csv", location_path=folder)
    before = table_versions(config)

    for expected, call in _bad_calls(f"/data/{unique('fresh')}"):
        with pytest.raises(ProcessTrackerError, match=expected) as raised:
            call(run, extract)
        assert isinstance(raised.value, (InvalidInput, NotFound)), expected

    assert commits_since(before, config) == {}
