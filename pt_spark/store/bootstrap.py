"""Create the tracking store: every table of ``schema.TABLES`` plus the default rows.

``setup`` is idempotent: tables are created only when missing, default rows are inserted only
when their natural key is absent (a MERGE, so two racing setups still seed each row once), and an
older store is upgraded in place by adding the columns a newer library declares.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from delta.tables import DeltaTable, IdentityGenerator

from pt_spark.config import TrackerConfig, resolve_config
from pt_spark.store.defaults import DEFAULT_ROWS
from pt_spark.store.reads import ensure_rows
from pt_spark.store.schema import SCHEMA_VERSION, TABLES, TableSpec
from pt_spark.store.store import Store, store_for
from pt_spark.store.writes import upsert

if TYPE_CHECKING:
    import os

    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)
_PARALLEL_CREATES = 4
_CREATE_ATTEMPTS = 10


def _create_table(store: Store, table: TableSpec, overwrite: bool) -> None:
    spark = store.spark
    builder = DeltaTable.createOrReplace(spark) if overwrite else DeltaTable.createIfNotExists(spark)
    builder = builder.tableName(store.qualified(table.name))
    path = store.path(table.name)
    if path is not None:
        builder = builder.location(path)
        if not overwrite and DeltaTable.isDeltaTable(spark, path):
            # An existing store seen from a new session: register the folder as it is. Declaring
            # the columns again would clash with the identity columns' stored high-water marks.
            store.retry(builder.execute, f"register {table.name}")
            return
    for column in table.columns:
        identity = IdentityGenerator(start=1, step=1) if column.name == table.identity else None
        builder = builder.addColumn(
            column.name,
            column.data_type,
            nullable=column.nullable,
            generatedAlwaysAs=identity,
            comment=column.comment,
        )
    for key, value in table.properties.items():
        builder = builder.property(key, value)
    if table.partitioned_by:
        builder = builder.partitionedBy(*table.partitioned_by)

    def create() -> None:
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                builder.execute()
                return
            except Exception as error:
                text = str(error).upper().replace(" ", "_")
                if "ALREADY_EXISTS" in text:  # a racing setup registered it first: what we wanted
                    return
                if "NON_EMPTY_LOCATION" not in text or attempt == _CREATE_ATTEMPTS - 1:
                    raise
                # A racing setup is half-way through creating this folder: wait for its commit.
                time.sleep(0.2 * (attempt + 1))

    store.retry(create, f"create {table.name}")


def _add_missing_columns(store: Store) -> None:
    for table in TABLES:
        present = set(store.read(table.name).columns)
        missing = [c for c in table.columns if c.name not in present and c.name != table.identity]
        if missing:
            ddl = ", ".join(f"`{c.name}` {c.data_type.simpleString()}" for c in missing)
            store.spark.sql(f"ALTER TABLE {store.qualified(table.name)} ADD COLUMNS ({ddl})")
            log.info("upgraded %s: added %s", table.name, ddl)


def _add_missing_properties(store: Store) -> None:
    for table in TABLES:
        if not table.properties:
            continue
        present = store.delta(table.name).detail().select("properties").first()
        stored = dict(present["properties"] or {}) if present is not None else {}
        missing = {key: value for key, value in table.properties.items() if stored.get(key) != value}
        if missing:  # keys and values are the spec's constants, never user input
            assignments = ", ".join(f"'{key}' = '{value}'" for key, value in sorted(missing.items()))
            store.spark.sql(f"ALTER TABLE {store.qualified(table.name)} SET TBLPROPERTIES ({assignments})")
            log.info("upgraded %s: set %s", table.name, assignments)


def _upgrade(store: Store) -> None:
    stored = {row["system_key"]: row["system_value"] for row in store.read("system_lkup").collect()}.get(
        "schema_version"
    )
    if stored == SCHEMA_VERSION:
        return
    _add_missing_columns(store)
    _add_missing_properties(store)
    upsert(
        store,
        "system_lkup",
        [{"system_key": "schema_version", "system_value": SCHEMA_VERSION}],
        ["system_value"],
    )


def setup(
    spark: SparkSession,
    overwrite: bool = False,
    config: TrackerConfig | None = None,
    config_location: str | os.PathLike[str] | None = None,
) -> Store:
    """Create every tracking table and seed the default rows; safe to run again.

    Args:
        spark: The SparkSession to write through.
        overwrite: Re-create every table empty (all tracking history is lost), then re-seed.
        config: Where the store lives (catalog, schema, location); see ``TrackerConfig``.
        config_location: A config file or folder, as for ``ProcessTracker``.

    Example:
        >>> setup(spark, config=TrackerConfig(location="/tmp/pt"))  # doctest: +SKIP
    """
    resolved = resolve_config(spark, config, config_location)
    store = store_for(spark, resolved)
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {resolved.namespace}")
    with ThreadPoolExecutor(_PARALLEL_CREATES) as pool:
        list(pool.map(lambda table: _create_table(store, table, overwrite), TABLES))
    store.mark_ready()
    ensure_rows(store, {table: list(rows) for table, rows in DEFAULT_ROWS.items()})
    _upgrade(store)
    log.info("tracking store ready at %s", resolved.location or resolved.namespace)
    return store


__all__ = ["setup"]
