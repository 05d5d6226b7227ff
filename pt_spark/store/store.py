"""``Store``: where the tracking tables live and how to reach them by name.

A ``Store`` is cheap: it holds the SparkSession and the resolved ``TrackerConfig``. With an
external ``location`` and a session catalog that forgets tables between sessions (local Spark),
each table is registered by name the first time a call needs it (one short statement per table,
not all 46 up front). A schema already registered for another location is refused, so two
configurations never share tables by accident.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, TypeVar

from pt_spark.errors import ConfigError, ProcessTrackerError, SessionError, StoreAccessError, StoreNotReady
from pt_spark.store.faults import Fault, fault_line, is_fault
from pt_spark.store.retry import with_conflict_retry
from pt_spark.store.schema import ADDED_COLUMNS, SPECS, sql_string

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from pt_spark.config import TrackerConfig
    from pt_spark.runs.start import KnownStart

T = TypeVar("T")
log = logging.getLogger(__name__)
#: The table whose registration tells which location a schema belongs to.
_PROBE_TABLE = "system_lkup"


def _plain_path(location: str) -> str:
    path = location[len("file:") :] if location.startswith("file:") else location
    while path.startswith("//"):
        path = path[1:]
    return path.rstrip("/")


class Store:
    """The tracking tables of one configuration, seen through one SparkSession."""

    def __init__(self, spark: SparkSession, config: TrackerConfig) -> None:
        self.spark = spark
        self.config = config
        self._checked = False
        self._registered: set[str] = set()
        self._lock = threading.Lock()
        #: Ids of system (default) rows, which never change once seeded: read once per store.
        self.system_ids: dict[tuple[str, str], int] = {}
        #: ``process_name -> process_id`` seen by run starts; a start re-checks it in its own read.
        self.process_ids: dict[str, int] = {}
        #: ``process_name -> runs.start.KnownStart``: the last run this store's session started of
        #: each process, so that the next start can be one guarded MERGE (``runs.start.start_after``).
        self.known_starts: dict[str, KnownStart] = {}
        #: The platform run ids of runs started through this store (``pt_spark.platform``), read once.
        self.platform_ids: dict[str, str] | None = None

    def qualified(self, table: str) -> str:
        """Return the fully qualified, quoted name of ``table``, registering it when needed."""
        self._ensure_table(table)
        return self.config.table(table)

    def path(self, table: str) -> str | None:
        """Return the folder of an external table, or None for managed tables."""
        root = self.config.location
        return None if root is None else f"{root.rstrip('/')}/{table}"

    def read(self, table: str) -> DataFrame:
        """Return the current contents of ``table`` as a DataFrame."""
        return self.spark.table(self.qualified(table))

    def version(self, table: str) -> int:
        """Return the current Delta version of ``table`` (one short ``DESCRIBE HISTORY``)."""
        rows = self.spark.sql(f"DESCRIBE HISTORY {self.qualified(table)} LIMIT 1").collect()
        return int(rows[0]["version"])

    def pinned(self, *tables: str) -> dict[str, DataFrame]:
        """Return ``tables`` as of their current Delta versions (``VERSION AS OF n``), by name.

        A DataFrame over ``read`` re-reads the table on every action, so rows a later write
        changes vanish from it; a pinned one keeps returning what the table held now. The
        versions are looked up in parallel (one short statement per table).
        """
        names = list(dict.fromkeys(tables))
        with ThreadPoolExecutor(max_workers=min(4, len(names))) as pool:
            versions = list(pool.map(self.version, names))
        return {
            name: self.spark.sql(f"SELECT * FROM {self.qualified(name)} VERSION AS OF {version:d}")
            for name, version in zip(names, versions, strict=True)
        }

    def retry(self, action: Callable[[], T], what: str, after_unknown: Callable[[], T] | None = None) -> T:
        """Run a write with the configured conflict retry (``after_unknown``: its idempotent form)."""
        return with_conflict_retry(action, self.config.retry_attempts, what, after_unknown)

    def ensure_ready(self) -> None:
        """Make every table and health view reachable by name (SQL by name), or raise ``StoreNotReady``.

        Calls of the library do not need this: each registers the tables it touches.
        """
        from pt_spark.store.views import create_views  # views name the tables through this store

        self._ensure_table(_PROBE_TABLE)
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(self._ensure_table, SPECS))
        try:
            create_views(self, replace=False)
        except Exception as error:  # a store older than its views: its tables still work by name
            if not is_fault(error, Fault.OUTDATED):
                raise
            log.warning("%s (the health views were not created)", self.explain(error))

    def mark_ready(self) -> None:
        """Record that every table exists and is registered (``setup`` has just created them)."""
        with self._lock:
            self._checked = True
            self._registered.update(SPECS)

    def forget(self, table: str) -> None:
        """Forget that ``table`` is registered (it was re-created under its name)."""
        with self._lock:
            self._registered.discard(table)

    def _ensure_table(self, table: str) -> None:
        if table in self._registered:
            return
        with self._lock:
            if not self._checked:
                self.check_location()
                self._checked = True
        self._register(table)
        with self._lock:
            self._registered.add(table)

    def register(self, table: str) -> None:
        """Register the existing Delta folder of ``table`` under its name (``setup`` on a copy)."""
        with self._lock:
            self._register(table)
            self._registered.add(table)

    def table_exists(self, table: str) -> bool:
        """Return True when ``table`` is registered under its name in the session catalog."""
        parts = [self.config.catalog, self.config.schema_name, table]
        try:
            return bool(self.spark.catalog.tableExists(".".join(part for part in parts if part)))
        except Exception as error:  # Delta refuses to even look up a name whose folder is gone
            if is_fault(error, Fault.MISSING):
                return True
            raise

    def check_location(self) -> None:
        """Refuse a schema whose tables this session registered for another location."""
        if self.config.location is None or not self.table_exists(_PROBE_TABLE):
            return
        try:
            detail = self.spark.sql(f"DESCRIBE DETAIL {self.config.table(_PROBE_TABLE)}").first()
        except Exception as error:  # registered, but its folder is gone: nothing left to compare
            if is_fault(error, Fault.MISSING):
                return
            raise
        registered = _plain_path(str(detail["location"])) if detail is not None else ""
        wanted = _plain_path(f"{self.config.location.rstrip('/')}/{_PROBE_TABLE}")
        if registered != wanted and self._take_over_provisional(registered):
            return
        if registered != wanted:
            raise ConfigError(
                "location",
                f"schema {self.config.schema_name!r} already holds the tracking tables of "
                f"{registered.rsplit('/', 1)[0]!r} in this session; give this store "
                f"({self.config.location!r}) its own schema",
            )

    def _take_over_provisional(self, registered: str) -> bool:
        """Drop this schema's tables if ``local_spark`` registered them for the default store.

        Those registrations only make the default store readable by name; a store the caller
        configures for the same schema replaces them. Dropping an external table's registration
        leaves its data alone. Returns False (nothing dropped) for any other registration.
        """
        key = (id(self.spark), self.config.namespace)
        with _STORES_LOCK:
            provisional = _PROVISIONAL.get(key)
            if provisional is None or _plain_path(f"{provisional.rstrip('/')}/{_PROBE_TABLE}") != registered:
                return False
            del _PROVISIONAL[key]
            stale = [
                store
                for (spark_id, config), store in _STORES.items()
                if spark_id == id(self.spark)
                and config.namespace == self.config.namespace
                and store is not self
            ]
        for store in stale:  # they would otherwise trust registrations that now name other folders
            with store._lock:
                store._registered.clear()
                store._checked = False
        for table in SPECS:
            self.spark.sql(f"DROP TABLE IF EXISTS {self.config.table(table)}")
        return True

    def _register(self, table: str) -> None:
        """Register the existing Delta folder of ``table`` under its name (path stores)."""
        if self.table_exists(table):
            return
        path = self.path(table)
        if path is None or not self.is_delta_folder(path):
            raise StoreNotReady(self._not_ready_message(table))
        self.spark.sql(f"CREATE SCHEMA IF NOT EXISTS {self.config.namespace}")
        name = self.config.table(table)
        try:
            self.spark.sql(f"CREATE TABLE IF NOT EXISTS {name} USING delta LOCATION {sql_string(path)}")
        except Exception as error:  # another thread of this session registered it a moment earlier
            if not is_fault(error, Fault.ALREADY_EXISTS):
                raise

    def is_delta_folder(self, path: str) -> bool:
        """Return True when ``path`` holds a Delta table.

        Resolving the folder's schema reads only its log's latest metadata, with no Spark job
        (~0.1 s; a ``DESCRIBE DETAIL`` runs a job over the snapshot and took ~0.6 s a table).
        """
        try:
            self.spark.table(f"delta.`{path.replace('`', '``')}`").schema  # noqa: B018 (the read is the check)
        except Exception as error:  # not a Delta table (or no folder): Spark's AnalysisException
            if is_fault(error, Fault.NOT_DELTA):
                return False
            raise
        return True

    def explain(self, error: BaseException) -> ProcessTrackerError | None:
        """Return the pt_spark error for a Spark/Delta error about the store itself, else None.

        A table whose folder is gone, or a column a newer pt_spark added that the table lacks,
        is ``StoreNotReady`` (``setup`` repairs both); a location that cannot be written is
        ``StoreAccessError``. The Spark error's first line is kept in the message.
        """
        text = str(error)
        where = self.config.location or self.config.namespace
        cause = next((line.strip() for line in text.splitlines() if line.strip()), type(error).__name__)
        if is_fault(error, Fault.OUTDATED) and any(column in text for column in ADDED_COLUMNS):
            return StoreNotReady(
                f"The tracking store at {where} was made by an older pt_spark. Run `pt-spark setup` "
                f"(or pt_spark.setup) once to upgrade it in place. ({cause[:300]})"
            )
        if is_fault(error, Fault.NO_ACCESS):
            return StoreAccessError(f"The tracking store at {where} cannot be written: {cause[:300]}")
        if is_fault(error, Fault.MISSING):
            self._forget_all()
            return StoreNotReady(
                f"A table of the tracking store at {where} is missing or damaged. Run `pt-spark setup` "
                f"(or pt_spark.setup) to re-create missing tables. ({cause[:300]})"
            )
        return None

    @contextmanager
    def explained(self) -> Iterator[None]:
        """Raise Spark/Delta errors about the store itself as pt_spark errors (see ``explain``)."""
        try:
            yield
        except ProcessTrackerError:
            raise
        except Exception as error:
            explained = self.explain(error)
            if explained is None:
                raise
            raise explained from error

    def _forget_all(self) -> None:
        with self._lock:
            self._registered.clear()
            self._checked = False

    def _not_ready_message(self, table: str) -> str:
        where = self.config.location or self.config.namespace
        return (
            f"The tracking store at {where} has no table {table!r}. "
            "Run `pt-spark setup` or `pt_spark.setup(spark, config=...)` first."
        )


_STORES: dict[tuple[int, TrackerConfig], Store] = {}
_STORES_LOCK = threading.Lock()
#: ``(id(spark), namespace) -> location`` of the schemas a new local session registered for the
#: configured default store (``pt_spark.session.register_store_tables``): another store may take
#: such a schema over.
_PROVISIONAL: dict[tuple[int, str], str] = {}


def mark_provisional(spark: SparkSession, config: TrackerConfig) -> None:
    """Record that ``config``'s tables were registered only so that SQL can read them by name."""
    if config.location is not None:
        with _STORES_LOCK:
            _PROVISIONAL[(id(spark), config.namespace)] = config.location


