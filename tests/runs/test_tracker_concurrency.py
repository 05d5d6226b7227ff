"""Concurrent jobs on one process: real threads, one SparkSession, real Delta conflicts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from pyspark.sql import functions as F

from pt_spark import InvalidInput, ProcessRunRefused, ProcessTracker
from tests.helpers import table

pytestmark = pytest.mark.slow


def run_together(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads released at the same moment; return results or exceptions."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def worker(index: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = action()
        except Exception as error:  # collected and asserted on by the caller
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_jobs_starting_the_same_process_leave_exactly_one_running_run(spark, config, unique):
    name = unique("race")
    ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config).change_run_status(
        "completed"
    )

    def start() -> ProcessTracker:
        return ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config)

    results = run_together(start, start)
    started = [r for r in results if isinstance(r, ProcessTracker)]
    refused = [r for r in results if isinstance(r, ProcessRunRefused)]
    assert len(started) == 1 and len(refused) == 1, results

    runs = (
        table(spark, config, "process_tracking")
        .join(table(spark, config, "process"), "process_id")
        .join(table(spark, config, "process_status_lkup"), "process_status_id")
        .where(F.col("process_name") == name)
        .orderBy("process_run_id")
        .collect()
    )
    assert [(r.process_run_id, r.process_status_name, r.is_latest_run) for r in runs] == [
        (1, "completed", False),
        (2, "running", True),
    ]


def test_counts_set_concurrently_on_two_runs_add_up_exactly(spark, config, unique):
    name = unique("parallel-counts")
    first = ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config)
    first.change_run_status("completed")
    second = ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config)

    def counts(run: ProcessTracker, values: list[int]) -> Callable[[], None]:
        def action() -> None:
            for value in values:
                run.set_process_run_record_count(value)

        return action

    results = run_together(counts(first, [100, 200, 300]), counts(second, [10, 20, 30]))
    assert results == [None, None]
    total = (
        table(spark, config, "process").where(F.col("process_name") == name).collect()[0].total_record_count
    )
    assert total == 330


def test_two_processes_starting_with_one_run_name_leave_one_run_of_that_name(spark, config, unique):
    """The run name is unique across processes: the loser writes nothing, its last run stays latest."""
    names = [unique("name-race-a"), unique("name-race-b")]
    run_name = unique("nightly")
    for name in names:
        ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config).change_run_status(
            "completed"
        )

    def start(name: str) -> Callable[[], ProcessTracker]:
        return lambda: ProcessTracker(
            spark=spark, process_name=name, process_type="Load", process_run_name=run_name, config=config
        )

    results = run_together(start(names[0]), start(names[1]))
    started = [r for r in results if isinstance(r, ProcessTracker)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert len(started) == 1 and len(refused) == 1, results
    assert "already exists" in str(refused[0])

    runs = (
        table(spark, config, "process_tracking")
        .join(table(spark, config, "process"), "process_id")
        .where(F.col("process_name").isin(names))
        .select("process_name", "process_run_id", "is_latest_run", "process_run_name")
    )
    assert runs.where(F.col("process_run_name") == run_name).count() == 1
    loser = names[1 - results.index(started[0])]
    assert [tuple(r)[1:] for r in runs.where(F.col("process_name") == loser).collect()] == [(1, True, None)]
