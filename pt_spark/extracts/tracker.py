"""``ExtractTracker``: one extract file's registration, status, dependencies and audit values.

Registering reads every look-up it needs (status, file type, compression, location, the extract
itself) in ONE Spark job, validates everything, and only then writes: the location and the extract
when new, then the links (run, dataset types, sources) that are missing, one MERGE per table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from pyspark.sql import functions as F

from pt_spark.entities import Entity
from pt_spark.errors import ExtractDependencyError, InvalidInput, NotFound
from pt_spark.extracts.batch import KEYED_BY_EXTRACT, lineage_links, run_links, write_status
from pt_spark.extracts.finders import (
    blocking_parents_frame,
    compression_frame,
    extract_frame,
    filetype_frame,
    require_status,
    status_frame,
)
from pt_spark.extracts.locations import (
    LocationPath,
    derive_types,
    join_path,
    location_frames,
    parse_file_size,
    parse_location_path,
    resolve_location,
    split_file_name,
)
from pt_spark.graphs import closes_cycle
from pt_spark.runs.context import RunContext
from pt_spark.statuses import ExtractStatus
from pt_spark.store.lookup import probe
from pt_spark.store.reads import create_missing, ensure_rows
from pt_spark.store.writes import from_source, insert_missing, merge_update
from pt_spark.validation import choice, clean_name, count, low_high, optional_name, positive_id

if TYPE_CHECKING:
    from pyspark.sql import Row

    from pt_spark.store.store import Store

log = logging.getLogger(__name__)
_AUDIT_TYPES = ("load", "write")
_NEW_STATUS = ExtractStatus.INITIALIZING.value


@dataclass(frozen=True)
class RegistrationRequest:
    """A validated registration request (nothing read or written yet)."""

    filename: str
    location: LocationPath
    location_name: str | None
    status: str | None
    filetype: str | None
    filetype_code: str | None
    compression: str | None
    derived_compression: str | None
    file_size: int | None


def split_location(
    filename: Any, location: Any, location_name: Any, location_path: Any
) -> tuple[str, str, Any]:
    """Return (filename, folder path, location name) from the several ways of giving them."""
    if location is not None and location_path is not None:
        raise InvalidInput("give either location or location_path, not both")
    if location is not None and hasattr(location, "location_path"):
        location_name = (
            location_name if location_name is not None else getattr(location, "location_name", None)
        )
        location = location.location_path
    argument = "location" if location is not None else "location_path"
    path = optional_name(location if location is not None else location_path, argument)
    name = optional_name(filename, "filename")
    if path is None and name is None:
        raise InvalidInput("an extract needs a filename and a location (location or location_path)")
    if path is None:
        path, name = split_file_name(name)  # type: ignore[arg-type]
        if name is None or not path:
            raise InvalidInput(f"filename: {filename!r} has no folder; give location or location_path")
        return name, path, location_name
    folder, file_part = split_file_name(path)
    if name is None or (file_part is not None and file_part == name):
        name = file_part
    elif file_part is not None:
        folder = path
    if name is None:
        raise InvalidInput(f"filename: missing, and location {path!r} does not end in a file name")
    return name, folder, location_name


def _folder_argument(location: Any) -> str:
    """The argument that gave the folder, for messages (``location`` or ``location_path``)."""
    return "location_path" if location is None or hasattr(location, "location_path") else "location"


def registration_request(
    filename: Any, location: Any, location_name: Any, location_path: Any, **options: Any
) -> RegistrationRequest:
    """Validate one extract's registration arguments; nothing is read or written.

    ``options`` holds ``status``, ``filetype``, ``compression_type`` and ``file_size``.

    Raises:
        InvalidInput: a bad name, path or size, naming the argument.
    """
    name, folder, loc_name = split_location(filename, location, location_name, location_path)
    if name.endswith(("/", "\\")):
        raise InvalidInput(f"filename: {name!r} names a folder, not a file")
    code, derived_compression = derive_types(name)
    filetype = optional_name(options["filetype"], "filetype")
    return RegistrationRequest(
        filename=name,
        location=parse_location_path(folder, _folder_argument(location)),
        location_name=optional_name(loc_name, "location_name"),
        status=optional_name(options["status"], "status"),
        filetype=filetype,
        filetype_code=None if filetype is not None else code,
        compression=optional_name(options["compression_type"], "compression_type"),
        derived_compression=derived_compression,
        file_size=parse_file_size(options["file_size"]),
    )


def _lookups(store: Store, request: RegistrationRequest) -> dict[str, Any]:
    """Read every look-up of a registration in one job and validate the named ones."""
    status = request.status or _NEW_STATUS
    codes = [code for code in (request.filetype or request.filetype_code,) if code]
    compression = request.compression or request.derived_compression
    found: dict[str, Any] = probe(
        {
            "status": status_frame(store, [status]),
            "filetype": filetype_frame(store, codes, request.filetype),
            "compression": compression_frame(store, [compression] if compression else []),
            "extract": extract_frame(store, [request.filename], request.location.path),
            **location_frames(store, request.location, request.location_name),
        }
    )
    if request.filetype is not None and not found["filetype"]:
        raise InvalidInput(f"filetype: {request.filetype!r} is not a known extract file type")
    if request.compression is not None and not found["compression"]:
        raise InvalidInput(f"compression_type: {request.compression!r} is not a known compression type")
    found["status_id"] = require_status(found["status"], status)
    return found


def _first_id(rows: Sequence[Row]) -> int | None:
    return int(rows[0]["id"]) if rows else None


class ExtractTracker:
    """An extract file registered by (and linked to) a process run.

    Attributes:
        extract_id: The extract's id in ``extract_tracking``.
        filename: The file name (without folder).
        full_filename: The location path joined with the file name.
        location: The location (``location_name``, ``location_path``, ``location_type``,
            ``location_bucket_name``, ...).
        status: The extract status name as last set through this object.
        process_run: The run this extract is linked to.

    Example:
        >>> extract = ExtractTracker(run, "teams.csv", location_path="s3://raw/teams")  # doctest: +SKIP
        >>> extract.change_extract_status("ready")  # doctest: +SKIP
    """

    def __init__(
        self,
        process_run: Any,
        filename: Any = None,
        location: Any = None,
        location_name: Any = None,
        location_path: Any = None,
        status: Any = None,
        compression_type: Any = None,
        filetype: Any = None,
        extract_id: Any = None,
        file_size: Any = None,
    ) -> None:
        context = getattr(process_run, "context", None)
        if not isinstance(context, RunContext):
            raise InvalidInput(f"process_run: expected a ProcessTracker (got {process_run!r:.80})")
        self.process_run = process_run
        self._run = context
        self._store: Store = context.store
        if extract_id is not None:
            given = (
                filename,
                location,
                location_name,
                location_path,
                status,
                compression_type,
                filetype,
                file_size,
            )
            if any(value is not None for value in given):
                raise InvalidInput(
                    "extract_id re-attaches an existing extract; give no other extract arguments"
                )
            self._attach(positive_id(extract_id, "extract_id"))
        else:
            request = registration_request(
                filename,
                location,
                location_name,
                location_path,
                status=status,
                compression_type=compression_type,
                filetype=filetype,
                file_size=file_size,
            )
            self._register(request)

    @property
    def full_filename(self) -> str:
        """Return the location path joined with the filename (one separator)."""
        return join_path(self.location.location_path, self.filename)

    def __repr__(self) -> str:
        return f"ExtractTracker({self.extract_id}, {self.full_filename!r}, status={self.status!r})"

    # --- registration -----------------------------------------------------------------------

    def _register(self, request: RegistrationRequest) -> None:
        found = _lookups(self._store, request)
        self.filename = request.filename
        self.location = resolve_location(self._store, request.location, request.location_name, found)
        created = not found["extract"] and self._insert(request, found)
        if created:
            self.extract_id: int = created
            self.status: str = request.status or _NEW_STATUS
            status_id = int(found["status_id"])
            log.info("registered extract %s (%s) as %s", self.extract_id, self.full_filename, self.status)
        else:
            at = self.location.location_path
            extract = (
                found["extract"]
                or probe({"extract": extract_frame(self._store, [request.filename], at)})["extract"]
            )
            self.extract_id, self.status = int(extract[0]["id"]), extract[0]["info"]
            status_id = int(extract[0]["status_id"])
            log.debug("extract %s already registered; its status stays %s", self.extract_id, self.status)
        self._link(status_id, lineage=True, created=bool(created))

    def _insert(self, request: RegistrationRequest, found: Mapping[str, Any]) -> int | None:
        """Insert the extract (one commit); return its id, or None when a racing run created it."""
        row = {
            "extract_filename": request.filename,
            "extract_location_id": self.location.location_id,
            "extract_status_id": found["status_id"],
            "extract_registration_date_time": datetime.now(),
            "extract_filetype_id": _first_id(found["filetype"]),
            "extract_compression_type_id": _first_id(found["compression"]),
            "extract_filesize": request.file_size,
        }
        created = create_missing(self._store, "extract_tracking", [row])
        key = (request.filename, self.location.location_id)
        return int(created.ids[key]) if key in created.won else None

    def _link(self, status_id: int, lineage: bool, created: bool = False) -> None:
        """Link the extract to this run (and, when ``lineage``, to the process's datasets/sources).

        A ``created`` extract has no links yet: the ones keyed by its id are inserted without a
        look-up, beside the look-up of the location's links.
        """
        links = {
            "extract_process_tracking": run_links(self._run.process_tracking_id, [self.extract_id], status_id)
        }
        if lineage:
            links.update(lineage_links(self._run, [self.extract_id], self.location.location_id))
        new = [table for table in links if created and table in KEYED_BY_EXTRACT]
        ensure_rows(self._store, links, new=new)

    def _attach(self, extract_id: int) -> None:
        store = self._store
        extract = store.read("extract_tracking").where(F.col("extract_id") == F.lit(extract_id))
        locations = store.read("location_lkup").join(store.read("location_type_lkup"), "location_type_id")
        row = (
            extract.join(locations, F.col("extract_location_id") == F.col("location_id"))
            .join(store.read("extract_status_lkup"), "extract_status_id")
            .collect()
        )
        if not row:
            raise NotFound(f"Extract {extract_id} not found")
        found = row[0].asDict()
        self.extract_id, self.filename = extract_id, found["extract_filename"]
        self.status = found["extract_status_name"]
        columns = ("location_id", "location_name", "location_path", "location_type_id", "location_file_count")
        values = {name: found[name] for name in columns}
        values.update(
            location_type=found["location_type_name"], location_bucket_name=found["location_bucket_name"]
        )
        self.location = Entity("location_lkup", values)
        self._link(int(found["extract_status_id"]), lineage=False)

    # --- state changes ----------------------------------------------------------------------

    def _located(self) -> dict[int, int]:
        """Return ``{extract_id: location_id}`` (the location names the extract's write bucket)."""
        return {self.extract_id: int(self.location.location_id)}

    def change_extract_status(self, new_status: Any = None, status: Any = None) -> None:
        """Set the extract's status, and this run's link status and event time.

        Moving to ``loading`` requires every parent extract to be past ``loading``.

        Args:
            new_status: An ``extract_status_lkup`` name (``ready``, ``loading``, ``loaded``, ...).
            status: Keyword alias of ``new_status``.

        Raises:
            InvalidInput: unknown status ("<s> is not a valid extract status type").
            ExtractDependencyError: a parent extract is ``initializing``, ``ready`` or ``loading``.
        """
        if new_status is not None and status is not None and new_status != status:
            raise InvalidInput("give the new status once (new_status or status)")
        name = clean_name(new_status if new_status is not None else status, "new_status")
        frames = {"status": status_frame(self._store, [name])}
        if name == ExtractStatus.LOADING:
            frames["blocking"] = blocking_parents_frame(self._store, [self.extract_id])
        found = probe(frames)
        status_id = require_status(found["status"], name, "new_status")
        if found.get("blocking"):
            parents = ", ".join(f"{r['id']} ({r['info']})" for r in found["blocking"])
            msg = f"Extract {self.extract_id} cannot start loading: parent extract(s) {parents} not loaded"
            raise ExtractDependencyError(msg)
        write_status(self._store, self._run.process_tracking_id, self._located(), status_id)
        self.status = name

    def add_dependency(self, dependency_type: Any, dependency: Any) -> None:
        """Record that ``dependency`` is this extract's parent or child (idempotent).

        Args:
            dependency_type: ``'parent'`` (``dependency`` is the parent) or ``'child'``.
            dependency: The other ``ExtractTracker``.

        Raises:
            InvalidInput: other dependency type, not an extract, itself, or the link would close a
                cycle (``a -> b -> c`` refuses ``c -> a``); nothing is written then.
        """
        kind = choice(dependency_type, "dependency_type", ("parent", "child"))
        other = getattr(dependency, "extract_id", None)
        if isinstance(other, bool) or not isinstance(other, int):
            raise InvalidInput(f"dependency: expected an ExtractTracker (got {dependency!r})")
        if other == self.extract_id:
            raise InvalidInput(f"dependency: extract {other} cannot depend on itself")
        parent, child = (other, self.extract_id) if kind == "parent" else (self.extract_id, other)
        columns = ("parent_extract_id", "child_extract_id")
        edges = {
            (int(r[0]), int(r[1])) for r in self._store.read("extract_dependency").select(*columns).collect()
        }
        if (parent, child) in edges:
            return
        if (child, parent) in edges:
            raise InvalidInput(f"dependency: extract {child} is already the parent of extract {parent}")
        if closes_cycle(edges, parent, child):
            raise InvalidInput(
                f"dependency: extract {child} is already an ancestor of extract {parent}; "
                "the link would create a dependency cycle"
            )
        insert_missing(self._store, "extract_dependency", [dict(zip(columns, (parent, child), strict=True))])

    def set_extract_low_high_dates(
        self, low_date: Any = None, high_date: Any = None, audit_type: Any = "load"
    ) -> None:
        """Widen the extract's low/high dates for ``load`` or ``write`` (one atomic MERGE).

        The stored low becomes the earlier of old and new, the high the later; None leaves that side.

        Raises:
            InvalidInput: not dates, ``low_date`` after ``high_date``, or another audit type.
        """
        audit = choice(audit_type, "audit_type", _AUDIT_TYPES)
        low, high = low_high(low_date, high_date)
        columns = {
            f"extract_{audit}_low_date_time": (low, "least"),
            f"extract_{audit}_high_date_time": (high, "greatest"),
        }
        given = {column: pair for column, pair in columns.items() if pair[0] is not None}
        if not given:
            return
        row: dict[str, Any] = {
            "extract_id": self.extract_id,
            "extract_location_id": self.location.location_id,
        }
        row.update({column: value for column, (value, _) in given.items()})
        assignments = {column: f"{widen}(t.{column}, s.{column})" for column, (_, widen) in given.items()}
        merge_update(self._store, "extract_tracking", [row], on=["extract_id"], assignments=assignments)

    def set_extract_record_count(self, num_records: Any, audit_type: Any = "load") -> None:
        """Set (replace) the extract's ``load`` or ``write`` record count.

        Raises:
            InvalidInput: not a non-negative whole number, or another audit type.
        """
        audit = choice(audit_type, "audit_type", _AUDIT_TYPES)
        column = f"extract_{audit}_record_count"
        row = {
            "extract_id": self.extract_id,
            "extract_location_id": self.location.location_id,
            column: count(num_records, "num_records"),
        }
        merge_update(
            self._store, "extract_tracking", [row], on=["extract_id"], assignments=from_source(column)
        )


__all__ = ["ExtractTracker", "RegistrationRequest", "registration_request", "split_location"]
