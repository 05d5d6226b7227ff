"""``ProcessTracker``: one run of a process, recorded in the Delta tracking store (docs/SPEC.md §2.1-2.2).

Example:
    >>> run = ProcessTracker(spark=spark, process_name="Lahman Teams Load", process_type="Load",
    ...                      actor_name="etl", tool_name="Spark", sources="Lahman")  # doctest: +SKIP
    >>> run.set_process_run_record_count(10000)  # doctest: +SKIP
    >>> run.change_run_status("completed")  # doctest: +SKIP

Or let the run close itself: completed when the block succeeds, failed (with a ``Process Error``
naming the exception) when it raises:

    >>> with ProcessTracker(spark=spark, process_name="Lahman Teams Load") as run:  # doctest: +SKIP
    ...     run.set_process_run_record_count(10000)
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pyspark.sql import functions as F

from pt_spark.config import TrackerConfig, resolve_config
from pt_spark.entities import Entity
from pt_spark.errors import NotFound, ProcessOnHold, ProcessRunFailed, SessionError
from pt_spark.extracts import batch as extract_batch
from pt_spark.extracts import finders as extract_finders
from pt_spark.extracts import rows as extract_rows
from pt_spark.extracts.tracker import ExtractTracker
from pt_spark.lineage.emitter import for_tracker, read_job_datasets
from pt_spark.runs import changes as run_changes
from pt_spark.runs import finders
from pt_spark.runs.context import Lineage, RunContext
from pt_spark.runs.heartbeat import BackgroundHeartbeat
from pt_spark.runs.registration import ProcessRequest, Side, fingerprint, is_registered, register_process
from pt_spark.runs.start import (
    FAILED,
    ON_HOLD,
    PROCESS_ERROR,
    RUNNING,
    KnownStart,
    StartedRun,
    decide,
    read_start_state,
    recognise,
    start_after,
    start_run,
)
from pt_spark.store.store import store_for
from pt_spark.validation import (
    attributes_dict,
    clean_name,
    name_list,
    objects_dict,
    optional_name,
    positive_id,
    positive_seconds,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


def _session(spark: SparkSession | None) -> SparkSession:
    if spark is not None:
        return spark
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is None:
        raise SessionError("No SparkSession: pass spark=..., or start one (pt_spark.session.local_spark()).")
    return active


def _request(arguments: dict[str, Any]) -> ProcessRequest:
    """Validate the constructor's registration arguments (raises InvalidInput; writes nothing)."""

    def side(prefix: str) -> Side:
        return Side.from_arguments(
            name_list(arguments[f"{prefix}s"], f"{prefix}s"),
            objects_dict(arguments[f"{prefix}_objects"], f"{prefix}_objects"),
            attributes_dict(arguments[f"{prefix}_object_attributes"], f"{prefix}_object_attributes"),
        )

    return ProcessRequest(
        process_name=clean_name(arguments["process_name"], "process_name"),
        process_type=optional_name(arguments["process_type"], "process_type"),
        actor_name=optional_name(arguments["actor_name"], "actor_name"),
        tool_name=optional_name(arguments["tool_name"], "tool_name"),
        schedule_frequency=optional_name(arguments["schedule_frequency"], "schedule_frequency"),
        dataset_types=name_list(arguments["dataset_types"], "dataset_types"),
        sources=side("source"),
        targets=side("target"),
    )


