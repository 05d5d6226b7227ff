"""Run the pt_spark benchmark: ``python benchmarks/run.py [--quick] [--out PATH]``.

In one run, on one local SparkSession, it builds two stores with a small and a large bulk-loaded
history, measures every tracker call and finder on both (repetition by repetition, alternating
the stores, each repetition beside a bare one-row MERGE floor per table), then writes hundreds of
tracked runs call by call and compares the finders with a compacted twin of that store. Whole
tracked jobs with a batch of 4 and of 100 extracts are measured on the small store (issue 18;
``--tracked-job-only`` measures only them, on the small store, in a few minutes). It writes
``benchmarks/results/latest.json``, prints one PASS/FAIL line per target, and (full mode) rewrites
the results section of ``benchmarks/README.md``. A failing measurement is reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script (make bench): make the repository importable
    sys.path.insert(0, str(REPO))

from benchmarks.history import HistorySize  # noqa: E402
from benchmarks.probes import CPU  # noqa: E402
from benchmarks.report import (  # noqa: E402
    evaluate,
    evaluate_tracked_job,
    lines,
    markdown,
    summarize_verdicts,
    tracked_job_lines,
    update_readme,
)
from benchmarks.scenario import FINDERS, StoreBench, Template, error_text, make_template  # noqa: E402
from benchmarks.smallfiles import Writer, small_files, write_store  # noqa: E402
from pt_spark.session import local_spark  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "latest.json"
JOB_RESULTS = REPO / "benchmarks" / "results" / "tracked_job.json"
README = REPO / "benchmarks" / "README.md"
SMALL, LARGE, FILES = "small", "large", "files"


@dataclass(frozen=True)
class Plan:
    """Sizes and repetitions of one benchmark mode."""

    mode: str
    small: HistorySize
    large: HistorySize
    reps: int
    tracked_runs: int
    bulk_extracts: int = 100
    #: How often each finder is timed per repetition. Finders are sub-second reads measured beside
    #: the small-files writer, so one sample swings up to 4x; more samples steady their median.
    finder_rounds: int = 1


FULL = Plan(
    "full",
    HistorySize(1_000, 1_000),
    HistorySize(100_000, 1_000_000),
    reps=5,
    tracked_runs=64,
    finder_rounds=3,
)
QUICK = Plan(
    "quick",
    HistorySize(100, 100, processes=20, locations=10),
    HistorySize(10_000, 100_000, processes=20, locations=10),
    reps=3,
    tracked_runs=64,
)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller history, fewer repetitions (~11 min)")
    parser.add_argument(
        "--out", help=f"JSON results file (default {RESULTS}; {JOB_RESULTS.name} with --tracked-job-only)"
    )
    parser.add_argument("--reps", type=int, help="repetitions per measurement (default 5, quick 3)")
    parser.add_argument("--tracked-runs", type=int, help="call-by-call runs before the small-files test")
    parser.add_argument(
        "--finder-rounds", type=int, help="times each finder is timed per repetition (default 3, quick 1)"
    )
    parser.add_argument(
        "--sizes",
        metavar="R,E,R,E",
        help="history sizes: small runs, small extracts, large runs, large extracts (default by mode)",
    )
    parser.add_argument(
        "--readme",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rewrite the results section of benchmarks/README.md (default: in full mode only)",
    )
    parser.add_argument(
        "--tracked-job-only",
        action="store_true",
        help="measure only the tracked jobs (4 and 100 extracts) on the small store; no README rewrite",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary stores (prints where)")
    parser.add_argument(
        "--serial",
        action="store_true",
        help="write the small-files store after the other measurements, in this process (slower)",
    )
    return parser.parse_args(argv)


def _plan(arguments: argparse.Namespace) -> Plan:
    plan = QUICK if arguments.quick else FULL
    if arguments.tracked_job_only:
        plan = replace(plan, mode=f"{plan.mode}, tracked job only", tracked_runs=0)
    if arguments.reps:
        plan = replace(plan, reps=arguments.reps)
    if arguments.tracked_runs is not None:
        plan = replace(plan, tracked_runs=arguments.tracked_runs)
    if arguments.finder_rounds:
        plan = replace(plan, finder_rounds=arguments.finder_rounds)
    if arguments.sizes:
        small_runs, small_extracts, large_runs, large_extracts = (int(v) for v in arguments.sizes.split(","))
        plan = replace(
            plan,
            small=replace(plan.small, runs=small_runs, extracts=small_extracts),
            large=replace(plan.large, runs=large_runs, extracts=large_extracts),
        )
    return plan


def _machine() -> dict[str, Any]:
    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
        "pyspark": version("pyspark"),
        "delta_spark": version("delta-spark"),
        "load_start": _load(),
    }


def _load() -> str:
    try:
        return " / ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "?"


class Clock:
    """Prints progress with the elapsed wall time."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.start

    def say(self, text: str) -> None:
        """Print ``text`` with the elapsed time."""
        print(f"[{self.elapsed / 60:5.1f} min] {text}", flush=True)


