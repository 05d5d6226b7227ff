"""Every tracking table, declared once as data.

Each ``TableSpec`` names the table, its columns (Spark types), its natural key, its id column
(filled by ``pt_spark.store.ids``, never by Delta) and its write bucket. Table creation
(``bootstrap``), the writers (``writes``) and the schema tests all derive from these specs;
nothing else spells out a column list. Names follow the ProcessTracker data model
so existing ProcessTracker SQL keeps working.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from pyspark.sql.types import (
    BooleanType,
    DataType,
    DecimalType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

#: The store's schema version (``system_lkup``): 3 brought library ids and write buckets, 4 the
#: run heartbeat and the per-process stale-run timeout, 5 the platform run ids (nullable columns,
#: added in place).
SCHEMA_VERSION = "5"
#: The platform run id columns of ``process_tracking`` (``pt_spark.platform``), in table order.
PLATFORM_COLUMNS = (
    "platform_name",
    "platform_job_id",
    "platform_job_run_id",
    "platform_task_run_id",
    "platform_task_key",
    "platform_cluster_id",
)
#: Columns added after store v3, in place by ``setup`` (a store not yet upgraded lacks them).
ADDED_COLUMNS = ("last_heartbeat_date_time", "stale_run_timeout_seconds", *PLATFORM_COLUMNS)
_PLATFORM_COMMENTS = {
    "platform_name": "Where the run ran: 'databricks' or 'emr'; NULL elsewhere (pt_spark extra).",
    "platform_job_id": "Databricks job id (system.lakeflow job_id) (pt_spark extra).",
    "platform_job_run_id": "Databricks job run id (system.lakeflow job_run_id / run_id of the job run), "
    "or the EMR step id (pt_spark extra).",
    "platform_task_run_id": "Databricks task run id (system.lakeflow job_task_run_timeline.run_id) "
    "(pt_spark extra).",
    "platform_task_key": "Databricks task key (system.lakeflow task_key) (pt_spark extra).",
    "platform_cluster_id": "Databricks cluster id or EMR cluster (job flow) id (pt_spark extra).",
}
#: Table property that marks a table written in the v3 layout (library ids, write buckets).
LAYOUT_PROPERTY = "pt_spark.layout"
LAYOUT_VERSION = "3"
#: How many write buckets a bucketed table has (see ``TableSpec.bucket_by``).
BUCKETS = 16
BUCKET_COLUMN = "bucket"

ID = LongType()
#: The largest value of a BIGINT (``ID``) column: ids, counts and totals must fit it.
BIGINT_MAX = 2**63 - 1
TEXT = StringType()
TS = TimestampType()
FLAG = BooleanType()
NUMERIC = DecimalType(38, 10)

#: Small, frequently rewritten tables get Delta's automatic compaction so call-by-call commits
#: do not leave thousands of tiny files behind.
_COMPACTING = MappingProxyType({"delta.autoOptimize.autoCompact": "true"})


@dataclass(frozen=True)
class Column:
    """One column: name, Spark type, nullability and an optional comment."""

    name: str
    data_type: DataType
    nullable: bool = True
    comment: str | None = None

    @property
    def ddl(self) -> str:
        """Return the column's SQL definition (name, type, NOT NULL, comment)."""
        parts = [f"`{self.name}`", self.data_type.simpleString()]
        if not self.nullable:
            parts.append("NOT NULL")
        if self.comment:
            parts.append("COMMENT " + sql_string(self.comment))
        return " ".join(parts)


