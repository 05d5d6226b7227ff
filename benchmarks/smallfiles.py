"""Small files: finders after hundreds of call-by-call commits vs. the same finders after compaction.

The tracked runs are written call by call (start, one extract, completion) into a store. Then the
store's folder is copied to a twin store, and only the twin is compacted with
``pt_spark.maintenance.maintain``. Both hold the same rows; the finders are then timed on the two
stores alternately, repetition by repetition, so the ratio "small files / compacted" is measured
side by side, as every other figure of the benchmark.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.probes import Samples, cpu_timed, data_files, timed
from benchmarks.scenario import FINDERS, StoreBench, error_text, finder_calls
from pt_spark import ExtractTracker, ProcessTracker, TrackerConfig
from pt_spark.maintenance import maintain

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Tables the finders read, whose file counts the report shows.
FINDER_TABLES = (
    "extract_tracking",
    "extract_process_tracking",
    "location_lkup",
    "process_tracking",
    "process",
    "extract_dataset_type",
    "extract_source_object",
)


def tracked_runs(bench: StoreBench, runs: int) -> dict[str, Any]:
    """Write ``runs`` tracked runs call by call: start, one extract (``ready``), completion."""
    folder = f"/bench/{bench.label}/tracked"
    started = time.perf_counter()
    failures = 0
    for index in range(runs):
        run = None
        try:
            run = bench.tracker()
            ExtractTracker(run, filename=f"tracked_{index:04d}.csv", location_path=folder, status="ready")
            run.change_run_status("completed")
        except Exception as error:  # reported; the run is closed and the next one goes on
            failures += 1
            bench.note_error(f"tracked run {index}", error)
        if run is not None:
            bench.run = run
            bench.finish_open_run()
        if (index + 1) % 25 == 0:
            print(
                f"  ... {index + 1}/{runs} tracked runs ({time.perf_counter() - started:.0f} s)", flush=True
            )
    return {"runs": runs, "failures": failures, "seconds": round(time.perf_counter() - started, 1)}


def _twin(spark: SparkSession, bench: StoreBench, root: Path) -> tuple[TrackerConfig, ProcessTracker]:
    """Copy the store's folder to a twin store and attach to the benchmark run there."""
    location = root / f"{bench.label}_compacted"
    shutil.copytree(bench.location, location)
    config = TrackerConfig(schema=f"{bench.config.schema_name}_compacted", location=str(location))
    assert bench.run is not None
    run = ProcessTracker(spark=spark, process_tracking_id=bench.run.process_tracking_id, config=config)
    return config, run


def small_files(spark: SparkSession, bench: StoreBench, root: Path, runs: int, reps: int) -> dict[str, Any]:
    """Measure every finder on the small-file store and on its compacted twin; return the figures."""
    result: dict[str, Any] = {"tracked": tracked_runs(bench, runs)}
    assert bench.run is not None
    config, twin_run = _twin(spark, bench, root)
    # OPTIMIZE only: VACUUM removes files no snapshot reads any more, it does not change what a reader
    # reads, and it would only lengthen the run.
    seconds, report = timed(lambda: maintain(spark, config=config, vacuum_retention_hours=None))
    result["maintain_s"] = round(seconds, 2)
    result["maintain"] = {table: figures for table, figures in report.items() if figures["files_removed"]}
    result["files"] = {
        table: {
            "small_files": data_files(bench.location, table),
            "compacted": data_files(str(config.location), table),
        }
        for table in FINDER_TABLES
    }
    before = {name: Samples() for name in FINDERS}
    after = {name: Samples() for name in FINDERS}
    rows: dict[str, list[int]] = {name: [] for name in FINDERS}
    sides = (
        (before, finder_calls(bench.run, bench.bulk_path, bench.bulk_status)),
        (after, finder_calls(twin_run, bench.bulk_path, bench.bulk_status)),
    )
    for round_index in range(reps + 1):  # the first round warms both stores up and is not kept
        for samples, calls in sides:
            for name, call in calls.items():
                try:
                    seconds, cpu, found = cpu_timed(call)
                except Exception as error:  # reported; the other finders go on
                    samples[name].errors.append(error_text(error))
                    bench.note_error(f"small files {name}", error)
                    continue
                if round_index > 0:
                    samples[name].add(seconds, cpu)
                    rows[name].append(found)
    result["finders"] = {
        name: {"small_files": before[name].as_dict(), "compacted": after[name].as_dict(), "rows": rows[name]}
        for name in FINDERS
    }
    return result


__all__ = ["FINDER_TABLES", "small_files", "tracked_runs"]
