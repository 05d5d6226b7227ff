"""Judge the measurements against the targets of issue 6, print PASS/FAIL lines, render markdown.

Targets (every figure is a ratio of two timings taken side by side in the same run):

* commits: a state-changing call makes at most one commit per table it changes (automatic
  compactions Delta runs after the call are listed apart); a finder makes none;
* per call: median time <= k x the sum of the floors of the tables the call changes, k = 1.5
  (also for the start of an existing process since store v3; 3 for the bulk status change of
  100 extracts);
* growth: large-history median / small-history median <= 1.5 for state changes, <= 2 for finders;
* small files: after the call-by-call runs, no partition of a table they wrote holds more than
  ``SMALL_FILES_PER_PARTITION`` live data files, the count at which Delta's auto-compaction
  compacts a partition (judged for tables the runs gave at least ``SMALL_FILES_JUDGED_AFTER``
  commits; the finders' times on the store and on its compacted twin are information);
* setup: a new store in <= 20 s, and setup on a current store makes no commit;
* wall time of the whole benchmark: full <= 45 min, quick <= 8 min;
* tracked job (issue 18: start, dates, count, N extracts registered with their write audits and
  moved ready -> loading -> loaded, complete), on the small store: its commits do not grow with
  N (4 vs 100), at most 12 commits for the whole job, and its median wall time <= 10 x one
  floor for N = 4, <= 15 x for N = 100. One floor is the median of the floors of the tables the
  job changes.
"""

from __future__ import annotations

from typing import Any

from benchmarks.probes import median
from benchmarks.scenario import CHANGE_CALLS, FINDERS, JOB_SIZES, job_name

GROWTH_TARGET = {"change": 1.5, "finder": 2.0}
#: Small files: most live data files in one partition of a table written call by call. Delta's
#: auto-compaction (``delta.autoOptimize.autoCompact``) compacts a partition once it holds this many
#: small files (``spark.databricks.delta.autoCompact.minNumFiles``, 50 by default).
SMALL_FILES_PER_PARTITION = 50
#: Commits a table must get during the runs to be judged: past the limit, so compaction must have run.
SMALL_FILES_JUDGED_AFTER = 60
SETUP_TARGET_S = 20.0
#: The benchmark's own wall time, in minutes, by mode.
WALL_TARGET_MIN = {"full": 45.0, "quick": 8.0}
#: Tracked job: wall time target in floors, by number of extracts; most commits for the whole job.
JOB_TIME_TARGET = {4: 10.0, 100: 15.0}
JOB_MAX_COMMITS = 12
README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _verdict(ratio: float | None, target: float) -> str:
    if ratio is None:
        return "ERROR"
    return "PASS" if ratio <= target else "FAIL"


def _floor_sum(
    floors: dict[str, Any], tables: list[str], key: str = "median_s"
) -> tuple[float | None, list[str]]:
    total, missing = 0.0, []
    for table in tables:
        median = floors.get(table, {}).get(key)
        if median is None:
            missing.append(table)
        else:
            total += median
    return (total if tables and not missing else None), missing


def _commit_verdict(results: dict[str, Any], labels: list[str], name: str, commits: dict[str, int]) -> str:
    measured = any(results["calls"][label].get(name, {}).get("samples_s") for label in labels)
    if not measured:
        return "ERROR"
    return "PASS" if commits and all(count <= 1 for count in commits.values()) else "FAIL"


