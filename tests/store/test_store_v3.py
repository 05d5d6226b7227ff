"""Store v3: ids made by the library, one SQL write path, write buckets, the in-place upgrade.

The upgrade runs on ``tests/fixtures/store_v2``: a store written by pt_spark's v2 code (Delta
IDENTITY ids, no write buckets), so it is checked against what real users' stores hold.
"""

from __future__ import annotations

import ast
import json
import shutil
import uuid
import zlib
from pathlib import Path

import pytest
from helpers import commits_since, partition_columns, table, table_versions
from pyspark.sql import functions as F

import pt_spark.runs.tracker as tracker_module
from pt_spark import (
    ExtractTracker,
    ProcessDependencyError,
    ProcessRunRefused,
    ProcessTracker,
    TrackerConfig,
    setup,
)
from pt_spark.store import store_for, writes
from pt_spark.store.ids import new_ids
from pt_spark.store.reads import create_missing
from pt_spark.store.schema import (
    BUCKETS,
    LAYOUT_PROPERTY,
    LAYOUT_VERSION,
    SCHEMA_VERSION,
    TABLES,
    bucket_of,
    spec,
)
from tests.fixtures.make_store_v2 import TEAMS_EXTRACT

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "store_v2"


# --- ids ----------------------------------------------------------------------------------------


def test_ids_are_unique_positive_bigints_in_time_order():
    ids = new_ids(50_000)
    assert len(set(ids)) == len(ids)
    assert all(0 < value < 2**63 for value in ids)
    later = new_ids(1)[0]
    assert later >> 22 >= ids[0] >> 22  # the high bits are milliseconds: later ids are not older


def _schema_metadata(location: str, name: str) -> list[dict]:
    """Return the column metadata of a table's newest schema, read from its Delta log."""
    schema = None
    for commit in sorted((Path(location) / name / "_delta_log").glob("*.json")):
        for line in commit.read_text(encoding="utf-8").splitlines():
            action = json.loads(line)
            if "metaData" in action:
                schema = json.loads(action["metaData"]["schemaString"])
    assert schema is not None, name
    return [field.get("metadata", {}) for field in schema["fields"]]


def test_no_table_has_an_identity_column(config):
    with_identity = [
        table_spec.name
        for table_spec in TABLES
        if any(
            key.startswith("delta.identity")
            for meta in _schema_metadata(config.location, table_spec.name)
            for key in meta
        )
    ]
    assert with_identity == []


def test_a_run_s_rows_carry_library_ids_known_before_the_write(spark, config, unique):
    run = ProcessTracker(spark=spark, process_name=unique("ids"), process_type="Load", config=config)
    extract = ExtractTracker(run, "ids.csv", location_path=f"/ids/{unique('loc')}")
    stored = table(spark, config, "process_tracking").where(
        F.col("process_tracking_id") == run.process_tracking_id
    )
    assert stored.count() == 1
    assert run.process_tracking_id > 2**40 and extract.extract_id > 2**40  # not 1, 2, 3 from a counter


# --- one SQL write path -------------------------------------------------------------------------


def test_the_library_uses_no_delta_table_builder_and_no_jvm():
    offenders = []
    for path in (REPO_ROOT / "pt_spark").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "delta.tables":
                offenders.append(f"{path.name}: from delta.tables import")
            if isinstance(node, ast.Attribute) and node.attr in {"_jvm", "_jdf", "sparkContext", "rdd"}:
                offenders.append(f"{path.name}: .{node.attr}")
    assert offenders == []


def test_a_call_leaves_no_temp_view_behind(spark, config, unique):
    run = ProcessTracker(spark=spark, process_name=unique("views"), process_type="Load", config=config)
    run.set_process_run_record_count(5)
    run.change_run_status("completed")
    views = [t.name for t in spark.catalog.listTables() if t.isTemporary and t.name.startswith("pt_source_")]
    assert views == []


