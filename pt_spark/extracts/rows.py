"""Extracts given as rows: register many files with their audit values, or set many audits, at once.

``register_extracts`` and ``set_extract_audits`` take a list of dicts (or ``Row`` objects) or a
DataFrame, one row per extract. Both validate the whole batch first, with the checks of the
one-file calls (``ExtractTracker``, ``set_extract_low_high_dates``, ``set_extract_record_count``),
then read every look-up in ONE Spark job, and only then write: ONE MERGE per table, whatever the
number of rows. A bad row anywhere raises ``InvalidInput`` (or ``NotFound``) naming the row and
the argument, and nothing is written.

Audit values follow the one-file calls: low/high dates widen (the stored low becomes the earlier
of old and new, the high the later; ``least``/``greatest`` inside the MERGE), record counts and
sizes are replaced, each for the ``write`` or the ``load`` audit type.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence, TypeVar

from pyspark.sql import functions as F

from pt_spark.errors import InvalidInput, NotFound
from pt_spark.extracts.batch import KEYED_BY_EXTRACT, lineage_links, run_links
from pt_spark.extracts.finders import (
    compression_frame,
    extract_frame,
    filetype_frame,
    status_frame,
)
from pt_spark.extracts.locations import (
    LocationPath,
    location_frames,
    parse_file_size,
    parse_location_path,
    resolve_location,
)
from pt_spark.extracts.tracker import RegistrationRequest, registration_request, split_location
from pt_spark.statuses import ExtractStatus
from pt_spark.store.lookup import probe
from pt_spark.store.reads import ensure_rows, find_keys
from pt_spark.store.writes import insert_missing, merge_rows, merge_update, with_new_ids
from pt_spark.validation import clean_name, count, low_high, positive_id

if TYPE_CHECKING:
    from pyspark.sql import Row

    from pt_spark.entities import Entity
    from pt_spark.runs.context import RunContext
    from pt_spark.store.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Audit values a row may give, for both calls (``write_*``: when the file was written, ``load_*``:
#: when it was loaded).
AUDIT_FIELDS = (
    "write_low_date",
    "write_high_date",
    "write_record_count",
    "load_low_date",
    "load_high_date",
    "load_record_count",
)
#: Keys of a ``register_extracts`` row.
REGISTER_FIELDS = (
    "filename",
    "location",
    "location_path",
    "location_name",
    "status",
    "filetype",
    "compression_type",
    "file_size",
    *AUDIT_FIELDS,
)
#: Keys of a ``set_extract_audits`` row: ``extract_id``, or ``filename`` with its location.
AUDIT_ROW_FIELDS = ("extract_id", "filename", "location", "location_path", "file_size", *AUDIT_FIELDS)
DEFAULT_STATUS = ExtractStatus.READY.value


# --- rows and their validation -----------------------------------------------------------------


def _label(index: int, row: Mapping[str, Any]) -> str:
    name = row.get("filename")
    return f"rows[{index}] ({name!r})" if isinstance(name, str) else f"rows[{index}]"


def _in_row(label: str, check: Callable[[], T]) -> T:
    """Run ``check``; an ``InvalidInput`` or ``NotFound`` it raises names the row first."""
    try:
        return check()
    except InvalidInput as error:
        raise InvalidInput(f"{label}: {error}") from None
    except NotFound as error:
        raise NotFound(f"{label}: {error}") from None


def rows_of(given: Any, allowed: Sequence[str]) -> list[dict[str, Any]]:
    """Return the rows of a list of dicts (or ``Row``) or a DataFrame; None values mean "not given".

    Raises:
        InvalidInput: another shape, a row that is not a dict, or a key not in ``allowed``.
    """
    if hasattr(given, "columns") and hasattr(given, "collect"):
        items: list[Any] = [row.asDict() for row in given.collect()]
    elif isinstance(given, (list, tuple)):
        items = list(given)
    else:
        raise InvalidInput(f"rows: expected a list of dicts or a DataFrame (got {given!r:.80})")
    rows = []
    for index, item in enumerate(items):
        row = item.asDict() if hasattr(item, "asDict") else item
        if not isinstance(row, Mapping):
            raise InvalidInput(f"rows[{index}]: expected a dict of extract values (got {item!r:.80})")
        unknown = sorted(str(key) for key in row if key not in allowed)
        if unknown:
            raise InvalidInput(
                f"{_label(index, row)}: unknown key(s) {', '.join(unknown)}; expected {', '.join(allowed)}"
            )
        rows.append({key: value for key, value in row.items() if value is not None})
    return rows


def parse_audits(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``extract_tracking`` audit columns a row gives (validated), by column name.

    Raises:
        InvalidInput: a date that is not a date, ``low > high``, a negative or non-integer count.
    """
    values: dict[str, Any] = {}
    for audit in ("write", "load"):
        low, high = low_high(
            row.get(f"{audit}_low_date"),
            row.get(f"{audit}_high_date"),
            f"{audit}_low_date",
            f"{audit}_high_date",
        )
        given = row.get(f"{audit}_record_count")
        values[f"extract_{audit}_low_date_time"] = low
        values[f"extract_{audit}_high_date_time"] = high
        values[f"extract_{audit}_record_count"] = (
            None if given is None else count(given, f"{audit}_record_count")
        )
    return {column: value for column, value in values.items() if value is not None}


