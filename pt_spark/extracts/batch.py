"""Extracts in bulk: registering every file of a folder, and changing many statuses at once.

Both work on whole batches: they read what they need in one Spark job, validate the whole batch,
and then write ONE MERGE per table they change, whatever the batch size. The write helpers here
(run links, lineage links, status changes) are shared with ``ExtractTracker``.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from pyspark.sql import functions as F

from pt_spark.errors import ExtractDependencyError, InvalidInput, NotFound
from pt_spark.extracts.finders import (
    blocking_parents_frame,
    compression_frame,
    extract_frame,
    filetype_frame,
    require_status,
    status_frame,
)
from pt_spark.extracts.locations import (
    derive_types,
    location_frames,
    parse_location_path,
    path_segments,
    resolve_location,
    scheme_of,
    set_file_count,
    split_authority,
)
from pt_spark.statuses import ExtractStatus
from pt_spark.store.faults import Fault, is_fault
from pt_spark.store.lookup import probe, probe_frame
from pt_spark.store.reads import create_missing, ensure_rows
from pt_spark.store.schema import link_tables_keyed_by
from pt_spark.store.writes import from_source, in_parallel, merge_update, upsert
from pt_spark.validation import clean_name, optional_name, positive_id

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from pt_spark.runs.context import RunContext
    from pt_spark.store.store import Store

log = logging.getLogger(__name__)
_REGISTERED_STATUS = ExtractStatus.READY.value
#: Link tables whose key names the extract (a new extract has none of their rows yet).
KEYED_BY_EXTRACT = link_tables_keyed_by("extract_id", "extract_tracking_id")
#: Characters Hadoop's path globbing gives a meaning; a backslash before one makes it literal.
_GLOB_CHARACTERS = re.compile(r"([\\\[\]{}*?])")


def lineage_links(
    process_run: RunContext, extract_ids: Sequence[int], location_id: int
) -> dict[str, list[dict[str, int]]]:
    """Return the dataset-type and source link rows of extracts registered by ``process_run``.

    Source objects take precedence over sources (the finer grain wins), as in the process.
    """
    lineage = process_run.lineage()
    object_ids, source_ids = lineage.source_object_ids, lineage.source_ids
    links: dict[str, list[dict[str, int]]] = {
        "extract_dataset_type": [
            {"extract_id": e, "dataset_type_id": d} for e in extract_ids for d in lineage.dataset_type_ids
        ]
    }
    if object_ids:
        links["extract_source_object"] = [
            {"extract_id": e, "source_object_id": o} for e in extract_ids for o in object_ids
        ]
        links["source_object_location"] = [
            {"source_object_id": o, "location_id": location_id} for o in object_ids
        ]
    else:
        links["extract_source"] = [{"extract_id": e, "source_id": s} for e in extract_ids for s in source_ids]
        links["source_location"] = [{"source_id": s, "location_id": location_id} for s in source_ids]
    return links


def run_links(process_tracking_id: int, extract_ids: Sequence[int], status_id: int) -> list[dict[str, Any]]:
    """Return ``extract_process_tracking`` rows linking extracts to a run in a status, stamped now."""
    at = datetime.now()
    return [
        {
            "extract_tracking_id": extract_id,
            "process_tracking_id": process_tracking_id,
            "extract_process_status_id": status_id,
            "extract_process_event_date_time": at,
        }
        for extract_id in extract_ids
    ]


def write_status(
    store: Store, process_tracking_id: int, locations: Mapping[int, int], status_id: int
) -> None:
    """Set the status of extracts and of their links to the run: one MERGE per table, in parallel.

    ``locations`` maps each extract id to its location id (which names its write bucket). A
    missing run link is created (the extract becomes associated with the run).
    """
    extracts = [
        {"extract_id": extract_id, "extract_location_id": location_id, "extract_status_id": status_id}
        for extract_id, location_id in locations.items()
    ]
    links = run_links(process_tracking_id, list(locations), status_id)
    in_parallel(
        [
            lambda: merge_update(
                store,
                "extract_tracking",
                extracts,
                on=["extract_id"],
                assignments=from_source("extract_status_id"),
            ),
            lambda: upsert(
                store,
                "extract_process_tracking",
                links,
                ["extract_process_status_id", "extract_process_event_date_time"],
            ),
        ]
    )


# --- register_extracts_by_location -----------------------------------------------------------


def _depth(uri: str) -> int:
    return len(path_segments(split_authority(uri)[1]))


def literal_path(path: str) -> str:
    r"""Return ``path`` with Hadoop glob characters escaped, so Spark reads it literally.

    Example:
        >>> literal_path("/data/in[1]/{a,b}")
        '/data/in\\[1\\]/\\{a,b\\}'
    """
    return _GLOB_CHARACTERS.sub(r"\\\1", path)


def list_files(spark: SparkSession, folder: str) -> list[tuple[str, int]]:
    """Return (file name, size in bytes) of the files directly under ``folder`` (one Spark job).

    Spark lists the folder (any Hadoop-compatible URI) without reading file contents; hidden
    files (``.x``, ``_x``) are skipped as Spark does. Files in sub-folders are not included. The
    path is data, not a pattern: ``[``, ``{``, ``*``, ``?`` in it are matched literally.

    Raises:
        NotFound: the folder does not exist.
        InvalidInput: Hadoop cannot parse the path (``/data/:{`` reads as a URI scheme).
    """
    where = folder
    if not scheme_of(folder) and not os.path.isabs(folder):
        where = os.path.abspath(folder)
    try:
        rows = spark.read.format("binaryFile").load(literal_path(where)).select("path", "length").collect()
    except Exception as error:  # AnalysisException; matched by its error class, Connect-safe
        if is_fault(error, Fault.NO_SUCH_PATH):
            raise NotFound(f"location_path: {folder!r} does not exist") from error
        if is_fault(error, Fault.BAD_URI):  # Hadoop cannot parse it, e.g. a segment ':{'
            raise InvalidInput(f"location_path: {folder!r} is not a path Hadoop can parse") from error
        raise
    depth = _depth(where) + 1
    files = [
        (path_segments(row["path"])[-1], int(row["length"])) for row in rows if _depth(row["path"]) == depth
    ]
    return sorted(files)


def _new_extract_rows(
    files: Sequence[tuple[str, int]], found: Mapping[str, Any], location_id: int, status_id: int
) -> list[dict[str, Any]]:
    existing = {row["key"] for row in found["extract"]}
    filetypes = {row["key"]: int(row["id"]) for row in found["filetype"]}
    compressions = {row["key"]: int(row["id"]) for row in found["compression"]}
    registered = datetime.now()
    rows = []
    for name, size in files:
        if name in existing:
            continue
        code, compression = derive_types(name)
        rows.append(
            {
                "extract_filename": name,
                "extract_location_id": location_id,
                "extract_status_id": status_id,
                "extract_registration_date_time": registered,
                "extract_filetype_id": filetypes.get(code or ""),
                "extract_compression_type_id": compressions.get(compression or ""),
                "extract_filesize": size,
            }
        )
    return rows


def register_extracts_by_location(
    process_run: RunContext, location_path: Any, location_name: Any = None
) -> int:
    """Register every file directly under a folder as a ``ready`` extract linked to this run.

    Files already registered at that location are left as they are. The location is created if
    needed and its ``location_file_count`` set to the number of files found.

    Args:
        process_run: The run registering the files (``ProcessTracker.context``).
        location_path: The folder: a local path, ``file:``, ``s3://``, ``abfss://``, ``gs://``,
            ``dbfs:/`` ... (anything Spark can list).
        location_name: Name for a new location; derived from the path when None.

    Returns:
        The number of extracts newly registered.

    Raises:
        InvalidInput: bad path or name. NotFound: the folder does not exist.
    """
    store = process_run.store
    parsed = parse_location_path(location_path, folder=True)
    name = optional_name(location_name, "location_name")
    files = list_files(process_run.store.spark, parsed.path)
    names = [file_name for file_name, _ in files]
    types = [derive_types(file_name) for file_name in names]
    found = probe(
        {
            "status": status_frame(store, [_REGISTERED_STATUS]),
            "filetype": filetype_frame(store, {code for code, _ in types if code}),
            "compression": compression_frame(store, {comp for _, comp in types if comp}),
            "extract": extract_frame(store, names, parsed.path),
            **location_frames(store, parsed, name),
        }
    )
    status_id = require_status(found["status"], _REGISTERED_STATUS)
    location = resolve_location(store, parsed, name, found, file_count=len(files))
    rows = _new_extract_rows(files, found, location.location_id, status_id)
    if rows:
        created = create_missing(store, "extract_tracking", rows)
        ids = [int(extract_id) for extract_id in created.ids.values()]
        all_new = len(created.won) == len(rows)
        links = {"extract_process_tracking": run_links(process_run.process_tracking_id, ids, status_id)}
        links.update(lineage_links(process_run, ids, location.location_id))
        ensure_rows(store, links, new=[table for table in links if all_new and table in KEYED_BY_EXTRACT])
    set_file_count(store, location, len(files))
    log.info("registered %s new extract(s) of %s files at %s", len(rows), len(files), parsed.path)
    return len(rows)


# --- bulk_change_extract_status --------------------------------------------------------------


def _id_of(item: Any) -> int:
    if hasattr(item, "extract_id"):
        item = item.extract_id
    return positive_id(item, "extracts")


def extract_ids_of(extracts: Any) -> list[int]:
    """Return the distinct extract ids of a finder DataFrame, or a list of extracts or ids."""
    if hasattr(extracts, "columns") and hasattr(extracts, "select"):
        if "extract_id" not in extracts.columns:
            raise InvalidInput("extracts: the DataFrame has no extract_id column")
        return sorted(int(row[0]) for row in extracts.select("extract_id").distinct().collect())
    if isinstance(extracts, (str, bytes)) or not isinstance(extracts, (list, tuple, set, frozenset)):
        raise InvalidInput(
            f"extracts: expected a finder DataFrame or a list of extracts/ids (got {extracts!r})"
        )
    return list(dict.fromkeys(_id_of(item) for item in extracts))


def bulk_change_extract_status(process_run: RunContext, extracts: Any, extract_status: Any) -> str:
    """Move a batch of extracts (and their links to this run) to one status, all or nothing.

    The whole batch is validated first. For ``loading``, a parent extract inside the batch does not
    block its child, but a blocking parent (``initializing``, ``ready``, ``loading``) outside it
    fails the whole batch and nothing changes. Then one MERGE per table.

    Args:
        process_run: The run doing the change.
        extracts: A finder DataFrame (with ``extract_id``), a list of ``ExtractTracker``, or ids.
        extract_status: The new status name.

    Returns:
        The status name written (the caller updates any ``ExtractTracker`` it holds).

    Raises:
        InvalidInput: unknown status or bad ``extracts``. NotFound: an extract id does not exist.
        ExtractDependencyError: a parent outside the batch is not loaded yet.
    """
    store = process_run.store
    name = clean_name(extract_status, "extract_status")
    ids = extract_ids_of(extracts)
    known = store.read("extract_tracking").where(F.col("extract_id").isin(ids))
    frames = {
        "status": status_frame(store, [name]),
        "known": probe_frame(known, F.col("extract_id"), F.col("extract_location_id")),
    }
    if name == ExtractStatus.LOADING and ids:
        frames["blocking"] = blocking_parents_frame(store, ids, ids)
    found = probe(frames)
    status_id = require_status(found["status"], name, "extract_status")
    missing = sorted(set(ids) - {int(row["id"]) for row in found["known"]})
    if missing:
        raise NotFound(f"extracts: no extract with id {', '.join(map(str, missing))}")
    if found.get("blocking"):
        parents = ", ".join(f"{r['id']} ({r['info']}, parent of {r['key']})" for r in found["blocking"])
        raise ExtractDependencyError(
            f"Cannot start loading the batch: parent extract(s) {parents} are not loaded yet"
        )
    locations = {int(row["id"]): int(row["key"]) for row in found["known"]}
    write_status(store, process_run.process_tracking_id, locations, status_id)
    log.info("moved %s extract(s) to %s", len(ids), name)
    return name


__all__ = [
    "bulk_change_extract_status",
    "extract_ids_of",
    "lineage_links",
    "list_files",
    "register_extracts_by_location",
    "run_links",
    "write_status",
]