def _bulk_folder(root: Path, count: int) -> Path:
    folder = root / "bulk_extracts"
    folder.mkdir()
    for index in range(count):
        (folder / f"bench_{index:03d}.csv").write_text("id\n1\n", encoding="utf-8")
    return folder


def _template(spark: Any, plan: Plan, root: Path, bulk: Path, clock: Clock) -> Template:
    """Set up the store every benchmark store starts as a copy of (setup and seeding run once)."""
    if (plan.small.processes, plan.small.locations) != (plan.large.processes, plan.large.locations):
        raise ValueError("both history sizes must have the same processes and locations (the template's)")
    clock.say("setting up the template store: shared history, the benchmark process, its extracts")
    template = make_template(spark, root, plan.small, bulk)
    clock.say(f"  template: {template.info}")
    return template


def _build(benches: list[StoreBench], clock: Clock) -> list[StoreBench]:
    built = []
    for bench in benches:
        clock.say(
            f"building store '{bench.label}' ({bench.size.runs:,} runs, {bench.size.extracts:,} extracts)"
        )
        try:
            bench.build()
        except Exception as error:  # reported; the other store is still measured
            bench.note_error("build", error)
            continue
        clock.say(f"  built: {bench.info}")
        built.append(bench)
    return built


def _warm_up_and_floors(benches: list[StoreBench], clock: Clock, jobs_only: bool = False) -> None:
    for bench in benches:
        clock.say(f"warm-up on '{bench.label}'")
        if not jobs_only:
            bench.calls(record=False)
            bench.finders(record=False)
        if bench.label == SMALL:
            bench.tracked_jobs(record=False)
    tables = {table for bench in benches for m in bench.warmup.values() for table in m.tables}
    if not jobs_only:
        tables |= set(FINDERS.values())
    for bench in benches:
        clock.say(f"floor tables on '{bench.label}': {', '.join(sorted(tables))}")
        bench.build_floors(sorted(tables))
        bench.measure_floors()  # warms the floor statements up; not kept
        bench.floor_samples.clear()


def _measure(benches: list[StoreBench], plan: Plan, clock: Clock, jobs_only: bool = False) -> None:
    for rep in range(plan.reps):
        for bench in benches:
            clock.say(f"repetition {rep + 1}/{plan.reps} on '{bench.label}'")
            bench.measure_floors()
            if not jobs_only:
                bench.calls()
                bench.finders(rounds=plan.finder_rounds)
            if bench.label == SMALL:
                bench.tracked_jobs()


def _results(
    plan: Plan, template: Template, benches: list[StoreBench], small_figures: dict[str, Any] | None
) -> dict[str, Any]:
    by_label = {bench.label: bench for bench in benches}
    floors: dict[str, Any] = {}
    calls: dict[str, Any] = {}
    for label in (SMALL, LARGE):
        bench = by_label.get(label)
        floors[label] = {}
        calls[label] = {}
        if bench is None:
            continue
        for table, samples in bench.floor_samples.items():
            floors[label][table] = {
                **samples.as_dict(),
                "rows": bench.floors[table].rows,
                "spark_jobs": bench.floor_jobs.get(table, []),
            }
        calls[label] = {name: measured.as_dict() for name, measured in bench.calls_measured.items()}
    return {
        "meta": {
            "mode": plan.mode,
            "reps": plan.reps,
            "finder_rounds": plan.finder_rounds,
            "sizes": {
                SMALL: {"runs": plan.small.runs, "extracts": plan.small.extracts},
                LARGE: {"runs": plan.large.runs, "extracts": plan.large.extracts},
                "tracked_runs": plan.tracked_runs,
                "bulk_extracts": plan.bulk_extracts,
            },
            "template": template.info,
            "stores": {bench.label: bench.info for bench in benches},
        },
        "floors": floors,
        "calls": calls,
        "small_files": small_figures,
        "errors": [error for bench in benches for error in bench.errors],
    }