def test_errors_are_blind_appends(spark, config, unique):
    run = ProcessTracker(spark=spark, process_name=unique("blind"), process_type="Load", config=config)
    before = table_versions(config)
    run.raise_run_error("Data Error", "appended")
    assert commits_since(before, config)["error_tracking"] == 1
    last = spark.sql(f"DESCRIBE HISTORY {config.table('error_tracking')} LIMIT 1").first()
    assert (last["operation"], last["isBlindAppend"]) == ("WRITE", True)


def test_a_start_of_an_existing_process_is_one_commit(spark, config, unique):
    name = unique("one-commit")
    ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config).change_run_status(
        "completed"
    )
    before = table_versions(config)
    ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config)
    assert commits_since(before, config) == {"process_tracking": 1}


# --- the next start in a session: one guarded MERGE -----------------------------------------------


@pytest.fixture
def spied(monkeypatch):
    """Count the statements the library runs and the start-state reads a start makes."""
    real_execute, real_read = writes._execute, tracker_module.read_start_state
    counts = {"statements": 0, "state_reads": 0}

    def execute(store, sql):
        counts["statements"] += 1
        return real_execute(store, sql)

    def read(*arguments, **keywords):
        counts["state_reads"] += 1
        return real_read(*arguments, **keywords)

    monkeypatch.setattr(writes, "_execute", execute)
    monkeypatch.setattr(tracker_module, "read_start_state", read)
    return counts


def _tracker(spark, config, name, **arguments):
    given = {"process_type": "Load", "actor_name": "nightly", "tool_name": "Spark", **arguments}
    return ProcessTracker(spark=spark, process_name=name, config=config, **given)


def _runs(spark, config, name):
    process = table(spark, config, "process").where(F.col("process_name") == name).select("process_id")
    runs = table(spark, config, "process_tracking").join(process, "process_id")
    return {row.process_run_id: row for row in runs.collect()}


def _reset(counts):
    counts.update(statements=0, state_reads=0)


def test_the_next_start_in_a_session_is_one_merge_and_reads_nothing(spark, config, unique, spied):
    name = unique("next-start")
    first = _tracker(spark, config, name)
    first.change_run_status("completed")
    before = table_versions(config)
    _reset(spied)
    second = _tracker(spark, config, name)
    assert spied == {"statements": 1, "state_reads": 0}
    assert commits_since(before, config) == {"process_tracking": 1}
    runs = _runs(spark, config, name)
    actor = table(spark, config, "actor_lkup").where(F.col("actor_name") == "nightly").first().actor_id
    assert (second.process_run_id, second.status) == (2, "running")
    assert (runs[2].process_tracking_id, runs[2].is_latest_run, runs[1].is_latest_run) == (
        second.process_tracking_id,
        True,
        False,
    )
    assert runs[2].process_run_actor_id == actor and second.actor.actor_name == "nightly"


def test_a_run_another_session_started_meanwhile_sends_the_start_the_long_way(spark, config, unique, spied):
    name = unique("other-session")
    _tracker(spark, config, name).change_run_status("completed")
    store = store_for(spark, config)
    seen = store.known_starts[name]
    _tracker(spark, config, name).change_run_status("completed")  # run 2: "another job"
    store.known_starts[name] = seen  # this session knows only run 1
    _reset(spied)
    third = _tracker(spark, config, name)
    assert third.process_run_id == 3 and spied["state_reads"] == 1
    runs = _runs(spark, config, name)
    assert sorted(runs) == [1, 2, 3] and [r for r, row in runs.items() if row.is_latest_run] == [3]
    store.known_starts[name] = seen  # run 3 is running: the guard keeps the next start from passing it
    with pytest.raises(ProcessRunRefused):
        _tracker(spark, config, name)
    assert sorted(_runs(spark, config, name)) == [1, 2, 3]


