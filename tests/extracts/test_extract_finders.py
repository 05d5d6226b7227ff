"""Extract finders, folder registration and bulk status changes on real Delta tables."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pt_spark import ExtractDependencyError, InvalidInput, NotFound, ProcessTracker, TrackerConfig
from pt_spark.extracts.batch import bulk_change_extract_status, register_extracts_by_location
from pt_spark.extracts.finders import (
    find_extracts_by_filename,
    find_extracts_by_location,
    find_extracts_by_process,
)
from pt_spark.extracts.tracker import ExtractTracker
from tests.helpers import commits_since, extract_run, table, table_versions

FINDER_COLUMNS = [
    "extract_id",
    "extract_filename",
    "full_filename",
    "location_name",
    "location_path",
    "extract_status_name",
    "extract_registration_date_time",
]


@pytest.fixture
def start(spark: SparkSession, config: TrackerConfig) -> Callable[..., ProcessTracker]:
    def _start(process_name: str) -> ProcessTracker:
        return extract_run(spark, config, process_name)

    return _start


@pytest.fixture
def run(start: Callable[..., ProcessTracker], unique: Callable[[str], str]) -> ProcessTracker:
    return start(unique("finder proc"))


def names(frame: DataFrame) -> list[str]:
    return [row.extract_filename for row in frame.collect()]


def statuses_of(spark: SparkSession, config: TrackerConfig, ids: list[int]) -> dict[int, str]:
    extracts = table(spark, config, "extract_tracking").join(
        table(spark, config, "extract_status_lkup"), "extract_status_id"
    )
    rows = extracts.where(F.col("extract_id").isin(ids)).collect()
    return {row.extract_id: row.extract_status_name for row in rows}


def link_statuses(spark: SparkSession, config: TrackerConfig, run: ProcessTracker) -> dict[int, str]:
    links = (
        table(spark, config, "extract_process_tracking")
        .where(F.col("process_tracking_id") == run.process_tracking_id)
        .join(
            table(spark, config, "extract_status_lkup"),
            F.col("extract_process_status_id") == F.col("extract_status_id"),
        )
    )
    return {row.extract_tracking_id: row.extract_status_name for row in links.collect()}


def make_files(folder: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return folder


# --- finders ------------------------------------------------------------------------------------


def test_find_by_filename_is_a_literal_substring_oldest_first_and_read_only(config, run, unique) -> None:
    folder = f"/landing/{unique('names')}"
    wanted = ["my_file_2019_01_01.csv", "this_is_my_file.csv", "2019-01-01-my_file.csv"]
    for name in [*wanted, "other.csv", "myXfileY.csv"]:
        ExtractTracker(run, filename=name, location_path=folder, status="ready")
    before = table_versions(config)

    first = find_extracts_by_filename(run.store, "my_file").where(F.col("location_path") == folder)
    second = find_extracts_by_filename(run.store, "my_file").where(F.col("location_path") == folder)

    assert names(first) == wanted
    assert first.columns[: len(FINDER_COLUMNS)] == FINDER_COLUMNS
    assert_df_equality(first, second)
    assert [row.full_filename for row in first.collect()] == [f"{folder}/{name}" for name in wanted]
    assert {row.extract_status_name for row in first.collect()} == {"ready"}
    assert commits_since(before, config) == {}
    assert (
        names(
            find_extracts_by_filename(run.store, "my_file", status="loading").where(
                F.col("location_path") == folder
            )
        )
        == []
    )


def test_find_by_location_matches_name_or_path(run, unique) -> None:
    name, path = unique("Finder Location"), f"s3://{unique('bucket')}/drop/"
    extracts = [
        ExtractTracker(run, filename=f"{n}.csv", location_path=path, location_name=name, status="ready")
        for n in ("a", "b")
    ]
    ExtractTracker(run, filename="c.csv", location_path=path, location_name=name)  # initializing

    expected = [e.extract_id for e in extracts]
    for found in (
        find_extracts_by_location(run.store, location=name),
        find_extracts_by_location(run.store, location=path),
        find_extracts_by_location(run.store, location_name=name),
        find_extracts_by_location(run.store, location_path=path, location_name=name),
    ):
        assert [row.extract_id for row in found.collect()] == expected
    assert {r.location_path for r in find_extracts_by_location(run.store, location=name).collect()} == {
        path.rstrip("/")
    }
    assert [r.full_filename for r in find_extracts_by_location(run.store, location=name).collect()] == [
        f"{path}a.csv",
        f"{path}b.csv",
    ]
    assert names(find_extracts_by_location(run.store, location=name, status="initializing")) == ["c.csv"]
    for spelling in (path.rstrip("/"), path + "/"):  # any spelling of the path (issue 22.4)
        assert names(find_extracts_by_location(run.store, location_path=spelling)) == ["a.csv", "b.csv"]


def test_find_by_process_deduplicates_extracts_used_by_several_runs(spark, config, start, unique) -> None:
    process = unique("producer")
    first = start(process)
    made = ExtractTracker(first, filename="out.csv", location_path=f"/out/{unique('p')}", status="ready")
    first.change_run_status("completed")
    second = start(process)
    ExtractTracker(second, extract_id=made.extract_id)

    found = find_extracts_by_process(second.store, process)

    assert [row.extract_id for row in found.collect()] == [made.extract_id]
    assert names(find_extracts_by_process(second.store, process, status="loaded")) == []


def test_finders_refuse_bad_arguments_and_write_nothing(run, config) -> None:
    cases = [
        (lambda s: find_extracts_by_filename(s, "x", status="bogus"), InvalidInput, "bogus is not a valid"),
        (lambda s: find_extracts_by_filename(s, ""), InvalidInput, "filename"),
        (lambda s: find_extracts_by_filename(s, None), InvalidInput, "filename"),
        (lambda s: find_extracts_by_location(s), InvalidInput, "location"),
        (lambda s: find_extracts_by_location(s, location=3), InvalidInput, "location"),
        (lambda s: find_extracts_by_location(s, location="x", status="nope"), InvalidInput, "nope"),
        (lambda s: find_extracts_by_process(s, "no such process zz"), NotFound, "no such process zz"),
        (lambda s: find_extracts_by_process(s, "x", status=["ready"]), InvalidInput, "status"),
    ]
    before = table_versions(config)
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call(run.store)
    assert commits_since(before, config) == {}


# --- register_extracts_by_location -------------------------------------------------------------


def test_register_by_location_registers_each_file_once(spark, config, run, tmp_path) -> None:
    folder = make_files(
        tmp_path / "drop",
        {"a.csv": "1", "b.json": "22", "c.csv.gz": "333", "sub/deeper.csv": "4", ".hidden": "5"},
    )

    assert register_extracts_by_location(run.context, str(folder)) == 3
    before = table_versions(config)
    assert register_extracts_by_location(run.context, str(folder)) == 0

    assert commits_since(before, config) == {}
    found = find_extracts_by_location(run.store, location_path=str(folder))
    assert sorted(names(found)) == ["a.csv", "b.json", "c.csv.gz"]
    location = table(spark, config, "location_lkup").where(F.col("location_path") == str(folder)).collect()[0]
    assert (location.location_file_count, location.location_name) == (3, "local - drop")
    sizes = {row.extract_filename: row.extract_filesize for row in found.collect()}
    assert sizes == {"a.csv": 1, "b.json": 2, "c.csv.gz": 3}
    assert set(link_statuses(spark, config, run).values()) == {"ready"}
    assert len(link_statuses(spark, config, run)) == 3


def test_register_by_location_counts_new_files_and_handles_empty_or_missing(
    spark, config, run, tmp_path, unique
) -> None:
    folder = make_files(tmp_path / "grow", {"one.csv": "1"})
    name = unique("Grow")
    assert register_extracts_by_location(run.context, str(folder), location_name=name) == 1
    make_files(folder, {"two.csv": "2"})
    assert register_extracts_by_location(run.context, str(folder)) == 1
    location = table(spark, config, "location_lkup").where(F.col("location_path") == str(folder)).collect()[0]
    assert (location.location_file_count, location.location_name) == (2, name)

    empty = tmp_path / "empty"
    empty.mkdir()
    assert register_extracts_by_location(run.context, f"file://{empty}") == 0
    before = table_versions(config)
    with pytest.raises(NotFound, match="does not exist"):
        register_extracts_by_location(run.context, str(tmp_path / "missing"))
    with pytest.raises(InvalidInput, match="location_path"):
        register_extracts_by_location(run.context, 42)
    assert commits_since(before, config) == {}


def test_a_folder_registered_in_two_spellings_is_one_location(spark, config, run, tmp_path) -> None:
    """Issue 22.4: ``/data/in/`` and ``/data/in`` were two locations, found only by the exact string."""
    folder = make_files(tmp_path / "spelled", {"one.csv": "1"})
    assert register_extracts_by_location(run.context, f"{folder}/") == 1
    make_files(folder, {"two.csv": "2"})
    assert register_extracts_by_location(run.context, f"file:{folder}") == 1
    assert register_extracts_by_location(run.context, f"file://{folder}//") == 0

    rows = table(spark, config, "location_lkup").where(F.col("location_path").contains(str(folder))).collect()
    assert [(row.location_path, row.location_file_count) for row in rows] == [(str(folder), 2)]
    for spelling in (str(folder), f"{folder}/", f"file:{folder}", f"file://{folder}/"):
        for found in (
            find_extracts_by_location(run.store, location_path=spelling),
            find_extracts_by_location(run.store, location=spelling),
        ):
            assert sorted(names(found)) == ["one.csv", "two.csv"]
    full = {row.full_filename for row in find_extracts_by_location(run.store, location=str(folder)).collect()}
    assert full == {f"{folder}/one.csv", f"{folder}/two.csv"}


def test_a_location_stored_verbatim_by_an_older_pt_spark_is_still_found_and_reused(
    spark, config, run, tmp_path
) -> None:
    """A row written before paths were normalised (``file:/x/y/``) is found and reused, not doubled."""
    from pt_spark.store.writes import append_rows, with_new_ids

    folder = make_files(tmp_path / "legacy", {"old.csv": "1"})
    legacy = f"file:{folder}/"
    type_id = table(spark, config, "location_type_lkup").where(
        F.col("location_type_name") == "local filesystem"
    )
    row = {
        "location_name": f"legacy {folder.name}",
        "location_path": legacy,
        "location_type_id": type_id.first().location_type_id,
    }
    append_rows(run.store, "location_lkup", with_new_ids("location_lkup", [row]))

    assert register_extracts_by_location(run.context, str(folder)) == 1
    assert register_extracts_by_location(run.context, f"{folder}/") == 0

    rows = table(spark, config, "location_lkup").where(F.col("location_path").contains(str(folder))).collect()
    assert [row.location_path for row in rows] == [legacy]
    assert names(find_extracts_by_location(run.store, location_path=str(folder))) == ["old.csv"]


# --- bulk_change_extract_status ----------------------------------------------------------------


def test_bulk_change_moves_200_extracts_in_one_commit_per_table(spark, config, run, tmp_path) -> None:
    folder = make_files(tmp_path / "bulk", {f"part_{i:03d}.csv": str(i) for i in range(200)})
    assert register_extracts_by_location(run.context, str(folder)) == 200
    found = find_extracts_by_location(run.store, location_path=str(folder))
    before = table_versions(config)

    bulk_change_extract_status(run.context, found, "loading")

    assert commits_since(before, config) == {"extract_tracking": 1, "extract_process_tracking": 1}
    location_ids = table(spark, config, "location_lkup").where(F.col("location_path") == str(folder))
    extracts = table(spark, config, "extract_tracking").join(
        location_ids, F.col("extract_location_id") == F.col("location_id"), "left_semi"
    )
    ids = [row.extract_id for row in extracts.collect()]
    assert len(ids) == 200
    assert set(statuses_of(spark, config, ids).values()) == {"loading"}
    links = link_statuses(spark, config, run)
    assert {links[i] for i in ids} == {"loading"}


def test_finder_results_keep_their_rows_after_the_bulk_change_they_fed(spark, config, run, tmp_path) -> None:
    """Regression (issue 22.2): ``ready`` re-ran over the changed table and came back empty."""
    folder = make_files(tmp_path / "pinned", {f"pinned_{i}.csv": str(i) for i in range(3)})
    register_extracts_by_location(run.context, str(folder))
    ready = find_extracts_by_location(run.store, location_path=str(folder))
    by_name = find_extracts_by_filename(run.store, "pinned_").where(F.col("location_path") == str(folder))
    by_process = find_extracts_by_process(run.store, run.process_name).where(
        F.col("location_path") == str(folder)
    )

    bulk_change_extract_status(run.context, ready, "loading")

    expected = [(f"pinned_{i}.csv", "ready") for i in range(3)]
    for found in (ready, by_name, by_process):
        assert [(row.extract_filename, row.extract_status_name) for row in found.collect()] == expected
    ids = [row.extract_id for row in ready.collect()]
    assert set(statuses_of(spark, config, ids).values()) == {"loading"}
    assert find_extracts_by_location(run.store, location_path=str(folder)).count() == 0
    now = find_extracts_by_location(run.store, location_path=str(folder), status="loading")
    assert sorted(row.extract_id for row in now.collect()) == sorted(ids)


def test_bulk_change_lets_a_parent_in_the_batch_unblock_its_child(spark, config, run, unique) -> None:
    folder = f"/bulk/{unique('family')}"
    parent = ExtractTracker(run, filename="parent.csv", location_path=folder, status="ready")
    child = ExtractTracker(run, filename="child.csv", location_path=folder, status="ready")
    lonely = ExtractTracker(run, filename="lonely.csv", location_path=folder, status="ready")
    child.add_dependency("parent", parent)
    before = table_versions(config)

    with pytest.raises(ExtractDependencyError, match=str(parent.extract_id)):
        bulk_change_extract_status(run.context, [lonely, child], "loading")
    assert commits_since(before, config) == {}
    assert statuses_of(spark, config, [lonely.extract_id, child.extract_id]) == {
        lonely.extract_id: "ready",
        child.extract_id: "ready",
    }

    run.bulk_change_extract_status([child, parent], "loading")  # the tracker updates the objects
    assert set(statuses_of(spark, config, [parent.extract_id, child.extract_id]).values()) == {"loading"}
    assert (child.status, parent.status) == ("loading", "loading")
    bulk_change_extract_status(run.context, [lonely.extract_id], "loaded")
    assert statuses_of(spark, config, [lonely.extract_id]) == {lonely.extract_id: "loaded"}


def test_bulk_change_refuses_bad_batches_and_writes_nothing(run, config, unique) -> None:
    extract = ExtractTracker(run, filename="x.csv", location_path=f"/bulk/{unique('bad')}")
    cases = [
        ([extract.extract_id], "bogus", InvalidInput, "bogus is not a valid extract status type"),
        ([extract], None, InvalidInput, "extract_status"),
        ([extract.extract_id, 10**12], "loaded", NotFound, str(10**12)),
        (["7"], "loaded", InvalidInput, "extracts"),
        ([True], "loaded", InvalidInput, "extracts"),
        ("a string", "loaded", InvalidInput, "extracts"),
        (None, "loaded", InvalidInput, "extracts"),
        (run.store.read("process"), "loaded", InvalidInput, "extract_id column"),
    ]
    before = table_versions(config)
    for batch, status, error, message in cases:
        with pytest.raises(error, match=message):
            bulk_change_extract_status(run.context, batch, status)
    assert commits_since(before, config) == {}
