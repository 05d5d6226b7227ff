"""Keep the tracking tables compact: OPTIMIZE (bin-packing) and VACUUM with a safe retention.

A tracker writes call by call, and every call is a small Delta commit that adds a small file.
Tables with ``delta.autoOptimize.autoCompact`` compact themselves; ``maintain`` compacts every
table on demand (e.g. from a nightly job or ``pt-spark maintain``) so reads stay as fast as on a
freshly written table, then removes the files no snapshot inside the retention window needs.

Only SQL statements and DataFrame reads are used (``OPTIMIZE``, ``VACUUM ... RETAIN n HOURS``,
``DESCRIBE DETAIL``, a listing of the table folder), so it also runs over Spark Connect; the only
value in the SQL text is the validated retention.

Delta's VACUUM prints "Deleted N files and directories in a total of M directories." to the
driver's stdout with a plain ``println`` (no logger, no setting turns it off). ``maintain`` therefore
skips the VACUUM of a table that has no file VACUUM could delete (``_vacuum_has_work``): on a
tidy store ``pt-spark maintain`` prints nothing of Delta's, where it printed that line 46 times.

Example:
    >>> from pt_spark.store.maintenance import maintain
    >>> maintain(spark, config=TrackerConfig(location="/data/pt"))  # doctest: +SKIP
    {'process_tracking': {'files_before': 312, 'files_after': 1, ...}, ...}
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Iterable
from urllib.parse import unquote

from pyspark.sql import functions as F

from pt_spark.config import TrackerConfig, resolve_config
from pt_spark.errors import InvalidInput
from pt_spark.extracts.batch import literal_path
from pt_spark.store.schema import SPECS, TABLES
from pt_spark.store.store import Store, store_for

if TYPE_CHECKING:
    import os

    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

#: Delta's own default retention (``delta.deletedFileRetentionDuration`` = 7 days). VACUUM below
#: it could delete files that a running reader or a time-travel query still needs.
MIN_VACUUM_RETENTION_HOURS = 168.0
_PARALLEL_TABLES = 4
#: A retention beyond any table's life (about 11,000 years): a larger one is a typo (10**400 is no float).
_MAX_RETENTION_HOURS = 10**8

TableReport = dict[str, Any]


def _retention(hours: Any) -> float | None:
    """Validate the VACUUM retention (None: skip VACUUM)."""
    if hours is None:
        return None
    wrong_type = isinstance(hours, bool) or not isinstance(hours, (int, float))
    if wrong_type or (isinstance(hours, float) and not math.isfinite(hours)):
        raise InvalidInput(f"vacuum_retention_hours: expected a number of hours (got {hours!r:.80})")
    if hours > _MAX_RETENTION_HOURS:
        limit = f"{_MAX_RETENTION_HOURS:,}"
        raise InvalidInput(f"vacuum_retention_hours: more than {limit} hours (got {hours!r:.80})")
    if hours < MIN_VACUUM_RETENTION_HOURS:
        raise InvalidInput(
            f"vacuum_retention_hours: {hours} is below Delta's safe minimum of "
            f"{MIN_VACUUM_RETENTION_HOURS:g} hours (7 days); older snapshots could lose their files"
        )
    return float(hours)


def _tables(tables: Iterable[str] | None) -> list[str]:
    if tables is None:
        return [table.name for table in TABLES]
    if isinstance(tables, str):
        tables = [tables]
    given: list[Any]
    try:
        given = list(tables)
    except TypeError:  # not iterable (a number, an object): refused just below
        given = [tables]
    if not all(isinstance(name, str) for name in given):
        raise InvalidInput(f"tables: expected a table name or a list of table names (got {tables!r:.80})")
    names = list(dict.fromkeys(given))
    unknown = [name for name in names if name not in SPECS]
    if unknown:
        raise InvalidInput(f"tables: {', '.join(map(repr, unknown))} is not a tracking table")
    return names


def _detail(store: Store, table: str) -> tuple[int, str | None]:
    """Return ``table``'s number of data files and its folder (``DESCRIBE DETAIL``)."""
    row = store.spark.sql(f"DESCRIBE DETAIL {store.qualified(table)}").select("numFiles", "location").first()
    if row is None:
        return 0, None
    return int(row[0] or 0), row[1]


def _file_name(path: str) -> str:
    return unquote(path.rstrip("/").rsplit("/", 1)[-1])