@pytest.mark.parametrize(
    "change",
    ["failed", "new target", "other actor", "run name"],
)
def test_a_start_after_a_change_takes_the_long_way_and_is_right(spark, config, unique, spied, change):
    name = unique("changed")
    first = _tracker(spark, config, name)
    first.change_run_status("failed" if change == "failed" else "completed")
    arguments = {
        "failed": {},
        "new target": {"targets": [unique("target")]},
        "other actor": {"actor_name": unique("actor")},
        "run name": {"process_run_name": unique("named")},
    }[change]
    _reset(spied)
    second = _tracker(spark, config, name, **arguments)
    assert spied["state_reads"] == 1 and (second.process_run_id, second.status) == (2, "running")
    if change == "new target":
        assert [e.source_name for e in second.targets] == arguments["targets"]
    if change == "other actor":
        assert second.actor.actor_name == arguments["actor_name"]
    if change == "run name":
        assert _runs(spark, config, name)[2].process_run_name == arguments["process_run_name"]


def test_a_dependency_added_after_a_start_blocks_the_next_one(spark, config, unique, spied):
    parent, child = unique("parent"), unique("child")
    _tracker(spark, config, child).change_run_status("completed")
    _tracker(spark, config, parent)  # running
    ids = {
        row.process_name: row.process_id
        for row in table(spark, config, "process").where(F.col("process_name").isin(parent, child)).collect()
    }
    dependency = {"parent_process_id": ids[parent], "child_process_id": ids[child], "dependency_type_id": 2}
    create_missing(store_for(spark, config), "process_dependency", [dependency])
    before = table_versions(config)
    with pytest.raises(ProcessDependencyError):
        _tracker(spark, config, child)
    assert commits_since(before, config) == {}


# --- write buckets ------------------------------------------------------------------------------


def test_buckets_in_python_and_in_sql_agree(spark):
    names = ["Teams Load", "x'); DROP TABLE process;--", "ünïcode ✓", ""]
    sql = spark.createDataFrame([(n,) for n in names], "name string").select(
        F.expr(f"pmod(crc32(CAST(name AS BINARY)), {BUCKETS})").alias("b")
    )
    assert [row.b for row in sql.collect()] == [zlib.crc32(n.encode()) % BUCKETS for n in names]
    assert [bucket_of(n) for n in names] == [row.b for row in sql.collect()]


def test_hot_tables_are_partitioned_by_write_bucket(config):
    for name in ("process", "process_tracking", "extract_tracking", "extract_process_tracking"):
        assert partition_columns(config, name)[0] == "bucket", name


def test_every_row_is_in_the_bucket_of_its_key(spark, config, unique):
    run = ProcessTracker(spark=spark, process_name=unique("bucketed"), process_type="Load", config=config)
    ExtractTracker(run, "b.csv", location_path=f"/buckets/{unique('loc')}").change_extract_status("ready")
    for name in ("process", "process_tracking", "extract_tracking", "extract_process_tracking"):
        by = spec(name).bucket_by
        rows = table(spark, config, name).select(by, "bucket").collect()
        assert rows and all(row["bucket"] == bucket_of(row[by]) for row in rows), name


# --- the upgrade of a v2 store ------------------------------------------------------------------


def _read_folder(spark, location: Path, name: str) -> list[tuple]:
    """Return a table's rows over the columns the v2 fixture has (newer columns are NULL after)."""
    frame = spark.read.format("delta").load(str(location / name))
    v2_columns = spark.read.format("delta").load(str(FIXTURE / name)).columns
    columns = [c for c in frame.columns if c != "bucket" and c in v2_columns]
    return sorted((tuple(row) for row in frame.select(*sorted(columns)).collect()), key=repr)


@pytest.fixture(scope="module")
def upgraded(spark, tmp_path_factory):
    """A copy of the v2 fixture, its rows as v2 stored them, and its config after ``setup``."""
    location = tmp_path_factory.mktemp("v2") / "store"
    shutil.copytree(FIXTURE, location)
    before = {t.name: _read_folder(spark, location, t.name) for t in TABLES}
    config = TrackerConfig(schema=f"pt_v2_{uuid.uuid4().hex[:8]}", location=str(location))
    setup(spark, config=config)
    return config, before


