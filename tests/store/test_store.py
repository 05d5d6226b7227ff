"""The tracking store after ``setup``: every docs/SPEC.md §3 table, its columns, the default rows,
idempotence, overwrite, racing setups, re-registration in a new JVM, and conflict retries.

Expected table names, column lists and default rows are written out here from docs/SPEC.md §3, never
derived from ``pt_spark.store.schema`` / ``pt_spark.store.defaults``, so the tests catch a
declaration that drifts from the contract.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from chispa import assert_df_equality
from helpers import commits_since, partition_columns, table, table_versions
from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pt_spark import ConcurrentUpdateError, StoreNotReady, TrackerConfig, setup
from pt_spark.store import Store, store_for
from pt_spark.store.defaults import DEFAULT_ROWS
from pt_spark.store.reads import create_missing, ensure_rows
from pt_spark.store.retry import DELTA_CONFLICTS, is_conflict, retry_delay, with_conflict_retry
from pt_spark.store.schema import PLATFORM_COLUMNS, SCHEMA_VERSION, TABLES, link_tables_keyed_by
from pt_spark.store.schema import spec as spec_of
from pt_spark.store.writes import merge_update

REPO_ROOT = Path(__file__).resolve().parents[2]

# --- docs/SPEC.md §3, written out -----------------------------------------------------------------------

SPEC_TABLES = {
    # Process
    "process",
    "process_tracking",
    "process_status_lkup",
    "process_type_lkup",
    "process_dependency",
    "dependency_type_lkup",
    "process_dataset_type",
    "process_contact",
    "process_filter",
    "process_source",
    "process_target",
    "process_source_object",
    "process_target_object",
    "process_source_object_attribute",
    "process_target_object_attribute",
    # Errors
    "error_type_lkup",
    "error_tracking",
    # Actor / tool
    "actor_lkup",
    "tool_lkup",
    # Extracts
    "extract_tracking",
    "extract_status_lkup",
    "extract_process_tracking",
    "extract_dependency",
    "extract_dataset_type",
    "extract_source",
    "extract_source_object",
    "extract_compression_type_lkup",
    "extract_filetype_lkup",
    "location_lkup",
    "location_type_lkup",
    # Sources
    "source_lkup",
    "source_type_lkup",
    "source_object_lkup",
    "source_object_attribute_lkup",
    "source_contact",
    "source_dataset_type",
    "source_object_dataset_type",
    "source_location",
    "source_object_location",
    "dataset_type_lkup",
    # Other
    "contact_lkup",
    "schedule_frequency_lkup",
    "filter_type_lkup",
    "cluster_tracking_lkup",
    "cluster_process",
    "system_lkup",
}

SPEC_COLUMNS = {
    "process": [
        "process_id",
        "process_name",
        "total_record_count",
        "process_type_id",
        "process_tool_id",
        "schedule_frequency_id",
        "last_failed_run_date_time",
        "last_completed_run_date_time",
        "last_errored_run_date_time",
    ],
    "process_tracking": [
        "process_tracking_id",
        "process_id",
        "process_status_id",
        "process_run_id",
        "process_run_low_date_time",
        "process_run_high_date_time",
        "process_run_start_date_time",
        "process_run_end_date_time",
        "process_run_record_count",
        "process_run_insert_count",
        "process_run_update_count",
        "process_run_actor_id",
        "is_latest_run",
        "process_run_name",
    ],
    "error_tracking": [
        "error_tracking_id",
        "error_type_id",
        "process_tracking_id",
        "error_description",
        "error_occurrence_date_time",
    ],
    "extract_tracking": [
        "extract_id",
        "extract_filename",
        "extract_location_id",
        "extract_status_id",
        "extract_registration_date_time",
        "extract_write_low_date_time",
        "extract_write_high_date_time",
        "extract_write_record_count",
        "extract_load_low_date_time",
        "extract_load_high_date_time",
        "extract_load_record_count",
        "extract_compression_type_id",
        "extract_filetype_id",
        "extract_filesize",
    ],
    "extract_process_tracking": [
        "extract_tracking_id",
        "process_tracking_id",
        "extract_process_status_id",
        "extract_process_event_date_time",
    ],
    "location_lkup": [
        "location_id",
        "location_name",
        "location_path",
        "location_type_id",
        "location_file_count",
        "location_bucket_name",
    ],
    "extract_filetype_lkup": [
        "extract_filetype_id",
        "extract_filetype_code",
        "extract_filetype",
        "delimiter_char",
        "quote_char",
        "escape_char",
    ],
    "filter_type_lkup": ["filter_type_id", "filter_type_code", "filter_type_name"],
    "cluster_tracking_lkup": [
        "cluster_id",
        "cluster_name",
        "cluster_max_memory",
        "cluster_max_memory_unit",
        "cluster_max_processing",
        "cluster_max_processing_unit",
    ],
    "contact_lkup": ["contact_id", "contact_name", "contact_email"],
    "source_lkup": ["source_id", "source_name", "source_type_id"],
    "source_object_lkup": ["source_object_id", "source_id", "source_object_name"],
    "source_object_attribute_lkup": [
        "source_object_attribute_id",
        "source_object_id",
        "source_object_attribute_name",
        "is_key",
        "is_filter",
        "is_partition",
        "is_pii",
    ],
    "process_filter": [
        "process_filter_id",
        "process_id",
        "source_object_attribute_id",
        "filter_type_id",
        "filter_value_string",
        "filter_value_numeric",
    ],
    "dataset_type_lkup": ["dataset_type_id", "dataset_type"],
    "system_lkup": ["system_key", "system_value"],
    # natural keys / extra columns named in brackets and parentheses
    "process_dependency": ["parent_process_id", "child_process_id", "dependency_type_id"],
    "extract_dependency": ["parent_extract_id", "child_extract_id"],
    "process_target": ["target_source_id"],
    "process_target_object": ["target_object_id"],
    "process_target_object_attribute": ["target_object_attribute_id"],
    # "`*_lkup` tables have `<x>_id` + `<x>_name` unless stated"
    "process_status_lkup": ["process_status_id", "process_status_name"],
    "process_type_lkup": ["process_type_id", "process_type_name"],
    "dependency_type_lkup": ["dependency_type_id", "dependency_type_name"],
    "error_type_lkup": ["error_type_id", "error_type_name"],
    "actor_lkup": ["actor_id", "actor_name"],
    "tool_lkup": ["tool_id", "tool_name"],
    "extract_status_lkup": ["extract_status_id", "extract_status_name"],
    "location_type_lkup": ["location_type_id", "location_type_name"],
    "source_type_lkup": ["source_type_id", "source_type_name"],
    "schedule_frequency_lkup": ["schedule_frequency_id", "schedule_frequency_name"],
    # The ProcessTracker data model spells this lookup's name column `extract_compression_type`.
    "extract_compression_type_lkup": ["extract_compression_type_id", "extract_compression_type"],
}

#: Link tables: the ProcessTracker data model's id columns (docs/SPEC.md §3 names the tables only).
LINK_COLUMNS = {
    "process_dataset_type": ["process_id", "dataset_type_id"],
    "process_contact": ["process_id", "contact_id"],
    "process_source": ["source_id", "process_id"],
    "process_target": ["target_source_id", "process_id"],
    "process_source_object": ["process_id", "source_object_id"],
    "process_target_object": ["process_id", "target_object_id"],
    "process_source_object_attribute": ["process_id", "source_object_attribute_id"],
    "process_target_object_attribute": ["process_id", "target_object_attribute_id"],
    "extract_dataset_type": ["extract_id", "dataset_type_id"],
    "extract_source": ["extract_id", "source_id"],
    "extract_source_object": ["extract_id", "source_object_id"],
    "source_contact": ["source_id", "contact_id"],
    "source_dataset_type": ["source_id", "dataset_type_id"],
    "source_object_dataset_type": ["source_object_id", "dataset_type_id"],
    "source_location": ["source_id", "location_id"],
    "source_object_location": ["source_object_id", "location_id"],
    "cluster_process": ["cluster_id", "process_id"],
}

#: Single-name default rows: table -> (name column, names).
SPEC_DEFAULT_NAMES = {
    "process_status_lkup": (
        "process_status_name",
        ["running", "completed", "failed", "on hold", "abandoned"],
    ),
    "extract_status_lkup": (
        "extract_status_name",
        ["initializing", "ready", "loading", "loaded", "archived", "deleted", "error"],
    ),
    "error_type_lkup": ("error_type_name", ["File Error", "Data Error", "Process Error"]),
    "process_type_lkup": ("process_type_name", ["Extract", "Load"]),
    "schedule_frequency_lkup": (
        "schedule_frequency_name",
        ["unscheduled", "hourly", "daily", "weekly", "monthly", "quarterly", "annually"],
    ),
    "source_type_lkup": ("source_type_name", ["Undefined", "Database", "Internal", "External"]),
    "dependency_type_lkup": ("dependency_type_name", ["Undefined", "Hard", "Soft"]),
    "extract_compression_type_lkup": ("extract_compression_type", ["zip", "gzip", "bzip2", "snappy", "zstd"]),
}

SPEC_FILTER_TYPES = [
    ("eq", "equal to"),
    ("lt", "less than"),
    ("gt", "greater than"),
    ("lte", "less than or equal to"),
    ("gte", "greater than or equal to"),
    ("not", "not equal"),
    ("lke", "like"),
    ("in", "in set"),
]

SPEC_FILETYPE_CODES = ["csv", "tsv", "json", "parquet", "avro", "orc", "txt", "xml"]

#: docs/SPEC.md §3 "`local filesystem`, `s3`, plus the other schemes the library derives" (§2.3 names them).
SPEC_LOCATION_TYPES_AT_LEAST = {"local filesystem", "s3", "abfss", "gs", "dbfs"}

#: Every table with seeded rows, and its natural-key column(s).
DEFAULTED_TABLE_KEYS = {
    **{name: [column] for name, (column, _) in SPEC_DEFAULT_NAMES.items()},
    "filter_type_lkup": ["filter_type_code"],
    "extract_filetype_lkup": ["extract_filetype_code"],
    "location_type_lkup": ["location_type_name"],
    "system_lkup": ["system_key"],
}


# --- helpers ------------------------------------------------------------------------------------


def _catalog_tables(spark: SparkSession, schema: str) -> set[str]:
    return {row.tableName for row in spark.sql(f"SHOW TABLES IN `{schema}`").collect()}


def _row_counts(spark: SparkSession, config: TrackerConfig) -> dict[str, int]:
    """Return every table's row count in one Spark job."""
    frames = [table(spark, config, name).select(F.lit(name).alias("t")) for name in sorted(SPEC_TABLES)]
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    counts = {row["t"]: row["n"] for row in union.groupBy("t").agg(F.count("*").alias("n")).collect()}
    return {name: counts.get(name, 0) for name in SPEC_TABLES}