def audit_assignments(columns: Sequence[str]) -> dict[str, str]:
    """Return the MERGE assignments of audit columns: widen dates, replace counts and sizes.

    ``least``/``greatest`` skip nulls, and ``coalesce`` keeps the stored value, so a row that does
    not give a value leaves it as it is.
    """
    assignments = {}
    for column in columns:
        if column.endswith("_low_date_time"):
            assignments[column] = f"least(t.`{column}`, s.`{column}`)"
        elif column.endswith("_high_date_time"):
            assignments[column] = f"greatest(t.`{column}`, s.`{column}`)"
        else:
            assignments[column] = f"coalesce(s.`{column}`, t.`{column}`)"
    return assignments


def _audit_columns(rows: Sequence[Mapping[str, Any]], candidates: Sequence[str]) -> list[str]:
    return [column for column in candidates if any(row.get(column) is not None for row in rows)]


_AUDIT_COLUMNS = (
    "extract_write_low_date_time",
    "extract_write_high_date_time",
    "extract_write_record_count",
    "extract_load_low_date_time",
    "extract_load_high_date_time",
    "extract_load_record_count",
    "extract_filesize",
)


# --- register_extracts -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """One validated row of ``register_extracts``."""

    label: str
    request: RegistrationRequest
    audits: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return self.request.filename, self.request.location.path


def _entry(index: int, row: Mapping[str, Any], location_path: Any, status: Any) -> _Entry:
    label = _label(index, row)
    folder = row.get("location_path")
    if folder is None and row.get("location") is None:
        folder = location_path

    def parse() -> _Entry:
        request = registration_request(
            row.get("filename"),
            row.get("location"),
            row.get("location_name"),
            folder,
            status=row.get("status", status),
            filetype=row.get("filetype"),
            compression_type=row.get("compression_type"),
            file_size=row.get("file_size"),
        )
        return _Entry(label, request, parse_audits(row))

    return _in_row(label, parse)


def _entries(rows: Sequence[Mapping[str, Any]], location_path: Any, status: Any) -> list[_Entry]:
    """Validate every row; refuse a file given twice and a location given two different names."""
    entries: list[_Entry] = []
    seen: dict[tuple[str, str], str] = {}
    names: dict[str, tuple[str | None, str]] = {}
    for index, row in enumerate(rows):
        entry = _entry(index, row, location_path, status)
        if entry.key in seen:
            raise InvalidInput(
                f"{entry.label}: filename: {entry.key[0]!r} at {entry.key[1]!r} is already {seen[entry.key]} "
                "of this batch"
            )
        seen[entry.key] = entry.label.split(" ")[0]
        name, first = names.setdefault(entry.key[1], (entry.request.location_name, entry.label))
        given = entry.request.location_name
        if given is not None and name is not None and given != name:
            raise InvalidInput(
                f"{entry.label}: location_name: {given!r} differs from {name!r} given by {first} "
                "for the same location"
            )
        if name is None and given is not None:
            names[entry.key[1]] = (given, entry.label)
        entries.append(entry)
    return entries


