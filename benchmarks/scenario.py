"""One benchmark store: its set-up, the calls it measures, and the floors measured beside them.

Every benchmark store starts as a copy of one ``Template``: a store set up once, holding what all
history sizes share (look-ups, history processes and locations) and the registered benchmark
process (sources, targets, attributes, contacts, filters) with the batch of extracts for the bulk
call. A ``StoreBench`` copies it, bulk-loads the runs and extracts of its history size, and
keeps floor tables for every table the calls change. ``calls`` runs one run's life cycle (start,
dates, count, error, extract, statuses, completion, a new process), ``tracked_jobs`` whole jobs
with a batch of extracts, and ``finders`` every finder,
each through ``measure``: timed, with the Delta commits it made.
"""

from __future__ import annotations

import json
import shutil
import traceback
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from benchmarks.floors import Floor, make_floor, run_floor
from benchmarks.history import HistorySize, load_history, load_shared
from benchmarks.probes import Commits, Samples, commits_between, cpu_timed, last_job_id, timed, versions
from pt_spark import ExtractTracker, ProcessTracker, TrackerConfig, setup
from pt_spark.store.reads import ensure_rows, find_keys
from pt_spark.store.schema import TABLES
from pt_spark.store.store import store_for

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from pt_spark.store.store import Store

BENCH_PROCESS = "bench-process"
REGISTRATION: dict[str, Any] = {
    "process_type": "Extract",
    "actor_name": "bench-actor",
    "tool_name": "Spark",
    "source_object_attributes": {"bench-source": {"bench-object": ["bench_key", "bench_value"]}},
    "target_object_attributes": {"bench-target": {"bench-target-object": ["bench_out"]}},
    "dataset_types": ["bench-dataset"],
    "schedule_frequency": "daily",
}
NEW_PROCESS: dict[str, Any] = {
    "process_type": "Extract",
    "actor_name": "bench-actor",
    "tool_name": "Spark",
    "sources": "bench-source",
    "dataset_types": "bench-dataset",
}
ALL_TABLES = tuple(table.name for table in TABLES)
#: Where the per-call ``ExtractTracker`` creates its extracts (a location the template registers).
CREATED_PATH = "/bench/created"
#: The bulk call moves its 100 extracts back and forth between these statuses. History extracts are
#: never in them (they are ``loaded``/``archived``), so the finders, which look for the bulk batch in
#: its current status, return the same rows whatever the history size.
BULK_STATUSES = ("ready", "error")

#: Call name -> budget multiplier of the floor per table the call changes (issue 6 targets).
CHANGE_CALLS: dict[str, float] = {
    "start of a new process": 1.5,
    "start of an existing process": 1.5,  # issue 15: no read-back job since store v3
    "change_run_status": 1.5,
    "set_process_run_low_high_dates": 1.5,
    "set_process_run_record_count": 1.5,
    "raise_run_error": 1.5,
    "ExtractTracker create": 1.5,
    "change_extract_status": 1.5,
    "bulk_change_extract_status": 3.0,
}
#: Batch sizes of the tracked job (issue 18): a whole job's commits must not grow with them.
JOB_SIZES = (4, 100)
#: Where the tracked job registers its files (the warm-up job creates the location).
JOB_PATH = "/bench/job"


def job_name(files: int) -> str:
    """The measurement name of the tracked job with ``files`` extracts."""
    return f"tracked job, {files} extracts"


#: Finder name -> the main table it reads (its time is shown against that table's floor).
FINDERS: dict[str, str] = {
    "find_extracts_by_filename": "extract_tracking",
    "find_extracts_by_location": "extract_tracking",
    "find_extracts_by_process": "extract_tracking",
    "find_process_contacts": "process",
    "find_process_source_attributes": "process",
    "find_process_target_attributes": "process",
    "find_process_filters": "process",
    "find_process_by_schedule_frequency": "process",
}


