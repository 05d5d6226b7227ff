"""Concurrent jobs as separate OS processes, each with its own SparkSession, on one store.

Every scenario releases its workers at the same moment (``tests/concurrency_worker.py``) and
checks the outcome in the Delta tables. The per-call times and retried conflicts are written to
``benchmarks/results/concurrency.json`` (the README quotes them).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import table
from pyspark.sql import functions as F

from pt_spark import ProcessTracker

pytestmark = [pytest.mark.slow, pytest.mark.processes]

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER = REPO_ROOT / "tests" / "concurrency_worker.py"
FIGURES = REPO_ROOT / "benchmarks" / "results" / "concurrency.json"
WORKERS = 8


class Workers:
    """Worker processes, started once per module (a JVM start is the slow part)."""

    def __init__(self, count: int, home: Path) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PT_SPARK_")}
        env.update(PYTHONPATH=str(REPO_ROOT), HOME=str(home))
        self.processes = [
            subprocess.Popen(
                [sys.executable, str(WORKER)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=env,
                cwd=home,
            )
            for _ in range(count)
        ]
        for process in self.processes:
            assert process.stdout is not None
            assert json.loads(process.stdout.readline()) == {"ready": True}, "a worker did not start"

    def send(self, config: Any, scenario: str, arguments: list[dict[str, Any]]) -> list[subprocess.Popen]:
        """Start ``scenario`` on the first ``len(arguments)`` workers at one moment; return them."""
        at = time.time() + 2.0
        busy = self.processes[: len(arguments)]
        for process, args in zip(busy, arguments, strict=True):
            command = {"scenario": scenario, "at": at, "args": args}
            command.update(
                schema=config.schema_name,
                location=config.location,
                stale_run_timeout=config.stale_run_timeout,
            )
            assert process.stdin is not None
            process.stdin.write(json.dumps(command) + "\n")
            process.stdin.flush()
        return busy

    def run(self, config: Any, scenario: str, arguments: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run ``scenario`` on the first ``len(arguments)`` workers at one moment; return replies."""
        busy = self.send(config, scenario, arguments)
        replies = []
        for process in busy:
            assert process.stdout is not None
            replies.append(json.loads(process.stdout.readline()))
        return replies

    def close(self) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.close()
        for process in self.processes:
            process.wait(timeout=120)


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    pool = Workers(WORKERS, tmp_path_factory.mktemp("workers"))
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def figures() -> Iterator[dict[str, Any]]:
    found: dict[str, Any] = {}
    yield found
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")


def _all_ok(replies: list[dict[str, Any]]) -> None:
    failed = [reply for reply in replies if not reply["ok"]]
    assert failed == [], failed[0].get("traceback") if failed else ""


def _summary(replies: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = sorted(call[1] for reply in replies for call in reply["calls"])
    return {
        "writers": len(replies),
        "calls": len(seconds),
        "conflicts_retried": sum(reply["retried"] for reply in replies),
        "p50_seconds": round(statistics.median(seconds), 2),
        "p95_seconds": round(seconds[max(0, int(len(seconds) * 0.95) - 1)], 2),
    }


def _runs_of(spark, config, name: str) -> list[tuple[int, str, bool]]:
    """Return ``(run id, status, is latest)`` of every run of the process, oldest first."""
    runs = (
        table(spark, config, "process_tracking")
        .join(table(spark, config, "process").where(F.col("process_name") == name), "process_id")
        .join(table(spark, config, "process_status_lkup"), "process_status_id")
        .orderBy("process_run_id")
        .collect()
    )
    return [(run.process_run_id, run.process_status_name, run.is_latest_run) for run in runs]


def _unique(spark, config, name: str, column: str) -> bool:
    frame = table(spark, config, name)
    return frame.count() == frame.select(column).distinct().count()


def test_eight_processes_run_whole_life_cycles_at_once(spark, config, unique, workers, figures):
    single = workers.run(config, "lifecycle", [{"name": unique("alone"), "count": 7}])
    _all_ok(single)
    names = [unique(f"life-{index}") for index in range(WORKERS)]
    replies = workers.run(
        config, "lifecycle", [{"name": name, "count": 100 * (i + 1)} for i, name in enumerate(names)]
    )
    _all_ok(replies)
    figures["single writer, one life cycle"] = _summary(single)
    figures[f"{WORKERS} writers, one life cycle each"] = _summary(replies)

    processes = {
        row.process_name: row
        for row in table(spark, config, "process").where(F.col("process_name").isin(names)).collect()
    }
    assert {name: processes[name].total_record_count for name in names} == {
        name: 100 * (i + 1) for i, name in enumerate(names)
    }
    runs = (
        table(spark, config, "process_tracking")
        .join(table(spark, config, "process").where(F.col("process_name").isin(names)), "process_id")
        .join(table(spark, config, "process_status_lkup"), "process_status_id")
        .collect()
    )
    assert sorted((run.process_name, run.process_status_name) for run in runs) == [
        (name, "completed") for name in sorted(names)
    ]
    tracking_ids = [reply["result"]["process_tracking_id"] for reply in replies]
    errors = table(spark, config, "error_tracking").where(F.col("process_tracking_id").isin(tracking_ids))
    assert errors.count() == WORKERS
    extract_ids = [extract for reply in replies for extract in reply["result"]["extract_ids"]]
    assert len(set(extract_ids)) == 2 * WORKERS
    for name, column in [
        ("process", "process_id"),
        ("process_tracking", "process_tracking_id"),
        ("error_tracking", "error_tracking_id"),
        ("extract_tracking", "extract_id"),
        ("location_lkup", "location_id"),
        ("source_lkup", "source_id"),
    ]:
        assert _unique(spark, config, name, column), name


def test_four_processes_racing_to_start_one_process_leave_one_running(
    spark, config, unique, workers, figures
):
    name = unique("race")
    ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config).change_run_status(
        "completed"
    )
    replies = workers.run(config, "start_same", [{"name": name}] * 4)
    _all_ok(replies)
    figures["4 writers starting one process"] = _summary(replies)
    outcomes = sorted(reply["result"]["outcome"] for reply in replies)
    assert outcomes == ["refused", "refused", "refused", "started"]
    assert _runs_of(spark, config, name) == [
        (1, "completed", False),
        (2, "running", True),
    ]


