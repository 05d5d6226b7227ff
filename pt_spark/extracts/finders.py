"""Read-only extract queries: the finders, and the look-ups the extract writers validate with.

Finders return lazy DataFrames pinned to the table versions they read (``Store.pinned``): after
``run.bulk_change_extract_status(found, "loading")`` the DataFrame ``found`` still holds the rows it
found, rather than re-running over the changed table and coming back empty. Their eager work is
one small job that checks the arguments (an unknown status or process is an error, not an empty
result) and one short ``DESCRIBE HISTORY`` per table read. Nothing here writes, caches or
registers anything. Filenames match as a literal substring (``Column.contains``), so ``_`` and
``%`` have no wildcard meaning.
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from pyspark.sql import functions as F

from pt_spark.errors import InvalidInput, NotFound
from pt_spark.extracts.paths import normalize_path, path_spellings
from pt_spark.statuses import ExtractStatus
from pt_spark.store.lookup import probe, probe_frame
from pt_spark.validation import clean_name, optional_name

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, Row

    from pt_spark.store.store import Store

#: Parent statuses that keep a child extract from moving to ``loading``.
BLOCKING_PARENT_STATUSES = tuple(
    status.value for status in (ExtractStatus.INITIALIZING, ExtractStatus.READY, ExtractStatus.LOADING)
)


def status_frame(store: Store, names: Iterable[str]) -> DataFrame:
    """Probe frame of the extract statuses named ``names`` (id, name)."""
    wanted = sorted(set(names))
    statuses = store.read("extract_status_lkup").where(F.col("extract_status_name").isin(wanted))
    return probe_frame(statuses, F.col("extract_status_id"), F.col("extract_status_name"))


def require_status(found: Sequence[Row], name: str, argument: str = "status") -> int:
    """Return the id of status ``name`` from probed status rows, or raise ``InvalidInput``.

    The message names the caller's ``argument``: ``new_status: bogus is not a valid ...``.
    """
    for row in found:
        if row["key"] == name:
            return int(row["id"])
    raise InvalidInput(f"{argument}: {name} is not a valid extract status type")


def blocking_parents_frame(
    store: Store, child_ids: Sequence[int], batch_ids: Sequence[int] = ()
) -> DataFrame:
    """Probe frame of parents that block ``child_ids`` from loading: (parent id, child id, status).

    Parents that are themselves in ``batch_ids`` do not block.
    """
    links = store.read("extract_dependency").where(F.col("child_extract_id").isin(list(child_ids)))
    if batch_ids:
        links = links.where(~F.col("parent_extract_id").isin(list(batch_ids)))
    parents = store.read("extract_tracking").select(F.col("extract_id").alias("p_id"), "extract_status_id")
    statuses = store.read("extract_status_lkup").where(
        F.col("extract_status_name").isin(list(BLOCKING_PARENT_STATUSES))
    )
    blocked = links.join(parents, F.col("parent_extract_id") == F.col("p_id")).join(
        statuses, "extract_status_id"
    )
    return probe_frame(
        blocked, F.col("parent_extract_id"), F.col("child_extract_id"), F.col("extract_status_name")
    )


def filetype_frame(store: Store, codes: Iterable[str], name: str | None = None) -> DataFrame:
    """Probe frame of file types by code (any case) or exact name: (id, lower-case code, name)."""
    wanted = F.lower("extract_filetype_code").isin(sorted({code.lower() for code in codes}))
    if name is not None:
        wanted = wanted | (F.col("extract_filetype") == F.lit(name))
    types = store.read("extract_filetype_lkup").where(wanted)
    return probe_frame(
        types, F.col("extract_filetype_id"), F.lower("extract_filetype_code"), F.col("extract_filetype")
    )


def compression_frame(store: Store, names: Iterable[str]) -> DataFrame:
    """Probe frame of the compression types named ``names``: (id, name)."""
    types = store.read("extract_compression_type_lkup").where(
        F.col("extract_compression_type").isin(sorted(set(names)))
    )
    return probe_frame(types, F.col("extract_compression_type_id"), F.col("extract_compression_type"))


def extract_frame(store: Store, filenames: Iterable[str], location_path: str) -> DataFrame:
    """Probe frame of the extracts ``filenames`` at ``location_path`` (in any of its spellings).

    Columns: ``id`` (extract id), ``key`` (filename), ``info`` (status name), ``status_id``.
    """
    extracts = store.read("extract_tracking").where(F.col("extract_filename").isin(sorted(set(filenames))))
    at = (
        store.read("location_lkup")
        .where(F.col("location_path").isin(path_spellings(normalize_path(location_path))))
        .select("location_id")
    )
    found = extracts.join(at, F.col("extract_location_id") == F.col("location_id")).join(
        store.read("extract_status_lkup"), "extract_status_id"
    )
    return found.select(
        F.col("extract_id").cast("long").alias("id"),
        F.col("extract_filename").alias("key"),
        F.col("extract_status_name").alias("info"),
        F.col("extract_status_id").cast("long").alias("status_id"),
    )


def _status_name(status: Any) -> str:
    return clean_name(status, "status")


#: The tables ``_extracts`` joins.
_EXTRACT_TABLES = ("extract_tracking", "location_lkup", "extract_status_lkup")


def _extracts(tables: Mapping[str, DataFrame]) -> DataFrame:
    """Every extract with its location and status names (lazy), from ``Store.pinned`` tables."""
    extracts = tables["extract_tracking"]
    locations = tables["location_lkup"].select(
        "location_id", "location_name", "location_path", "location_bucket_name"
    )
    statuses = tables["extract_status_lkup"]
    path = F.col("location_path")
    full = F.when(
        path.endswith("/") | path.endswith("\\"), F.concat(path, F.col("extract_filename"))
    ).otherwise(F.concat(path, F.lit("/"), F.col("extract_filename")))
    joined = extracts.join(locations, F.col("extract_location_id") == F.col("location_id")).join(
        statuses, "extract_status_id"
    )
    first = [
        "extract_id",
        "extract_filename",
        "full_filename",
        "location_name",
        "location_path",
        "extract_status_name",
        "extract_registration_date_time",
    ]
    rest = [c for c in extracts.columns if c not in first] + ["location_id", "location_bucket_name"]
    return joined.withColumn("full_filename", full).select(*first, *rest)


def _at_path(path: str) -> Column:
    """The condition "``location_path`` is ``path``", in any spelling of it."""
    return F.col("location_path").isin(path_spellings(normalize_path(path) or path))


def _in_status(frame: DataFrame, status_id: int) -> DataFrame:
    return frame.where(F.col("extract_status_id") == F.lit(status_id)).orderBy(
        "extract_registration_date_time", "extract_id"
    )


def _check_status(store: Store, status: Any) -> int:
    name = _status_name(status)
    return require_status(probe({"status": status_frame(store, [name])})["status"], name)


def find_extracts_by_filename(store: Store, filename: Any, status: Any = "ready") -> DataFrame:
    """Return the extracts whose filename contains ``filename`` literally, oldest first.

    Args:
        store: The tracking store.
        filename: Text to look for anywhere in the filename (no wildcards: ``_`` is ``_``).
        status: Extract status to keep (default ``ready``).

    Returns:
        A DataFrame pinned to the table versions read now: it keeps these rows after the
        extracts change status (e.g. by ``bulk_change_extract_status``).

    Raises:
        InvalidInput: empty filename or unknown status.

    Example:
        >>> run.find_extracts_by_filename("my_file").select("full_filename").show()  # doctest: +SKIP
    """
    text = clean_name(filename, "filename")
    status_id = _check_status(store, status)
    return _in_status(
        _extracts(store.pinned(*_EXTRACT_TABLES)).where(F.col("extract_filename").contains(F.lit(text))),
        status_id,
    )


def find_extracts_by_location(
    store: Store,
    location: Any = None,
    location_name: Any = None,
    location_path: Any = None,
    status: Any = "ready",
) -> DataFrame:
    """Return the extracts at a location, oldest first.

    Args:
        store: The tracking store.
        location: A location name or path (either matches; a path in any spelling).
        location_name: The exact location name.
        location_path: The location path, in any spelling of it: ``/data/in/``, ``/data/in``
            and ``file:/data/in`` find the same location (``locations.normalize_path``).
        status: Extract status to keep (default ``ready``).

    Returns:
        A DataFrame pinned to the table versions read now: it keeps these rows after the
        extracts change status (e.g. by ``bulk_change_extract_status``).

    Raises:
        InvalidInput: none of ``location``, ``location_name``, ``location_path``; unknown status.
    """
    given = {
        "location": optional_name(location, "location"),
        "location_name": optional_name(location_name, "location_name"),
        "location_path": optional_name(location_path, "location_path"),
    }
    if all(value is None for value in given.values()):
        raise InvalidInput("find_extracts_by_location needs location, location_name or location_path")
    conditions = []
    if given["location"] is not None:
        at_path = _at_path(given["location"])
        conditions.append((F.col("location_name") == F.lit(given["location"])) | at_path)
    if given["location_name"] is not None:
        conditions.append(F.col("location_name") == F.lit(given["location_name"]))
    if given["location_path"] is not None:
        conditions.append(_at_path(given["location_path"]))
    status_id = _check_status(store, status)
    where = reduce(lambda a, b: a & b, conditions)
    return _in_status(_extracts(store.pinned(*_EXTRACT_TABLES)).where(where), status_id)


def find_extracts_by_process(store: Store, extract_process_name: Any, status: Any = "ready") -> DataFrame:
    """Return the extracts linked to any run of a process, de-duplicated, oldest first.

    Args:
        store: The tracking store.
        extract_process_name: Name of the process whose runs registered or used the extracts.
        status: Extract status to keep (default ``ready``).

    Returns:
        A DataFrame pinned to the table versions read now: it keeps these rows after the
        extracts change status (e.g. by ``bulk_change_extract_status``).

    Raises:
        InvalidInput: empty name or unknown status.
        NotFound: no process has that name.
    """
    process_name = clean_name(extract_process_name, "extract_process_name")
    status_name = _status_name(status)
    process = store.read("process").where(F.col("process_name") == F.lit(process_name))
    found = probe(
        {
            "status": status_frame(store, [status_name]),
            "process": probe_frame(process, F.col("process_id"), F.col("process_name")),
        }
    )
    status_id = require_status(found["status"], status_name)
    if not found["process"]:
        raise NotFound(f"Process {process_name!r} not found")
    process_id = int(found["process"][0]["id"])
    tables = store.pinned(*_EXTRACT_TABLES, "process_tracking", "extract_process_tracking")
    runs = tables["process_tracking"].where(F.col("process_id") == F.lit(process_id))
    linked = tables["extract_process_tracking"].join(runs, "process_tracking_id", "left_semi")
    extracts = _extracts(tables).join(
        linked.select(F.col("extract_tracking_id").alias("extract_id")), "extract_id", "left_semi"
    )
    return _in_status(extracts, status_id)


__all__ = [
    "BLOCKING_PARENT_STATUSES",
    "blocking_parents_frame",
    "compression_frame",
    "extract_frame",
    "filetype_frame",
    "find_extracts_by_filename",
    "find_extracts_by_location",
    "find_extracts_by_process",
    "probe",
    "probe_frame",
    "require_status",
    "status_frame",
]