def test_the_upgrade_keeps_every_row_and_id(spark, upgraded):
    config, before = upgraded
    after = {t.name: _read_folder(spark, Path(config.location), t.name) for t in TABLES}
    changed = [name for name in before if after[name] != before[name]]
    # The schema version row (2 -> 5) and the system status v4 brings:
    assert changed == ["process_status_lkup", "system_lkup"]
    assert [row[1:] for row in after["system_lkup"]] == [("schema_version", SCHEMA_VERSION)]
    new_statuses = set(after["process_status_lkup"]) - set(before["process_status_lkup"])
    assert [row[1] for row in new_statuses] == ["abandoned"]
    assert len(before["process_tracking"]) == 3 and len(before["extract_tracking"]) == 2


def test_the_upgraded_store_is_at_the_current_version_with_buckets_and_no_identity(spark, upgraded):
    config, _ = upgraded
    version = table(spark, config, "system_lkup").where("system_key = 'schema_version'").collect()
    assert [row.system_value for row in version] == [SCHEMA_VERSION] == ["5"]
    for table_spec in TABLES:
        properties = spark.sql(f"DESCRIBE DETAIL {config.table(table_spec.name)}").first()["properties"]
        assert properties.get(LAYOUT_PROPERTY) == LAYOUT_VERSION == "3", table_spec.name
        assert spark.table(config.table(table_spec.name)).columns == list(table_spec.column_names)
        assert tuple(partition_columns(config, table_spec.name)) == table_spec.partitioned_by, table_spec.name
        metadata = _schema_metadata(config.location, table_spec.name)
        assert not any(key.startswith("delta.identity") for meta in metadata for key in meta), table_spec.name


def test_a_second_setup_after_the_upgrade_makes_no_commit(spark, upgraded):
    config, _ = upgraded
    before = table_versions(config)
    setup(spark, config=config)
    assert commits_since(before, config) == {}


def test_the_upgraded_store_keeps_tracking(spark, upgraded):
    config, _ = upgraded
    old_ids = {row.process_tracking_id for row in table(spark, config, "process_tracking").collect()}
    assert max(old_ids) < 100  # v2 ids came from Delta's counter
    run = ProcessTracker(spark=spark, config=config, **TEAMS_EXTRACT)
    assert run.process_run_id == 3 and run.process_tracking_id not in old_ids
    run.set_process_run_record_count(500)
    ExtractTracker(run, "teams_2.csv", location_path="/data/in/teams").change_extract_status("ready")
    run.change_run_status("completed")
    process = table(spark, config, "process").where(F.col("process_name") == "Teams Extract").collect()[0]
    assert process.total_record_count == 1000 + 2000 + 500
    runs = table(spark, config, "process_tracking").where(F.col("process_id") == process.process_id)
    assert sorted((r.process_run_id, r.is_latest_run) for r in runs.collect()) == [
        (1, False),
        (2, False),
        (3, True),
    ]


# --- one schema, one location -------------------------------------------------------------------


def test_a_schema_registered_for_another_location_is_refused_not_used(spark, config, tmp_path, unique):
    """Regression: a run of a never-set-up location B was written into store A of the same schema."""
    from pt_spark import ConfigError

    elsewhere = TrackerConfig(schema=config.schema_name, location=str(tmp_path / "never_set_up"))
    before = table_versions(config)
    with pytest.raises(ConfigError, match="own schema"):
        ProcessTracker(spark=spark, process_name=unique("wrong-store"), process_type="Load", config=elsewhere)
    with pytest.raises(ConfigError, match="own schema"):
        setup(spark, config=elsewhere)
    assert commits_since(before, config) == {}
    assert not (tmp_path / "never_set_up").exists()