@dataclass
class _Batch:
    """What one probe found for a batch: look-up ids, existing extracts, location rows."""

    status_ids: dict[str, int]
    named_filetypes: dict[str, int | None]
    derived_filetypes: dict[str, int]
    compressions: dict[str, int]
    existing: dict[tuple[str, str], Row]
    locations: dict[str, dict[str, list[Any]]]


def _locations(entries: Sequence[_Entry]) -> dict[str, tuple[LocationPath, str | None]]:
    found: dict[str, tuple[LocationPath, str | None]] = {}
    for entry in entries:
        path = entry.request.location.path
        parsed, name = found.get(path, (entry.request.location, None))
        found[path] = (parsed, name if name is not None else entry.request.location_name)
    return found


def _probe(store: Store, entries: Sequence[_Entry], status: str) -> _Batch:
    """Read every look-up of the batch in ONE Spark job."""
    statuses = {entry.request.status or status for entry in entries}
    named = sorted({e.request.filetype for e in entries if e.request.filetype is not None})
    codes = {e.request.filetype_code for e in entries if e.request.filetype_code}
    compressions = {
        c for e in entries for c in (e.request.compression or e.request.derived_compression,) if c
    }
    locations = _locations(entries)
    frames = {
        "status": status_frame(store, statuses),
        "filetype": filetype_frame(store, codes),
        "compression": compression_frame(store, compressions),
    }
    for index, filetype in enumerate(named):
        frames[f"filetype {index}"] = filetype_frame(store, [filetype], filetype)
    for index, (path, (parsed, location_name)) in enumerate(locations.items()):
        files = [e.request.filename for e in entries if e.request.location.path == path]
        frames[f"extract {index}"] = extract_frame(store, files, path)
        for kind, frame in location_frames(store, parsed, location_name).items():
            frames[f"{kind} {index}"] = frame
    found = probe(frames)
    existing = {
        (row["key"], path): row for index, path in enumerate(locations) for row in found[f"extract {index}"]
    }
    return _Batch(
        status_ids={row["key"]: int(row["id"]) for row in found["status"]},
        named_filetypes={
            name: (int(rows[0]["id"]) if rows else None)
            for name, rows in ((n, found[f"filetype {i}"]) for i, n in enumerate(named))
        },
        derived_filetypes={row["key"]: int(row["id"]) for row in found["filetype"]},
        compressions={row["key"]: int(row["id"]) for row in found["compression"]},
        existing=existing,
        locations={
            path: {"location": found[f"location {i}"], "location_type": found[f"location_type {i}"]}
            for i, path in enumerate(locations)
        },
    )


def _check_lookups(entries: Sequence[_Entry], batch: _Batch, status: str) -> None:
    """Refuse an unknown status, file type or compression, naming the first row that gives it."""
    for entry in entries:
        request = entry.request
        wanted = request.status or status
        if wanted not in batch.status_ids:
            raise InvalidInput(f"{entry.label}: status: {wanted} is not a valid extract status type")
        if request.filetype is not None and batch.named_filetypes.get(request.filetype) is None:
            raise InvalidInput(
                f"{entry.label}: filetype: {request.filetype!r} is not a known extract file type"
            )
        if request.compression is not None and request.compression not in batch.compressions:
            raise InvalidInput(
                f"{entry.label}: compression_type: {request.compression!r} is not a known compression type"
            )


def _check_locations(entries: Sequence[_Entry], batch: _Batch) -> None:
    """Refuse, before anything is written, a new location whose given name another path holds."""
    claimed: dict[str, str] = {}
    for path, (parsed, name) in _locations(entries).items():
        probed = batch.locations[path]
        if any(row["key"] == path for row in probed["location"]):
            continue
        label = next(e.label for e in entries if e.request.location.path == path)
        taken = {row["info"] for row in probed["location"]}
        if name is not None and (name in taken or name in claimed):
            raise InvalidInput(f"{label}: location_name: {name!r} already names another location path")
        if not probed["location_type"]:
            raise InvalidInput(
                f"{label}: location type {parsed.location_type!r} is missing from location_type_lkup"
            )
        if name is not None:
            claimed[name] = path