def test_four_processes_registering_the_same_new_names_make_one_row_each(
    spark, config, unique, workers, figures
):
    shared = unique("shared")
    replies = workers.run(
        config, "register_shared", [{"name": unique("registrar"), "shared": shared} for _ in range(4)]
    )
    _all_ok(replies)
    figures["4 writers registering the same new names"] = _summary(replies)
    for name, column, value in [
        ("actor_lkup", "actor_name", f"{shared}-actor"),
        ("tool_lkup", "tool_name", f"{shared}-tool"),
        ("source_lkup", "source_name", f"{shared}-source"),
        ("dataset_type_lkup", "dataset_type", f"{shared}-dataset"),
        ("process_type_lkup", "process_type_name", f"{shared}-type"),
        ("location_lkup", "location_path", f"/concurrency/{shared}"),
    ]:
        assert table(spark, config, name).where(F.col(column) == value).count() == 1, name


def test_four_processes_setting_counts_on_one_run_leave_an_exact_total(
    spark, config, unique, workers, figures
):
    name = unique("shared-run")
    run = ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config)
    counts = [[10 * worker + step for step in (1, 2, 3)] for worker in range(1, 5)]
    replies = workers.run(
        config, "add_counts", [{"process_tracking_id": run.process_tracking_id, "counts": c} for c in counts]
    )
    _all_ok(replies)
    figures["4 writers setting counts on one run"] = _summary(replies)
    stored = table(spark, config, "process_tracking").where(
        F.col("process_tracking_id") == run.process_tracking_id
    )
    final = stored.collect()[0].process_run_record_count
    assert final in {values[-1] for values in counts}
    total = table(spark, config, "process").where(F.col("process_name") == name).collect()[0]
    assert total.total_record_count == final


def test_of_four_processes_starting_over_a_stale_run_exactly_one_takes_over(
    spark, config, unique, workers, figures
):
    name = unique("stale-race")
    dead = ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config)
    then = datetime.now() - timedelta(hours=1)
    spark.sql(
        f"UPDATE {config.table('process_tracking')} SET last_heartbeat_date_time = "
        f"TIMESTAMP '{then:%Y-%m-%d %H:%M:%S}' WHERE process_tracking_id = {dead.process_tracking_id}"
    )
    stale = config.model_copy(update={"stale_run_timeout": 600})
    replies = workers.run(stale, "start_same", [{"name": name}] * 4)
    _all_ok(replies)
    figures["4 writers taking over one stale run"] = _summary(replies)
    assert sorted(reply["result"]["outcome"] for reply in replies) == [
        "refused",
        "refused",
        "refused",
        "started",
    ]
    assert _runs_of(spark, config, name) == [
        (1, "abandoned", False),
        (2, "running", True),
    ]
    abandoned = table(spark, config, "error_tracking").where(
        F.col("process_tracking_id") == dead.process_tracking_id
    )
    assert abandoned.count() == 1
