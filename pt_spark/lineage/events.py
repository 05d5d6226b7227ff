"""OpenLineage run events of pt_spark runs, built as plain JSON-ready dicts (no client, no Spark).

A run is one OpenLineage run of the job ``<namespace>/<process name>``. Its ``runId`` is a UUID
made from the namespace and the run's ``process_tracking_id`` (``run_id``), so every tracker,
the one that started the run, one re-attached to it, or the start that took it over as stale,
names the same run without reading anything. The events follow the OpenLineage 2-0-2 spec; the
facets used are the spec's ``parent``, ``errorMessage``, ``nominalTime`` (run), ``jobType``,
``tags`` (job) and ``outputStatistics`` (output dataset), and pt_spark's own run facet
``pt_spark_run`` (the run's ids, status and data low/high dates; its JSON schema is
``PtSparkRunFacet.json`` beside this module).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pt_spark._version import __version__

PRODUCER = f"urn:pt_spark:{__version__}"
SPEC = "https://openlineage.io/spec"
RUN_EVENT_SCHEMA = f"{SPEC}/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET_SCHEMAS = {
    "parent": f"{SPEC}/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet",
    "errorMessage": f"{SPEC}/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
    "nominalTime": f"{SPEC}/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet",
    "jobType": f"{SPEC}/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
    "tags": f"{SPEC}/facets/1-0-0/TagsJobFacet.json#/$defs/TagsJobFacet",
    "outputStatistics": (
        f"{SPEC}/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet"
    ),
}
#: pt_spark's run facet: its schema's ``$id`` (the file ships in the package) and its key.
RUN_FACET = "pt_spark_run"
RUN_FACET_SCHEMA = "urn:pt_spark:openlineage:facets:1-0-0:PtSparkRunFacet.json#/$defs/PtSparkRunFacet"
INTEGRATION = "pt_spark"
#: The pt_spark status that ends a run, and the OpenLineage event that reports it.
TERMINAL = {"completed": "COMPLETE", "failed": "FAIL", "abandoned": "ABORT"}
_RUN_ID_SPACE = uuid.UUID("5b1d3c8e-2f0a-5e7b-9c41-7a2d6e8f0b13")

Dataset = tuple[str, str]
"""An OpenLineage dataset as ``(namespace, name)``: a source (or target) and one of its objects."""


@dataclass(frozen=True)
class Parent:
    """The parent run of a run (the ``parent`` facet): a job and one of its runs."""

    namespace: str
    name: str
    run_id: str


@dataclass(frozen=True)
class JobFacts:
    """What an event says of the job: the process, its dataset types, what it reads and writes."""

    namespace: str
    name: str
    dataset_types: tuple[str, ...] = ()
    inputs: tuple[Dataset, ...] = ()
    outputs: tuple[Dataset, ...] = ()


@dataclass(frozen=True)
class RunFacts:
    """What an event says of the run, as the tracker knows it (nothing is read for it).

    Attributes:
        process_tracking_id: The run's id in the store.
        process_run_id: The run's number within its process.
        status: The pt_spark status the run has (or is given) with this event.
        start: When the run started (the ``nominalTime`` start).
        end: When the run ended (terminal events).
        low: The run's data low date.
        high: The run's data high date.
        record_count: The run's record count (``outputStatistics`` on terminal events).
        run_name: The run's ``process_run_name``.
    """

    process_tracking_id: int
    process_run_id: int
    status: str
    start: datetime | None = None
    end: datetime | None = None
    low: datetime | None = None
    high: datetime | None = None
    record_count: int | None = None
    run_name: str | None = None


def run_id(namespace: str, process_tracking_id: int) -> str:
    """Return the OpenLineage ``runId`` of a run: a UUID (version 5) of the namespace and run id.

    Example:
        >>> run_id("main.ops", 42) == run_id("main.ops", 42) != run_id("main.ops", 43)
        True
    """
    return str(uuid.uuid5(_RUN_ID_SPACE, f"{namespace}\x00{process_tracking_id}"))


def default_namespace(catalog: str | None, schema: str, location: str | None) -> str:
    """Return the job namespace of a store: ``catalog.schema``, else its location, else its schema.

    Example:
        >>> default_namespace("main", "ops", None), default_namespace(None, "ops", "/data/pt")
        ('main.ops', '/data/pt')
    """
    if catalog:
        return f"{catalog}.{schema}"
    return location or schema


def datasets(sides: Mapping[str, Sequence[str]]) -> tuple[Dataset, ...]:
    """Return a side's datasets: each object of a source under the source's namespace.

    A source (or target) named without objects is one dataset named after itself.

    Example:
        >>> datasets({"Lahman": ["teams", "people"], "Warehouse": []})
        (('Lahman', 'teams'), ('Lahman', 'people'), ('Warehouse', 'Warehouse'))
    """
    found: list[Dataset] = []
    for source, objects in sides.items():
        found.extend((source, name) for name in objects or [source])
    return tuple(dict.fromkeys(found))


def utc_text(moment: datetime) -> str:
    """Return ``moment`` as ISO-8601 in UTC; a naive time is taken as local time, as Spark does."""
    if moment.tzinfo is None:
        try:
            moment = moment.astimezone(timezone.utc)
        except (OverflowError, OSError, ValueError):  # outside the platform's local-time range
            moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _facet(schema_url: str, **fields: Any) -> dict[str, Any]:
    kept = {key: value for key, value in fields.items() if value is not None}
    return {"_producer": PRODUCER, "_schemaURL": schema_url, **kept}


def _run_facets(
    event_type: str, run: RunFacts, parent: Parent | None, error: str | None
) -> dict[str, dict[str, Any]]:
    facets: dict[str, dict[str, Any]] = {}
    if parent is not None:
        parent_job = {"namespace": parent.namespace, "name": parent.name}
        facets["parent"] = _facet(FACET_SCHEMAS["parent"], run={"runId": parent.run_id}, job=parent_job)
    if error is not None:
        facets["errorMessage"] = _facet(
            FACET_SCHEMAS["errorMessage"], message=error, programmingLanguage="python"
        )
    if run.start is not None:
        end = utc_text(run.end) if run.end is not None and event_type != "START" else None
        facets["nominalTime"] = _facet(
            FACET_SCHEMAS["nominalTime"], nominalStartTime=utc_text(run.start), nominalEndTime=end
        )
    facets[RUN_FACET] = _facet(
        RUN_FACET_SCHEMA,
        processTrackingId=run.process_tracking_id,
        processRunId=run.process_run_id,
        processRunName=run.run_name,
        status=run.status,
        lowDateTime=None if run.low is None else utc_text(run.low),
        highDateTime=None if run.high is None else utc_text(run.high),
        recordCount=None if event_type == "START" else run.record_count,
    )
    return facets


def _job_facets(job: JobFacts) -> dict[str, dict[str, Any]]:
    facets = {"jobType": _facet(FACET_SCHEMAS["jobType"], processingType="BATCH", integration=INTEGRATION)}
    if job.dataset_types:
        tags = [{"key": "dataset_type", "value": name, "source": INTEGRATION} for name in job.dataset_types]
        facets["tags"] = _facet(FACET_SCHEMAS["tags"], tags=tags)
    return facets


def _outputs(event_type: str, job: JobFacts, record_count: int | None) -> list[dict[str, Any]]:
    """Return the output datasets; a terminal event's only output carries the run's record count."""
    counted = event_type != "START" and record_count is not None and len(job.outputs) == 1
    outputs: list[dict[str, Any]] = []
    for namespace, name in job.outputs:
        output: dict[str, Any] = {"namespace": namespace, "name": name, "facets": {}}
        if counted:
            statistics = _facet(FACET_SCHEMAS["outputStatistics"], rowCount=record_count)
            output["outputFacets"] = {"outputStatistics": statistics}
        outputs.append(output)
    return outputs


def build_event(
    event_type: str,
    job: JobFacts,
    run: RunFacts,
    event_time: datetime,
    parent: Parent | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """Return one OpenLineage ``RunEvent`` as a JSON-ready dict.

    Args:
        event_type: ``START``, ``COMPLETE``, ``FAIL`` or ``ABORT``.
        job: The job (process) and its datasets; an ``ABORT`` names no datasets.
        run: The run as the tracker knows it.
        event_time: When the transition happened.
        parent: The parent run (the ``parent`` facet), if any.
        error: The error that ended the run (the ``errorMessage`` facet), if any.
    """
    with_datasets = event_type != "ABORT"
    inputs = [{"namespace": namespace, "name": name, "facets": {}} for namespace, name in job.inputs]
    return {
        "eventType": event_type,
        "eventTime": utc_text(event_time),
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA,
        "run": {
            "runId": run_id(job.namespace, run.process_tracking_id),
            "facets": _run_facets(event_type, run, parent, error),
        },
        "job": {"namespace": job.namespace, "name": job.name, "facets": _job_facets(job)},
        "inputs": inputs if with_datasets else [],
        "outputs": _outputs(event_type, job, run.record_count) if with_datasets else [],
    }


# --- settings ------------------------------------------------------------------------------------


def parse_transport(value: str) -> dict[str, Any]:
    """Return the transport config a ``lineage_transport`` setting names (raises ValueError).

    ``console`` (any case) is the console transport; anything else must be a JSON object with
    a non-empty string ``type``, handed to the client's transport factory as it is.

    Example:
        >>> parse_transport('{"type": "file", "log_file_path": "/tmp/ol.jsonl", "append": true}')["type"]
        'file'
    """
    text = value.strip()
    if text.lower() == "console":
        return {"type": "console"}
    try:
        parsed = json.loads(text)
    except ValueError:
        raise ValueError('expected \'console\' or a JSON object such as {"type": "console"}') from None
    if not isinstance(parsed, dict):
        raise ValueError(f"expected a JSON object, not a JSON {type(parsed).__name__}")
    kind = parsed.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise ValueError(
            'the JSON object needs a "type" naming the transport (console, file, http, kafka, ...)'
        )
    return parsed


def parse_parent(value: str) -> Parent:
    """Return the parent run a ``lineage_parent`` setting names: ``<namespace>/<job name>/<run UUID>``.

    The namespace ends at the first ``/`` and the run id starts after the last one, so a job
    name may hold ``/`` itself (raises ValueError).

    Example:
        >>> parse_parent("airflow/nightly.load/01890f6e-2f0a-7e7b-9c41-7a2d6e8f0b13").name
        'nightly.load'
    """
    namespace, _, rest = value.strip().partition("/")
    name, _, run = rest.rpartition("/")
    if not namespace or not name or not run:
        raise ValueError("expected <namespace>/<job name>/<run id>")
    try:
        parsed = uuid.UUID(run)
    except ValueError:
        raise ValueError(f"the run id {run!r} is not a UUID") from None
    return Parent(namespace, name, str(parsed))


__all__ = [
    "Dataset",
    "JobFacts",
    "Parent",
    "RunFacts",
    "TERMINAL",
    "build_event",
    "datasets",
    "default_namespace",
    "parse_parent",
    "parse_transport",
    "run_id",
    "utc_text",
]
