"""Write the small-files store in a process of its own (started by ``benchmarks/run.py``).

Builds a store (a copy of the template, bulk history) and writes the tracked runs call by
call, then saves what the main process needs to measure it (``--out`` JSON). A separate process
keeps its Spark jobs, commits and CPU time out of the main process's measurements.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make the repository importable
    sys.path.insert(0, str(REPO))

from benchmarks.history import HistorySize  # noqa: E402
from benchmarks.scenario import Template  # noqa: E402
from benchmarks.smallfiles import write_store  # noqa: E402
from pt_spark.session import local_spark  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Build the store, write the runs, save the result; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--history", required=True, help="runs,extracts,processes,locations")
    parser.add_argument("--bulk", required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--template", required=True, help="the template's JSON (Template.save)")
    arguments = parser.parse_args(argv)
    runs, extracts, processes, locations = (int(v) for v in arguments.history.split(","))
    size = HistorySize(runs, extracts, processes=processes, locations=locations)
    start = time.perf_counter()
    print(f"[writer] building store '{arguments.label}'", flush=True)
    spark = local_spark("pt_spark_bench_writer")
    template = Template.load(Path(arguments.template))
    result = write_store(
        spark, Path(arguments.root), arguments.label, size, Path(arguments.bulk), arguments.runs, template
    )
    result["writer_s"] = round(time.perf_counter() - start, 1)
    Path(arguments.out).write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"[writer] done in {result['writer_s']} s", flush=True)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
