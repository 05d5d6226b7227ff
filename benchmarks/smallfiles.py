"""Small files: do call-by-call commits pile up data files, and what do finders pay for them?

A store of its own (the ``small`` history size) gets its tracked runs written call by call (start,
one extract, completion). Writing them is the slowest part of the benchmark, so by default a
separate process does it (``benchmarks/writer.py``, its own SparkSession) while the main process
measures the calls; it only adds load, which the side-by-side ratios absorb.

The target is judged by file counts: after the runs, no partition of a table they wrote holds
more live data files than the count at which Delta's auto-compaction compacts it (50). Every
insert adds a file to the partition it writes, so without compaction the hottest partition holds
as many files as the table got commits. The runs only need to give each busy table more commits
than that limit (64 runs), not hundreds of them.

For information, the store's folder is then copied to a twin store, only the twin is compacted with
``pt_spark.store.maintenance.maintain``, and the finders are timed on the two alternately.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.history import HistorySize
from benchmarks.probes import Samples, cpu_timed, data_files, files_per_partition, timed, versions
from benchmarks.scenario import FINDERS, StoreBench, Template, error_text, finder_calls
from pt_spark import ExtractTracker, ProcessTracker, TrackerConfig
from pt_spark.store.maintenance import maintain

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


def file_counts(location: str) -> dict[str, Any]:
    """The latest version and the live data files (in all, and in the fullest partition) per table."""
    counts: dict[str, Any] = {}
    for table, version in versions(location, FINDER_TABLES).items():
        partitions = files_per_partition(location, table)
        counts[table] = {
            "version": version,
            "files": sum(partitions.values()),
            "partitions": len(partitions),
            "most_in_one_partition": max(partitions.values(), default=0),
        }
    return counts


def tracked_runs(bench: StoreBench, runs: int) -> dict[str, Any]:
    """Write ``runs`` tracked runs call by call: start, one extract (``ready``), completion.

    The file counts are taken before the runs (``before``) and after them (``after``).
    """
    folder = f"/bench/{bench.label}/tracked"
    started = time.perf_counter()
    failures = 0
    before = file_counts(bench.location)
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
        if (index + 1) % 10 == 0:
            elapsed = time.perf_counter() - started
            print(f"[tracked runs] {index + 1}/{runs} in {elapsed:.0f} s", flush=True)
    return {
        "runs": runs,
        "failures": failures,
        "seconds": round(time.perf_counter() - started, 1),
        "before": before,
        "after": file_counts(bench.location),
    }


def write_store(
    spark: SparkSession,
    root: Path,
    label: str,
    size: HistorySize,
    bulk_folder: Path,
    runs: int,
    template: Template,
) -> dict[str, Any]:
    """Build a store and write ``runs`` tracked runs into it; return what the measurement needs."""
    bench = StoreBench(spark, label, root, size, bulk_folder, template)
    bench.build()
    tracked = tracked_runs(bench, runs)
    assert bench.run is not None
    return {
        "label": label,
        "schema": bench.config.schema_name,
        "location": bench.location,
        "process_tracking_id": bench.run.process_tracking_id,
        "bulk_path": bench.bulk_path,
        "bulk_status": bench.bulk_status,
        "build": bench.info,
        "tracked": tracked,
        "errors": bench.errors,
    }


class Writer:
    """The tracked runs written by ``benchmarks/writer.py`` in a separate process."""

    def __init__(
        self, root: Path, label: str, size: HistorySize, bulk_folder: Path, runs: int, template: Template
    ) -> None:
        self.out = root / f"{label}_writer.json"
        self.log = root / f"{label}_writer.log"
        template_file = root / "template.json"
        template.save(template_file)
        command = [
            sys.executable,
            str(Path(__file__).resolve().parent / "writer.py"),
            f"--root={root}",
            f"--label={label}",
            f"--history={size.runs},{size.extracts},{size.processes},{size.locations}",
            f"--bulk={bulk_folder}",
            f"--runs={runs}",
            f"--out={self.out}",
            f"--template={template_file}",
        ]
        with self.log.open("w", encoding="utf-8") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def progress(self) -> str:
        """The writer's last progress line."""
        try:
            lines = [
                line for line in self.log.read_text(encoding="utf-8").splitlines() if line.startswith("[")
            ]
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def wait(self, say: Any) -> dict[str, Any]:
        """Wait for the writer; return its result (raises RuntimeError when it failed)."""
        while self.process.poll() is None:
            say(f"waiting for the small-files writer: {self.progress()}")
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                continue
        if self.process.returncode != 0 or not self.out.exists():
            tail = self.log.read_text(encoding="utf-8").splitlines()[-5:] if self.log.exists() else []
            raise RuntimeError(
                f"small-files writer exited with {self.process.returncode}: {' | '.join(tail)}"
            )
        return json.loads(self.out.read_text(encoding="utf-8"))


def _attach(
    spark: SparkSession, schema: str, location: str, run_id: int
) -> tuple[TrackerConfig, ProcessTracker]:
    config = TrackerConfig(schema=schema, location=location)
    return config, ProcessTracker(spark=spark, process_tracking_id=run_id, config=config)


def small_files(spark: SparkSession, written: dict[str, Any], root: Path, reps: int) -> dict[str, Any]:
    """Time every finder on the small-file store and on its compacted twin (for information)."""
    result: dict[str, Any] = {"tracked": written["tracked"], "build": written["build"]}
    twin_location = root / f"{written['label']}_compacted"
    shutil.copytree(written["location"], twin_location)
    run_id = int(written["process_tracking_id"])
    _, run = _attach(spark, written["schema"], written["location"], run_id)
    config, twin_run = _attach(spark, f"{written['schema']}_compacted", str(twin_location), run_id)
    # OPTIMIZE only: VACUUM removes files no snapshot reads any more, it does not change what a reader
    # reads, and it would only lengthen the run.
    seconds, report = timed(lambda: maintain(spark, config=config, vacuum_retention_hours=None))
    result["maintain_s"] = round(seconds, 2)
    result["maintain"] = {table: figures for table, figures in report.items() if figures["files_removed"]}
    result["files"] = {
        table: {
            "small_files": data_files(written["location"], table),
            "compacted": data_files(str(twin_location), table),
        }
        for table in FINDER_TABLES
    }
    before = {name: Samples() for name in FINDERS}
    after = {name: Samples() for name in FINDERS}
    rows: dict[str, list[int]] = {name: [] for name in FINDERS}
    errors: list[dict[str, str]] = []
    sides = (
        (before, finder_calls(run, written["bulk_path"], written["bulk_status"])),
        (after, finder_calls(twin_run, written["bulk_path"], written["bulk_status"])),
    )
    for round_index in range(reps + 1):  # the first round warms both stores up and is not kept
        for samples, calls in sides[:: 1 if round_index % 2 else -1]:  # alternate which side goes first
            for name, call in calls.items():
                try:
                    seconds, cpu, found = cpu_timed(call)
                except Exception as error:  # reported; the other finders go on
                    samples[name].errors.append(error_text(error))
                    errors.append({"store": "small files", "where": name, "error": error_text(error)})
                    continue
                if round_index > 0:
                    samples[name].add(seconds, cpu)
                    rows[name].append(found)
    result["finders"] = {
        name: {"small_files": before[name].as_dict(), "compacted": after[name].as_dict(), "rows": rows[name]}
        for name in FINDERS
    }
    result["errors"] = errors
    return result


__all__ = ["FINDER_TABLES", "Writer", "file_counts", "small_files", "tracked_runs", "write_store"]
