"""Sending a tracker's OpenLineage events through the ``openlineage-python`` client (opt-in).

``for_tracker(config)`` returns ``NO_LINEAGE`` when ``lineage_transport`` is unset: its hooks do
nothing, import nothing and read nothing. Otherwise it returns a ``RunLineage`` for the tracker,
which turns the tracker's run changes into events (``events.build_event``) and sends them:

* ``started``: START for a new ``running`` run (and ABORT for a stale run it took over);
* ``ended``: COMPLETE or FAIL, once per tracker, when the tracker ends the run;
* ``attached``: a re-attached tracker sends no START; its terminal event is the run's own.

Sending never fails the tracked job: a client that cannot be made, a transport that cannot
write or reach its target, any exception of the client, is one ``pt_spark`` WARNING line.
One client is made per distinct transport setting and process, on the first event.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pt_spark.errors import ConfigError
from pt_spark.lineage.events import (
    TERMINAL,
    JobFacts,
    Parent,
    RunFacts,
    build_event,
    datasets,
    default_namespace,
    parse_parent,
    parse_transport,
)
from pt_spark.validation import low_high

if TYPE_CHECKING:
    from pt_spark.config import TrackerConfig
    from pt_spark.runs.registration import ProcessRequest, Side
    from pt_spark.runs.start import StartedRun
    from pt_spark.store.store import Store

log = logging.getLogger(__name__)
_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()
_LOW, _HIGH = "process_run_low_date_time", "process_run_high_date_time"
_Hook = TypeVar("_Hook", bound=Callable[..., None])


def _client(transport: dict[str, Any]) -> Any:
    """Return this process's client for ``transport``, made on first use (a failure is not kept)."""
    key = json.dumps(transport, sort_keys=True)
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            from openlineage.client import OpenLineageClient
            from openlineage.client.transport import get_default_factory

            made = get_default_factory().create(copy.deepcopy(transport))  # the factory pops keys
            _CLIENTS[key] = OpenLineageClient(transport=made)
        return _CLIENTS[key]


def _client_event(event: dict[str, Any]) -> Any:
    """Return ``event`` (a dict from ``build_event``) as the client's ``RunEvent``."""
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import tags_job

    job_facets: dict[str, Any] = dict(event["job"]["facets"])
    if "tags" in job_facets:  # a real facet: the client merges tags configured for it into this one
        fields = [tags_job.TagsJobFacetFields(**tag) for tag in job_facets["tags"]["tags"]]
        job_facets["tags"] = tags_job.TagsJobFacet(tags=fields, producer=job_facets["tags"]["_producer"])
    return RunEvent(
        eventType=RunState(event["eventType"]),
        eventTime=event["eventTime"],
        producer=event["producer"],
        run=Run(runId=event["run"]["runId"], facets=event["run"]["facets"]),
        job=Job(namespace=event["job"]["namespace"], name=event["job"]["name"], facets=job_facets),
        inputs=[InputDataset(d["namespace"], d["name"], facets=d["facets"]) for d in event["inputs"]],
        outputs=[
            OutputDataset(
                d["namespace"], d["name"], facets=d["facets"], outputFacets=d.get("outputFacets", {})
            )
            for d in event["outputs"]
        ],
    )


def send(transport: dict[str, Any], event: dict[str, Any]) -> bool:
    """Send one event; return False (after a WARNING) when it could not be sent."""
    try:
        _client(transport).emit(_client_event(event))
        return True
    except Exception as error:  # any: lineage must never fail the tracked job
        first_line = (str(error).splitlines() or [""])[0][:300]
        facet = event["run"]["facets"].get("pt_spark_run", {})
        log.warning(
            "OpenLineage %s event of process run %s not sent (%s: %s)",
            event["eventType"],
            facet.get("processTrackingId"),
            type(error).__name__,
            first_line,
        )
        return False


def _side_map(side: Side) -> dict[str, list[str]]:
    return {name: list(side.objects.get(name, [])) for name in side.names}