def _key_duplicates(spark: SparkSession, config: TrackerConfig) -> dict[str, list]:
    """Return, per defaulted table, the natural keys stored more than once."""
    found = {}
    for name, key in DEFAULTED_TABLE_KEYS.items():
        dup = table(spark, config, name).groupBy(*key).count().where("count > 1").collect()
        if dup:
            found[name] = [tuple(row) for row in dup]
    return found


def _names(spark: SparkSession, config: TrackerConfig, name: str, column: str) -> list[str]:
    return sorted(row[0] for row in table(spark, config, name).select(column).collect())


def _fresh_config(tmp_path: Path, **extra) -> TrackerConfig:
    """A configuration whose schema and folder do not exist yet."""
    return TrackerConfig(schema=f"pt_{uuid.uuid4().hex[:10]}", location=str(tmp_path / "store"), **extra)


def _assert_exact_defaults(spark: SparkSession, config: TrackerConfig) -> None:
    for name, (column, names) in SPEC_DEFAULT_NAMES.items():
        assert _names(spark, config, name, column) == sorted(names), name
    codes = [
        (r[0], r[1])
        for r in table(spark, config, "filter_type_lkup")
        .select("filter_type_code", "filter_type_name")
        .collect()
    ]
    assert sorted(codes) == sorted(SPEC_FILTER_TYPES)
    assert _names(spark, config, "extract_filetype_lkup", "extract_filetype_code") == sorted(
        SPEC_FILETYPE_CODES
    )
    assert [r.system_key for r in table(spark, config, "system_lkup").collect()] == ["schema_version"]
    assert _key_duplicates(spark, config) == {}