def _per_call(results: dict[str, Any], labels: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name, multiplier in CHANGE_CALLS.items():
        row: dict[str, Any] = {"call": name, "kind": "change", "target_x": multiplier, "sizes": {}}
        tables: set[str] = set()
        commits: dict[str, int] = {}
        compactions: dict[str, int] = {}
        verdicts = []
        for label in labels:
            measured = results["calls"][label].get(name, {})
            tables.update(measured.get("tables", []))
            for table, count in measured.get("max_commits", {}).items():
                commits[table] = max(commits.get(table, 0), count)
            for table, count in measured.get("auto_compactions", {}).items():
                compactions[table] = compactions.get(table, 0) + count
        for label in labels:
            measured = results["calls"][label].get(name, {})
            floor, missing = _floor_sum(results["floors"][label], sorted(tables))
            ratio = _ratio(measured.get("median_s"), floor)
            verdicts.append(_verdict(ratio, multiplier))
            floor_cpu, _ = _floor_sum(results["floors"][label], sorted(tables), "median_cpu_s")
            row["sizes"][label] = {
                "median_s": measured.get("median_s"),
                "floor_s": floor,
                "ratio": ratio,
                "cpu_ratio": _ratio(measured.get("median_cpu_s"), floor_cpu),
                "no_floor": missing,
                "spark_jobs": median(measured.get("spark_jobs") or []),
            }
        row.update(
            tables=sorted(tables),
            commits=commits,
            auto_compactions=compactions,
            commit_result=_commit_verdict(results, labels, name, commits),
            time_result="ERROR"
            if "ERROR" in verdicts
            else ("PASS" if all(v == "PASS" for v in verdicts) else "FAIL"),
        )
        rows.append(row)
    for name, table in FINDERS.items():
        row = {"call": name, "kind": "finder", "target_x": None, "sizes": {}, "tables": [], "reads": table}
        commits = {}
        for label in labels:
            measured = results["calls"][label].get(name, {})
            for written, count in measured.get("max_commits", {}).items():
                commits[written] = max(commits.get(written, 0), count)
            floor = results["floors"][label].get(table, {}).get("median_s")
            floor_cpu = results["floors"][label].get(table, {}).get("median_cpu_s")
            row["sizes"][label] = {
                "median_s": measured.get("median_s"),
                "floor_s": floor,
                "ratio": _ratio(measured.get("median_s"), floor),
                "cpu_ratio": _ratio(measured.get("median_cpu_s"), floor_cpu),
                "spark_jobs": median(measured.get("spark_jobs") or []),
            }
        row.update(
            commits=commits,
            auto_compactions={},
            commit_result="PASS" if not commits else "FAIL",
            time_result="info",
        )
        rows.append(row)
    return rows


def _growth(results: dict[str, Any], small: str, large: str) -> list[dict[str, Any]]:
    rows = []
    for name, kind in [*((n, "change") for n in CHANGE_CALLS), *((n, "finder") for n in FINDERS)]:
        low = results["calls"][small].get(name, {})
        high = results["calls"][large].get(name, {})
        ratio = _ratio(high.get("median_s"), low.get("median_s"))
        target = GROWTH_TARGET[kind]
        rows.append(
            {
                "call": name,
                "kind": kind,
                "small_s": low.get("median_s"),
                "large_s": high.get("median_s"),
                "ratio": ratio,
                "cpu_ratio": _ratio(high.get("median_cpu_s"), low.get("median_cpu_s")),
                "target_x": target,
                "result": _verdict(ratio, target),
            }
        )
    return rows


def _small_files(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Judge each table's fullest partition after the call-by-call runs."""
    measured = results.get("small_files") or {}
    tracked = measured.get("tracked", {})
    before, after = tracked.get("before", {}), tracked.get("after", {})
    compacted = measured.get("files", {})
    rows = []
    for table in sorted(set(before) | set(after)):
        start, end = before.get(table), after.get(table)
        row: dict[str, Any] = {"table": table, "target": SMALL_FILES_PER_PARTITION}
        if start is None or end is None:
            rows.append({**row, "commits": None, "files": None, "most": None, "result": "ERROR"})
            continue
        commits = end["version"] - start["version"]
        row.update(
            commits=commits,
            files=end["files"],
            partitions=end["partitions"],
            most=end["most_in_one_partition"],
            compacted=compacted.get(table, {}).get("compacted"),
        )
        if commits < SMALL_FILES_JUDGED_AFTER:
            row["result"] = "info"  # too few commits to pile files up past the limit
        else:
            row["result"] = "PASS" if end["most_in_one_partition"] <= SMALL_FILES_PER_PARTITION else "FAIL"
        rows.append(row)
    return rows


def _small_files_finders(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The finders' times on the small-file store against its compacted twin (information)."""
    measured = results.get("small_files") or {}
    rows = []
    for name in FINDERS:
        finder = measured.get("finders", {}).get(name, {})
        before, after = finder.get("small_files", {}), finder.get("compacted", {})
        rows.append(
            {
                "finder": name,
                "small_files_s": before.get("median_s"),
                "compacted_s": after.get("median_s"),
                "ratio": _ratio(before.get("median_s"), after.get("median_s")),
                "cpu_ratio": _ratio(before.get("median_cpu_s"), after.get("median_cpu_s")),
            }
        )
    return rows


def _setup_and_wall(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Judge the template store's setup, a second setup on it, and the benchmark's wall time."""
    meta = results.get("meta", {})
    template = meta.get("template", {})
    again = template.get("setup_again_commits")
    rows = [
        {
            "what": "setup of a new store",
            "value": template.get("setup_s"),
            "unit": "s",
            "target": SETUP_TARGET_S,
            "result": _verdict(template.get("setup_s"), SETUP_TARGET_S),
        },
        {
            "what": "setup on a current store",
            "value": again,
            "unit": "commits",
            "target": 0,
            "result": _verdict(again, 0),
        },
    ]
    target = WALL_TARGET_MIN.get(str(meta.get("mode")))
    wall = meta.get("wall_s")
    minutes = None if wall is None else wall / 60
    rows.append(
        {
            "what": "benchmark wall time",
            "value": minutes,
            "unit": "min",
            "target": target,
            "result": "info" if target is None else _verdict(minutes, target),
        }
    )
    return rows


def _one_floor(floors: dict[str, Any], tables: list[str]) -> float | None:
    """The median of the floors of ``tables`` (None when one of them has no floor)."""
    values = [floors.get(table, {}).get("median_s") for table in tables]
    if not values or any(value is None for value in values):
        return None
    return median(value for value in values if value is not None)


def _job_row(results: dict[str, Any], label: str, files: int) -> dict[str, Any]:
    measured = results["calls"].get(label, {}).get(job_name(files), {})
    tables = list(measured.get("tables", []))
    commits = dict(measured.get("max_commits", {}))
    ran = bool(measured.get("samples_s"))
    floor = _one_floor(results["floors"].get(label, {}), tables)
    ratio = _ratio(measured.get("median_s"), floor)
    target = JOB_TIME_TARGET.get(files, max(JOB_TIME_TARGET.values()))
    total = sum(commits.values()) if ran else None
    return {
        "job": job_name(files),
        "files": files,
        "median_s": measured.get("median_s"),
        "floor_s": floor,
        "ratio": ratio,
        "cpu_ratio": None,
        "target_x": target,
        "time_result": _verdict(ratio, target),
        "tables": tables,
        "commits": commits,
        "auto_compactions": dict(measured.get("auto_compactions", {})),
        "total_commits": total,
        "commit_target": JOB_MAX_COMMITS,
        "commit_result": "ERROR" if total is None else ("PASS" if total <= JOB_MAX_COMMITS else "FAIL"),
    }


def evaluate_tracked_job(results: dict[str, Any], label: str) -> dict[str, Any]:
    """Judge the tracked job on store ``label``: commits per size, growth of commits, time."""
    rows = [_job_row(results, label, files) for files in JOB_SIZES]
    fewest, most = rows[0], rows[-1]
    if fewest["total_commits"] is None or most["total_commits"] is None:
        growth = "ERROR"
    else:
        tables = set(fewest["commits"]) | set(most["commits"])
        grows = any(most["commits"].get(t, 0) > fewest["commits"].get(t, 0) for t in tables)
        growth = "FAIL" if grows else "PASS"
    judged = {"store": label, "rows": rows, "growth_result": growth}
    results["tracked_job"] = judged
    return judged


def _job_verdicts(judged: dict[str, Any]) -> list[str]:
    verdicts = [judged["growth_result"]]
    for row in judged["rows"]:
        verdicts += [row["commit_result"], row["time_result"]]
    return verdicts


def summarize_verdicts(verdicts: list[str]) -> dict[str, int]:
    """Count PASS, FAIL and ERROR verdicts ("info" is not a verdict)."""
    return {v: verdicts.count(v) for v in ("PASS", "FAIL", "ERROR")}


def evaluate(results: dict[str, Any], small: str, large: str) -> dict[str, Any]:
    """Add the judged tables (``per_call``, ``growth``, ``small_files_table``, ``summary``)."""
    results["per_call"] = _per_call(results, [small, large])
    results["growth"] = _growth(results, small, large)
    results["small_files_table"] = _small_files(results) if results.get("small_files") else []
    results["small_files_finders"] = _small_files_finders(results) if results.get("small_files") else []
    results["setup_and_wall"] = _setup_and_wall(results)
    verdicts = [r["commit_result"] for r in results["per_call"]]
    verdicts += [r["time_result"] for r in results["per_call"] if r["time_result"] != "info"]
    verdicts += [r["result"] for r in results["growth"]]
    verdicts += [r["result"] for r in results["small_files_table"] + results["setup_and_wall"]]
    verdicts += _job_verdicts(evaluate_tracked_job(results, small))
    results["summary"] = summarize_verdicts(verdicts)
    return results


# --- text -----------------------------------------------------------------------------------------


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _xc(figures: dict[str, Any]) -> str:
    """Wall-time ratio, with the CPU-time ratio in brackets."""
    text = _x(figures.get("ratio"))
    if figures.get("cpu_ratio") is not None:
        text += f" (cpu {_x(figures['cpu_ratio'])})"
    return text


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _jobs(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "n/a"


def _files(row: dict[str, Any]) -> str:
    """Files of a small-files row: the fullest partition, in all, and the commits that made them."""
    if row.get("most") is None:
        return "no file counts"
    return (
        f"{row['most']} files in its fullest partition (target <= {row['target']}), {row['files']} "
        f"in {row['partitions']} partitions, after {row['commits']} commits"
    )


def _amount(row: dict[str, Any]) -> str:
    value = row.get("value")
    if value is None:
        return "n/a"
    return f"{value:.1f} {row['unit']}" if isinstance(value, float) else f"{value} {row['unit']}"


def _target(row: dict[str, Any]) -> str:
    return "no target" if row["target"] is None else f"target <= {row['target']:g}"


def _commits(row: dict[str, Any]) -> str:
    text = ", ".join(f"{t}:{n}" for t, n in sorted(row["commits"].items())) or "none"
    if row.get("auto_compactions"):
        text += (
            " (+auto-compaction "
            + ", ".join(f"{t}:{n}" for t, n in sorted(row["auto_compactions"].items()))
            + ")"
        )
    return text


def _job_commits(row: dict[str, Any]) -> str:
    total = "n/a" if row["total_commits"] is None else str(row["total_commits"])
    return f"{total} ({_commits(row)})"


def tracked_job_lines(results: dict[str, Any]) -> list[str]:
    """The PASS/FAIL lines of the tracked job."""
    judged = results["tracked_job"]
    out = []
    for row in judged["rows"]:
        out.append(
            f"{row['commit_result']:5} tracked job {row['files']:>3} extracts: {_job_commits(row)} commits "
            f"(target <= {row['commit_target']})"
        )
        out.append(
            f"{row['time_result']:5} tracked job {row['files']:>3} extracts: {_s(row['median_s'])} s = "
            f"{_x(row['ratio'])} one floor of {_s(row['floor_s'])} s (target <= {row['target_x']}x)"
        )
    totals = " vs ".join(f"{row['total_commits']} (N={row['files']})" for row in judged["rows"])
    out.append(f"{judged['growth_result']:5} tracked job commits do not grow with N: {totals}")
    return out


def lines(results: dict[str, Any], small: str, large: str) -> list[str]:
    """The PASS/FAIL lines printed at the end of a run."""
    out = []
    for row in results["per_call"]:
        out.append(f"{row['commit_result']:5} commits    {row['call']:36} {_commits(row)}")
        ratios = " / ".join(f"{label} {_xc(row['sizes'][label])}" for label in (small, large))
        if row["kind"] == "change":
            target = f"target <= {row['target_x']}x"
            out.append(f"{row['time_result']:5} per call   {row['call']:36} {ratios} of the floor ({target})")
        else:
            out.append(
                f"{'info':5} per call   {row['call']:36} {ratios} of the {row['reads']} floor (no target)"
            )
    for row in results["growth"]:
        out.append(f"{row['result']:5} growth     {row['call']:36} {_xc(row)} (target <= {row['target_x']}x)")
    for row in results["small_files_table"]:
        out.append(f"{row['result']:5} small files {row['table']:35} {_files(row)}")
    for row in results.get("small_files_finders", []):
        out.append(f"{'info':5} small files {row['finder']:35} {_xc(row)} of the compacted twin")
    for row in results.get("setup_and_wall", []):
        out.append(f"{row['result']:5} {row['what']:47} {_amount(row)} ({_target(row)})")
    if "tracked_job" in results:
        out += tracked_job_lines(results)
    summary = results["summary"]
    out.append(f"summary: {summary['PASS']} PASS, {summary['FAIL']} FAIL, {summary['ERROR']} ERROR")
    return out


def markdown(results: dict[str, Any], small: str, large: str) -> str:
    """The results section of ``benchmarks/README.md``."""
    meta = results["meta"]
    sizes = meta["sizes"]
    machine = meta["machine"]
    out = [
        f"Last run: **{meta['date']}**, mode `{meta['mode']}`, wall time {meta['wall_s'] / 60:.1f} min; "
        f"{machine['cpus']} cores, {machine['platform']}, Python {machine['python']}, "
        f"pyspark {machine['pyspark']}, delta-spark {machine['delta_spark']}; load average (1/5/15 min) "
        f"{machine['load_start']} at the start, {machine['load_end']} at the end.",
        "",
        f"History: `{small}` = {sizes[small]['runs']:,} runs / {sizes[small]['extracts']:,} extracts, "
        f"`{large}` = {sizes[large]['runs']:,} runs / {sizes[large]['extracts']:,} extracts; "
        f"{meta['reps']} repetitions (medians; each finder timed {meta.get('finder_rounds', 1)} "
        f"times per repetition); small files after {sizes.get('tracked_runs', 0)} tracked runs.",
        "",
        f"Summary: **{results['summary']['PASS']} PASS, {results['summary']['FAIL']} FAIL, "
        f"{results['summary']['ERROR']} ERROR**.",
        "",
        "### Per call (median seconds; ratio = call / sum of the floors of the tables it changes, "
        "CPU-time ratio in brackets)",
        "",
        f"| call | commits per table | {small} s | {small} floor s | {small} ratio | {large} s "
        f"| {large} floor s | {large} ratio | Spark jobs ({small}) | target | time | commits |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in results["per_call"]:
        a, b = row["sizes"][small], row["sizes"][large]
        target = f"<= {row['target_x']}x" if row["target_x"] else f"({row['reads']} floor)"
        cells = [
            row["call"],
            _commits(row),
            *(_s(a["median_s"]), _s(a["floor_s"]), _xc(a)),
            *(_s(b["median_s"]), _s(b["floor_s"]), _xc(b)),
            _jobs(a.get("spark_jobs")),
            target,
            row["time_result"],
            row["commit_result"],
        ]
        out.append("| " + " | ".join(cells) + " |")
    out += [
        "",
        "### Growth with history (median seconds; ratio = large / small)",
        "",
        f"| call | {small} s | {large} s | ratio | target | result |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in results["growth"]:
        out.append(
            f"| {row['call']} | {_s(row['small_s'])} | {_s(row['large_s'])} | {_xc(row)} "
            f"| <= {row['target_x']}x | {row['result']} |"
        )
    if results["small_files_table"]:
        out += [
            "",
            f"### Small files after {sizes.get('tracked_runs', 0)} call-by-call runs (live data files; "
            f"judged: the fullest partition <= {SMALL_FILES_PER_PARTITION} files, for tables given at "
            f"least {SMALL_FILES_JUDGED_AFTER} commits)",
            "",
            "| table | commits | files in the fullest partition | files | partitions | after OPTIMIZE "
            "| result |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for row in results["small_files_table"]:
            out.append(
                f"| {row['table']} | {row['commits']} | {row['most']} | {row['files']} "
                f"| {row.get('partitions')} | {row.get('compacted')} | {row['result']} |"
            )
        out += [
            "",
            "Finders on the small-file store against its compacted twin (median seconds, information): "
            + "; ".join(
                f"`{row['finder']}` {_s(row['small_files_s'])} / {_s(row['compacted_s'])} = {_xc(row)}"
                for row in results.get("small_files_finders", [])
            )
            + ".",
        ]
    if results.get("setup_and_wall"):
        out += [
            "",
            "### Setup and wall time",
            "",
            "| figure | value | target | result |",
            "|---|---:|---:|---|",
        ]
        for row in results["setup_and_wall"]:
            out.append(f"| {row['what']} | {_amount(row)} | {_target(row)} | {row['result']} |")
    if "tracked_job" in results:
        out += tracked_job_markdown(results["tracked_job"])
    floors = results["floors"]
    out += [
        "",
        "### Floors (median seconds of the bare one-row MERGE; rows in the floor table)",
        "",
        f"| table | {small} s | {small} rows | {large} s | {large} rows | Spark jobs ({small}) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for table in sorted(set(floors[small]) | set(floors[large])):
        a, b = floors[small].get(table, {}), floors[large].get(table, {})
        out.append(
            f"| {table} | {_s(a.get('median_s'))} | {_n(a.get('rows'))} | {_s(b.get('median_s'))} "
            f"| {_n(b.get('rows'))} | {_jobs(median(a.get('spark_jobs') or []))} |"
        )
    if results["errors"]:
        out += [
            "",
            f"Errors ({len(results['errors'])}): "
            + "; ".join(f"{e['store']} {e['where']}: {e['error']}" for e in results["errors"][:10]),
        ]
    return "\n".join(out) + "\n"


def tracked_job_markdown(judged: dict[str, Any]) -> list[str]:
    """The tracked-job table of the results section."""
    out = [
        "",
        f"### Tracked job on the `{judged['store']}` store (median seconds; ratio = job / one floor, "
        "the median floor of the tables it changes)",
        "",
        "| job | commits (per table) | s | one floor s | ratio | time target | time "
        "| commit target | commits |",
        "|---|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for row in judged["rows"]:
        cells = [
            row["job"],
            _job_commits(row),
            _s(row["median_s"]),
            _s(row["floor_s"]),
            _x(row["ratio"]),
            f"<= {row['target_x']}x",
            row["time_result"],
            f"<= {row['commit_target']}",
            row["commit_result"],
        ]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", f"Commits do not grow with N: **{judged['growth_result']}**."]
    return out


def update_readme(path: str, section: str) -> bool:
    """Replace the text between the results markers of the README; return whether it was found."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if README_START not in text or README_END not in text:
        return False
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"{head}{README_START}\n{section}{README_END}{tail}")
    return True


__all__ = [
    "GROWTH_TARGET",
    "JOB_MAX_COMMITS",
    "JOB_TIME_TARGET",
    "SETUP_TARGET_S",
    "SMALL_FILES_JUDGED_AFTER",
    "SMALL_FILES_PER_PARTITION",
    "WALL_TARGET_MIN",
    "evaluate",
    "evaluate_tracked_job",
    "lines",
    "markdown",
    "summarize_verdicts",
    "tracked_job_lines",
    "tracked_job_markdown",
    "update_readme",
]
