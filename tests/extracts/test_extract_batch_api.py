"""The batch API for extracts: many files registered with their audit values, many audits set, in one call.

Every figure is read back from the Delta tables; commits are counted from ``_delta_log``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pt_spark import ExtractTracker, InvalidInput, NotFound, ProcessTracker, TrackerConfig
from tests.helpers import commits_since, extract_run, table, table_versions


def T(day: int, hour: int = 0) -> datetime:
    return datetime(2024, 1, 1, hour) + timedelta(days=day - 1)


@pytest.fixture(scope="module")
def run(spark: SparkSession, config: TrackerConfig) -> ProcessTracker:
    """One run of an extract process with a source and a dataset type, shared by the module."""
    changes = {
        "actor_name": None,
        "tool_name": None,
        "sources": "Batch source",
        "dataset_types": "Batch data",
    }
    return extract_run(spark, config, "batch api", **changes)


def stored(spark: SparkSession, config: TrackerConfig, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The extract_tracking rows of ``ids`` with their status name, location path and file type code."""
    rows = (
        table(spark, config, "extract_tracking")
        .where(F.col("extract_id").isin(ids))
        .join(table(spark, config, "extract_status_lkup"), "extract_status_id")
        .join(table(spark, config, "location_lkup"), F.col("extract_location_id") == F.col("location_id"))
        .join(table(spark, config, "extract_filetype_lkup"), "extract_filetype_id", "left")
        .collect()
    )
    return {int(row["extract_id"]): row.asDict() for row in rows}


def files(count: int, **values: Any) -> list[dict[str, Any]]:
    """``count`` rows f000.csv, f001.csv ... with write dates day i+1..i+2 and count 100 * i."""
    return [
        {
            "filename": f"f{index:03d}.csv",
            "write_low_date": T(index + 1),
            "write_high_date": T(index + 2),
            "write_record_count": 100 * index,
            **values,
        }
        for index in range(count)
    ]


# --- register_extracts -----------------------------------------------------------------------


def test_a_batch_is_registered_with_its_audit_values_in_one_call(spark, config, run, unique) -> None:
    folder = f"s3://{unique('bucket')}/landing"
    rows = files(5, file_size="1KB", load_record_count=7)
    rows[4] = {**rows[4], "filename": "f004.json.gz", "status": "loaded"}

    ids = run.register_extracts(rows, location_path=folder)

    assert len(set(ids)) == 5
    found = stored(spark, config, ids)
    for index, extract_id in enumerate(ids):
        row = found[extract_id]
        assert row["extract_filename"] == rows[index]["filename"]
        assert row["location_path"] == folder
        assert (row["extract_write_low_date_time"], row["extract_write_high_date_time"]) == (
            T(index + 1),
            T(index + 2),
        )
        assert (row["extract_write_record_count"], row["extract_load_record_count"]) == (100 * index, 7)
        assert row["extract_filesize"] == 1024
        assert row["extract_load_low_date_time"] is None
    assert [found[i]["extract_status_name"] for i in ids] == ["ready"] * 4 + ["loaded"]
    assert [found[i]["extract_filetype_code"] for i in ids] == ["csv"] * 4 + ["json"]
    links = table(spark, config, "extract_process_tracking").where(F.col("extract_tracking_id").isin(ids))
    assert sorted(int(r.extract_tracking_id) for r in links.collect()) == sorted(ids)
    assert {int(r.process_tracking_id) for r in links.collect()} == {run.process_tracking_id}
    dataset_links = table(spark, config, "extract_dataset_type").where(F.col("extract_id").isin(ids))
    assert {(int(r.extract_id), int(r.dataset_type_id)) for r in dataset_links.collect()} == {
        (i, run.dataset_type_ids[0]) for i in ids
    }
    source_links = table(spark, config, "extract_source").where(F.col("extract_id").isin(ids))
    assert {(int(r.extract_id), int(r.source_id)) for r in source_links.collect()} == {
        (i, run.source_ids[0]) for i in ids
    }