# --- tables and columns -------------------------------------------------------------------------


def test_spec_lists_46_tables():
    assert len(SPEC_TABLES) == 46


def test_every_spec_table_exists_by_name(spark, config):
    in_catalog = _catalog_tables(spark, config.schema_name)
    assert SPEC_TABLES - in_catalog == set()
    # and the library declares nothing the catalog lacks (no table silently skipped)
    assert {spec.name for spec in TABLES} <= in_catalog


def test_every_table_is_an_external_delta_table_under_the_location(spark, config):
    def detail(name: str):
        return (
            spark.sql(f"DESCRIBE DETAIL `{config.schema_name}`.`{name}`").select("format", "location").first()
        )

    with ThreadPoolExecutor(4) as pool:
        details = dict(zip(sorted(SPEC_TABLES), pool.map(detail, sorted(SPEC_TABLES)), strict=True))
    not_delta = {name: row.format for name, row in details.items() if row.format != "delta"}
    assert not_delta == {}
    root = Path(config.location).resolve()
    for name, row in details.items():
        location = row.location.removeprefix("file:")
        assert Path(location).resolve() == root / name, name


@pytest.mark.parametrize("name", sorted(SPEC_COLUMNS))
def test_table_has_the_spec_columns(spark, config, name):
    columns = set(table(spark, config, name).columns)
    assert [c for c in SPEC_COLUMNS[name] if c not in columns] == []