def _check_session(spark: object) -> None:
    """Refuse what is not a SparkSession (classic or Connect: both have ``sql`` and ``table``)."""
    if not all(callable(getattr(spark, name, None)) for name in ("sql", "table", "createDataFrame")):
        raise SessionError(f"spark: expected a SparkSession (got {type(spark).__name__} {spark!r:.80})")


#: A statement only Delta's SQL grammar parses; the names are never created, so it reads nothing.
_DELTA_PROBE = "DESCRIBE HISTORY pt_spark_no_such_schema.pt_spark_delta_probe LIMIT 1"
#: ``id`` of the sessions whose Delta support was checked.
_DELTA_CHECKED: set[int] = set()


def _delta_hint() -> str:
    """Return how to give a session Delta, with the Maven coordinates of the installed pair."""
    try:
        from pt_spark.session import delta_maven_coordinates

        packages = f"--packages {delta_maven_coordinates()}"
    except Exception:  # delta-spark not installed here (a platform that brings its own Delta)
        packages = "--packages io.delta:delta-spark_<spark line>_2.13:<delta version>"
    return (
        f"start it with the Delta jars (spark-submit --jars delta-spark_*.jar,delta-storage-*.jar, or "
        f"{packages}) and --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension "
        "--conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog, "
        "or use pt_spark.session.local_spark() (README: Scheduled jobs with spark-submit)"
    )


