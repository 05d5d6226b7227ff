"""OpenLineage events of real runs on a real store, written by the client's file transport."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from lineage_schema import read_events, validate_event

from pt_spark import ProcessRunFailed, ProcessTracker, TrackerConfig
from pt_spark.lineage.events import RUN_FACET, run_id


def _lineage_config(config: TrackerConfig, path: Path, **more: object) -> TrackerConfig:
    transport = json.dumps({"type": "file", "log_file_path": str(path), "append": True})
    return config.model_copy(update={"lineage_transport": transport, **more})


def _types(events: list[dict]) -> list[str]:
    return [event["eventType"] for event in events]


def test_a_completed_run_sends_one_start_and_one_complete(spark, config, unique, tmp_path):
    path, name = tmp_path / "ol.jsonl", unique("ol-complete")
    cfg = _lineage_config(config, path)
    run = ProcessTracker(
        spark=spark,
        process_name=name,
        process_type="Load",
        config=cfg,
        source_objects={"Lahman": ["teams"]},
        targets="Warehouse",
        dataset_types=["Baseball"],
    )
    run.set_process_run_low_high_dates("2024-01-01", "2024-03-31")
    run.change_run_status("completed", num_records=2000, processing_type="insert")
    run.change_run_status("completed")  # already ended: no second terminal event
    start, complete = events = read_events(path)
    assert _types(events) == ["START", "COMPLETE"]
    for event in events:
        validate_event(event)
    expected_id = run_id(f"{config.location}", run.process_tracking_id)
    assert start["run"]["runId"] == complete["run"]["runId"] == expected_id
    assert start["job"] == {**start["job"], "namespace": config.location, "name": name}
    assert [(d["namespace"], d["name"]) for d in complete["inputs"]] == [("Lahman", "teams")]
    assert complete["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 2000
    facet = complete["run"]["facets"][RUN_FACET]
    assert facet["lowDateTime"][:10] == "2024-01-01" and facet["highDateTime"][:10] == "2024-03-31"
    assert facet["processTrackingId"] == run.process_tracking_id and facet["status"] == "completed"


def test_a_failed_block_sends_start_and_fail_with_its_error(spark, config, unique, tmp_path):
    path = tmp_path / "ol.jsonl"
    with pytest.raises(ValueError, match="boom"):
        with ProcessTracker(
            spark=spark,
            process_type="Load",
            process_name=unique("ol-fail"),
            config=_lineage_config(config, path),
        ):
            raise ValueError("boom")
    with pytest.raises(ProcessRunFailed):
        run = ProcessTracker(
            spark=spark,
            process_type="Load",
            process_name=unique("ol-fail"),
            config=_lineage_config(config, path),
        )
        run.raise_run_error("Process Error", "disk full", fail_run=True)
    events = read_events(path)
    assert _types(events) == ["START", "FAIL", "START", "FAIL"]
    for event in events:
        validate_event(event)
    assert "ValueError: boom" in events[1]["run"]["facets"]["errorMessage"]["message"]
    assert "disk full" in events[3]["run"]["facets"]["errorMessage"]["message"]


def test_no_setting_no_events_and_no_client_needed(spark, config, unique, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "openlineage.client", None)  # lineage off must not import it
    monkeypatch.chdir(tmp_path)
    with ProcessTracker(
        spark=spark, process_type="Load", process_name=unique("ol-off"), config=config
    ) as run:
        run.set_process_run_record_count(1)
    assert run.status == "completed" and list(tmp_path.iterdir()) == []


def test_a_broken_transport_only_warns(spark, config, unique, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="pt_spark")
    cfg = _lineage_config(config, tmp_path / "no-such-folder" / "ol.jsonl")
    with ProcessTracker(
        spark=spark, process_type="Load", process_name=unique("ol-broken"), config=cfg
    ) as run:
        pass
    assert run.status == "completed"
    warned = [r.getMessage() for r in caplog.records if "OpenLineage" in r.getMessage()]
    assert len(warned) == 2 and "START" in warned[0] and "COMPLETE" in warned[1]


def test_a_reattached_tracker_sends_no_start_and_ends_the_same_run(spark, config, unique, tmp_path):
    path = tmp_path / "ol.jsonl"
    cfg = _lineage_config(config, path, lineage_parent=f"airflow/dag.load/{run_id('x', 1)}")
    first = ProcessTracker(
        spark=spark,
        process_name=unique("ol-attach"),
        process_type="Load",
        config=cfg,
        target_objects={"Warehouse": ["teams"]},
    )
    again = ProcessTracker(spark=spark, process_tracking_id=first.process_tracking_id, config=cfg)
    assert _types(read_events(path)) == ["START"]
    again.set_process_run_record_count(5)
    again.change_run_status("completed")
    start, complete = events = read_events(path)
    assert _types(events) == ["START", "COMPLETE"]
    for event in events:
        validate_event(event)
        assert event["run"]["facets"]["parent"]["job"] == {"namespace": "airflow", "name": "dag.load"}
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert [(d["namespace"], d["name"]) for d in complete["outputs"]] == [("Warehouse", "teams")]
    assert complete["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 5


def test_a_stale_run_taken_over_gets_its_abort_from_the_taker(spark, config, unique, tmp_path):
    path, name = tmp_path / "ol.jsonl", unique("ol-stale")
    cfg = _lineage_config(config, path, stale_run_timeout=60)
    dead = ProcessTracker(spark=spark, process_type="Load", process_name=name, config=cfg)
    then = datetime.now() - timedelta(hours=1)
    spark.sql(
        f"UPDATE {config.table('process_tracking')} SET last_heartbeat_date_time = "
        f"TIMESTAMP '{then:%Y-%m-%d %H:%M:%S}' WHERE process_tracking_id = {int(dead.process_tracking_id)}"
    )
    taker = ProcessTracker(spark=spark, process_type="Load", process_name=name, config=cfg)
    events = read_events(path)
    assert _types(events) == ["START", "ABORT", "START"]
    for event in events:
        validate_event(event)
    assert events[1]["run"]["runId"] == events[0]["run"]["runId"] != events[2]["run"]["runId"]
    assert str(taker.process_tracking_id) in events[1]["run"]["facets"]["errorMessage"]["message"]