def test_link_tables_have_their_id_columns(spark, config):
    missing = {
        name: [c for c in wanted if c not in table(spark, config, name).columns]
        for name, wanted in LINK_COLUMNS.items()
    }
    assert {name: cols for name, cols in missing.items() if cols} == {}


def test_column_types_follow_spec(spark, config):
    """Ids and counts are BIGINT, timestamps TIMESTAMP, flags BOOLEAN (docs/SPEC.md §3).

    The platform run ids are the platform's, not the store's: text, as ``system.lakeflow`` has them.
    """
    wrong = []
    for name in sorted(SPEC_TABLES):
        for field in table(spark, config, name).schema.fields:
            kind = field.dataType.simpleString()
            if field.name in PLATFORM_COLUMNS:
                expected = "string"
            elif field.name.endswith(("_id", "_count")) or field.name == "extract_filesize":
                expected = "bigint"
            elif field.name.endswith("_date_time"):
                expected = "timestamp"
            elif field.name.startswith("is_"):
                expected = "boolean"
            else:
                continue
            if kind != expected:
                wrong.append((name, field.name, kind, expected))
    assert wrong == []


# --- default rows -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SPEC_DEFAULT_NAMES))
def test_default_names_are_exactly_the_spec_ones(spark, config, name):
    column, names = SPEC_DEFAULT_NAMES[name]
    assert _names(spark, config, name, column) == sorted(names)