def check_delta(spark: SparkSession) -> None:
    """Refuse a session without Delta Lake (once per session: one statement that Delta parses).

    A session built without the Delta jars or settings would otherwise fail later with a raw
    parse error, a missing catalog plugin, or a misleading "run setup".

    Raises:
        SessionError: the session cannot run Delta statements.
    """
    if id(spark) in _DELTA_CHECKED:
        return
    try:
        spark.sql(_DELTA_PROBE).collect()
    except Exception as error:  # a missing table is what a Delta session answers
        cause = fault_line(error, Fault.NO_DELTA_SESSION)
        if cause is not None:
            raise SessionError(
                f"The SparkSession has no Delta Lake ({cause[:160]}); {_delta_hint()}."
            ) from error
    with _STORES_LOCK:
        _DELTA_CHECKED.add(id(spark))


def store_for(spark: SparkSession, config: TrackerConfig) -> Store:
    """Return the shared ``Store`` for this session and configuration.

    Raises:
        SessionError: ``spark`` is not a SparkSession, or it has no Delta Lake.
    """
    _check_session(spark)
    check_delta(spark)
    key = (id(spark), config)
    with _STORES_LOCK:
        if key not in _STORES:
            _STORES[key] = Store(spark, config)
        return _STORES[key]


__all__ = ["Store", "check_delta", "mark_provisional", "store_for"]