def test_commits_per_table_do_not_grow_with_the_batch(spark, config, run, unique) -> None:
    commits = {}
    for count in (2, 40):
        before = table_versions(config)
        ids = run.register_extracts(files(count), location_path=f"/data/{unique('grow')}")
        commits[count] = commits_since(before, config)
        assert len(ids) == count

    assert commits[2] == commits[40]
    assert set(commits[40]) >= {"extract_tracking", "extract_process_tracking", "location_lkup"}
    assert max(commits[40].values()) == 1


def test_a_dataframe_of_rows_registers_the_same_way(spark, config, run, unique) -> None:
    folder = f"/data/{unique('frame')}"
    frame = spark.createDataFrame(
        [("a.csv", T(1), T(3), 10), ("b.csv", None, None, None)],
        "filename string, write_low_date timestamp, write_high_date timestamp, write_record_count long",
    )

    ids = run.register_extracts(frame, location_path=folder)

    found = stored(spark, config, ids)
    assert [found[i]["extract_filename"] for i in ids] == ["a.csv", "b.csv"]
    assert (found[ids[0]]["extract_write_low_date_time"], found[ids[0]]["extract_write_record_count"]) == (
        T(1),
        10,
    )
    assert (found[ids[1]]["extract_write_low_date_time"], found[ids[1]]["extract_write_record_count"]) == (
        None,
        None,
    )


def test_a_file_already_registered_keeps_its_id_and_status_and_its_dates_widen(
    spark, config, run, unique
) -> None:
    folder = f"/data/{unique('again')}"
    known = ExtractTracker(run, filename="old.csv", location_path=folder, status="loading")
    known.set_extract_low_high_dates(T(5), T(6), audit_type="write")
    before = table_versions(config)

    ids = run.register_extracts(
        [
            {"filename": "old.csv", "write_low_date": T(4), "write_high_date": T(5), "write_record_count": 9},
            {"filename": "new.csv", "write_record_count": 1},
        ],
        location_path=folder,
    )

    assert ids[0] == known.extract_id
    found = stored(spark, config, ids)
    old = found[known.extract_id]
    assert old["extract_status_name"] == "loading"
    assert (old["extract_write_low_date_time"], old["extract_write_high_date_time"]) == (T(4), T(6))
    assert old["extract_write_record_count"] == 9
    assert found[ids[1]]["extract_status_name"] == "ready"
    assert commits_since(before, config)["extract_tracking"] == 1


# --- set_extract_audits -----------------------------------------------------------------------


def test_audits_of_many_extracts_are_set_in_one_merge(spark, config, run, unique) -> None:
    folder = f"/data/{unique('audits')}"
    ids = run.register_extracts(files(3), location_path=folder)
    before = table_versions(config)

    updated = run.set_extract_audits(
        [
            {"extract_id": ids[0], "load_low_date": T(9), "load_high_date": T(10), "load_record_count": 5},
            {
                "filename": "f001.csv",
                "location_path": folder,
                "write_low_date": T(1),
                "write_record_count": 0,
            },
            {"filename": f"{folder}/f002.csv", "write_high_date": T(1), "file_size": 2048},
        ]
    )

    assert updated == ids
    assert commits_since(before, config) == {"extract_tracking": 1}
    found = stored(spark, config, ids)
    first, second, third = (found[i] for i in ids)
    assert (first["extract_load_low_date_time"], first["extract_load_high_date_time"]) == (T(9), T(10))
    assert (first["extract_load_record_count"], first["extract_write_record_count"]) == (5, 0)
    assert (second["extract_write_low_date_time"], second["extract_write_high_date_time"]) == (T(1), T(3))
    assert second["extract_write_record_count"] == 0
    assert (third["extract_write_low_date_time"], third["extract_write_high_date_time"]) == (T(3), T(4))
    assert (third["extract_write_record_count"], third["extract_filesize"]) == (200, 2048)