def test_filter_types_are_exactly_the_spec_ones(spark, config):
    expected = spark.createDataFrame(SPEC_FILTER_TYPES, "filter_type_code string, filter_type_name string")
    actual = table(spark, config, "filter_type_lkup").select("filter_type_code", "filter_type_name")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_filetypes_are_the_spec_extensions(spark, config):
    rows = {r.extract_filetype_code: r for r in table(spark, config, "extract_filetype_lkup").collect()}
    assert sorted(rows) == sorted(SPEC_FILETYPE_CODES)
    csv = rows["csv"]
    assert (csv.extract_filetype, csv.delimiter_char) == ("Comma Separated Values", ",")
    assert rows["tsv"].delimiter_char == "\t"
    names = [r.extract_filetype for r in rows.values()]
    assert all(names) and len(set(names)) == len(names)


def test_location_types_cover_the_spec_schemes(spark, config):
    names = _names(spark, config, "location_type_lkup", "location_type_name")
    assert SPEC_LOCATION_TYPES_AT_LEAST <= set(names)
    assert len(names) == len(set(names))


def test_system_lkup_records_the_schema_version(spark, config):
    rows = table(spark, config, "system_lkup").collect()
    assert [r.system_key for r in rows] == ["schema_version"]
    assert rows[0].system_value and rows[0].system_value.strip()


def _auto_compact(spark: SparkSession, config: TrackerConfig, name: str) -> str | None:
    rows = spark.sql(f"SHOW TBLPROPERTIES {Store(spark, config).qualified(name)}").collect()
    return {row.key: row.value for row in rows}.get("delta.autoOptimize.autoCompact")


def test_frequently_written_tables_compact_automatically(spark, config):
    for name in ("process", "process_tracking", "extract_tracking", "extract_process_tracking"):
        assert _auto_compact(spark, config, name) == "true", name


def test_tables_are_partitioned_as_declared(spark, config):
    for spec in TABLES:
        assert tuple(partition_columns(config, spec.name)) == spec.partitioned_by, spec.name
    assert spec_of("process_tracking").partitioned_by == ("bucket", "is_latest_run")
    assert spec_of("process").partitioned_by == ("bucket",)
    detail = spark.sql(f"DESCRIBE DETAIL {Store(spark, config).qualified('process_tracking')}").first()
    assert detail is not None and detail["partitionColumns"] == ["bucket", "is_latest_run"]


def test_setup_upgrades_an_older_store_s_columns_properties_and_version(spark, config):
    store = Store(spark, config)
    spark.sql(
        f"ALTER TABLE {store.qualified('process')} UNSET TBLPROPERTIES ('delta.autoOptimize.autoCompact')"
    )
    merge_update(
        store,
        "system_lkup",
        [{"system_key": "schema_version", "system_value": "1"}],
        on=["system_key"],
        assignments={"system_value": "s.system_value"},
    )
    assert _auto_compact(spark, config, "process") is None
    setup(spark, config=config)
    assert _auto_compact(spark, config, "process") == "true"
    version = table(spark, config, "system_lkup").collect()[0].system_value
    assert version == SCHEMA_VERSION


def test_default_rows_have_unique_non_null_ids(spark, config):
    for name in DEFAULTED_TABLE_KEYS:
        if name == "system_lkup":
            continue
        id_column = SPEC_COLUMNS.get(name, [None])[0]
        ids = [r[0] for r in table(spark, config, name).select(id_column).collect()]
        assert None not in ids, name
        assert len(ids) == len(set(ids)), name


def test_no_default_key_is_stored_twice(spark, config):
    assert _key_duplicates(spark, config) == {}


# --- idempotence, overwrite, races --------------------------------------------------------------


def test_second_setup_adds_no_row_and_makes_no_commit(spark, config):
    before_versions = table_versions(config)
    before_counts = _row_counts(spark, config)
    returned = setup(spark, config=config)
    assert isinstance(returned, Store)
    assert commits_since(before_versions, config) == {}
    assert _row_counts(spark, config) == before_counts