def read_job_datasets(
    store: Store, process_id: int, sources: list[Any], targets: list[Any], dataset_types: list[Any]
) -> JobFacts:
    """Return the dataset types and datasets of a process from its links (a re-attached tracker).

    ``sources``, ``targets`` and ``dataset_types`` are the tracker's entities (read once per
    tracker); the objects are read here, from ``process_source_object`` and
    ``process_target_object``, in one query.
    """
    from pyspark.sql import functions as F

    def linked(table: str, column: str, side: str) -> Any:
        found = store.read(table).where(F.col("process_id") == F.lit(process_id))
        return found.select(F.lit(side).alias("side"), F.col(column).alias("source_object_id"))

    links = linked("process_source_object", "source_object_id", "source").unionByName(
        linked("process_target_object", "target_object_id", "target")
    )
    rows = links.join(store.read("source_object_lkup"), "source_object_id").collect()
    sides: dict[str, dict[str, list[str]]] = {"source": {}, "target": {}}
    for kind, entities in (("source", sources), ("target", targets)):
        names = {int(entity.source_id): str(entity.source_name) for entity in entities}
        sides[kind] = {name: [] for name in names.values()}
        for row in sorted(rows, key=lambda r: str(r["source_object_name"])):
            if row["side"] == kind and int(row["source_id"]) in names:
                sides[kind][names[int(row["source_id"])]].append(str(row["source_object_name"]))
    types = tuple(str(entity.dataset_type) for entity in dataset_types)
    return JobFacts("", "", types, datasets(sides["source"]), datasets(sides["target"]))


def _never_raises(hook: _Hook) -> _Hook:
    """Wrap a lineage hook so that any error in it is a WARNING, never the tracked job's error."""

    @functools.wraps(hook)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            hook(*args, **kwargs)
        except Exception as error:  # any: lineage must never fail the tracked job
            log.warning("OpenLineage: %s failed (%s: %s)", hook.__name__, type(error).__name__, error)

    return cast("_Hook", guarded)


class NoLineage:
    """The hooks of a tracker whose lineage is off: each does nothing."""

    def started(self, request: ProcessRequest, started: StartedRun) -> None:
        """Report a new run (and the stale run it took over)."""

    def attached(self, row: dict[str, Any], job: Callable[[], JobFacts]) -> None:
        """Take a re-attached run as this tracker's (no event)."""

    def widened(self, low_date: Any, high_date: Any) -> None:
        """Note the run's data dates, widened by ``low_date`` and ``high_date`` (already written)."""

    def ended(self, status: str, run: dict[str, Any], error: str | None = None) -> None:
        """Report the run's new status when it ends the run (COMPLETE or FAIL)."""


NO_LINEAGE = NoLineage()