def sql_string(text: str) -> str:
    """Return ``text`` as a Spark SQL string literal (for constants of the library, never user data)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def bucket_of(value: Any) -> int:
    """Return the write bucket of a ``bucket_by`` value; ``bucket_sql`` computes the same in SQL.

    Example:
        >>> bucket_of("Teams Load"), bucket_of(35)
        (11, 3)
    """
    if isinstance(value, str):
        return zlib.crc32(value.encode("utf-8")) % BUCKETS
    return int(value) % BUCKETS


def bucket_sql(column: str, data_type: DataType) -> str:
    """Return the SQL expression of ``bucket_of`` over ``column``."""
    if isinstance(data_type, StringType):
        return f"CAST(pmod(crc32(CAST(`{column}` AS BINARY)), {BUCKETS}) AS INT)"
    return f"CAST(pmod(`{column}`, {BUCKETS}) AS INT)"


@dataclass(frozen=True)
class TableSpec:
    """A Delta table of the store.

    Attributes:
        name: Table name inside the tracker schema.
        columns: Columns in order.
        key: Natural-key columns (unique); for link tables, all their id columns.
        id_column: The id column, filled with ``pt_spark.store.ids`` ids by the writers.
        properties: Delta table properties set at creation.
        bucket_by: A natural-key (or id) column whose value puts each row in one of ``BUCKETS``
            write buckets (``bucket_of``). A bucketed table has a ``bucket`` column, partitioned
            first, and every write names the buckets it touches, so writes for rows in other
            buckets never conflict on open-source Delta (which checks conflicts by partition).
        partitioned_by: Partition columns after ``bucket``.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    id_column: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    bucket_by: str | None = None
    partitioned_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.bucket_by is not None:
            formula = bucket_sql(self.bucket_by, self.column(self.bucket_by).data_type)
            comment = f"Write bucket (pt_spark extra): {formula}."
            bucket = Column(BUCKET_COLUMN, IntegerType(), nullable=False, comment=comment)
            object.__setattr__(self, "columns", (*self.columns, bucket))
            object.__setattr__(self, "partitioned_by", (BUCKET_COLUMN, *self.partitioned_by))

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        return next(column for column in self.columns if column.name == name)

    @property
    def table_properties(self) -> dict[str, str]:
        """Return every Delta table property of the table (the layout marker included)."""
        return {**self.properties, LAYOUT_PROPERTY: LAYOUT_VERSION}

    @property
    def column_names(self) -> tuple[str, ...]:
        """Return every column name, in order."""
        return tuple(column.name for column in self.columns)

    def struct(self, names: tuple[str, ...] | None = None) -> StructType:
        """Return the Spark schema of the given columns (default: all), every field nullable."""
        wanted = names if names is not None else self.column_names
        by_name = {column.name: column for column in self.columns}
        return StructType([StructField(n, by_name[n].data_type, True) for n in wanted])


def _id(name: str) -> Column:
    return Column(name, ID, nullable=False)


def lookup(table: str, entity: str, name_column: str | None = None, *extra: Column) -> TableSpec:
    """Declare a ``<entity>_id`` + ``<entity>_name`` lookup keyed on its name."""
    name_col = name_column or f"{entity}_name"
    columns = (_id(f"{entity}_id"), Column(name_col, TEXT, nullable=False), *extra)
    return TableSpec(table, columns, key=(name_col,), id_column=f"{entity}_id")


def link(
    table: str,
    *id_columns: str,
    extra: tuple[Column, ...] = (),
    properties: Mapping[str, str] | None = None,
    bucket_by: str | None = None,
) -> TableSpec:
    """Declare a link table whose natural key is all of its id columns."""
    columns = tuple(_id(name) for name in id_columns) + extra
    return TableSpec(table, columns, key=id_columns, properties=properties or {}, bucket_by=bucket_by)


def _cols(*pairs: tuple[str, DataType]) -> tuple[Column, ...]:
    return tuple(Column(name, data_type) for name, data_type in pairs)


