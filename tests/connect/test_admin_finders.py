"""pt_spark.admin and every ProcessTracker finder over Spark Connect."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from pt_spark import InvalidInput, NotFound, ProcessTracker, ProtectedRowError, admin
from tests.connect.helpers import dicts, table


def named(spark, config, table_name: str, column: str, value: str) -> list[dict]:
    return dicts(table(spark, config, table_name).where(F.col(column) == value))


def test_lookup_rows_create_rename_delete(spark, config, unique):
    name, new_name = unique("contact x'); DROP TABLE process;--"), unique("contact")
    assert admin.create(spark, "contact", name, email="a@example.com", config=config) is True
    assert admin.create(spark, "contact", name, config=config) is False  # already there: no-op
    [row] = named(spark, config, "contact_lkup", "contact_name", name)
    assert row["contact_email"] == "a@example.com"

    admin.update(spark, "Contact", name, new_name, email="b@example.com", config=config)
    assert named(spark, config, "contact_lkup", "contact_name", name) == []
    [renamed] = named(spark, config, "contact_lkup", "contact_name", new_name)
    assert (renamed["contact_id"], renamed["contact_email"]) == (row["contact_id"], "b@example.com")

    admin.delete(spark, "contact", new_name, config=config)
    assert named(spark, config, "contact_lkup", "contact_name", new_name) == []
    with pytest.raises(NotFound):
        admin.delete(spark, "contact", new_name, config=config)
    with pytest.raises(ProtectedRowError):
        admin.delete(spark, "process status", "running", config=config)
    with pytest.raises(InvalidInput):
        admin.create(spark, "widget", "x", config=config)


def test_links_and_every_process_finder(spark, config, unique):
    process, source, target = unique("finder proc"), unique("finder src"), unique("finder dw")
    run = ProcessTracker(
        spark=spark,
        process_name=process,
        process_type="Extract",
        source_object_attributes={source: {"teams": ["year", "id"]}},
        target_object_attributes={target: {"team_dim": ["team_key"]}},
        schedule_frequency="hourly",
        config=config,
    )
    zed, amy = unique("zed"), unique("amy")
    for name in (zed, amy):
        admin.create(spark, "contact", name, email=f"{name}@example.com", config=config)
    admin.create(spark, "source contact", source=source, contact=zed, config=config)
    admin.create(spark, "process contact", process=process, contact=amy, config=config)
    where = {"process": process, "source": source, "source_object": "teams", "attribute": "year"}
    admin.create(spark, "process filter", config=config, filter_type="gte", value=2020, **where)

    contacts = [(r["contact_name"], r["contact_type"]) for r in run.find_process_contacts().collect()]
    assert contacts == [(zed, "source"), (amy, "process")]
    sources = [tuple(r)[:4] for r in run.find_process_source_attributes().collect()]
    assert sources == [(source, "Undefined", "teams", "id"), (source, "Undefined", "teams", "year")]
    targets = [tuple(r)[:4] for r in run.find_process_target_attributes().collect()]
    assert targets == [(target, "Undefined", "team_dim", "team_key")]
    [found] = run.find_process_filters().collect()
    assert (found["source_object_attribute_name"], found["filter_type_code"]) == ("year", "gte")
    assert found["filter_value_numeric"] == Decimal(2020)
    assert [r["source_name"] for r in run.find_process_filters(process).collect()] == [source]
    hourly = [r["process_name"] for r in run.find_process_by_schedule_frequency("hourly").collect()]
    assert process in hourly
    assert process not in [
        r["process_name"] for r in run.find_process_by_schedule_frequency("daily").collect()
    ]

    child = unique("finder child")
    ProcessTracker(spark=spark, process_name=child, process_type="Load", config=config).change_run_status(
        "completed"
    )
    admin.create(spark, "process dependency", parent=process, child=child, config=config)
    parents = table(spark, config, "process_dependency").where(
        F.col("parent_process_id") == run.process.process_id
    )
    assert parents.count() == 1
    admin.delete(spark, "process dependency", parent=process, child=child, config=config)
    assert parents.count() == 0
    admin.delete(spark, "process contact", process=process, contact=amy, config=config)
    assert [r["contact_name"] for r in run.find_process_contacts().collect()] == [zed]
    run.change_run_status("completed")


def test_latest_runs_lists_the_newest_first(spark, config, unique):
    name = unique("listed")
    first = ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config)
    first.raise_run_error("Data Error", "one")
    first.change_run_status("completed")
    ProcessTracker(spark=spark, process_name=name, config=config)
    found = admin.latest_runs(spark, name, limit=5, config=config).collect()
    assert [(r["process_run_id"], r["process_status_name"], r["error_count"]) for r in found] == [
        (2, "running", 0),
        (1, "completed", 1),
    ]
    with pytest.raises(NotFound):
        admin.latest_runs(spark, unique("nobody"), config=config)