def test_a_new_store_is_one_commit_per_table_and_one_per_seeded_table(spark, tmp_path):
    """The seed of a table is one MERGE, made right after its CREATE; nothing else commits."""
    cfg = _fresh_config(tmp_path)
    setup(spark, config=cfg)
    expected = {spec.name: 1 if spec.name in DEFAULT_ROWS else 0 for spec in TABLES}
    assert table_versions(cfg) == expected
    _assert_exact_defaults(spark, cfg)


def test_racing_setups_on_a_new_store_seed_each_default_once(spark, tmp_path):
    cfg = _fresh_config(tmp_path)
    barrier = threading.Barrier(2)

    def run() -> Store:
        barrier.wait()
        return setup(spark, config=cfg)

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(run) for _ in range(2)]
        results = [future.result() for future in futures]
    assert all(isinstance(result, Store) for result in results)
    assert SPEC_TABLES <= _catalog_tables(spark, cfg.schema_name)
    _assert_exact_defaults(spark, cfg)


# --- reaching tables by name --------------------------------------------------------------------


def test_store_registers_an_existing_location_under_a_new_schema(spark, config):
    """Same Delta folders, a schema the catalog has never seen: ensure_ready registers them."""
    other = TrackerConfig(schema=f"pt_{uuid.uuid4().hex[:10]}", location=config.location)
    before = table_versions(config)
    Store(spark, other).ensure_ready()
    assert SPEC_TABLES <= _catalog_tables(spark, other.schema_name)
    assert table(spark, other, "process_status_lkup").count() == 5
    assert commits_since(before, config) == {}


def test_a_new_schema_registers_only_the_tables_a_call_reads(spark, config):
    """Issue 22.5: a store is read by name without registering all 46 tables up front."""
    other = TrackerConfig(schema=f"pt_{uuid.uuid4().hex[:10]}", location=config.location)
    statuses = Store(spark, other).read("process_status_lkup").count()
    assert statuses == table(spark, config, "process_status_lkup").count() > 0
    assert _catalog_tables(spark, other.schema_name) == {"process_status_lkup"}


def test_store_without_tables_is_not_ready(spark, tmp_path):
    cfg = _fresh_config(tmp_path)
    with pytest.raises(StoreNotReady, match="setup"):
        Store(spark, cfg).read("process")
    managed = TrackerConfig(schema=f"pt_{uuid.uuid4().hex[:10]}")
    with pytest.raises(StoreNotReady, match="setup"):
        Store(spark, managed).read("process")


