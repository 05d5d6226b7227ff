"""A worker OS process with its own SparkSession, for the multi-process concurrency tests.

It reads one JSON command per line on stdin: ``{"scenario": ..., "at": <epoch seconds>,
"schema": ..., "location": ..., "args": {...}}``, waits until ``at`` (so that every worker starts
the scenario at the same moment), runs it, and prints one JSON line: the scenario's result, the
Delta conflicts it retried, and the seconds each tracker call took. Errors are reported, not
raised, so the test sees every worker's outcome.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from datetime import datetime
from typing import Any, Callable

from pt_spark import ExtractTracker, ProcessRunRefused, ProcessTracker, TrackerConfig
from pt_spark.session import local_spark
from pt_spark.store.retry import conflicts_retried


class Timer:
    """Times each tracker call of a scenario."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def __call__(self, name: str, action: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = action()
        self.calls.append((name, time.perf_counter() - start))
        return result


def lifecycle(spark: Any, config: TrackerConfig, timer: Timer, name: str, count: int) -> dict[str, Any]:
    """A full run of this worker's own process: start, dates, counts, an error, 2 extracts, complete."""
    run = timer(
        "start",
        lambda: ProcessTracker(
            spark=spark,
            process_name=name,
            process_type="Load",
            actor_name="concurrency-actor",
            tool_name="Spark",
            sources=f"{name}-source",
            dataset_types=["concurrency"],
            config=config,
        ),
    )
    timer("dates", lambda: run.set_process_run_low_high_dates(datetime(2020, 1, 1), datetime(2020, 1, 2)))
    timer("count", lambda: run.set_process_run_record_count(count))
    timer("error", lambda: run.raise_run_error("Data Error", f"{name}: a bad row"))
    extracts = []
    for index in range(2):
        extract = timer(
            "extract",
            lambda i=index: ExtractTracker(run, f"part_{i}.csv", location_path=f"/concurrency/{name}"),
        )
        timer("extract status", lambda e=extract: e.change_extract_status("ready"))
        extracts.append(extract.extract_id)
    timer("complete", lambda: run.change_run_status("completed"))
    return {"process_tracking_id": run.process_tracking_id, "extract_ids": extracts}


def start_same(spark: Any, config: TrackerConfig, timer: Timer, name: str) -> dict[str, Any]:
    """Try to start ``name``; report whether this worker's start won."""
    try:
        run = timer(
            "start",
            lambda: ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config),
        )
    except ProcessRunRefused as refused:
        return {"outcome": "refused", "message": str(refused)}
    return {"outcome": "started", "process_tracking_id": run.process_tracking_id}


def register_shared(
    spark: Any, config: TrackerConfig, timer: Timer, name: str, shared: str
) -> dict[str, Any]:
    """Start an own process that names a new actor, tool, source and dataset type, and an extract
    at a new location, all shared with the other workers."""
    run = timer(
        "start",
        lambda: ProcessTracker(
            spark=spark,
            process_name=name,
            process_type=f"{shared}-type",
            actor_name=f"{shared}-actor",
            tool_name=f"{shared}-tool",
            sources=f"{shared}-source",
            dataset_types=[f"{shared}-dataset"],
            config=config,
        ),
    )
    timer("extract", lambda: ExtractTracker(run, f"{name}.csv", location_path=f"/concurrency/{shared}"))
    timer("complete", lambda: run.change_run_status("completed"))
    return {"process_tracking_id": run.process_tracking_id}


def add_counts(
    spark: Any, config: TrackerConfig, timer: Timer, process_tracking_id: int, counts: list[int]
) -> dict[str, Any]:
    """Re-attach to one run and set its record count several times."""
    run = ProcessTracker(spark=spark, process_tracking_id=process_tracking_id, config=config)
    for value in counts:
        timer("count", lambda v=value: run.set_process_run_record_count(v))
    return {}


def start_then_hang(spark: Any, config: TrackerConfig, timer: Timer, name: str) -> dict[str, Any]:
    """Start a run, say so, then hang (the test kills this process with SIGKILL)."""
    run = ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config)
    print(json.dumps({"started": run.process_tracking_id}), flush=True)
    while True:
        time.sleep(60)


def merge_loop(spark: Any, config: TrackerConfig, timer: Timer, name: str) -> dict[str, Any]:
    """Start a run, say so, then write to it in a loop of MERGEs until killed."""
    run = ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config)
    print(json.dumps({"started": run.process_tracking_id}), flush=True)
    step = 0
    while True:
        step += 1
        run.set_process_run_record_count(step * 10)
        run.set_process_run_low_high_dates(datetime(2020, 1, 1 + step % 28), datetime(2021, 1, 1))
        print(json.dumps({"step": step}), flush=True)


SCENARIOS = {
    "lifecycle": lifecycle,
    "start_same": start_same,
    "register_shared": register_shared,
    "add_counts": add_counts,
    "start_then_hang": start_then_hang,
    "merge_loop": merge_loop,
}


def main() -> None:
    spark = local_spark("pt_spark_concurrency_worker")
    spark.sql("SELECT 1").collect()  # warm up before the first command
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        config = TrackerConfig(
            schema=command["schema"],
            location=command["location"],
            stale_run_timeout=command.get("stale_run_timeout"),
        )
        time.sleep(max(0.0, command["at"] - time.time()))
        before, timer = conflicts_retried(), Timer()
        try:
            result = SCENARIOS[command["scenario"]](spark, config, timer, **command["args"])
            reply: dict[str, Any] = {"ok": True, "result": result}
        except Exception as error:  # reported to the test, which asserts on it
            reply = {"ok": False, "error": type(error).__name__, "message": str(error)[:2000]}
            reply["traceback"] = traceback.format_exc()[-3000:]
        reply.update(retried=conflicts_retried() - before, calls=timer.calls)
        print(json.dumps(reply), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
