"""Create the tracking store: every table of ``schema.TABLES`` plus the default rows.

``setup`` is idempotent: tables are created only when missing, default rows are inserted only
when their natural key is absent (a MERGE, so two racing setups still seed each row once), and an
older store is upgraded in place:

* store v2 (Delta IDENTITY ids, no write buckets): each table is rewritten once, in one atomic
  ``CREATE OR REPLACE TABLE ... AS SELECT`` from its own last version, keeping every row and id
  and adding the ``bucket`` column; a table already rewritten is marked (``pt_spark.layout``)
  and skipped, so an upgrade that stopped half-way finishes on the next run;
* columns (store v4: the run heartbeat, the per-process stale-run timeout; v5: the platform run
  ids) and table properties a newer library declares are added with ``ALTER TABLE``, keeping
  every row.

The health views (``views``) are created, or replaced by their current definition, last.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from pt_spark.config import TrackerConfig, resolve_config
from pt_spark.errors import InvalidInput
from pt_spark.store.defaults import DEFAULT_ROWS
from pt_spark.store.faults import Fault, is_fault
from pt_spark.store.reads import ensure_rows
from pt_spark.store.schema import (
    BUCKET_COLUMN,
    LAYOUT_PROPERTY,
    LAYOUT_VERSION,
    SCHEMA_VERSION,
    TABLES,
    TableSpec,
    bucket_sql,
    sql_string,
)
from pt_spark.store.store import Store, store_for
from pt_spark.store.views import create_views
from pt_spark.store.writes import insert_missing, upsert, with_new_ids

if TYPE_CHECKING:
    import os

    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)
_PARALLEL_CREATES = 8
_CREATE_ATTEMPTS = 10


def _properties_sql(properties: dict[str, str]) -> str:
    return ", ".join(f"{sql_string(key)} = {sql_string(value)}" for key, value in sorted(properties.items()))


def _layout_sql(store: Store, table: TableSpec) -> str:
    """Return the ``USING ... PARTITIONED BY ... LOCATION ... TBLPROPERTIES`` part of a CREATE."""
    parts = ["USING delta"]
    if table.partitioned_by:
        parts.append(f"PARTITIONED BY ({', '.join(f'`{c}`' for c in table.partitioned_by)})")
    path = store.path(table.name)
    if path is not None:
        parts.append(f"LOCATION {sql_string(path)}")
    parts.append(f"TBLPROPERTIES ({_properties_sql(table.table_properties)})")
    return " ".join(parts)


def _create_table(store: Store, table: TableSpec, overwrite: bool) -> bool:
    """Create ``table`` (or register its existing folder; re-create it with ``overwrite``).

    Returns:
        True when this call ran the table's ``CREATE`` (the table is new and empty, unless a
        racing setup made it first), False when the table was already there.
    """
    name = store.config.table(table.name)
    path = store.path(table.name)
    layout = _layout_sql(store, table)
    if not overwrite and store.table_exists(table.name):
        if path is None or store.is_delta_folder(path):
            return False
        # Registered, but its folder is gone: create the table again at its path (by path, as
        # the catalog cannot even drop a Delta table whose folder is missing); the name stays.
        name, layout = (
            f"delta.`{path.replace('`', '``')}`",
            layout.replace(f" LOCATION {sql_string(path)}", ""),
        )
        log.warning("re-creating the missing table %s (empty) at %s", table.name, path)
    elif not overwrite and path is not None and store.is_delta_folder(path):
        store.register(table.name)  # an existing store seen from a new session
        return False
    verb = "CREATE OR REPLACE TABLE" if overwrite else "CREATE TABLE IF NOT EXISTS"
    columns = ", ".join(column.ddl for column in table.columns)
    statement = f"{verb} {name} ({columns}) {layout}"

    def create() -> None:
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                store.spark.sql(statement)
                return
            except Exception as error:
                if is_fault(error, Fault.ALREADY_EXISTS):  # a racing setup registered it first
                    return
                if not is_fault(error, Fault.NON_EMPTY_LOCATION) or attempt == _CREATE_ATTEMPTS - 1:
                    raise
                # A racing setup is half-way through creating this folder: wait for its commit.
                time.sleep(0.2 * (attempt + 1))

    store.retry(create, f"create {table.name}")
    return True


def _create_and_seed(store: Store, table: TableSpec, overwrite: bool) -> bool:
    """Create ``table`` if needed and, when this call created it, insert its default rows at once.

    A new table needs no read before its seed: the seed is a MERGE that inserts each default row
    whose key is absent, so a racing setup that created and seeded the table first is harmless.
    Creating and seeding in the same worker lets the tables go through both steps side by side.
    """
    created = _create_table(store, table, overwrite)
    defaults = DEFAULT_ROWS.get(table.name)
    if created and defaults:
        insert_missing(store, table.name, with_new_ids(table.name, list(defaults)))
    return created


def _detail(store: Store, table: str) -> tuple[dict[str, str], int, list[str]]:
    """Return a table's properties, its current version and its columns."""
    name = store.config.table(table)
    detail = store.spark.sql(f"DESCRIBE DETAIL {name}").first()
    version = store.spark.sql(f"DESCRIBE HISTORY {name} LIMIT 1").first()
    assert detail is not None and version is not None
    return dict(detail["properties"] or {}), int(version["version"]), store.spark.table(name).columns