def _vacuum_has_work(store: Store, table: str, location: str | None, retention: float) -> bool:
    """Return False when VACUUM could delete no data file of ``table``; True when it might.

    VACUUM deletes only files older than the retention that the current snapshot does not use.
    The table folder is listed (file names and times, no contents; hidden ``_delta_log`` left
    out) and its old files compared, by name, with the snapshot's files (``inputFiles``, read
    from the Delta log). Any doubt (no folder, a failed listing) answers True: VACUUM runs.
    """
    if not location:
        return True
    age = F.unix_timestamp(F.current_timestamp()) - F.unix_timestamp("modificationTime")
    try:
        listed = (
            store.spark.read.format("binaryFile")
            .option("recursiveFileLookup", "true")
            .load(literal_path(location))
            .where(age > F.lit(retention * 3600))
            .select("path")
            .collect()
        )
        live = {_file_name(path) for path in store.spark.table(store.qualified(table)).inputFiles()}
    except Exception as error:  # e.g. a folder the listing cannot read: let VACUUM decide
        log.debug("could not list %s before VACUUM (%s); vacuuming it", table, error)
        return True
    return any(_file_name(row["path"]) not in live for row in listed)


def _compact(store: Store, table: str) -> dict[str, int]:
    """Bin-pack ``table``'s small files (one commit when there is something to compact)."""

    def optimize() -> dict[str, int]:
        row = store.spark.sql(f"OPTIMIZE {store.qualified(table)}").select("metrics").first()
        metrics = row[0].asDict() if row is not None and row[0] is not None else {}
        return {
            "files_added": int(metrics.get("numFilesAdded") or 0),
            "files_removed": int(metrics.get("numFilesRemoved") or 0),
        }

    return store.retry(optimize, f"optimize {table}")


def _maintain_table(store: Store, table: str, retention: float | None) -> TableReport:
    before, location = _detail(store, table)
    report: TableReport = {"files_before": before, "files_added": 0, "files_removed": 0}
    if before > 1:
        report.update(_compact(store, table))
    report["files_after"] = before - report["files_removed"] + report["files_added"]
    report["vacuum_ran"] = False
    if retention is not None and _vacuum_has_work(store, table, location, retention):
        vacuum = f"VACUUM {store.qualified(table)} RETAIN {float(retention)!r} HOURS"
        store.retry(lambda: store.spark.sql(vacuum).collect(), f"vacuum {table}")
        report["vacuum_ran"] = True
    report["vacuumed"] = retention is not None
    log.debug("maintained %s: %s", table, report)
    return report


def maintain(
    spark: SparkSession,
    config: TrackerConfig | None = None,
    vacuum_retention_hours: float | None = MIN_VACUUM_RETENTION_HOURS,
    tables: Iterable[str] | None = None,
    config_location: str | os.PathLike[str] | None = None,
) -> dict[str, TableReport]:
    """Compact the tracking tables (OPTIMIZE) and remove unreferenced old files (VACUUM).

    Safe to run while trackers write: a compaction that loses a race with a writer is retried, and
    VACUUM never removes files younger than the retention, so readers and time travel inside that
    window keep working. A table with a single file is not rewritten.

    Args:
        spark: The SparkSession to work through.
        config: Which store (catalog, schema, location); resolved as in docs/SPEC.md §7 when None.
        vacuum_retention_hours: Keep files removed less than this many hours ago; at least 168
            (Delta's default 7 days). None skips VACUUM.
        tables: Only these tracking tables (default: every table of the store).
        config_location: A config file or folder, as for ``ProcessTracker``.

    Returns:
        Per table: ``files_before``, ``files_after``, ``files_added``, ``files_removed`` (data
        files, from the OPTIMIZE metrics), ``vacuumed`` (no file older than the retention is left
        unused) and ``vacuum_ran`` (False when VACUUM was skipped: it had nothing to delete).

    Raises:
        InvalidInput: a retention below 168 hours, or an unknown table name.
        StoreNotReady: the store has not been set up.

    Example:
        >>> report = maintain(spark, config=cfg)  # doctest: +SKIP
        >>> report["process_tracking"]["files_after"]  # doctest: +SKIP
        1
    """
    retention = _retention(vacuum_retention_hours)
    names = _tables(tables)
    resolved = resolve_config(spark, config, config_location)
    store = store_for(spark, resolved)
    store.ensure_ready()
    with ThreadPoolExecutor(max_workers=min(_PARALLEL_TABLES, max(1, len(names)))) as pool:
        reports = list(pool.map(lambda name: _maintain_table(store, name, retention), names))
    result = dict(zip(names, reports, strict=True))
    compacted = sum(1 for report in reports if report["files_removed"])
    log.info("maintained %s table(s); %s compacted", len(names), compacted)
    return result


__all__ = ["MIN_VACUUM_RETENTION_HOURS", "maintain"]