@pytest.mark.slow
def test_a_new_jvm_sees_the_tables_by_name(config, tmp_path):
    script = textwrap.dedent(
        """
        import json
        from pt_spark.config import resolve_config
        from pt_spark.session import local_spark
        from pt_spark.store import Store

        spark = local_spark("pt_spark_new_jvm")
        cfg = resolve_config(spark)
        Store(spark, cfg).ensure_ready()
        statuses = [r[0] for r in spark.sql(
            f"SELECT process_status_name FROM {cfg.schema_name}.process_status_lkup").collect()]
        print("RESULT " + json.dumps({
            "schema": cfg.schema_name,
            "statuses": sorted(statuses),
            "count": spark.table(f"{cfg.schema_name}.process_status_lkup").count(),
        }))
        spark.stop()
        """
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("PT_SPARK_")}
    env.update(
        PT_SPARK_SCHEMA=config.schema_name,
        PT_SPARK_LOCATION=config.location,
        PYTHONPATH=str(REPO_ROOT),
        HOME=str(tmp_path),  # no ~/.process_tracker of the developer's
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    assert result == {
        "schema": config.schema_name,
        "statuses": sorted(["running", "completed", "failed", "on hold", "abandoned"]),
        "count": 5,
    }
    assert not (tmp_path / "metastore_db").exists()
    assert not (tmp_path / "spark-warehouse").exists()


# --- conflict retries ---------------------------------------------------------------------------


def _new_process(store: Store, name: str) -> None:
    create_missing(store, "process", [{"process_name": name, "total_record_count": 0}])


def _increment(store: Store, name: str) -> None:
    merge_update(
        store,
        "process",
        [{"process_name": name, "total_record_count": 1}],
        on=["process_name"],
        assignments={"total_record_count": "t.total_record_count + s.total_record_count"},
    )


def _total(spark: SparkSession, config: TrackerConfig, name: str) -> int:
    rows = table(spark, config, "process").where(F.col("process_name") == name).collect()
    assert len(rows) == 1
    return rows[0].total_record_count


def test_concurrent_increments_are_retried_and_counted_once(spark, config, unique, caplog):
    store = store_for(spark, config)
    name = unique("counted")
    _new_process(store, name)
    caplog.set_level(logging.WARNING, logger="pt_spark.store.retry")
    barrier = threading.Barrier(2)

    def worker() -> None:
        for _ in range(5):
            barrier.wait()  # both MERGEs start from the same table version: a real conflict
            _increment(store, name)

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(worker) for _ in range(2)]:
            future.result()

    assert _total(spark, config, name) == 10
    retried = [r for r in caplog.records if "a concurrent writer changed the table first" in r.getMessage()]
    assert retried, "the two writers never conflicted, so no retry was exercised"


def test_conflict_without_retries_raises_concurrent_update_error(spark, config, unique):
    no_retry = TrackerConfig(schema=config.schema_name, location=config.location, retry_attempts=1)
    store = store_for(spark, no_retry)
    name = unique("unretried")
    _new_process(store, name)
    errors: list[ConcurrentUpdateError] = []
    successes = 0
    lock = threading.Lock()

    def attempt(barrier: threading.Barrier) -> None:
        nonlocal successes
        barrier.wait()
        try:
            _increment(store, name)
        except ConcurrentUpdateError as error:
            with lock:
                errors.append(error)
        else:
            with lock:
                successes += 1

    for _ in range(8):  # each round is two writers released together; stop at the first loss
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(attempt, barrier) for _ in range(2)]:
                future.result()
        if errors:
            break

    assert errors, "no conflict in 8 rounds of two simultaneous MERGEs"
    cause = errors[0].__cause__
    assert isinstance(cause, DELTA_CONFLICTS)
    assert is_conflict(cause)
    assert "gave up after 1 attempts" in str(errors[0])
    # a conflicting MERGE committed nothing: the total counts the successful ones only
    assert _total(spark, config, name) == successes


@pytest.mark.parametrize(
    ("attempt", "took", "low", "high"),
    [
        (1, 0.0, 0.05, 0.15),  # a quick statement: the exponential backoff
        (4, 0.2, 0.4, 1.2),
        (12, 0.2, 1.0, 3.0),  # the backoff stops growing at 2 s
        (1, 8.0, 4.0, 12.0),  # a slow statement: about its own duration
        (3, 500.0, 15.0, 45.0),  # that wait stops growing at 30 s
    ],
)
def test_a_retry_waits_for_the_backoff_or_the_lost_attempts_duration(attempt, took, low, high):
    delays = [retry_delay(attempt, took) for _ in range(200)]
    assert low <= min(delays) and max(delays) <= high
    assert max(delays) - min(delays) > (high - low) / 4, "no jitter"


def test_other_errors_are_not_retried(spark):
    calls = []

    def failing():
        calls.append(1)
        return spark.sql("SELECT * FROM pt_no_such_schema.no_such_table").collect()

    with pytest.raises(AnalysisException) as caught:
        with_conflict_retry(failing, attempts=4, what="read")
    assert calls == [1]
    assert not is_conflict(caught.value)