def test_audits_from_a_dataframe(spark, config, run, unique) -> None:
    ids = run.register_extracts(files(2), location_path=f"/data/{unique('frame audits')}")
    frame = spark.createDataFrame([(ids[0], 11), (ids[1], 22)], "extract_id long, load_record_count long")

    run.set_extract_audits(frame)

    found = stored(spark, config, ids)
    assert [found[i]["extract_load_record_count"] for i in ids] == [11, 22]


# --- a bad row anywhere: InvalidInput naming it, nothing written --------------------------------

BAD_REGISTRATIONS: dict[str, tuple[dict[str, Any], str]] = {
    "bad date": ({"write_low_date": "yesterday"}, r"rows\[2\] \('f002.csv'\): write_low_date: not an ISO"),
    "negative count": ({"write_record_count": -1}, r"rows\[2\] \('f002.csv'\): write_record_count: must not"),
    "unknown status": ({"status": "bogus"}, r"rows\[2\] \('f002.csv'\): status: bogus is not a valid"),
    "duplicate filename": ({"filename": "f000.csv"}, r"rows\[2\] \('f000.csv'\): filename: .* rows\[0\]"),
    "low after high": (
        {"load_low_date": T(5), "load_high_date": T(4)},
        r"rows\[2\] \('f002.csv'\): load_low_date .* is later than load_high_date",
    ),
    "unknown key": ({"write_count": 3}, r"rows\[2\] \('f002.csv'\): unknown key\(s\) write_count"),
    "unknown filetype": ({"filetype": "nope"}, r"rows\[2\] \('f002.csv'\): filetype: 'nope' is not"),
}


@pytest.mark.parametrize("bad", list(BAD_REGISTRATIONS))
def test_a_bad_row_anywhere_in_a_registration_writes_nothing(config, run, unique, bad) -> None:
    change, message = BAD_REGISTRATIONS[bad]
    rows = files(4)
    rows[2] = {**rows[2], **change}
    before = table_versions(config)

    with pytest.raises(InvalidInput, match=message):
        run.register_extracts(rows, location_path=f"/data/{unique('bad')}")

    assert table_versions(config) == before


def test_bad_rows_of_an_audit_batch_write_nothing(config, run, unique) -> None:
    folder = f"/data/{unique('bad audits')}"
    ids = run.register_extracts(files(2), location_path=folder)
    before = table_versions(config)
    good = {"extract_id": ids[0], "load_record_count": 1}
    bad_rows = {
        r"rows\[1\]: load_record_count: must not be negative": {
            "extract_id": ids[1],
            "load_record_count": -5,
        },
        r"rows\[1\]: write_low_date .* is later than": {
            "extract_id": ids[1],
            "write_low_date": T(3),
            "write_high_date": T(2),
        },
        r"rows\[1\]: extract \d+ is already rows\[0\]": {"extract_id": ids[0], "load_record_count": 2},
        r"rows\[1\] \('f000.csv'\): extract \d+ is already rows\[0\]": {
            "filename": "f000.csv",
            "location_path": folder,
        },
        r"rows\[1\]: extract_id: missing": {"load_record_count": 2},
        r"rows\[1\]: extract_id: expected a positive": {"extract_id": "7", "load_record_count": 2},
    }
    for message, row in bad_rows.items():
        with pytest.raises(InvalidInput, match=message):
            run.set_extract_audits([good, row])
    with pytest.raises(NotFound, match=r"rows\[1\] \('nope.csv'\): no extract 'nope.csv'"):
        run.set_extract_audits(
            [good, {"filename": "nope.csv", "location_path": folder, "load_record_count": 1}]
        )
    with pytest.raises(InvalidInput, match="expected a list of dicts or a DataFrame"):
        run.set_extract_audits(good)

    assert table_versions(config) == before


def test_an_empty_batch_reads_and_writes_nothing(config, run) -> None:
    before = table_versions(config)

    assert run.register_extracts([]) == []
    assert run.set_extract_audits([]) == []

    assert table_versions(config) == before