TABLES: tuple[TableSpec, ...] = (
    # --- process ------------------------------------------------------------------------------
    TableSpec(
        "process",
        (
            _id("process_id"),
            Column("process_name", TEXT, nullable=False),
            Column("total_record_count", ID, nullable=False),
            *_cols(
                ("process_type_id", ID),
                ("process_tool_id", ID),
                ("schedule_frequency_id", ID),
                ("last_failed_run_date_time", TS),
                ("last_completed_run_date_time", TS),
                ("last_errored_run_date_time", TS),
            ),
            Column(
                "process_registration_hash",
                TEXT,
                comment="Fingerprint of the last registration arguments (pt_spark extra): when a run "
                "starts with the same arguments, lookups and links are known to exist and are not re-read.",
            ),
            Column(
                "stale_run_timeout_seconds",
                ID,
                comment="Seconds without a heartbeat after which a running run of this process is "
                "abandoned by the next start (pt_spark extra; NULL: the config's stale_run_timeout).",
            ),
        ),
        key=("process_name",),
        id_column="process_id",
        properties=_COMPACTING,  # every run's end updates its process row
        bucket_by="process_name",
    ),
    TableSpec(
        "process_tracking",
        (
            _id("process_tracking_id"),
            _id("process_id"),
            _id("process_status_id"),
            _id("process_run_id"),
            *_cols(
                ("process_run_low_date_time", TS),
                ("process_run_high_date_time", TS),
                ("process_run_start_date_time", TS),
                ("process_run_end_date_time", TS),
                ("process_run_record_count", ID),
                ("process_run_insert_count", ID),
                ("process_run_update_count", ID),
                ("process_run_actor_id", ID),
            ),
            Column("is_latest_run", FLAG, nullable=False),
            Column("process_run_name", TEXT),
            Column("process_run_uuid", TEXT, comment="Unique token of the run (pt_spark extra)."),
            Column(
                "last_heartbeat_date_time",
                TS,
                comment="When the run last showed it was alive: every write to the run refreshes it "
                "(pt_spark extra; see stale_run_timeout).",
            ),
            *(Column(name, TEXT, comment=_PLATFORM_COMMENTS[name]) for name in PLATFORM_COLUMNS),
        ),
        key=("process_id", "process_run_id"),
        id_column="process_tracking_id",
        properties=_COMPACTING,
        # Per bucket, two partitions: the latest run of each process, and history. A run's start
        # flips its predecessor's flag and its later changes update it; both rewrite only the
        # small partition of latest runs, so their cost does not grow with the history.
        bucket_by="process_id",
        partitioned_by=("is_latest_run",),
    ),
    lookup("process_status_lkup", "process_status"),
    lookup("process_type_lkup", "process_type"),
    link("process_dependency", "parent_process_id", "child_process_id", extra=(_id("dependency_type_id"),)),
    lookup("dependency_type_lkup", "dependency_type"),
    link("process_dataset_type", "process_id", "dataset_type_id"),
    link("process_contact", "process_id", "contact_id"),
    TableSpec(
        "process_filter",
        (
            _id("process_filter_id"),
            _id("process_id"),
            _id("source_object_attribute_id"),
            _id("filter_type_id"),
            Column("filter_value_string", TEXT),
            Column("filter_value_numeric", NUMERIC),
        ),
        key=("process_id", "source_object_attribute_id", "filter_type_id"),
        id_column="process_filter_id",
    ),
    link("process_source", "source_id", "process_id"),
    link("process_target", "target_source_id", "process_id"),
    link("process_source_object", "process_id", "source_object_id"),
    link("process_target_object", "process_id", "target_object_id"),
    link("process_source_object_attribute", "process_id", "source_object_attribute_id"),
    link("process_target_object_attribute", "process_id", "target_object_attribute_id"),
    # --- errors, actors, tools ----------------------------------------------------------------
    lookup("error_type_lkup", "error_type"),
    TableSpec(
        "error_tracking",
        (
            _id("error_tracking_id"),
            _id("error_type_id"),
            _id("process_tracking_id"),
            Column("error_description", TEXT),
            Column("error_occurrence_date_time", TS, nullable=False),
        ),
        key=("error_tracking_id",),
        id_column="error_tracking_id",
        properties=_COMPACTING,
    ),
    lookup("actor_lkup", "actor"),
    lookup("tool_lkup", "tool"),
    # --- extracts -----------------------------------------------------------------------------
    TableSpec(
        "extract_tracking",
        (
            _id("extract_id"),
            Column("extract_filename", TEXT, nullable=False),
            _id("extract_location_id"),
            _id("extract_status_id"),
            *_cols(
                ("extract_registration_date_time", TS),
                ("extract_write_low_date_time", TS),
                ("extract_write_high_date_time", TS),
                ("extract_write_record_count", ID),
                ("extract_load_low_date_time", TS),
                ("extract_load_high_date_time", TS),
                ("extract_load_record_count", ID),
                ("extract_compression_type_id", ID),
                ("extract_filetype_id", ID),
                ("extract_filesize", ID),
            ),
        ),
        key=("extract_filename", "extract_location_id"),
        id_column="extract_id",
        properties=_COMPACTING,
        bucket_by="extract_location_id",
    ),
    lookup("extract_status_lkup", "extract_status"),
    link(
        "extract_process_tracking",
        "extract_tracking_id",
        "process_tracking_id",
        extra=(_id("extract_process_status_id"), Column("extract_process_event_date_time", TS)),
        properties=_COMPACTING,
        bucket_by="process_tracking_id",
    ),
    link("extract_dependency", "parent_extract_id", "child_extract_id"),
    link("extract_dataset_type", "extract_id", "dataset_type_id", properties=_COMPACTING),
    link("extract_source", "extract_id", "source_id", properties=_COMPACTING),
    link("extract_source_object", "extract_id", "source_object_id", properties=_COMPACTING),
    lookup("extract_compression_type_lkup", "extract_compression_type", "extract_compression_type"),
    TableSpec(
        "extract_filetype_lkup",
        (
            _id("extract_filetype_id"),
            Column("extract_filetype_code", TEXT, nullable=False),
            Column("extract_filetype", TEXT, nullable=False),
            *_cols(("delimiter_char", TEXT), ("quote_char", TEXT), ("escape_char", TEXT)),
        ),
        key=("extract_filetype",),
        id_column="extract_filetype_id",
    ),
    TableSpec(
        "location_lkup",
        (
            _id("location_id"),
            Column("location_name", TEXT, nullable=False),
            Column("location_path", TEXT, nullable=False),
            _id("location_type_id"),
            *_cols(("location_file_count", ID), ("location_bucket_name", TEXT)),
        ),
        key=("location_path",),
        id_column="location_id",
    ),
    lookup("location_type_lkup", "location_type"),
    # --- sources ------------------------------------------------------------------------------
    lookup("source_lkup", "source", None, _id("source_type_id")),
    lookup("source_type_lkup", "source_type"),
    TableSpec(
        "source_object_lkup",
        (_id("source_object_id"), _id("source_id"), Column("source_object_name", TEXT, False)),
        key=("source_id", "source_object_name"),
        id_column="source_object_id",
    ),
    TableSpec(
        "source_object_attribute_lkup",
        (
            _id("source_object_attribute_id"),
            Column("source_object_attribute_name", TEXT, nullable=False),
            _id("source_object_id"),
            *(
                Column(flag, FLAG, nullable=False)
                for flag in ("is_key", "is_filter", "is_partition", "is_pii")
            ),
        ),
        key=("source_object_id", "source_object_attribute_name"),
        id_column="source_object_attribute_id",
    ),
    link("source_contact", "source_id", "contact_id"),
    link("source_dataset_type", "source_id", "dataset_type_id"),
    link("source_object_dataset_type", "source_object_id", "dataset_type_id"),
    link("source_location", "source_id", "location_id"),
    link("source_object_location", "source_object_id", "location_id"),
    lookup("dataset_type_lkup", "dataset_type", "dataset_type"),
    # --- other --------------------------------------------------------------------------------
    TableSpec(
        "contact_lkup",
        (_id("contact_id"), Column("contact_name", TEXT, nullable=False), Column("contact_email", TEXT)),
        key=("contact_name",),
        id_column="contact_id",
    ),
    lookup("schedule_frequency_lkup", "schedule_frequency"),
    TableSpec(
        "filter_type_lkup",
        (
            _id("filter_type_id"),
            Column("filter_type_code", TEXT, nullable=False),
            Column("filter_type_name", TEXT, nullable=False),
        ),
        key=("filter_type_code",),
        id_column="filter_type_id",
    ),
    TableSpec(
        "cluster_tracking_lkup",
        (
            _id("cluster_id"),
            Column("cluster_name", TEXT, nullable=False),
            *_cols(
                ("cluster_max_memory", ID),
                ("cluster_max_memory_unit", TEXT),
                ("cluster_max_processing", ID),
                ("cluster_max_processing_unit", TEXT),
            ),
        ),
        key=("cluster_name",),
        id_column="cluster_id",
    ),
    link("cluster_process", "cluster_id", "process_id"),
    TableSpec(
        "system_lkup",
        (_id("system_id"), Column("system_key", TEXT, nullable=False), Column("system_value", TEXT)),
        key=("system_key",),
        id_column="system_id",
    ),
)

SPECS: Mapping[str, TableSpec] = MappingProxyType({spec.name: spec for spec in TABLES})


def spec(name: str) -> TableSpec:
    """Return the spec of table ``name``."""
    return SPECS[name]


def link_tables_keyed_by(*columns: str) -> frozenset[str]:
    """Return the link tables (no id column) whose natural key holds one of ``columns``.

    Example:
        >>> sorted(link_tables_keyed_by("cluster_id"))
        ['cluster_process']
    """
    return frozenset(
        table.name
        for table in TABLES
        if table.id_column is None and any(column in table.key for column in columns)
    )


__all__ = [
    "ADDED_COLUMNS",
    "PLATFORM_COLUMNS",
    "BUCKETS",
    "BUCKET_COLUMN",
    "LAYOUT_PROPERTY",
    "LAYOUT_VERSION",
    "SCHEMA_VERSION",
    "SPECS",
    "TABLES",
    "Column",
    "TableSpec",
    "bucket_of",
    "bucket_sql",
    "link_tables_keyed_by",
    "spec",
    "sql_string",
]