class ProcessTracker:
    """Track one run of a process: status, errors, data dates, record counts and extracts.

    Constructing it registers the process (and the lookups it names) and starts a new run, or,
    with ``process_tracking_id``, re-attaches to an existing run without writing anything.
    See docs/SPEC.md §2.1 for every argument, and the README's "Reliability" section for these:

    * ``heartbeat_seconds``: refresh the run's heartbeat in the background every N seconds
      while it runs (for long jobs with few tracker calls; every tracker write refreshes it too).
    * As a context manager, the run completes when the block succeeds, and records a
      ``Process Error`` (the exception's class and message) and fails when it raises.
    """

    _heartbeat: BackgroundHeartbeat | None = None

    def __init__(
        self,
        spark: SparkSession | None = None,
        process_name: str | None = None,
        process_type: str | None = None,
        actor_name: str | None = None,
        tool_name: str | None = None,
        sources: Any = None,
        targets: Any = None,
        source_objects: Any = None,
        target_objects: Any = None,
        source_object_attributes: Any = None,
        target_object_attributes: Any = None,
        dataset_types: Any = None,
        schedule_frequency: str | None = None,
        process_run_name: str | None = None,
        config_location: str | os.PathLike[str] | None = None,
        process_tracking_id: int | None = None,
        config: TrackerConfig | None = None,
        heartbeat_seconds: float | None = None,
    ) -> None:
        every = (
            None if heartbeat_seconds is None else positive_seconds(heartbeat_seconds, "heartbeat_seconds")
        )
        self.spark = _session(spark)
        self.config = resolve_config(self.spark, config, config_location)
        self._openlineage = for_tracker(self.config)  # OpenLineage events; does nothing when off
        self.store = store_for(self.spark, self.config)
        if process_tracking_id is not None:
            tracking_id = positive_id(process_tracking_id, "process_tracking_id")
            with self.store.explained():
                self._attach(tracking_id)
        else:
            arguments = dict(locals())
            request = _request(arguments)
            run_name = optional_name(process_run_name, "process_run_name")
            with self.store.explained():
                self._start(request, run_name)
        if every is not None and self.status == RUNNING:
            self._heartbeat = BackgroundHeartbeat(self.heartbeat, every, self.process_tracking_id)

    def _start(self, request: ProcessRequest, run_name: str | None) -> None:
        """Start the run (docs/SPEC.md §2.2): one MERGE after this session's last start, else the long way."""
        attempt = None
        known = self.store.known_starts.get(request.process_name)
        if (
            known is not None
            and run_name is None
            and known.fingerprint == fingerprint(request)
            and known.actor_name == request.actor_name
        ):
            attempt, won = start_after(self.store, known)
            if won:
                self._started(request, attempt, known.actor_id)
                return
        self._start_the_long_way(request, run_name, attempt)

    def _start_the_long_way(
        self, request: ProcessRequest, run_name: str | None, attempt: StartedRun | None
    ) -> None:
        """Read the start state, decide, register what changed (nothing, in the steady state), start."""
        window, timeout = self.config.max_concurrent_failures, self.config.stale_run_timeout
        state = read_start_state(self.store, request.process_name, run_name, request.actor_name, window)
        recognised = recognise(state, attempt)
        if recognised is not None:
            self._started(request, recognised, state.actor_id)
            return
        decide(state, request.process_name, window, run_name, timeout)  # refuse before registering
        if is_registered(request, state.process, bool(state.recent)) and (
            request.actor_name is None or state.actor_id is not None
        ):
            assert state.process is not None
            process_id, actor_id = int(state.process["process_id"]), state.actor_id
        else:
            registration = register_process(self.store, request, state.process)
            process_id, actor_id = registration.process_id, registration.actor_id
        started = start_run(
            self.store, process_id, request.process_name, actor_id, run_name, window, state, timeout
        )
        self._started(request, started, actor_id)

    def _started(self, request: ProcessRequest, started: StartedRun, actor_id: int | None) -> None:
        """Take the started run as this tracker's; remember it for the session's next start."""
        row = started.row
        self.store.known_starts[request.process_name] = KnownStart(
            process_id=int(row["process_id"]),
            process_run_id=int(row["process_run_id"]),
            fingerprint=fingerprint(request),
            actor_name=request.actor_name,
            actor_id=actor_id,
        )
        self._set_run({**row, "process_name": request.process_name}, started.status)
        self._openlineage.started(request, started)
        if started.status == ON_HOLD:
            raise ProcessOnHold(
                f"The process {request.process_name} is currently on hold.", request.process_name
            )

    # --- state ------------------------------------------------------------------------------------

    def _set_run(self, row: dict[str, Any], status: str) -> None:
        self._run = dict(row)
        self.process_tracking_id: int = int(row["process_tracking_id"])
        self.process_run_id: int = int(row["process_run_id"])
        self.process_run_name: str | None = row["process_run_name"]
        self.status: str = status
        self._process_id = int(row["process_id"])

    def _attach(self, process_tracking_id: int) -> None:
        rows = (
            self.store.read("process_tracking")
            .where(F.col("process_tracking_id") == F.lit(process_tracking_id))
            .join(self.store.read("process_status_lkup"), "process_status_id")
            .join(self.store.read("process").select("process_id", "process_name"), "process_id")
            .collect()
        )
        if not rows:
            raise NotFound(f"Process run {process_tracking_id} not found.")
        row = rows[0].asDict()
        self._set_run(row, row["process_status_name"])
        self._openlineage.attached(row, lambda: read_job_datasets(self.store, self._process_id, *self._sides))

    def _lookup_entity(self, table: str, id_column: str, row_id: Any) -> Entity | None:
        if row_id is None:
            return None
        rows = self.store.read(table).where(F.col(id_column) == F.lit(row_id)).collect()
        return Entity(table, rows[0].asDict()) if rows else None

    @property
    def process(self) -> Entity:
        """The ``process`` row, read fresh (counts and last-run times change)."""
        rows = self.store.read("process").where(F.col("process_id") == F.lit(self._process_id)).collect()
        return Entity("process", rows[0].asDict())

    @cached_property
    def process_name(self) -> str:
        """The process's name."""
        return str(self.process.process_name)

    @cached_property
    def _process_row(self) -> Entity:
        return self.process

    @cached_property
    def process_type(self) -> Entity | None:
        """The process type (``process_type_lkup`` row)."""
        return self._lookup_entity("process_type_lkup", "process_type_id", self._process_row.process_type_id)

    @cached_property
    def tool(self) -> Entity | None:
        """The tool (``tool_lkup`` row)."""
        return self._lookup_entity("tool_lkup", "tool_id", self._process_row.process_tool_id)

    @cached_property
    def schedule_frequency(self) -> Entity | None:
        """The schedule frequency (``schedule_frequency_lkup`` row)."""
        table, column = "schedule_frequency_lkup", "schedule_frequency_id"
        return self._lookup_entity(table, column, self._process_row.schedule_frequency_id)

    @cached_property
    def actor(self) -> Entity | None:
        """The actor who started the run (``actor_lkup`` row)."""
        return self._lookup_entity("actor_lkup", "actor_id", self._run["process_run_actor_id"])

    @cached_property
    def _links(self) -> dict[str, list[Entity]]:
        return finders.process_links(self.store, self._process_id)

    @property
    def sources(self) -> list[Entity]:
        """The process's sources (``source_lkup`` rows)."""
        return self._links["sources"]

    @property
    def targets(self) -> list[Entity]:
        """The process's targets (``source_lkup`` rows)."""
        return self._links["targets"]

    @property
    def dataset_types(self) -> list[Entity]:
        """The process's dataset types (``dataset_type_lkup`` rows)."""
        return self._links["dataset_types"]

    @property
    def _sides(self) -> tuple[list[Entity], list[Entity], list[Entity]]:
        return self.sources, self.targets, self.dataset_types

    @property
    def source_ids(self) -> list[int]:
        """Ids of the process's sources."""
        return [int(e.source_id) for e in self.sources]

    @property
    def source_object_ids(self) -> list[int]:
        """Ids of the process's source objects."""
        return [int(e.source_object_id) for e in self._links["source_objects"]]

    @property
    def dataset_type_ids(self) -> list[int]:
        """Ids of the process's dataset types."""
        return [int(e.dataset_type_id) for e in self.dataset_types]

    @cached_property
    def context(self) -> RunContext:
        """This run as the extract code sees it: store, ids, and its lineage ids on first use."""
        return RunContext(self.store, self._process_id, self.process_tracking_id, self._lineage)

    def _lineage(self) -> Lineage:
        ids = (self.dataset_type_ids, self.source_ids, self.source_object_ids)
        return Lineage(*(tuple(values) for values in ids))

    # --- run changes ------------------------------------------------------------------------------

    def change_run_status(
        self,
        new_status: str,
        end_date: datetime | str | None = None,
        *,
        low_date: Any = None,
        high_date: Any = None,
        num_records: int | None = None,
        processing_type: str | None = None,
    ) -> None:
        """Set the run's status; ``completed``/``failed`` also set the end time (default now).

        A status name not yet known is created (a custom status). The run's last data dates and
        record count may come with it, as ``set_process_run_low_high_dates`` and
        ``set_process_run_record_count`` would write them, but in the status change's own MERGEs:
        closing a run this way costs no more commits than the status change alone. Every value is
        checked first; a bad one raises ``InvalidInput`` and nothing is written.
        """
        self.status, self._run = run_changes.change_status(
            self.store,
            self._run,
            new_status,
            end_date,
            low_date=low_date,
            high_date=high_date,
            num_records=num_records,
            processing_type=processing_type,
        )
        self._openlineage.widened(low_date, high_date)
        self._openlineage.ended(self.status, self._run)
        if self.status != RUNNING:
            self._stop_heartbeat()

    def raise_run_error(
        self,
        error_type_name: str,
        error_description: str | None = None,
        fail_run: bool = False,
        end_date: datetime | str | None = None,
    ) -> None:
        """Record an error of a known type; with ``fail_run`` also fail the run and raise.

        Raises:
            ProcessRunFailed: when ``fail_run`` is True, after the failure is recorded.
        """
        failed, self._run = run_changes.record_error(
            self.store, self._run, error_type_name, error_description, fail_run, end_date
        )
        if failed is not None:
            self.status = FAILED
            self._stop_heartbeat()
            self._openlineage.ended(FAILED, self._run, str(failed))
            raise failed

    def set_process_run_low_high_dates(self, low_date: Any = None, high_date: Any = None) -> None:
        """Widen the run's data low/high dates (min of lows, max of highs) in one MERGE."""
        self._run = run_changes.widen_dates(self.store, self._run, low_date, high_date)
        self._openlineage.widened(low_date, high_date)

    def set_process_run_record_count(self, num_records: int, processing_type: str | None = None) -> None:
        """Replace the run's record count; the process total grows by the change."""
        self._run = run_changes.set_record_count(self.store, self._run, num_records, processing_type)

    # --- liveness and closing -------------------------------------------------------------------

    def heartbeat(self) -> bool:
        """Record that the run is alive now (one MERGE); False if it is no longer running.

        Every tracker call that writes the run refreshes the heartbeat anyway; call this (or pass
        ``heartbeat_seconds``) in long stretches without tracker calls when a
        ``stale_run_timeout`` is configured.
        """
        return run_changes.heartbeat(self.store, self._run)

    def _stop_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None

    def __enter__(self) -> ProcessTracker:
        return self

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Complete the run after a clean block; fail it with a ``Process Error`` after an exception.

        The exception is never swallowed. A run the block already ended (or that is on hold) is
        left as it is; a failure to record the failure is logged, and the block's own exception
        is what propagates.
        """
        try:
            if self.status != RUNNING:
                return
            if error is None:
                self.change_run_status("completed")
                return
            if isinstance(error, ProcessRunFailed):
                return
            try:
                description = f"{type(error).__name__}: {error}"
                self.raise_run_error(PROCESS_ERROR, description, fail_run=True)
            except ProcessRunFailed:
                pass
            except Exception as recording:  # the block's exception matters more; keep it
                log.error(
                    "process run %s: could not record its failure: %s", self.process_tracking_id, recording
                )
        finally:
            self._stop_heartbeat()

    # --- finders (read-only, DataFrames) ----------------------------------------------------------

    def _own(self, process_id: Any) -> Any:
        """Return ``process_id``, or this run's process when None (the finder validates it)."""
        return self._process_id if process_id is None else process_id

    def find_process_contacts(self, process_id: int | None = None) -> DataFrame:
        """Contacts of a process (default: this one): source contacts first, then process contacts."""
        return finders.find_process_contacts(self.store, self._own(process_id))

    def find_process_source_attributes(self, process_id: int | None = None) -> DataFrame:
        """The source attributes a process reads, by source, object, attribute."""
        return finders.find_process_attributes(self.store, self._own(process_id), "source")

    def find_process_target_attributes(self, process_id: int | None = None) -> DataFrame:
        """The target attributes a process writes, by target, object, attribute."""
        return finders.find_process_attributes(self.store, self._own(process_id), "target")

    def find_process_filters(self, process: int | str | None = None) -> DataFrame:
        """The filters a process applies to its source attributes (``process``: id or name)."""
        return finders.find_process_filters(self.store, self._process_id if process is None else process)

    def find_process_by_schedule_frequency(self, frequency: str = "daily") -> DataFrame:
        """Processes scheduled at ``frequency``."""
        return finders.find_process_by_schedule_frequency(self.store, frequency)

    # --- extracts ---------------------------------------------------------------------------------

    def find_extracts_by_filename(self, filename: str, status: str = "ready") -> DataFrame:
        """Extracts whose filename contains ``filename`` literally, in ``status``, oldest first."""
        return extract_finders.find_extracts_by_filename(self.store, filename, status)

    def find_extracts_by_location(
        self,
        location: str | None = None,
        location_name: str | None = None,
        location_path: str | None = None,
        status: str = "ready",
    ) -> DataFrame:
        """Extracts at a location (``location`` matches a name or a path), in ``status``."""
        return extract_finders.find_extracts_by_location(
            self.store, location, location_name, location_path, status
        )

    def find_extracts_by_process(self, extract_process_name: str, status: str = "ready") -> DataFrame:
        """Extracts linked to any run of the named process, in ``status``, oldest first."""
        return extract_finders.find_extracts_by_process(self.store, extract_process_name, status)

    def register_extracts_by_location(self, location_path: str, location_name: str | None = None) -> int:
        """Register every file directly under ``location_path`` as ``ready``; return how many were new."""
        return extract_batch.register_extracts_by_location(self.context, location_path, location_name)

    def bulk_change_extract_status(self, extracts: Any, extract_status: str) -> None:
        """Move many extracts (finder DataFrame, ExtractTrackers or ids) to a status, one MERGE per table.

        ``ExtractTracker`` objects given in a list, tuple or set show the new ``status`` afterwards.
        """
        status = extract_batch.bulk_change_extract_status(self.context, extracts, extract_status)
        if isinstance(extracts, (list, tuple, set, frozenset)):
            for item in extracts:
                if isinstance(item, ExtractTracker):
                    item.status = status

    def register_extracts(
        self, extracts: Any, location_path: str | None = None, status: str = "ready"
    ) -> list[int]:
        """Register many files with their audit values in one call; return their ids in row order.

        ``extracts`` is a list of dicts or a DataFrame, one row per file, with ``filename``,
        ``location_path`` (default: this call's ``location_path``), and optionally
        ``location_name``, ``status`` (default: this call's ``status``), ``filetype``,
        ``compression_type``, ``file_size``, ``write_low_date``, ``write_high_date``,
        ``write_record_count``, ``load_low_date``, ``load_high_date``, ``load_record_count``.
        The whole batch is validated first (a bad row raises ``InvalidInput`` naming it, and
        nothing is written), then written as one MERGE per table whatever its size. See
        ``pt_spark.extracts.rows.register_extracts``.

        Example:
            >>> ids = run.register_extracts(
            ...     [{"filename": "teams.csv", "write_record_count": 2_000, "write_low_date": "2024-01-01"}],
            ...     location_path="s3://raw/lahman/",
            ... )  # doctest: +SKIP
        """
        return extract_rows.register_extracts(self.context, extracts, location_path, status)

    def set_extract_audits(self, extracts: Any) -> list[int]:
        """Set audit values of many extracts in one MERGE; return their ids in row order.

        Each row (a dict, or a DataFrame row) names an extract by ``extract_id`` or by
        ``filename`` + ``location_path``, and gives any of ``write_low_date``,
        ``write_high_date``, ``write_record_count``, ``load_low_date``, ``load_high_date``,
        ``load_record_count``, ``file_size``. Dates widen (min of lows, max of highs), counts are
        replaced, as in the one-file calls. A bad row raises ``InvalidInput`` (an unknown extract
        ``NotFound``) naming it, and nothing is written. See
        ``pt_spark.extracts.rows.set_extract_audits``.

        Example:
            >>> run.set_extract_audits([{"extract_id": 42, "load_record_count": 1_990}])  # doctest: +SKIP
        """
        return extract_rows.set_extract_audits(self.context, extracts)

    def __repr__(self) -> str:
        return f"ProcessTracker(process_tracking_id={self.process_tracking_id}, status={self.status!r})"


__all__ = ["ProcessTracker"]
