"""OpenLineage events built and sent without Spark: the client's models, the settings, the emitter."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import attr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lineage_schema import FACETS, InvalidEvent, read_events, validate_event
from openlineage.client.generated import base

from pt_spark import ConfigError
from pt_spark.config import TrackerConfig, resolve_config
from pt_spark.lineage import emitter
from pt_spark.lineage.events import (
    FACET_SCHEMAS,
    RUN_EVENT_SCHEMA,
    RUN_FACET,
    RUN_FACET_SCHEMA,
    JobFacts,
    Parent,
    RunFacts,
    build_event,
    datasets,
    default_namespace,
    parse_parent,
    parse_transport,
    run_id,
)
from pt_spark.runs.registration import ProcessRequest, Side
from pt_spark.runs.start import StartedRun

JOB = JobFacts(
    "main.ops",
    "Teams Load",
    ("Baseball",),
    datasets({"Lahman": ["teams", "people"]}),
    datasets({"Warehouse": []}),
)
START = datetime(2026, 12, 4, 10, 0, 0)
RUN = RunFacts(7, 3, "running", start=START, run_name="nightly-7")
PARENT = Parent("airflow", "dag.task", "01890f6e-2f0a-7e7b-9c41-7a2d6e8f0b13")
FILE_TRANSPORT = {"type": "file", "append": True}


def _ended(status: str, **more: Any) -> RunFacts:
    end = datetime(2026, 12, 4, 11, 0, 0)
    return RunFacts(7, 3, status, start=START, end=end, record_count=1200, **more)


def test_every_event_kind_is_valid_against_the_clients_models_of_the_spec():
    low, high = datetime(2024, 1, 1), datetime(2024, 12, 31, tzinfo=timezone.utc)
    events = [
        build_event("START", JOB, RUN, START, PARENT),
        build_event("COMPLETE", JOB, _ended("completed", low=low, high=high), START),
        build_event("FAIL", JOB, _ended("failed"), START, error="Process Error: boom\n  at line 3"),
        build_event("ABORT", JobFacts("main.ops", "Teams Load"), RunFacts(6, 2, "abandoned"), START),
    ]
    for event in events:
        validate_event(event)
        assert datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00")).tzinfo is not None
    assert [e["eventType"] for e in events] == ["START", "COMPLETE", "FAIL", "ABORT"]
    assert len({e["run"]["runId"] for e in events[:3]}) == 1  # one run: START and its end share the id


def _broken(where: str, value: Any = None) -> dict[str, Any]:
    """Return a valid COMPLETE event with ``where`` (a dotted path) set to ``value``, or deleted."""
    event = build_event("COMPLETE", JOB, _ended("completed"), START, PARENT, error="boom")
    *parents, last = where.split(".")
    part: Any = event
    for key in parents:
        part = part[int(key)] if isinstance(part, list) else part[key]
    if value is None:
        del part[last]
    else:
        part[last] = value
    return event


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("run.facets.nominalTime.nominalStartTime", None),  # a required field is missing
        ("run.runId", "not-a-uuid"),  # the model's validator
        ("eventTime", "2026-12-04"),  # a date without a time
        ("eventType", "DONE"),
        ("job.facets.jobType.stage", "extra"),  # an unknown field
        ("run.facets.surprise", {"_producer": "x", "_schemaURL": "https://x"}),  # an unknown facet
        ("job.facets.jobType._producer", None),  # the model would fill it in: the event changes
        ("outputs.0.outputFacets.outputStatistics.rowCount", "1200"),  # a string for an integer
        ("job.facets.tags._schemaURL", FACET_SCHEMAS["tags"].replace("1-0-0", "1-0-1")),
        ("schemaURL", RUN_EVENT_SCHEMA.replace("2-0-2", "2-0-1")),
        (f"run.facets.{RUN_FACET}.status", None),  # pt_spark's facet, against its own schema
        (f"run.facets.{RUN_FACET}.recordCount", -1),
        (f"run.facets.{RUN_FACET}._schemaURL", "urn:pt_spark:other"),
    ],
)
def test_a_broken_event_fails_validation_so_the_check_is_real(where: str, value: Any):
    validate_event(_broken("eventType", "COMPLETE"))  # the same event, unbroken, is valid
    with pytest.raises(InvalidEvent):
        validate_event(_broken(where, value))


def test_the_event_carries_job_datasets_tags_and_the_run_facet():
    event = build_event("COMPLETE", JOB, _ended("completed", low=datetime(2024, 1, 1)), START)
    assert event["job"] == {
        "namespace": "main.ops",
        "name": "Teams Load",
        "facets": {
            "jobType": {
                **event["job"]["facets"]["jobType"],
                "processingType": "BATCH",
                "integration": "pt_spark",
            },
            "tags": {
                **event["job"]["facets"]["tags"],
                "tags": [{"key": "dataset_type", "value": "Baseball", "source": "pt_spark"}],
            },
        },
    }
    assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [
        ("Lahman", "teams"),
        ("Lahman", "people"),
    ]
    (output,) = event["outputs"]
    assert (output["namespace"], output["name"]) == ("Warehouse", "Warehouse")
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 1200
    facet = event["run"]["facets"][RUN_FACET]
    assert facet["processTrackingId"] == 7 and facet["processRunId"] == 3 and facet["status"] == "completed"
    assert facet["recordCount"] == 1200 and "processRunName" not in facet  # this run has no name
    named = build_event("START", JOB, RUN, START)["run"]["facets"][RUN_FACET]
    assert named["processRunName"] == "nightly-7"
    assert facet["lowDateTime"].endswith("Z") and "highDateTime" not in facet
    assert event["run"]["facets"]["nominalTime"]["nominalEndTime"].endswith("Z")


def test_a_start_has_no_count_and_several_outputs_get_no_shared_count():
    start = build_event("START", JOB, RunFacts(7, 3, "running", start=START, record_count=0), START)
    assert "recordCount" not in start["run"]["facets"][RUN_FACET]
    assert all("outputFacets" not in output for output in start["outputs"])
    two = JobFacts("ns", "p", outputs=datasets({"A": ["x", "y"]}))
    complete = build_event("COMPLETE", two, _ended("completed"), START)
    assert all("outputFacets" not in output for output in complete["outputs"])


def test_the_run_id_is_a_deterministic_uuid_of_namespace_and_run():
    assert run_id("main.ops", 7) == run_id("main.ops", 7)
    assert run_id("main.ops", 7) != run_id("main.ops", 8) != run_id("other", 8)
    assert uuid.UUID(run_id("main.ops", 7)).version == 5


def test_namespace_defaults_from_the_store():
    assert default_namespace("main", "ops", "/data/pt") == "main.ops"
    assert default_namespace(None, "ops", "s3://bucket/pt") == "s3://bucket/pt"
    assert default_namespace(None, "ops", None) == "ops"


def test_parent_setting_splits_at_the_first_and_last_slash():
    parent = parse_parent(" airflow/dag/with/slashes/01890F6E-2F0A-7E7B-9C41-7A2D6E8F0B13 ")
    assert parent == Parent("airflow", "dag/with/slashes", "01890f6e-2f0a-7e7b-9c41-7a2d6e8f0b13")


# --- settings: every layer, ConfigError naming the key ---------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("lineage_transport", "nope"),
        ("lineage_transport", "[1, 2]"),
        ("lineage_transport", '{"log_file_path": "/tmp/x"}'),
        ("lineage_transport", '{"type": ""}'),
        ("lineage_parent", "only/two"),
        ("lineage_parent", "ns/job/not-a-uuid"),
        ("lineage_namespace", "bad\x01name"),
    ],
)
def test_a_bad_lineage_value_is_a_config_error_naming_its_key(key: str, value: str, monkeypatch):
    with pytest.raises(ConfigError) as raised:
        TrackerConfig(**{key: value})
    assert raised.value.key == key
    monkeypatch.setenv(f"PT_SPARK_{key.upper()}", value)
    with pytest.raises(ConfigError) as from_env:
        resolve_config()
    assert from_env.value.key == key


def test_a_transport_setting_is_never_quoted_back():
    secret = '{"type": "http", "url": "http://x", "auth": {"type": "api_key", "apiKey": "s3cr3t"}}'
    with pytest.raises(ConfigError) as raised:
        TrackerConfig(lineage_transport=secret[:-1])  # not JSON: the closing brace is missing
    assert "s3cr3t" not in str(raised.value) and raised.value.__cause__ is None
    assert "s3cr3t" not in repr(TrackerConfig(lineage_transport=secret))


def test_each_config_layer_sets_the_lineage_keys(tmp_path: Path, monkeypatch):
    conf = tmp_path / "process_tracker_config.ini"
    conf.write_text(
        "[DEFAULT]\nlineage_transport = console\nlineage_namespace = from-file\n", encoding="utf-8"
    )
    assert resolve_config(config_location=conf).lineage_transport == "console"
    monkeypatch.setenv("PT_SPARK_LINEAGE_NAMESPACE", "from-env")
    assert resolve_config(config_location=conf).lineage_namespace == "from-file"  # the file wins
    assert resolve_config().lineage_namespace == "from-env"
    monkeypatch.delenv("PT_SPARK_LINEAGE_NAMESPACE")
    conf_values = {"spark.pt_spark.lineage_parent": f"a/b/{PARENT.run_id}"}
    spark = SimpleNamespace(conf=SimpleNamespace(get=lambda key, default=None: conf_values.get(key, default)))
    assert resolve_config(spark).lineage_parent == f"a/b/{PARENT.run_id}"  # type: ignore[arg-type]
    assert resolve_config().lineage_transport is None  # unset: off


def test_lineage_off_needs_no_client_and_on_without_it_is_a_config_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "openlineage.client", None)  # as if not installed
    assert emitter.for_tracker(TrackerConfig()) is emitter.NO_LINEAGE
    with pytest.raises(ConfigError, match="openlineage-python") as raised:
        emitter.for_tracker(TrackerConfig(lineage_transport="console"))
    assert raised.value.key == "lineage_transport"


# --- the emitter through the client's file transport (no Spark) ------------------------------------


def _request(name: str) -> ProcessRequest:
    sources = Side.from_arguments([], {"Lahman": ["teams"]}, {})
    return ProcessRequest(name, "Load", None, None, None, ["Baseball"], sources, Side(["Warehouse"]))


def _row(tracking_id: int, run_number: int) -> dict[str, Any]:
    return {
        "process_tracking_id": tracking_id,
        "process_id": 1,
        "process_run_id": run_number,
        "process_run_start_date_time": START,
        "process_run_record_count": 0,
        "process_run_name": None,
    }


def _lineage(path: Path, parent: str | None = None) -> emitter.RunLineage:
    transport = json.dumps({**FILE_TRANSPORT, "log_file_path": str(path)})
    hooks = emitter.for_tracker(
        TrackerConfig(catalog="main", schema="ops", lineage_transport=transport, lineage_parent=parent)
    )
    assert isinstance(hooks, emitter.RunLineage)
    return hooks


def test_a_tracker_sends_one_start_and_one_end_whatever_it_does_after(tmp_path: Path):
    path = tmp_path / "ol.jsonl"
    hooks = _lineage(path, parent=f"airflow/dag.task/{PARENT.run_id}")
    hooks.started(_request("Teams Load"), StartedRun(_row(11, 2), "running"))
    hooks.widened("2024-01-01", "2024-02-01")
    hooks.widened("2023-06-01", None)
    hooks.ended("waiting for approval", _row(11, 2))  # a custom status: no event
    hooks.ended(
        "completed",
        {**_row(11, 2), "process_run_end_date_time": datetime.now(), "process_run_record_count": 5},
    )
    hooks.ended("failed", _row(11, 2))  # already ended by this tracker: no second end
    events = read_events(path)
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    for event in events:
        validate_event(event)
        assert event["run"]["facets"]["parent"]["job"] == {"namespace": "airflow", "name": "dag.task"}
    assert events[0]["run"]["runId"] == events[1]["run"]["runId"] == run_id("main.ops", 11)
    facet = events[1]["run"]["facets"][RUN_FACET]
    assert facet["lowDateTime"].startswith("2023-06-01") or facet["lowDateTime"].startswith("2023-05-31")
    assert facet["highDateTime"][:10] in ("2024-02-01", "2024-01-31")
    assert events[1]["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 5


def test_a_takeover_aborts_the_stale_run_and_a_held_start_sends_nothing(tmp_path: Path):
    path = tmp_path / "ol.jsonl"
    stale = {"process_tracking_id": 10, "process_run_id": 1, "last_seen": datetime(2026, 12, 4, 9, 0)}
    _lineage(path).started(_request("Teams Load"), StartedRun(_row(11, 2), "running", stale))
    _lineage(path).started(_request("Held"), StartedRun(_row(12, 5), "on hold"))
    abort, start = read_events(path)
    assert (abort["eventType"], start["eventType"]) == ("ABORT", "START")
    assert abort["run"]["runId"] == run_id("main.ops", 10) != start["run"]["runId"]
    assert "took over" in abort["run"]["facets"]["errorMessage"]["message"]
    validate_event(abort)


def test_a_reattached_tracker_sends_no_start_and_reads_datasets_only_at_the_end(tmp_path: Path):
    path = tmp_path / "ol.jsonl"
    hooks, reads = _lineage(path), []

    def job() -> JobFacts:
        reads.append(1)
        return JobFacts("", "", ("Baseball",), datasets({"Lahman": []}), datasets({"Warehouse": ["teams"]}))

    hooks.attached({**_row(11, 2), "process_name": "Teams Load", "process_status_name": "running"}, job)
    assert read_events(path) == [] and reads == []
    hooks.ended("failed", {**_row(11, 2), "process_run_end_date_time": datetime.now()}, "Process Error: x")
    (event,) = read_events(path)
    validate_event(event)
    assert event["eventType"] == "FAIL" and event["job"]["name"] == "Teams Load" and reads == [1]
    assert event["run"]["facets"]["errorMessage"]["message"] == "Process Error: x"
    ended = _lineage(path)
    ended.attached({**_row(12, 3), "process_name": "Teams Load", "process_status_name": "completed"}, job)
    ended.ended("completed", _row(12, 3))  # the run had ended before this tracker came: no event
    assert len(read_events(path)) == 1


def test_a_failed_emission_only_warns(tmp_path: Path, caplog, monkeypatch):
    caplog.set_level(logging.WARNING, logger="pt_spark")
    unwritable = _lineage(tmp_path / "missing-folder" / "deeper" / "ol.jsonl")
    unwritable.started(_request("Teams Load"), StartedRun(_row(11, 2), "running"))
    unknown = emitter.RunLineage("ns", {"type": "no.such.Transport"}, None)
    unknown.started(_request("Teams Load"), StartedRun(_row(13, 2), "running"))

    def broken(self: Any, event: Any) -> None:
        raise RuntimeError("client exploded")

    working = _lineage(tmp_path / "ol.jsonl")
    monkeypatch.setattr("openlineage.client.OpenLineageClient.emit", broken)
    working.started(_request("Teams Load"), StartedRun(_row(14, 2), "running"))
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([m for m in messages if "OpenLineage START event of process run" in m]) == 3
    assert any("client exploded" in m for m in messages)


def test_the_facet_schema_is_package_data_and_the_schema_urls_are_the_clients_models():
    packaged = resources.files("pt_spark.lineage").joinpath("PtSparkRunFacet.json")
    schema = json.loads(packaged.read_text(encoding="utf-8"))
    assert schema["$id"].startswith("urn:pt_spark:") and "PtSparkRunFacet" in schema["$defs"]
    assert RUN_FACET_SCHEMA == f"{schema['$id']}#/$defs/PtSparkRunFacet"
    assert RUN_EVENT_SCHEMA == base.RunEvent._get_schema()
    models = {key: model for place in (base.RunFacet, base.JobFacet) for key, model in FACETS[place].items()}
    models["tags"] = FACETS[base.JobFacet]["tags"]  # pt_spark tags the job, not the run
    models["outputStatistics"] = FACETS[base.OutputDatasetFacet]["outputStatistics"]
    for key, url in FACET_SCHEMAS.items():
        assert attr.has(models[key]) and url == models[key]._get_schema(), key


def test_a_hook_that_breaks_warns_instead_of_failing_the_job(tmp_path: Path, caplog):
    caplog.set_level(logging.WARNING, logger="pt_spark")
    hooks = _lineage(tmp_path / "ol.jsonl")
    hooks.started(_request("Teams Load"), StartedRun({"process_run_start_date_time": START}, "running"))
    assert any("OpenLineage: started failed (KeyError" in r.getMessage() for r in caplog.records)
    assert read_events(tmp_path / "ol.jsonl") == []


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from(("lineage_transport", "lineage_namespace", "lineage_parent")),
    value=st.one_of(
        st.text(max_size=40),
        st.integers(),
        st.none(),
        st.lists(st.text(max_size=3), max_size=2),
        st.builds(lambda kind: json.dumps({"type": kind}), st.text(max_size=8)),
        st.builds(lambda text: f"ns/job{text}/{PARENT.run_id}", st.text(max_size=8)),
    ),
)
def test_any_lineage_value_is_accepted_or_a_config_error_naming_its_key(key: str, value: Any):
    try:
        made = TrackerConfig(**{key: value})
    except ConfigError as error:
        assert error.key == key
        return
    kept = getattr(made, key)
    assert kept is None or (isinstance(kept, str) and kept.strip() and "\x00" not in kept)
    if key == "lineage_transport" and kept is not None:
        assert parse_transport(kept)["type"]
    if key == "lineage_parent" and kept is not None:
        assert uuid.UUID(parse_parent(kept).run_id)