def _rewrite_in_v3_layout(store: Store, table: TableSpec) -> None:
    """Rewrite a v2 table in the v3 layout in one atomic statement; a v3 table is left alone.

    Every row and id is kept (read from the table's last version); the ``bucket`` column is
    derived from the row; columns the old table lacks are NULL. Delta no longer generates ids:
    the new table has no IDENTITY column.
    """
    properties, version, present = _detail(store, table.name)
    if properties.get(LAYOUT_PROPERTY) == LAYOUT_VERSION:
        return
    name = store.config.table(table.name)
    values = []
    for column in table.columns:
        if column.name == BUCKET_COLUMN and table.bucket_by is not None:
            expression = bucket_sql(table.bucket_by, table.column(table.bucket_by).data_type)
        elif column.name in present:
            expression = f"CAST(`{column.name}` AS {column.data_type.simpleString()})"
        else:
            expression = f"CAST(NULL AS {column.data_type.simpleString()})"
        values.append(f"{expression} AS `{column.name}`")
    store.spark.sql(
        f"CREATE OR REPLACE TABLE {name} {_layout_sql(store, table)} "
        f"AS SELECT {', '.join(values)} FROM {name} VERSION AS OF {int(version)}"
    )
    log.info("upgraded %s to the v3 layout (library ids, write buckets)", table.name)


def _add_missing_columns(store: Store, table: TableSpec) -> None:
    """Add the (nullable) columns the spec declares and the table lacks; existing rows get NULL."""
    _, _, present = _detail(store, table.name)
    missing = [column for column in table.columns if column.name not in present]
    if missing:  # column definitions come from the spec, never from user input
        definitions = ", ".join(column.ddl for column in missing)
        store.spark.sql(f"ALTER TABLE {store.config.table(table.name)} ADD COLUMNS ({definitions})")
        log.info("added %s to %s", ", ".join(c.name for c in missing), table.name)


def _add_missing_properties(store: Store, table: TableSpec) -> None:
    properties, _, _ = _detail(store, table.name)
    missing = {key: value for key, value in table.table_properties.items() if properties.get(key) != value}
    if missing:  # keys and values are the spec's constants, never user input
        store.spark.sql(
            f"ALTER TABLE {store.config.table(table.name)} SET TBLPROPERTIES ({_properties_sql(missing)})"
        )


def _stored_version(store: Store) -> str | None:
    rows = store.read("system_lkup").where("system_key = 'schema_version'").collect()
    return str(rows[0]["system_value"]) if rows else None


def _upgrade(store: Store) -> None:
    """Bring an older store to ``SCHEMA_VERSION``.

    A new store (no version row yet: its tables were just created in the current layout) and a
    current one are left alone, without a commit.
    """
    stored = _stored_version(store)
    if stored is None or stored == SCHEMA_VERSION:
        return

    def upgrade(table: TableSpec) -> None:
        store.retry(lambda: _rewrite_in_v3_layout(store, table), f"upgrade {table.name}")
        store.retry(lambda: _add_missing_columns(store, table), f"upgrade {table.name}")
        store.retry(lambda: _add_missing_properties(store, table), f"upgrade {table.name}")

    with ThreadPoolExecutor(_PARALLEL_CREATES) as pool:
        list(pool.map(upgrade, TABLES))
    version = {"system_key": "schema_version", "system_value": SCHEMA_VERSION}
    upsert(store, "system_lkup", with_new_ids("system_lkup", [version]), ["system_value"])
    log.info("the tracking store is at schema version %s", SCHEMA_VERSION)


def setup(
    spark: SparkSession,
    overwrite: bool = False,
    config: TrackerConfig | None = None,
    config_location: str | os.PathLike[str] | None = None,
) -> Store:
    """Create every tracking table and seed the default rows; safe to run again.

    A store made by an older pt_spark is upgraded in place (see the module docstring).

    Args:
        spark: The SparkSession to write through.
        overwrite: Re-create every table empty (all tracking history is lost), then re-seed.
        config: Where the store lives (catalog, schema, location); see ``TrackerConfig``.
        config_location: A config file or folder, as for ``ProcessTracker``.

    Example:
        >>> setup(spark, config=TrackerConfig(location="/tmp/pt"))  # doctest: +SKIP
    """
    if not isinstance(overwrite, bool):  # "no" would be true, and wipe the store
        raise InvalidInput(f"overwrite: expected True or False (got {overwrite!r})")
    resolved = resolve_config(spark, config, config_location)
    store = store_for(spark, resolved)
    store.check_location()
    with store.explained():
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS {resolved.namespace}")
        with ThreadPoolExecutor(_PARALLEL_CREATES) as pool:
            made = pool.map(lambda table: _create_and_seed(store, table, overwrite), TABLES)
            created = dict(zip((table.name for table in TABLES), made, strict=True))
        store.mark_ready()
        if not created["system_lkup"]:  # a new store is at the current version by its seed
            _upgrade(store)
        existing = {name for name, new in created.items() if not new}
        ensure_rows(store, {table: list(rows) for table, rows in DEFAULT_ROWS.items() if table in existing})
        create_views(store, replace=True)
    log.info("tracking store ready at %s", resolved.location or resolved.namespace)
    return store


__all__ = ["setup"]