def _resolve_locations(store: Store, entries: Sequence[_Entry], batch: _Batch) -> dict[str, Entity]:
    """Return every location of the batch, creating the new ones (one commit per new location).

    A derived name taken by a location created earlier in this batch is passed on as taken, so two
    new folders with the same last segment get ``name`` and ``name - 1``.
    """
    resolved: dict[str, Entity] = {}
    created: list[dict[str, Any]] = []
    for path, (parsed, name) in _locations(entries).items():
        probed = batch.locations[path]
        seen = {"location": [*probed["location"], *created], "location_type": probed["location_type"]}
        location = resolve_location(store, parsed, name, seen)
        resolved[path] = location
        created.append({"id": location.location_id, "key": path, "info": location.location_name})
    return resolved


def _extract_row(
    entry: _Entry, batch: _Batch, location_id: int, status: str, now: datetime
) -> dict[str, Any]:
    request = entry.request
    filetype = (
        batch.named_filetypes.get(request.filetype)
        if request.filetype is not None
        else batch.derived_filetypes.get(request.filetype_code or "")
    )
    compression = request.compression or request.derived_compression
    return {
        "extract_filename": request.filename,
        "extract_location_id": location_id,
        "extract_status_id": batch.status_ids[request.status or status],
        "extract_registration_date_time": now,
        "extract_filetype_id": filetype,
        "extract_compression_type_id": batch.compressions.get(compression or ""),
        "extract_filesize": request.file_size,
        **entry.audits,
    }


def _write_extracts(store: Store, new: list[dict[str, Any]], updates: list[dict[str, Any]]) -> int:
    """Insert the new extracts and widen/replace the audits of existing ones: ONE MERGE.

    Returns how many new rows this call inserted (a racing registration may win some keys).
    """
    rows = new + updates
    if not rows:
        return 0
    columns = _audit_columns(rows, _AUDIT_COLUMNS[:-1])
    if not columns:
        return insert_missing(store, "extract_tracking", rows).inserted
    on = "t.extract_filename = s.extract_filename AND t.extract_location_id = s.extract_location_id"
    written = merge_rows(
        store,
        "extract_tracking",
        rows,
        on=on,
        update_when="true",
        assignments=audit_assignments(columns),
        insert_when="true",
        prune=("extract_location_id",),
    )
    return written.inserted


def register_extracts(
    process_run: RunContext, extracts: Any, location_path: Any = None, status: Any = DEFAULT_STATUS
) -> list[int]:
    """Register many extracts with their audit values, linked to this run: one MERGE per table.

    Each row (a dict, a ``Row``, or a DataFrame row) may hold: ``filename``, ``location_path``
    (or ``location``), ``location_name``, ``status``, ``filetype``, ``compression_type``,
    ``file_size``, and the audit values ``write_low_date``, ``write_high_date``,
    ``write_record_count``, ``load_low_date``, ``load_high_date``, ``load_record_count``. Missing
    keys and None values are "not given". The one-file rules apply (``ExtractTracker``): a
    ``filename`` with a folder needs no ``location_path``, the file type and compression come
    from the extension unless given, an unknown one is an error.

    A file already registered at its location keeps its id, status, type and size (as with
    ``ExtractTracker``); the audit values given for it are applied (dates widen, counts are
    replaced). Every extract is linked to this run and to the process's dataset types and
    sources. Writes: a new location is one commit each (a batch usually has one folder), then
    one MERGE on ``extract_tracking`` and at most one per link table, whatever the batch size.

    Args:
        process_run: The run registering the files (``ProcessTracker.context``).
        extracts: A list of dicts (or ``Row``) or a DataFrame, one row per file.
        location_path: The folder of rows that give no ``location_path`` or ``location``.
        status: The status of new extracts whose row gives none (default ``ready``: the files
            exist; the one-file ``ExtractTracker`` defaults to ``initializing``).

    Returns:
        The extract ids, in the order of the rows.

    Raises:
        InvalidInput: a bad row anywhere (bad date or count, ``low > high``, unknown status, file
            type or compression, a file given twice, an unknown key); the message names the row
            (``rows[3] ('a.csv'): write_record_count: ...``) and nothing is written.

    Example:
        >>> run.register_extracts(
        ...     [{"filename": "a.csv", "write_record_count": 10, "write_low_date": "2024-01-01"}],
        ...     location_path="s3://raw/lahman/",
        ... )  # doctest: +SKIP
        [1234]
    """
    store = process_run.store
    default = clean_name(status, "status")
    entries = _entries(rows_of(extracts, REGISTER_FIELDS), location_path, default)
    if not entries:
        return []
    batch = _probe(store, entries, default)
    _check_lookups(entries, batch, default)
    _check_locations(entries, batch)
    locations = _resolve_locations(store, entries, batch)
    now = datetime.now()
    new, updates, ids, statuses = [], [], {}, {}
    for entry in entries:
        location_id = int(locations[entry.key[1]].location_id)
        row = _extract_row(entry, batch, location_id, default, now)
        known = batch.existing.get(entry.key)
        if known is None:
            new.extend(with_new_ids("extract_tracking", [row]))
            ids[entry.key] = new[-1]["extract_id"]
            statuses[entry.key] = row["extract_status_id"]
        else:
            ids[entry.key], statuses[entry.key] = int(known["id"]), int(known["status_id"])
            if entry.audits:
                updates.append({**row, "extract_id": ids[entry.key]})
    inserted = _write_extracts(store, new, updates)
    all_new = inserted == len(new) == len(entries)
    if inserted != len(new):  # a racing registration created some first: take its ids
        keys = [(row["extract_filename"], row["extract_location_id"]) for row in new]
        found = find_keys(store, {"extract_tracking": keys})["extract_tracking"]
        for entry in entries:
            key = (entry.request.filename, int(locations[entry.key[1]].location_id))
            if key in found:
                ids[entry.key] = int(found[key])
    _link(process_run, entries, locations, ids, statuses, all_new)
    log.info("registered %s extract(s), %s new, in one batch", len(entries), inserted)
    return [int(ids[entry.key]) for entry in entries]