def error_text(error: BaseException) -> str:
    """One line naming an error (type and first line of the message)."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first[:300]}"


@dataclass
class Measurement:
    """Everything measured for one call on one store."""

    samples: Samples = field(default_factory=Samples)
    commits: list[Commits] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    jobs: list[int] = field(default_factory=list)

    @property
    def tables(self) -> list[str]:
        """Tables any repetition wrote."""
        return sorted({table for commit in self.commits for table in commit.writes})

    def max_commits(self) -> dict[str, int]:
        """Most write commits per table in one repetition."""
        worst: dict[str, int] = {}
        for commit in self.commits:
            for table, count in commit.writes.items():
                worst[table] = max(worst.get(table, 0), count)
        return worst

    def compactions(self) -> dict[str, int]:
        """Automatic compactions per table, over all repetitions."""
        total: dict[str, int] = {}
        for commit in self.commits:
            for table, count in commit.compactions.items():
                total[table] = total.get(table, 0) + count
        return total

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            **self.samples.as_dict(),
            "tables": self.tables,
            "max_commits": self.max_commits(),
            "auto_compactions": self.compactions(),
            "rows": self.rows,
            "spark_jobs": self.jobs,
        }


def finder_calls(run: ProcessTracker, bulk_path: str, status: str) -> dict[str, Callable[[], int]]:
    """Every finder, as a call returning the number of rows it found (the DataFrame is collected)."""
    return {
        "find_extracts_by_filename": lambda: len(
            run.find_extracts_by_filename("bench_", status=status).collect()
        ),
        "find_extracts_by_location": lambda: len(
            run.find_extracts_by_location(location_path=bulk_path, status=status).collect()
        ),
        "find_extracts_by_process": lambda: len(
            run.find_extracts_by_process(BENCH_PROCESS, status=status).collect()
        ),
        "find_process_contacts": lambda: len(run.find_process_contacts().collect()),
        "find_process_source_attributes": lambda: len(run.find_process_source_attributes().collect()),
        "find_process_target_attributes": lambda: len(run.find_process_target_attributes().collect()),
        "find_process_filters": lambda: len(run.find_process_filters().collect()),
        "find_process_by_schedule_frequency": lambda: len(
            run.find_process_by_schedule_frequency("daily").collect()
        ),
    }


@dataclass(frozen=True)
class Template:
    """The set-up store every benchmark store is a copy of (a Delta folder is self-contained).

    Attributes:
        location: Its folder.
        ids: Ids of the history look-up rows (the same in every copy).
        bulk_ids: Extract ids of the batch the bulk call moves.
        seed_run: ``process_tracking_id`` of the benchmark process's first (completed) run.
        info: Seconds per set-up step.
    """

    location: str
    ids: dict[str, Any]
    bulk_ids: list[int]
    seed_run: int
    info: dict[str, Any]

    def save(self, path: Path) -> None:
        """Write it as JSON (for the writer process)."""
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Template:
        """Read what ``save`` wrote."""
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def make_template(spark: SparkSession, root: Path, size: HistorySize, bulk_folder: Path) -> Template:
    """Set up the template store: shared history, the benchmark process and its 100 extracts."""
    size = replace(size, named=(BENCH_PROCESS,))
    location = root / "template"
    config = TrackerConfig(
        schema=f"pt_bench_template_{root.name[-6:]}".replace("-", "_"), location=str(location)
    )
    info: dict[str, Any] = {}
    seconds, store = timed(lambda: setup(spark, config=config))
    info["setup_s"] = round(seconds, 2)
    before = versions(str(location), ALL_TABLES)
    seconds, _ = timed(lambda: setup(spark, config=config))
    again = commits_between(str(location), before, versions(str(location), ALL_TABLES))
    info.update(setup_again_s=round(seconds, 2), setup_again_commits=sum(again.writes.values()))
    seconds, (ids, steps) = timed(lambda: load_shared(store, size))
    info.update(shared_s=round(seconds, 2), shared=steps)

    def seed() -> tuple[ProcessTracker, list[int]]:
        run = ProcessTracker(spark=spark, process_name=BENCH_PROCESS, config=config, **REGISTRATION)
        _seed_finder_links(store, run)
        run.register_extracts_by_location(str(bulk_folder))
        found = run.find_extracts_by_location(location_path=str(bulk_folder)).collect()
        ExtractTracker(run, filename="created_seed.csv", location_path=CREATED_PATH)
        run.change_run_status("completed")
        return run, sorted(int(row["extract_id"]) for row in found)

    seconds, (run, bulk_ids) = timed(seed)
    info["seed_s"] = round(seconds, 2)
    return Template(
        location=str(location), ids=ids, bulk_ids=bulk_ids, seed_run=int(run.process_tracking_id), info=info
    )


def _seed_finder_links(store: Store, run: ProcessTracker) -> None:
    """Give the benchmark process the contacts and the filter its finders return."""
    process_id = int(run.process.process_id)
    contacts = [{"contact_name": f"bench-contact-{i}", "contact_email": f"c{i}@example.com"} for i in (1, 2)]
    found = find_keys(store, {"source_lkup": [("bench-source",)], "filter_type_lkup": [("eq",)]})
    source_id = int(found["source_lkup"][("bench-source",)])
    ids = ensure_rows(store, {"contact_lkup": contacts})["contact_lkup"]
    objects = find_keys(store, {"source_object_lkup": [(source_id, "bench-object")]})["source_object_lkup"]
    object_id = int(objects[(source_id, "bench-object")])
    attributes = find_keys(store, {"source_object_attribute_lkup": [(object_id, "bench_key")]})
    attribute_id = int(attributes["source_object_attribute_lkup"][(object_id, "bench_key")])
    ensure_rows(
        store,
        {
            "process_contact": [{"process_id": process_id, "contact_id": int(ids[("bench-contact-1",)])}],
            "source_contact": [{"source_id": source_id, "contact_id": int(ids[("bench-contact-2",)])}],
            "process_filter": [
                {
                    "process_id": process_id,
                    "source_object_attribute_id": attribute_id,
                    "filter_type_id": int(found["filter_type_lkup"][("eq",)]),
                    "filter_value_numeric": Decimal(5),
                }
            ],
        },
    )


class StoreBench:
    """A benchmark store of one history size, and what was measured on it."""

    def __init__(
        self,
        spark: SparkSession,
        label: str,
        root: Path,
        size: HistorySize,
        bulk_folder: Path,
        template: Template,
    ) -> None:
        self.spark = spark
        self.template = template
        self.label = label
        self.size = replace(size, named=(BENCH_PROCESS,))  # the benchmark process has its share of history
        self.location = str(root / label)
        self.config = TrackerConfig(
            schema=f"pt_bench_{label}_{root.name[-6:]}".replace("-", "_"), location=self.location
        )
        self.bulk_path = str(bulk_folder)
        self.created_path = CREATED_PATH
        self.floor_folder = str(root / f"{label}_floors")
        self.floors: dict[str, Floor] = {}
        self.floor_samples: dict[str, Samples] = {}
        self.floor_jobs: dict[str, list[int]] = {}
        self.calls_measured: dict[str, Measurement] = {}
        self.warmup: dict[str, Measurement] = {}
        self.errors: list[dict[str, str]] = []
        self.info: dict[str, Any] = {}
        self.run: ProcessTracker | None = None
        self.bulk_ids: list[int] = []
        self.bulk_status = "ready"
        self._tag = 0
        self.store: Store | None = None

    # --- measuring --------------------------------------------------------------------------

    def note_error(self, where: str, error: BaseException) -> None:
        """Record an error without stopping the run."""
        self.errors.append({"store": self.label, "where": where, "error": error_text(error)})
        print(f"  ! {self.label} {where}: {error_text(error)}", flush=True)
        traceback.print_exc(limit=2)

    def measure(self, name: str, action: Callable[[], Any], record: bool = True) -> tuple[bool, Any]:
        """Run ``action`` timed, with the commits it made; return (succeeded, result)."""
        book = self.calls_measured if record else self.warmup
        measurement = book.setdefault(name, Measurement())
        before = versions(self.location, ALL_TABLES)
        first_job = last_job_id(self.spark)
        try:
            seconds, cpu, result = cpu_timed(action)
        except Exception as error:  # reported, and the run goes on
            measurement.samples.errors.append(error_text(error))
            self.note_error(name if record else f"warm-up {name}", error)
            return False, None
        measurement.samples.add(seconds, cpu)
        if first_job >= 0:
            measurement.jobs.append(last_job_id(self.spark) - first_job)
        measurement.commits.append(
            commits_between(self.location, before, versions(self.location, ALL_TABLES))
        )
        if isinstance(result, int) and not isinstance(result, bool):
            measurement.rows.append(result)
        return True, result

    # --- set-up -----------------------------------------------------------------------------

    def tracker(
        self, process_name: str = BENCH_PROCESS, arguments: dict[str, Any] | None = None
    ) -> ProcessTracker:
        """Start a run of ``process_name`` (default: the benchmark process, as registered)."""
        given = REGISTRATION if arguments is None else arguments
        return ProcessTracker(spark=self.spark, process_name=process_name, config=self.config, **given)

    def build(self) -> None:
        """Copy the template and bulk-load this store's history of runs and extracts."""
        seconds, store = timed(self._new_store)
        self.store = store
        self.info["copy_s"] = round(seconds, 2)
        template = self.template
        seconds, history = timed(lambda: load_history(store, self.size, template.ids, seed_runs=1))
        self.info["history"] = history
        self.info["history_s"] = round(seconds, 2)
        self.bulk_ids = list(template.bulk_ids)
        self.run = ProcessTracker(spark=self.spark, process_tracking_id=template.seed_run, config=self.config)

    def _new_store(self) -> Store:
        """A copy of the template store, registered by name as a new session registers a store."""
        shutil.copytree(self.template.location, self.location)
        store = store_for(self.spark, self.config)
        store.ensure_ready()
        return store

    def build_floors(self, tables: list[str]) -> None:
        """Make a floor table for each of ``tables`` (copies of the tracking tables as they are now)."""
        assert self.store is not None
        for table in tables:
            if table in self.floors:
                continue
            try:
                self.floors[table] = make_floor(self.store, table, self.floor_folder)
            except Exception as error:  # reported; calls on that table get no floor
                self.note_error(f"floor {table}", error)

    # --- measurements -----------------------------------------------------------------------

    def measure_floors(self) -> None:
        """Time the floor MERGE of every floor table once."""
        for table, floor in self.floors.items():
            samples = self.floor_samples.setdefault(table, Samples())
            first_job = last_job_id(self.spark)
            try:
                seconds, cpu, _ = cpu_timed(lambda floor=floor: run_floor(self.spark, floor))  # type: ignore[misc]
                samples.add(seconds, cpu)
                self.floor_jobs.setdefault(table, []).append(last_job_id(self.spark) - first_job)
            except Exception as error:
                samples.errors.append(error_text(error))
                self.note_error(f"floor {table}", error)

    def finish_open_run(self) -> None:
        """Complete the current run if a failed step left it running (so the next start is allowed)."""
        if self.run is not None and self.run.status == "running":
            try:
                self.run.change_run_status("completed")
            except Exception as error:
                self.note_error("closing a run left open", error)

    def calls(self, record: bool = True) -> None:
        """One run's life cycle, every step measured (``record=False``: a warm-up, kept apart)."""
        self.finish_open_run()
        self._tag += 1
        tag = f"{'r' if record else 'w'}{self._tag:03d}"
        ok, run = self.measure("start of an existing process", self.tracker, record)
        if not ok:
            return
        self.run = run
        low = datetime(2024, 1, 1) + timedelta(days=self._tag)
        self.measure(
            "set_process_run_low_high_dates",
            lambda: run.set_process_run_low_high_dates(low, low + timedelta(hours=5)),
            record,
        )
        self.measure(
            "set_process_run_record_count", lambda: run.set_process_run_record_count(1000 + self._tag), record
        )
        self.measure("raise_run_error", lambda: run.raise_run_error("Data Error", "benchmark error"), record)
        created = lambda: ExtractTracker(run, filename=f"created_{tag}.csv", location_path=self.created_path)  # noqa: E731
        ok, extract = self.measure("ExtractTracker create", created, record)
        if ok:
            self.measure("change_extract_status", lambda: extract.change_extract_status("ready"), record)
        status = BULK_STATUSES[1] if self.bulk_status == BULK_STATUSES[0] else BULK_STATUSES[0]
        ok, _ = self.measure(
            "bulk_change_extract_status",
            lambda: run.bulk_change_extract_status(self.bulk_ids, status),
            record,
        )
        if ok:
            self.bulk_status = status
        self.measure("change_run_status", lambda: run.change_run_status("completed"), record)
        self.measure(
            "start of a new process",
            lambda: self.tracker(f"bench-new-{self.label}-{tag}", NEW_PROCESS),
            record,
        )

    def tracked_jobs(self, record: bool = True) -> None:
        """One realistic tracked job per size of ``JOB_SIZES``, each measured as a whole."""
        for files in JOB_SIZES:
            self.finish_open_run()
            self._tag += 1
            tag = f"{'r' if record else 'w'}{self._tag:03d}"
            self.measure(job_name(files), lambda files=files, tag=tag: self._job(files, tag), record)  # type: ignore[misc]

    def _job(self, files: int, tag: str) -> int:
        """Start, ``files`` extracts registered with their write audits and moved ready ->
        loading -> loaded, complete with the run's dates and count; return the number of extracts."""
        run = self.tracker()
        self.run = run
        low = datetime(2024, 1, 1) + timedelta(days=self._tag)
        high = low + timedelta(hours=5)
        rows = [
            {
                "filename": f"job_{tag}_{index:03d}.csv",
                "write_low_date": low,
                "write_high_date": high,
                "write_record_count": 1000,
            }
            for index in range(files)
        ]
        ids = run.register_extracts(rows, location_path=JOB_PATH, status="ready")
        run.bulk_change_extract_status(ids, "loading")
        run.bulk_change_extract_status(ids, "loaded")
        run.change_run_status("completed", low_date=low, high_date=high, num_records=1000 * files)
        return len(ids)

    def finders(self, record: bool = True, rounds: int = 1) -> None:
        """Every finder (collected), ``rounds`` times in turn, measured like the calls."""
        if self.run is None:
            return
        calls = finder_calls(self.run, self.bulk_path, self.bulk_status)
        for _ in range(rounds):
            for name, call in calls.items():
                self.measure(name, call, record)


__all__ = [
    "ALL_TABLES",
    "BENCH_PROCESS",
    "CHANGE_CALLS",
    "FINDERS",
    "JOB_SIZES",
    "Measurement",
    "StoreBench",
    "error_text",
    "finder_calls",
    "job_name",
]