class RunLineage(NoLineage):
    """The OpenLineage events of one tracker's run (see the module docstring)."""

    def __init__(self, namespace: str, transport: dict[str, Any], parent: Parent | None) -> None:
        self.namespace, self.transport, self.parent = namespace, transport, parent
        self._job: JobFacts | Callable[[], JobFacts] | None = None
        self._name = ""
        self._dates: tuple[datetime | None, datetime | None] = (None, None)
        self._ended = True  # until a running run is this tracker's

    def _send(self, event_type: str, run: RunFacts, when: datetime, error: str | None = None) -> None:
        if callable(self._job):
            try:
                found = self._job()
            except Exception as failure:  # a failed read loses the datasets, not the event
                log.warning("OpenLineage: could not read the datasets of the process (%s)", failure)
                found = JobFacts("", "")
            self._job = JobFacts(self.namespace, self._name, found.dataset_types, found.inputs, found.outputs)
        job = self._job or JobFacts(self.namespace, self._name)
        send(self.transport, build_event(event_type, job, run, when, self.parent, error))

    @_never_raises
    def started(self, request: ProcessRequest, started: StartedRun) -> None:
        """Send ABORT for the run this start took over as stale, then START for a running new run."""
        row, abandoned = started.row, started.abandoned
        self._name = request.process_name
        self._job = JobFacts(
            self.namespace,
            request.process_name,
            tuple(request.dataset_types),
            datasets(_side_map(request.sources)),
            datasets(_side_map(request.targets)),
        )
        when = row["process_run_start_date_time"]
        if abandoned is not None:
            seen = abandoned.get("last_seen")
            error = (
                f"abandoned: no heartbeat since {seen:%Y-%m-%d %H:%M:%S}; run {row['process_run_id']} "
                f"(process_tracking_id {row['process_tracking_id']}) took over"
                if seen is not None
                else None
            )
            old = RunFacts(
                int(abandoned["process_tracking_id"]), int(abandoned["process_run_id"]), "abandoned", end=when
            )
            aborted = JobFacts(self.namespace, request.process_name)
            send(self.transport, build_event(TERMINAL["abandoned"], aborted, old, when, self.parent, error))
        if started.status == "running":  # a start that put the process on hold sends nothing
            self._ended = False
            self._send("START", self._facts(row, "running"), when)

    @_never_raises
    def attached(self, row: dict[str, Any], job: Callable[[], JobFacts]) -> None:
        """Take a re-attached run as this tracker's: no event, its datasets read when it ends."""
        self._name = str(row["process_name"])
        self._job = job
        self._dates = (row.get(_LOW), row.get(_HIGH))
        self._ended = row.get("process_status_name") in TERMINAL

    @_never_raises
    def widened(self, low_date: Any, high_date: Any) -> None:
        """Note the run's data dates, widened by ``low_date`` and ``high_date`` as the MERGE did."""
        low, high = low_high(low_date, high_date)
        old_low, old_high = self._dates
        self._dates = (_extreme(min, old_low, low), _extreme(max, old_high, high))

    @_never_raises
    def ended(self, status: str, run: dict[str, Any], error: str | None = None) -> None:
        """Send COMPLETE or FAIL the first time this tracker ends the run; other statuses send nothing."""
        if self._ended or status not in ("completed", "failed"):
            return
        self._ended = True
        end = run.get("process_run_end_date_time") or datetime.now()
        self._send(TERMINAL[status], self._facts(run, status), end, error)

    def _facts(self, run: dict[str, Any], status: str) -> RunFacts:
        count = run.get("process_run_record_count")
        return RunFacts(
            process_tracking_id=int(run["process_tracking_id"]),
            process_run_id=int(run["process_run_id"]),
            status=status,
            start=run.get("process_run_start_date_time"),
            end=run.get("process_run_end_date_time"),
            low=self._dates[0],
            high=self._dates[1],
            record_count=None if count is None else int(count),
            run_name=run.get("process_run_name"),
        )


def _extreme(pick: Callable[..., Any], old: datetime | None, new: datetime | None) -> datetime | None:
    """Return ``pick(old, new)``, None-aware; a naive and an aware time compare as UTC instants."""
    if old is None or new is None:
        return new if old is None else old
    if (old.tzinfo is None) != (new.tzinfo is None):
        return new  # mixed kinds across calls: keep the newer value rather than guess
    return pick(old, new)


def for_tracker(config: TrackerConfig) -> NoLineage:
    """Return the lineage hooks of a tracker with ``config``: ``NO_LINEAGE`` when lineage is off.

    Raises:
        ConfigError: ``lineage_transport`` is set but ``openlineage-python`` is not installed.
    """
    if config.lineage_transport is None:
        return NO_LINEAGE
    try:
        import openlineage.client  # noqa: F401
    except ImportError as error:
        raise ConfigError(
            "lineage_transport",
            "is set, but the openlineage-python package is not installed: pip install 'pt-spark[lineage]'",
        ) from error
    namespace = config.lineage_namespace or default_namespace(config.catalog, config.schema, config.location)
    parent = None if config.lineage_parent is None else parse_parent(config.lineage_parent)
    return RunLineage(namespace, parse_transport(config.lineage_transport), parent)


__all__ = ["NO_LINEAGE", "NoLineage", "RunLineage", "for_tracker", "read_job_datasets", "send"]
