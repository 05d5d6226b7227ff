"""pt_spark.admin through its public functions, on a real Delta store (docs/SPEC.md §5)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from chispa import assert_df_equality
from helpers import seed_attribute, seed_processes, seed_run, seed_store, table, table_versions
from pyspark.sql import functions as F

from pt_spark import InvalidInput, NotFound, ProcessTracker, ProtectedRowError, admin
from pt_spark.admin.topics import TOPICS, filter_value
from pt_spark.store.writes import append_rows, with_new_ids

# topic -> (table, name column, create options, {column: expected value after create})
LOOKUPS = {
    "actor": ("actor_lkup", "actor_name", {}, {}),
    "cluster": (
        "cluster_tracking_lkup",
        "cluster_name",
        {"max_memory": 64, "memory_unit": "GB", "max_processing": 8, "processing_unit": "vCPU"},
        {"cluster_max_memory": 64, "cluster_max_memory_unit": "GB", "cluster_max_processing": 8},
    ),
    "contact": (
        "contact_lkup",
        "contact_name",
        {"email": "ann@example.com"},
        {"contact_email": "ann@example.com"},
    ),
    "error type": ("error_type_lkup", "error_type_name", {}, {}),
    "extract status": ("extract_status_lkup", "extract_status_name", {}, {}),
    "process status": ("process_status_lkup", "process_status_name", {}, {}),
    "process type": ("process_type_lkup", "process_type_name", {}, {}),
    "source": ("source_lkup", "source_name", {"source_type": "Database"}, {}),
    "tool": ("tool_lkup", "tool_name", {}, {}),
}
# an option to change on update, with the column it sets
UPDATES = {
    "cluster": ({"max_memory": 128}, {"cluster_max_memory": 128}),
    "contact": ({"email": "lee@example.com"}, {"contact_email": "lee@example.com"}),
}


def rows(spark, config, name, **where):
    frame = table(spark, config, name)
    for column, value in where.items():
        frame = frame.where(F.col(column) == F.lit(value))
    return frame.collect()


def test_every_spec_topic_is_declared():
    expected = {
        "actor", "cluster", "cluster process", "contact", "error type", "extract status",
        "process dependency", "process status", "process type", "source", "tool", "process contact",
        "source contact", "process filter",
    }  # fmt: skip
    assert set(TOPICS) == expected
    assert set(LOOKUPS) == {name for name, topic in TOPICS.items() if not topic.is_link}


@pytest.mark.parametrize("topic", sorted(LOOKUPS))
def test_lookup_topic_create_rename_delete(spark, config, unique, topic):
    table_name, column, options, expected = LOOKUPS[topic]
    name, new_name = unique(f"{topic} x'); DROP TABLE process;--"), unique(topic)

    assert admin.create(spark, topic, f"  {name} ", config=config, **options) is True
    [row] = rows(spark, config, table_name, **{column: name})
    assert {key: row[key] for key in expected} == expected
    if topic == "source":
        [kind] = rows(spark, config, "source_type_lkup", source_type_id=row["source_type_id"])
        assert kind["source_type_name"] == "Database"

    before = table_versions(config)
    assert admin.create(spark, topic, name, config=config, **options) is False  # already there: no-op
    assert table_versions(config) == before

    changes, changed_columns = UPDATES.get(topic, ({}, {}))
    admin.update(spark, topic, name, new_name, config=config, **changes)
    assert rows(spark, config, table_name, **{column: name}) == []
    [renamed] = rows(spark, config, table_name, **{column: new_name})
    assert renamed[0] == row[0]  # same id: renamed in place
    assert {key: renamed[key] for key in changed_columns} == changed_columns

    admin.delete(spark, topic, new_name, config=config)
    assert rows(spark, config, table_name, **{column: new_name}) == []


def test_source_gets_the_undefined_type_by_default_and_update_changes_only_what_is_given(
    spark, config, unique
):
    name = unique("src")
    admin.create(spark, "source", name, config=config)
    admin.update(spark, "Source", name, None, config=config, source_type="External")
    [row] = rows(spark, config, "source_lkup", source_name=name)
    [kind] = rows(spark, config, "source_type_lkup", source_type_id=row["source_type_id"])
    assert kind["source_type_name"] == "External"


def test_topics_are_case_insensitive_and_trimmed(spark, config, unique):
    name = unique("tool")
    assert admin.create(spark, "  TOOL ", name, config=config)
    admin.update(spark, "Tool", name, name + "-2", config=config)
    admin.delete(spark, " tOoL", name + "-2", config=config)
    assert rows(spark, config, "tool_lkup", tool_name=name + "-2") == []


def test_unknown_topic_lists_the_topics_and_writes_nothing(spark, config):
    before = table_versions(config)
    with pytest.raises(InvalidInput, match=r"Unknown topic 'widget'.*actor, cluster, cluster process"):
        admin.create(spark, "widget", "x", config=config)
    with pytest.raises(InvalidInput, match="Unknown topic"):
        admin.delete(spark, "process run", "x", config=config)
    assert table_versions(config) == before


BAD_CALLS = [
    (admin.create, ("contact", "Ann"), {"phone": "1"}, "unknown option.*phone.*email="),
    (admin.delete, ("contact", "Ann"), {"email": "a@x"}, "unknown option.*email"),
    (admin.create, ("process contact",), {"process": "p"}, "missing option.*contact="),
    (admin.create, ("process contact", "n"), {"process": "p", "contact": "c"}, "has no name"),
    (admin.create, ("contact", "  "), {}, "name: must not be empty"),
    (admin.create, ("cluster", "k"), {"max_memory": -1}, "max_memory: must not be negative"),
    (admin.update, ("contact", "Ann", "Ann"), {}, "nothing to update"),
    (admin.update, ("process contact", None, None), {"process": "p", "contact": "c"}, "nothing to update"),
    (admin.update, ("process dependency", None, None), {"parent": "p"}, "missing option.*child="),
    (admin.update, ("process run", None, "p"), {"email": "a@x"}, "takes only the process name"),
    (
        admin.create,
        ("process filter",),
        {"process": "p", "source": "s", "source_object": "o", "attribute": "a", "filter_type": "eq"},
        "missing option.*value=",
    ),
]


@pytest.mark.parametrize(("call", "args", "options", "message"), BAD_CALLS)
def test_bad_options_fail_before_anything_is_written(spark, config, call, args, options, message):
    before = table_versions(config)
    with pytest.raises(InvalidInput, match=message):
        call(spark, *args, config=config, **options)
    assert table_versions(config) == before


@pytest.mark.parametrize(
    ("topic", "name"),
    [("process status", "on hold"), ("extract status", "ready"), ("error type", "File Error"),
     ("process type", "Load")],
)  # fmt: skip
def test_default_rows_cannot_be_renamed_or_deleted(spark, config, topic, name):
    before = table_versions(config)
    with pytest.raises(ProtectedRowError, match="cannot be renamed"):
        admin.update(spark, topic, name, "something else", config=config)
    with pytest.raises(ProtectedRowError, match="cannot be deleted"):
        admin.delete(spark, topic, name, config=config)
    assert table_versions(config) == before


def test_missing_rows_and_taken_names_are_clear_errors_and_write_nothing(spark, config, unique):
    process = unique("proc")
    contact, other = unique("contact"), unique("contact")
    seed_processes(spark, config, process)
    admin.create(spark, "contact", contact, config=config)
    admin.create(spark, "contact", other, config=config)
    before = table_versions(config)
    with pytest.raises(NotFound, match=r"process 'nope' not found"):
        admin.create(spark, "process contact", config=config, process="nope", contact=contact)
    with pytest.raises(NotFound, match=r"contact 'nobody' not found"):
        admin.create(spark, "process contact", config=config, process=process, contact="nobody")
    with pytest.raises(NotFound, match=r"cluster 'none' not found"):
        admin.create(spark, "cluster process", config=config, cluster="none", child=process)
    with pytest.raises(NotFound, match=r"attribute 'a' of source object 'o' of source 's' not found"):
        admin.create(spark, "process filter", config=config, process=process, source="s", source_object="o",
                     attribute="a", filter_type="eq", value=1)  # fmt: skip
    with pytest.raises(NotFound, match=r"^process 'x' and dependency type 'Weak' not found$"):
        admin.create(
            spark, "process dependency", config=config, parent=process, child="x", dependency_type="Weak"
        )
    with pytest.raises(NotFound, match=r"contact 'ghost' not found"):
        admin.update(spark, "contact", "ghost", "spirit", config=config)
    with pytest.raises(NotFound, match=r"actor 'ghost' not found"):
        admin.delete(spark, "actor", "ghost", config=config)
    with pytest.raises(NotFound, match=r"process contact \(process=.*, contact=.*\) not found"):
        admin.delete(spark, "process contact", config=config, process=process, contact=contact)
    with pytest.raises(InvalidInput, match=f"contact '{other}' already exists"):
        admin.update(spark, "contact", contact, other, config=config)
    assert table_versions(config) == before


def test_a_row_still_in_use_cannot_be_deleted(spark, config, unique):
    process, contact = unique("proc"), unique("contact")
    seed_processes(spark, config, process)
    admin.create(spark, "contact", contact, config=config, email="c@example.com")
    admin.create(spark, "process contact", config=config, process=process, contact=contact)
    before = table_versions(config)
    with pytest.raises(InvalidInput, match=r"still used by process_contact.contact_id"):
        admin.delete(spark, "contact", contact, config=config)
    assert table_versions(config) == before
    admin.delete(spark, "process contact", config=config, process=process, contact=contact)
    admin.delete(spark, "contact", contact, config=config)
    assert rows(spark, config, "contact_lkup", contact_name=contact) == []


@pytest.mark.parametrize(
    ("topic", "table_name", "options"),
    [("process contact", "process_contact", ("process", "contact")),
     ("source contact", "source_contact", ("source", "contact")),
     ("cluster process", "cluster_process", ("cluster", "child"))],
)  # fmt: skip
def test_link_topics_create_and_delete(spark, config, unique, topic, table_name, options):
    process, contact, cluster, source = unique("proc"), unique("contact"), unique("cluster"), unique("src")
    ids = seed_processes(spark, config, process)
    names = {"process": process, "contact": contact, "cluster": cluster, "source": source, "child": process}
    link = {option: names[option] for option in options}
    for option in {"contact", "cluster", "source"} & set(options):
        admin.create(spark, option, names[option], config=config)

    count_before = table(spark, config, table_name).count()
    assert admin.create(spark, topic, config=config, **link) is True
    assert table(spark, config, table_name).count() == count_before + 1
    before = table_versions(config)
    assert admin.create(spark, topic.upper(), config=config, **link) is False
    assert table_versions(config) == before
    if "child" in options:
        [row] = rows(spark, config, table_name, process_id=ids[process])
        assert row["cluster_id"] == rows(spark, config, "cluster_tracking_lkup", cluster_name=cluster)[0][0]

    admin.delete(spark, topic, config=config, **link)
    assert table(spark, config, table_name).count() == count_before
    with pytest.raises(NotFound):
        admin.delete(spark, topic, config=config, **link)


def test_process_dependency_defaults_to_hard_and_refuses_self_links_and_cycles(spark, config, unique):
    a, b, c = unique("a"), unique("b"), unique("c")
    ids = seed_processes(spark, config, a, b, c)
    types = {
        r["dependency_type_name"]: r["dependency_type_id"]
        for r in rows(spark, config, "dependency_type_lkup")
    }
    admin.create(spark, "process dependency", config=config, parent=a, child=b)
    admin.create(spark, "process dependency", config=config, parent=b, child=c, dependency_type="Soft")

    before = table_versions(config)
    with pytest.raises(InvalidInput, match="cannot depend on itself"):
        admin.create(spark, "process dependency", config=config, parent=a, child=a)
    with pytest.raises(InvalidInput, match="would create a dependency cycle"):
        admin.create(spark, "process dependency", config=config, parent=c, child=a)
    assert table_versions(config) == before

    admin.update(
        spark, "process dependency", None, None, config=config, parent=a, child=b, dependency_type="Soft"
    )
    mine = table(spark, config, "process_dependency").where(F.col("child_process_id").isin(ids[b], ids[c]))
    expected = spark.createDataFrame(
        [(ids[a], ids[b], types["Soft"]), (ids[b], ids[c], types["Soft"])],
        "parent_process_id long, child_process_id long, dependency_type_id long",
    )
    assert_df_equality(mine, expected, ignore_row_order=True, ignore_nullable=True)

    admin.delete(spark, "process dependency", config=config, parent=a, child=b)
    admin.create(spark, "process dependency", config=config, parent=c, child=a)  # no cycle any more
    [row] = rows(spark, config, "process_dependency", child_process_id=ids[a])
    assert (row["parent_process_id"], row["dependency_type_id"]) == (ids[c], types["Hard"])


def test_process_filter_stores_numbers_and_strings_in_their_columns(spark, config, unique):
    process, source = unique("proc"), unique("src")
    ids = seed_processes(spark, config, process)
    attribute_id = seed_attribute(spark, config, source, "teams", "year")
    where = {"process": process, "source": source, "source_object": "teams", "attribute": "year"}
    admin.create(spark, "process filter", config=config, filter_type="gte", value=2020, **where)
    admin.create(spark, "Process Filter", config=config, filter_type="lke", value="19%", **where)

    def stored():
        frame = table(spark, config, "process_filter").where(F.col("process_id") == ids[process])
        codes = table(spark, config, "filter_type_lkup").select("filter_type_id", "filter_type_code")
        columns = ("source_object_attribute_id", "filter_value_numeric", "filter_value_string")
        found = frame.join(codes, "filter_type_id").collect()
        return {r["filter_type_code"]: tuple(r[c] for c in columns) for r in found}

    assert stored() == {"gte": (attribute_id, Decimal(2020), None), "lke": (attribute_id, None, "19%")}
    admin.update(spark, "process filter", None, None, config=config, filter_type="gte", value="2021", **where)
    assert stored()["gte"] == (attribute_id, None, "2021")
    admin.delete(spark, "process filter", config=config, filter_type="lke", **where)
    assert set(stored()) == {"gte"}


def test_finders_return_the_contacts_and_filters_created_through_admin(spark, config, unique):
    """Contacts: source contacts first, then process contacts (each by name); filters by name."""
    process, source = unique("finder-proc"), unique("finder-src")
    run = ProcessTracker(
        spark=spark,
        process_name=process,
        process_type="Extract",
        source_object_attributes={source: {"teams": ["year"]}},
        config=config,
    )
    zed, amy, bob = unique("zed"), unique("amy"), unique("bob")
    for name in (zed, amy, bob):
        admin.create(spark, "contact", name, email=f"{name}@example.com", config=config)
    admin.create(spark, "source contact", source=source, contact=zed, config=config)
    admin.create(spark, "process contact", process=process, contact=bob, config=config)
    admin.create(spark, "process contact", process=process, contact=amy, config=config)
    where = {"process": process, "source": source, "source_object": "teams", "attribute": "year"}
    admin.create(spark, "process filter", config=config, filter_type="gte", value=2020, **where)

    contacts = spark.createDataFrame(
        [
            (name, f"{name}@example.com", kind)
            for name, kind in ((zed, "source"), (amy, "process"), (bob, "process"))
        ],
        "contact_name string, contact_email string, contact_type string",
    )
    assert_df_equality(run.find_process_contacts(), contacts, ignore_nullable=True)
    [found] = run.find_process_filters().collect()
    assert (found["source_name"], found["source_object_name"], found["source_object_attribute_name"]) == (
        source,
        "teams",
        "year",
    )
    assert (found["filter_type_code"], found["filter_value_numeric"]) == ("gte", Decimal(2020))


def test_filter_values_are_typed():
    assert filter_value(2.5) == {"filter_value_numeric": Decimal("2.5"), "filter_value_string": None}
    assert filter_value("2.5") == {"filter_value_string": "2.5", "filter_value_numeric": None}
    for bad in (True, float("nan"), 10**30, [1]):
        with pytest.raises(InvalidInput, match="value"):
            filter_value(bad)


def test_release_hold_completes_the_held_run_only(spark, config, unique):
    process = unique("held")
    pid = seed_processes(spark, config, process)[process]
    start = datetime(2020, 1, 1, 1)
    seed_run(spark, config, pid, "failed", 1, latest=False, process_run_start_date_time=start)
    seed_run(spark, config, pid, "on hold", 2, process_run_start_date_time=start + timedelta(hours=1))

    assert admin.release_hold(spark, f" {process} ", config=config) == 2
    runs = {r["process_run_id"]: r for r in rows(spark, config, "process_tracking", process_id=pid)}
    statuses = {
        r["process_status_id"]: r["process_status_name"] for r in rows(spark, config, "process_status_lkup")
    }
    assert statuses[runs[1]["process_status_id"]] == "failed"
    assert statuses[runs[2]["process_status_id"]] == "completed"
    assert runs[2]["process_run_end_date_time"] is not None and runs[1]["process_run_end_date_time"] is None

    before = table_versions(config)
    with pytest.raises(NotFound, match=f"Process {process} has no run on hold"):
        admin.release_hold(spark, process, config=config)
    with pytest.raises(NotFound, match="Process 'no such process' not found"):
        admin.update(spark, "Process Run", None, "no such process", config=config)
    assert table_versions(config) == before


def test_latest_runs_newest_first_with_duration_and_errors(spark, config, unique):
    first, second = unique("runs"), unique("runs")
    ids = seed_processes(spark, config, first, second)
    t = datetime(2030, 1, 1, 1)  # later than any other test's runs
    seed_run(spark, config, ids[first], "completed", 1, latest=False, process_run_start_date_time=t,
             process_run_end_date_time=t + timedelta(minutes=90), process_run_record_count=10)  # fmt: skip
    seed_run(spark, config, ids[first], "failed", 2, process_run_start_date_time=t + timedelta(hours=2))
    seed_run(spark, config, ids[second], "running", 1, process_run_start_date_time=t + timedelta(hours=3))
    failed_id = rows(spark, config, "process_tracking", process_id=ids[first], process_run_id=2)[0][0]
    error_type = rows(spark, config, "error_type_lkup", error_type_name="Data Error")[0]["error_type_id"]
    errors = [
        {"error_type_id": error_type, "process_tracking_id": failed_id, "error_occurrence_date_time": t}
    ] * 2
    append_rows(seed_store(spark, config), "error_tracking", with_new_ids("error_tracking", errors))

    columns = ("process_name", "process_run_id", "process_status_name", "duration_seconds", "error_count")
    got = [tuple(r[c] for c in columns) for r in admin.latest_runs(spark, limit=3, config=config).collect()]
    assert got == [
        (second, 1, "running", None, 0),
        (first, 2, "failed", None, 2),
        (first, 1, "completed", 5400, 0),
    ]
    only = admin.latest_runs(spark, first, limit=1, config=config).collect()
    assert [(r["process_name"], r["process_run_id"]) for r in only] == [(first, 2)]
    with pytest.raises(NotFound, match="Process 'nobody' not found"):
        admin.latest_runs(spark, "nobody", config=config)
