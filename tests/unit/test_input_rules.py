"""Pure input rules with no Spark: validation, paths and locations, file sizes, admin topics."""

from __future__ import annotations

from datetime import datetime

import pytest

from pt_spark import InvalidInput
from pt_spark.admin.topics import PROCESS_RUN, find_topic, normalize_topic, topic_names
from pt_spark.extracts.locations import (
    derive_types,
    join_path,
    location_type_of,
    parse_file_size,
    parse_location_path,
    split_file_name,
)
from pt_spark.extracts.paths import normalize_path, path_spellings
from pt_spark.validation import choice, clean_name, count, low_high, to_timestamp


def test_names_are_trimmed_and_empty_ones_refused():
    assert clean_name("  Teams Load ", "process_name") == "Teams Load"
    with pytest.raises(InvalidInput, match="process_name: must not be empty"):
        clean_name("", "process_name")


@pytest.mark.parametrize(("value", "message"), [(-1, "must not be negative"), (2**63, "BIGINT maximum")])
def test_counts_are_bigints_and_not_negative(value, message):
    assert count(5, "num_records") == 5
    with pytest.raises(InvalidInput, match=message):
        count(value, "num_records")


def test_dates_parse_and_a_low_after_its_high_is_refused():
    assert to_timestamp("2020-01-01 10:00:00", "end_date") == datetime(2020, 1, 1, 10)
    assert low_high("2020-01-01", None) == (datetime(2020, 1, 1), None)
    with pytest.raises(InvalidInput, match="later than high_date"):
        low_high("2020-01-02", "2020-01-01")


def test_a_choice_is_case_insensitive_and_names_what_is_allowed():
    assert choice("Insert", "processing_type", ["insert", "update"]) == "insert"
    with pytest.raises(InvalidInput, match="processing_type: expected one of insert"):
        choice("x", "processing_type", ["insert"])


@pytest.mark.parametrize(
    ("given", "size"), [("10MB", 10 * 2**20), (1024, 1024), ("1.5 KB", 1536), (None, None)]
)
def test_file_sizes_read_units(given, size):
    assert parse_file_size(given) == size


@pytest.mark.parametrize(
    ("filename", "types"),
    [("a.csv.gz", ("csv", "gzip")), ("x.parquet", ("parquet", None)), ("README", (None, None))],
)
def test_file_and_compression_types_come_from_the_name(filename, types):
    assert derive_types(filename) == types


def test_paths_split_join_and_normalise():
    assert split_file_name("/data/in/a.csv") == ("/data/in", "a.csv")
    assert join_path("s3://b/k/", "a.csv") == "s3://b/k/a.csv"
    assert normalize_path("file:///tmp//x/") == "/tmp/x"
    assert normalize_path("s3a://b/k/") == "s3a://b/k"
    assert "file:///tmp/x/" in path_spellings("/tmp/x")


def test_locations_get_their_type_and_bucket_from_the_scheme():
    assert location_type_of("/tmp/x") == "local filesystem"
    assert location_type_of("abfss://c@a.dfs.core.windows.net/p") == "abfss"
    parsed = parse_location_path("s3://bucket/key/")
    assert (parsed.path, parsed.location_type, parsed.bucket, parsed.last_folder) == (
        "s3://bucket/key",
        "s3",
        "bucket",
        "key",
    )


def test_topics_are_found_whatever_their_spacing_and_case():
    assert normalize_topic("  Process   Dependency ") == "process dependency"
    assert find_topic("CONTACT").table == "contact_lkup"
    assert PROCESS_RUN in topic_names(with_process_run=True) and PROCESS_RUN not in topic_names()
    with pytest.raises(InvalidInput, match="Unknown topic"):
        find_topic("no such topic")