def _link(
    process_run: RunContext,
    entries: Sequence[_Entry],
    locations: Mapping[str, Entity],
    ids: Mapping[tuple[str, str], int],
    statuses: Mapping[tuple[str, str], int],
    all_new: bool,
) -> None:
    """Link every extract to the run (in its status) and to the process's lineage: ONE MERGE per table."""
    by_status: dict[int, list[int]] = {}
    by_location: dict[int, list[int]] = {}
    for entry in entries:
        by_status.setdefault(statuses[entry.key], []).append(ids[entry.key])
        by_location.setdefault(int(locations[entry.key[1]].location_id), []).append(ids[entry.key])
    links: dict[str, list[dict[str, Any]]] = {
        "extract_process_tracking": [
            link
            for status_id, extract_ids in by_status.items()
            for link in run_links(process_run.process_tracking_id, extract_ids, status_id)
        ]
    }
    for location_id, extract_ids in by_location.items():
        for table, rows in lineage_links(process_run, extract_ids, location_id).items():
            links.setdefault(table, []).extend(rows)
    new = [table for table in links if all_new and table in KEYED_BY_EXTRACT]
    ensure_rows(process_run.store, links, new=new)


# --- set_extract_audits ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """One validated row of ``set_extract_audits``: which extract, and what to set."""

    label: str
    extract_id: int | None
    name: tuple[str, str] | None
    audits: dict[str, Any]


def _target(index: int, row: Mapping[str, Any]) -> _Target:
    label = _label(index, row)

    def parse() -> _Target:
        named = any(key in row for key in ("filename", "location", "location_path"))
        if "extract_id" in row and named:
            raise InvalidInput("give extract_id, or filename and location_path, not both")
        audits = parse_audits(row)
        if "file_size" in row:
            audits["extract_filesize"] = parse_file_size(row["file_size"])
        if "extract_id" in row:
            return _Target(label, positive_id(row["extract_id"], "extract_id"), None, audits)
        if not named:
            raise InvalidInput("extract_id: missing; give extract_id, or filename and location_path")
        filename, folder, _ = split_location(
            row.get("filename"), row.get("location"), None, row.get("location_path")
        )
        argument = "location" if row.get("location") is not None else "location_path"
        return _Target(label, None, (filename, parse_location_path(folder, argument).path), audits)

    return _in_row(label, parse)


