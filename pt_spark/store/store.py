"""``Store``: where the tracking tables live and how to reach them by name.

A ``Store`` is cheap: it holds the SparkSession and the resolved ``TrackerConfig``. On first use it
makes sure every table is reachable by name; with an external ``location`` and a session catalog
that forgets tables between sessions (local Spark), it re-registers the existing Delta folders.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable, TypeVar

from delta.tables import DeltaTable

from pt_spark.errors import StoreNotReady
from pt_spark.store.retry import with_conflict_retry
from pt_spark.store.schema import TABLES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from pt_spark.config import TrackerConfig

T = TypeVar("T")


class Store:
    """The tracking tables of one configuration, seen through one SparkSession."""

    def __init__(self, spark: SparkSession, config: TrackerConfig) -> None:
        self.spark = spark
        self.config = config
        self._ready = False
        self._lock = threading.Lock()
        #: Ids of system (default) rows, which never change once seeded: read once per store.
        self.system_ids: dict[tuple[str, str], int] = {}
        #: ``process_name -> process_id`` seen by run starts; a start re-checks it in its own read.
        self.process_ids: dict[str, int] = {}

    def qualified(self, table: str) -> str:
        """Return the fully qualified, quoted name of ``table``."""
        return f"{self.config.namespace}.`{table}`"

    def path(self, table: str) -> str | None:
        """Return the folder of an external table, or None for managed tables."""
        root = self.config.location
        return None if root is None else f"{root.rstrip('/')}/{table}"

    def read(self, table: str) -> DataFrame:
        """Return the current contents of ``table`` as a DataFrame."""
        self.ensure_ready()
        return self.spark.table(self.qualified(table))

    def delta(self, table: str) -> DeltaTable:
        """Return the ``DeltaTable`` handle of ``table`` (for MERGE/UPDATE)."""
        self.ensure_ready()
        return DeltaTable.forName(self.spark, self.qualified(table))

    def retry(self, action: Callable[[], T], what: str) -> T:
        """Run a write with the configured conflict retry."""
        return with_conflict_retry(action, self.config.retry_attempts, what)

    def ensure_ready(self) -> None:
        """Make every table reachable by name, or raise ``StoreNotReady``."""
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                self._register_tables()
                self._ready = True

    def mark_ready(self) -> None:
        """Record that every table exists (``setup`` has just created them)."""
        self._ready = True

    def _unqualified(self, table: str) -> str:
        parts = [self.config.catalog, self.config.schema_name, table]
        return ".".join(part for part in parts if part)

    def _register_tables(self) -> None:
        catalog = self.spark.catalog
        missing = [s for s in TABLES if not catalog.tableExists(self._unqualified(s.name))]
        if not missing:
            return
        if self.config.location is None:
            raise StoreNotReady(self._not_ready_message(missing[0].name))
        self.spark.sql(f"CREATE SCHEMA IF NOT EXISTS {self.config.namespace}")
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(self._register_table, [table_spec.name for table_spec in missing]))

    def _register_table(self, table: str) -> None:
        """Register the existing Delta folder of ``table`` under its name."""
        assert self.config.location is not None
        path = f"{self.config.location.rstrip('/')}/{table}"
        if not DeltaTable.isDeltaTable(self.spark, path):
            raise StoreNotReady(self._not_ready_message(table))
        DeltaTable.createIfNotExists(self.spark).tableName(self.qualified(table)).location(path).execute()

    def _not_ready_message(self, table: str) -> str:
        where = self.config.location or self.config.namespace
        return (
            f"The tracking store at {where} has no table {table!r}. "
            "Run `pt-spark setup` or `pt_spark.setup(spark, config=...)` first."
        )


_STORES: dict[tuple[int, TrackerConfig], Store] = {}
_STORES_LOCK = threading.Lock()


def store_for(spark: SparkSession, config: TrackerConfig) -> Store:
    """Return the shared ``Store`` for this session and configuration."""
    key = (id(spark), config)
    with _STORES_LOCK:
        if key not in _STORES:
            _STORES[key] = Store(spark, config)
        return _STORES[key]


__all__ = ["Store", "store_for"]