def _small_files_phase(
    spark: Any, plan: Plan, root: Path, bulk: Path, template: Template, writer: Writer | None, clock: Clock
) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """Get the written small-files store (from the writer, or written now) and measure it."""
    try:
        if writer is not None:
            written = writer.wait(clock.say)
        else:
            clock.say(f"small files: writing {plan.tracked_runs} tracked runs call by call")
            written = write_store(spark, root, FILES, plan.small, bulk, plan.tracked_runs, template)
        tracked = written["tracked"]
        clock.say(
            f"small files: {tracked['runs']} tracked runs written in {tracked['seconds']:.0f} s; measuring"
        )
        figures = small_files(spark, written, root, plan.reps)
    except Exception as error:  # reported; the other figures are still written
        print(f"  ! small files: {error_text(error)}", flush=True)
        return None, [{"store": FILES, "where": "small files", "error": error_text(error)}]
    return figures, list(written.get("errors", [])) + figures.pop("errors", [])


def _report(results: dict[str, Any], arguments: argparse.Namespace, clock: Clock) -> None:
    """Judge the figures, write them as JSON and print the PASS/FAIL lines."""
    if arguments.tracked_job_only:
        verdicts = evaluate_tracked_job(results, SMALL)
        results["summary"] = summarize_verdicts(
            [verdicts["growth_result"]]
            + [row[key] for row in verdicts["rows"] for key in ("commit_result", "time_result")]
        )
        summary = results["summary"]
        text = [
            *tracked_job_lines(results),
            f"summary: {summary['PASS']} PASS, {summary['FAIL']} FAIL, {summary['ERROR']} ERROR",
        ]
    else:
        evaluate(results, SMALL, LARGE)
        text = lines(results, SMALL, LARGE)
    out = Path(arguments.out or (JOB_RESULTS if arguments.tracked_job_only else RESULTS))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print("\n".join(text))
    clock.say(f"results written to {out}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0 when it ran (whatever the verdicts), 1 when it could not."""
    arguments = _arguments(argv)
    plan = _plan(arguments)
    clock = Clock()
    machine = _machine()
    date = datetime.now().strftime("%Y-%m-%d %H:%M")
    clock.say(f"pt_spark benchmark, {plan.mode} mode: {plan}")
    spark = local_spark("pt_spark_bench")
    CPU.now()  # finds this session's JVM before the writer process starts its own
    root = Path(tempfile.mkdtemp(prefix="pt_spark_bench_"))
    writer: Writer | None = None
    try:
        bulk = _bulk_folder(root, plan.bulk_extracts)
        template = _template(spark, plan, root, bulk, clock)
        jobs_only = bool(arguments.tracked_job_only)
        if plan.tracked_runs > 0 and not arguments.serial:
            clock.say(f"starting the small-files writer ({plan.tracked_runs} tracked runs, separate process)")
            writer = Writer(root, FILES, plan.small, bulk, plan.tracked_runs, template)
        benches = [StoreBench(spark, SMALL, root, plan.small, bulk, template)]
        if not jobs_only:
            benches.append(StoreBench(spark, LARGE, root, plan.large, bulk, template))
        built = _build(benches, clock)
        if not built:
            clock.say("no store could be built; see the errors above")
            return 1
        _warm_up_and_floors(built, clock, jobs_only)
        _measure(built, plan, clock, jobs_only)
        small_figures: dict[str, Any] | None = None
        small_errors: list[dict[str, str]] = []
        if plan.tracked_runs > 0:
            small_figures, small_errors = _small_files_phase(spark, plan, root, bulk, template, writer, clock)
        results = _results(plan, template, benches, small_figures)
        results["errors"] += small_errors
        results["meta"]["small_files_writer"] = "separate process" if writer is not None else "serial"
    finally:
        if writer is not None and writer.process.poll() is None:
            writer.process.terminate()
        if arguments.keep:
            print(f"stores kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    machine["load_end"] = _load()
    results["meta"].update(date=date, machine=machine, wall_s=round(clock.elapsed, 1))
    _report(results, arguments, clock)
    write_readme = arguments.readme if arguments.readme is not None else plan.mode == "full"
    if write_readme:
        if update_readme(str(README), markdown(results, SMALL, LARGE)):
            clock.say(f"results section of {README} updated")
        else:
            clock.say(f"{README} has no results markers; not updated")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # the last resort: say what broke
        print(f"benchmark failed: {error_text(error)}", file=sys.stderr)
        raise