def _known_frames(store: Store, targets: Sequence[_Target]) -> dict[str, Any]:
    extracts = store.read("extract_tracking")
    ids = sorted({t.extract_id for t in targets if t.extract_id is not None})
    names = [t.name for t in targets if t.name is not None]
    frames = {
        "by id": extracts.where(F.col("extract_id").isin(ids)).select(
            F.col("extract_id").cast("long").alias("id"),
            F.lit(None).cast("string").alias("key"),
            F.lit(None).cast("string").alias("info"),
            F.col("extract_location_id").cast("long").alias("location_id"),
        )
    }
    if names:
        locations = store.read("location_lkup").where(
            F.col("location_path").isin(sorted({path for _, path in names}))
        )
        frames["by name"] = (
            extracts.where(F.col("extract_filename").isin(sorted({name for name, _ in names})))
            .join(locations, F.col("extract_location_id") == F.col("location_id"))
            .select(
                F.col("extract_id").cast("long").alias("id"),
                F.col("extract_filename").alias("key"),
                F.col("location_path").alias("info"),
                F.col("location_id").cast("long").alias("location_id"),
            )
        )
    return frames


def set_extract_audits(process_run: RunContext, extracts: Any) -> list[int]:
    """Set the audit values of many extracts at once: ONE MERGE on ``extract_tracking``.

    Each row names its extract by ``extract_id``, or by ``filename`` with ``location_path`` (or
    ``location``, or a ``filename`` holding its folder), and gives any of ``write_low_date``,
    ``write_high_date``, ``write_record_count``, ``load_low_date``, ``load_high_date``,
    ``load_record_count`` and ``file_size``. As in ``set_extract_low_high_dates``, dates widen
    (the stored low becomes the earlier of old and new, the high the later); as in
    ``set_extract_record_count``, counts (and the size) are replaced. A value not given is left
    as it is. Statuses are changed by ``bulk_change_extract_status``.

    Args:
        process_run: The run doing the change (``ProcessTracker.context``).
        extracts: A list of dicts (or ``Row``) or a DataFrame, one row per extract.

    Returns:
        The extract ids, in the order of the rows.

    Raises:
        InvalidInput: a bad row anywhere (bad date or count, ``low > high``, an extract given
            twice, an unknown key); the message names the row, and nothing is written.
        NotFound: a row names an extract that does not exist (nothing is written either).

    Example:
        >>> run.set_extract_audits([{"extract_id": 42, "load_record_count": 9_990}])  # doctest: +SKIP
    """
    store = process_run.store
    targets = [_target(index, row) for index, row in enumerate(rows_of(extracts, AUDIT_ROW_FIELDS))]
    if not targets:
        return []
    found = probe(_known_frames(store, targets))
    by_id = {int(row["id"]): int(row["location_id"]) for row in found["by id"]}
    by_name = {
        (row["key"], row["info"]): (int(row["id"]), int(row["location_id"]))
        for row in found.get("by name", [])
    }
    rows: list[dict[str, Any]] = []
    ids: list[int] = []
    seen: dict[int, str] = {}
    for target in targets:
        extract_id, location_id = _identify(target, by_id, by_name)
        if extract_id in seen:
            raise InvalidInput(
                f"{target.label}: extract {extract_id} is already {seen[extract_id]} of this batch"
            )
        seen[extract_id] = target.label.split(" ")[0]
        ids.append(extract_id)
        if target.audits:
            rows.append({"extract_id": extract_id, "extract_location_id": location_id, **target.audits})
    columns = _audit_columns(rows, _AUDIT_COLUMNS)
    if rows and columns:
        merge_update(
            store, "extract_tracking", rows, on=["extract_id"], assignments=audit_assignments(columns)
        )
    log.info("set audit values of %s extract(s) in one batch", len(rows))
    return ids


def _identify(
    target: _Target, by_id: Mapping[int, int], by_name: Mapping[tuple[str, str], tuple[int, int]]
) -> tuple[int, int]:
    """Return (extract id, location id) of a row's extract, or raise ``NotFound`` naming the row."""
    if target.extract_id is not None:
        if target.extract_id not in by_id:
            raise NotFound(f"{target.label}: extract_id: no extract with id {target.extract_id}")
        return target.extract_id, by_id[target.extract_id]
    assert target.name is not None
    if target.name not in by_name:
        raise NotFound(f"{target.label}: no extract {target.name[0]!r} at {target.name[1]!r}")
    return by_name[target.name]


__all__ = [
    "AUDIT_FIELDS",
    "AUDIT_ROW_FIELDS",
    "REGISTER_FIELDS",
    "audit_assignments",
    "parse_audits",
    "register_extracts",
    "rows_of",
    "set_extract_audits",
]