def test_overwrite_removes_user_rows_and_reseeds_defaults(spark, config, unique):
    """Uses the module's store (a fresh one would cost a whole extra setup): after the overwrite it
    holds exactly the defaults again, which is all the other tests of this module rely on."""
    store = store_for(spark, config)
    actor, status, process = unique("actor"), unique("status"), unique("process")
    create_missing(store, "actor_lkup", [{"actor_name": actor}])
    create_missing(store, "process_status_lkup", [{"process_status_name": status}])
    create_missing(store, "process", [{"process_name": process, "total_record_count": 5}])
    assert table(spark, config, "actor_lkup").where(F.col("actor_name") == actor).count() == 1
    assert status in _names(spark, config, "process_status_lkup", "process_status_name")

    setup(spark, overwrite=True, config=config)

    assert table(spark, config, "actor_lkup").count() == 0
    assert table(spark, config, "process").count() == 0
    assert table(spark, config, "process_tracking").count() == 0
    _assert_exact_defaults(spark, config)
    assert SPEC_TABLES <= _catalog_tables(spark, config.schema_name)
    # the re-created tables keep working
    create_missing(store_for(spark, config), "actor_lkup", [{"actor_name": actor}])
    assert [r.actor_id is not None for r in table(spark, config, "actor_lkup").collect()] == [True]


def test_setup_on_an_existing_store_seen_from_a_new_catalog_registers_it(spark, config):
    """Regression: re-declaring identity columns over existing folders failed with SCHEME_MISMATCH."""
    from pt_spark import ProcessTracker

    ProcessTracker(
        spark=spark, process_name=f"setup-again-{uuid.uuid4().hex[:6]}", process_type="Load", config=config
    ).change_run_status("completed")
    before = table_versions(config)
    fresh_name = TrackerConfig(schema=f"pt_again_{uuid.uuid4().hex[:8]}", location=config.location)
    setup(spark, config=fresh_name)
    assert table_versions(config) == before
    statuses = spark.table(f"{fresh_name.schema_name}.process_status_lkup").count()
    assert statuses == 5


def test_ensure_rows_appends_links_of_a_new_row_without_a_look_up(spark, config):
    store = store_for(spark, config)
    extract_id = 10_000_000 + uuid.uuid4().int % 1_000_000  # an id no other test uses
    rows = [
        {"extract_id": extract_id, "dataset_type_id": 1},
        {"extract_id": extract_id, "dataset_type_id": 2},
    ]
    wanted = {"extract_dataset_type": rows}
    found = ensure_rows(store, wanted, new=["extract_dataset_type"])
    assert found == {"extract_dataset_type": {(extract_id, 1): None, (extract_id, 2): None}}
    commits = table_versions(config)
    assert ensure_rows(store, wanted) == found  # get-or-create finds them: no second copy
    assert commits_since(commits, config) == {}
    links = table(spark, config, "extract_dataset_type").where(F.col("extract_id") == extract_id)
    assert sorted(row["dataset_type_id"] for row in links.collect()) == [1, 2]


def test_only_link_tables_may_skip_the_look_up(spark, config):
    store = store_for(spark, config)
    before = table_versions(config)
    with pytest.raises(ValueError, match="link tables"):
        ensure_rows(store, {"contact_lkup": [{"contact_name": "x"}]}, new=["contact_lkup"])
    assert commits_since(before, config) == {}


def test_the_links_a_new_extract_cannot_have_yet_are_derived_from_the_schema():
    assert link_tables_keyed_by("extract_id", "extract_tracking_id") == {
        "extract_process_tracking",
        "extract_dataset_type",
        "extract_source",
        "extract_source_object",
    }
    assert link_tables_keyed_by("extract_id") <= link_tables_keyed_by("extract_id", "extract_tracking_id")
    assert link_tables_keyed_by("no_such_column") == frozenset()
