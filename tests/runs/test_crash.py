"""Jobs that die: a worker OS process (its own SparkSession) is killed with SIGKILL on one store.

One is killed right after its start, one inside a loop of MERGEs on its run. Afterwards every
table is readable, the run shows no half-written state, and the next start after the stale-run
timeout takes the dead run over. The figures go to ``benchmarks/results/crash.json``.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import table
from pyspark.sql import functions as F
from test_concurrent_processes import Workers

from pt_spark import ProcessRunRefused, ProcessTracker
from pt_spark.store.schema import TABLES

pytestmark = [pytest.mark.slow, pytest.mark.processes]

FIGURES = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "crash.json"
TIMEOUT = 8  # seconds without a heartbeat before a start takes a run over


@pytest.fixture(scope="module")
def figures() -> Iterator[dict[str, Any]]:
    found: dict[str, Any] = {"faults_injected": 0, "runs_recovered": 0, "rows_lost": 0}
    yield found
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")


def _victim(tmp_path: Path, config: Any, scenario: str, name: str) -> tuple[Any, Workers]:
    worker = Workers(1, tmp_path)
    [process] = worker.send(config, scenario, [{"name": name}])
    assert process.stdout is not None
    started = json.loads(process.stdout.readline())
    assert "started" in started, started
    return started["started"], worker


def _kill(worker: Workers) -> None:
    [process] = worker.processes
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


def _runs(spark, config, name):
    return (
        table(spark, config, "process_tracking")
        .join(table(spark, config, "process").where(F.col("process_name") == name), "process_id")
        .join(table(spark, config, "process_status_lkup"), "process_status_id")
        .orderBy("process_run_id")
        .collect()
    )


def _every_table_is_readable(spark, config) -> None:
    for spec in TABLES:
        table(spark, config, spec.name).count()
        spark.sql(f"DESCRIBE HISTORY {config.table(spec.name)} LIMIT 1").collect()


def _take_over_after_the_timeout(spark, config, name, dead_id) -> ProcessTracker:
    stale = config.model_copy(update={"stale_run_timeout": TIMEOUT})
    deadline = time.monotonic() + 120
    while True:
        try:
            return ProcessTracker(spark=spark, process_name=name, process_type="Load", config=stale)
        except ProcessRunRefused:  # the dead run's last heartbeat is not old enough yet
            assert time.monotonic() < deadline, "the dead run was never taken over"
            time.sleep(1)


def test_a_job_killed_after_its_start_is_taken_over_after_the_timeout(
    spark, config, unique, tmp_path, figures
):
    name = unique("killed-at-start")
    dead_id, worker = _victim(tmp_path, config, "start_then_hang", name)
    _kill(worker)
    figures["faults_injected"] += 1
    _every_table_is_readable(spark, config)
    [run] = _runs(spark, config, name)
    assert (run.process_tracking_id, run.process_status_name, run.is_latest_run) == (dead_id, "running", True)
    with pytest.raises(ProcessRunRefused):  # no timeout configured: today's rule
        ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config)

    new = _take_over_after_the_timeout(spark, config, name, dead_id)
    figures["runs_recovered"] += 1
    runs = _runs(spark, config, name)
    assert [(r.process_run_id, r.process_status_name, r.is_latest_run) for r in runs] == [
        (1, "abandoned", False),
        (2, "running", True),
    ]
    assert runs[1].process_tracking_id == new.process_tracking_id


def test_a_job_killed_inside_a_loop_of_merges_leaves_a_whole_state(spark, config, unique, tmp_path, figures):
    name = unique("killed-mid-merge")
    dead_id, worker = _victim(tmp_path, config, "merge_loop", name)
    [process] = worker.processes
    assert process.stdout is not None
    steps = [json.loads(process.stdout.readline())["step"] for _ in range(3)]
    time.sleep(0.7)  # somewhere inside the next step's MERGEs
    _kill(worker)
    figures["faults_injected"] += 1
    _every_table_is_readable(spark, config)

    [run] = _runs(spark, config, name)
    assert run.process_status_name == "running" and run.is_latest_run
    # The run holds what some whole step wrote: a count of that loop, never a torn value.
    assert run.process_run_record_count % 10 == 0 and run.process_run_record_count >= steps[-1] * 10
    counted = run.process_run_record_count
    figures["rows_lost"] += max(0, steps[-1] * 10 - counted) // 10

    new = _take_over_after_the_timeout(spark, config, name, dead_id)
    figures["runs_recovered"] += 1
    runs = _runs(spark, config, name)
    assert [(r.process_status_name, r.is_latest_run) for r in runs] == [
        ("abandoned", False),
        ("running", True),
    ]
    assert runs[0].process_run_record_count == counted  # nothing the dead job wrote was lost
    # The process total agrees with its runs, even if the kill fell between the two count writes.
    total = table(spark, config, "process").where(F.col("process_name") == name).first().total_record_count
    assert total == sum(r.process_run_record_count for r in runs) == new.process.total_record_count
