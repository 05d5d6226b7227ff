"""The benchmark's own logic: how it judges figures, counts commits and files, and plans a run.

``make bench`` itself takes most of an hour, so the suite checks the parts whose mistakes would
print a wrong PASS/FAIL: the verdicts on hand-made figures, and the commit/file counters against
a real Delta table and Delta's own ``DESCRIBE HISTORY`` / ``DESCRIBE DETAIL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from benchmarks.probes import commits_between, data_files, files_per_partition, versions
from benchmarks.report import (
    SMALL_FILES_JUDGED_AFTER,
    SMALL_FILES_PER_PARTITION,
    evaluate,
    lines,
    markdown,
    tracked_job_lines,
    update_readme,
)
from benchmarks.run import FULL, QUICK, _arguments, _plan
from benchmarks.scenario import CHANGE_CALLS, FINDERS, JOB_SIZES, job_name

SMALL, LARGE = "small", "large"
START = "start of an existing process"
STATUS = "change_run_status"
FINDER = "find_process_contacts"
#: A tracked job's commits as the batch API makes them (4 extract tables, 3 run-level writes).
JOB_COMMITS = {"process_tracking": 4, "process": 2, "extract_tracking": 3}
JOB_VERDICTS = 2 * len(JOB_SIZES) + 1  # commits and time per size, and the growth of commits
#: Tables the small-files runs gave 70 commits (judged) and one they gave 1 (information).
BUSY_TABLES, QUIET_TABLE = ("extract_tracking", "process_tracking"), "location_lkup"
SETUP_VERDICTS = 3  # a new store's setup, setup on a current store, the benchmark's wall time


def _counts(version: int, most: int = 2) -> dict[str, int]:
    """One table's file counts as ``benchmarks.smallfiles.file_counts`` records them."""
    return {"version": version, "files": most + 1, "partitions": 2, "most_in_one_partition": most}


def _tracked(most: int = 2) -> dict[str, Any]:
    """The small-files runs' file counts before and after them."""
    before = {table: _counts(10) for table in (*BUSY_TABLES, QUIET_TABLE)}
    after = {table: _counts(80, most) for table in BUSY_TABLES}
    after[QUIET_TABLE] = _counts(11, most)
    return {"runs": 70, "before": before, "after": after}


def _measured(seconds: float, tables: dict[str, int] | None = None) -> dict[str, Any]:
    """One call's figures on one store, as the benchmark records them."""
    commits = tables or {}
    return {
        "median_s": seconds,
        "median_cpu_s": seconds,
        "samples_s": [seconds],
        "tables": sorted(commits),
        "max_commits": commits,
        "auto_compactions": {},
        "spark_jobs": [6],
    }


def _results(small: dict[str, Any], large: dict[str, Any], finders_files: float = 1.0) -> dict[str, Any]:
    """Figures for every call: each call at 1 s per changed table unless overridden."""

    def store(overrides: dict[str, Any]) -> dict[str, Any]:
        calls = {name: _measured(1.0, {"process_tracking": 1}) for name in CHANGE_CALLS}
        calls.update({name: _measured(0.5) for name in FINDERS})
        calls.update({job_name(files): _measured(5.0, JOB_COMMITS) for files in JOB_SIZES})
        calls.update(overrides)
        return calls

    floor = {"median_s": 1.0, "median_cpu_s": 1.0, "rows": 1000, "spark_jobs": [6]}
    floors = {table: dict(floor) for table in ("process_tracking", "process", "extract_tracking")}
    compare = {"small_files": {"median_s": finders_files}, "compacted": {"median_s": 1.0}}
    return {
        "meta": {"mode": "full", "wall_s": 1800.0, "template": {"setup_s": 15.0, "setup_again_commits": 0}},
        "floors": {SMALL: floors, LARGE: {table: dict(floor) for table in floors}},
        "calls": {SMALL: store(small), LARGE: store(large)},
        "small_files": {"finders": {name: compare for name in FINDERS}, "files": {}, "tracked": _tracked()},
        "errors": [],
    }


def _row(rows: list[dict[str, Any]], name: str, key: str = "call") -> dict[str, Any]:
    return next(row for row in rows if row[key] == name)


def test_calls_within_their_targets_pass_every_line() -> None:
    results = evaluate(_results({}, {}), SMALL, LARGE)

    calls, finders = len(CHANGE_CALLS), len(FINDERS)
    judged = (calls + finders) + calls + (calls + finders)  # commits, per call, growth
    judged += len(BUSY_TABLES) + SETUP_VERDICTS + JOB_VERDICTS
    assert results["summary"] == {"PASS": judged, "FAIL": 0, "ERROR": 0}
    assert all(line.startswith(("PASS", "info", "summary")) for line in lines(results, SMALL, LARGE))


def test_a_start_over_one_and_a_half_times_its_floor_fails_and_the_others_still_pass() -> None:
    slow = _measured(1.6, {"process_tracking": 1})
    results = evaluate(_results({START: slow}, {}), SMALL, LARGE)

    start = _row(results["per_call"], START)
    assert start["time_result"] == "FAIL"
    assert start["sizes"][SMALL]["ratio"] == pytest.approx(1.6)
    assert start["commit_result"] == "PASS"
    assert _row(results["per_call"], STATUS)["time_result"] == "PASS"
    assert results["summary"]["FAIL"] == 1  # growth is large / small = 1 s / 1.6 s: it passes


def test_the_budget_is_the_sum_of_the_floors_of_the_changed_tables() -> None:
    two_tables = _measured(2.9, {"process_tracking": 1, "process": 1})  # 1.45 x (1 s + 1 s)
    results = evaluate(_results({STATUS: two_tables}, {STATUS: two_tables}), SMALL, LARGE)

    row = _row(results["per_call"], STATUS)
    assert row["sizes"][SMALL]["floor_s"] == pytest.approx(2.0)
    assert row["time_result"] == "PASS"


def test_two_commits_to_one_table_fail_the_commit_line() -> None:
    twice = _measured(1.0, {"process_tracking": 2})
    results = evaluate(_results({}, {STATUS: twice}), SMALL, LARGE)

    row = _row(results["per_call"], STATUS)
    assert row["commit_result"] == "FAIL"
    assert row["commits"] == {"process_tracking": 2}


def test_a_finder_that_commits_fails_and_finders_have_no_time_target() -> None:
    writing = _measured(5.0, {"process": 1})
    results = evaluate(_results({FINDER: writing}, {}), SMALL, LARGE)

    row = _row(results["per_call"], FINDER)
    assert (row["commit_result"], row["time_result"]) == ("FAIL", "info")


def test_growth_judges_large_over_small_with_a_looser_target_for_finders() -> None:
    results = evaluate(
        _results({FINDER: _measured(0.5)}, {FINDER: _measured(0.95), STATUS: _measured(1.6, {"process": 1})}),
        SMALL,
        LARGE,
    )

    finder = _row(results["growth"], FINDER)
    assert finder["ratio"] == pytest.approx(1.9)
    assert (finder["target_x"], finder["result"]) == (2.0, "PASS")
    change = _row(results["growth"], STATUS)
    assert (change["target_x"], change["result"]) == (1.5, "FAIL")


def test_small_files_are_judged_by_the_fullest_partition_of_each_busy_table() -> None:
    results = _results({}, {})
    results["small_files"]["tracked"] = _tracked(most=SMALL_FILES_PER_PARTITION + 1)
    evaluate(results, SMALL, LARGE)

    rows = {row["table"]: row for row in results["small_files_table"]}
    assert {table: rows[table]["result"] for table in BUSY_TABLES} == dict.fromkeys(BUSY_TABLES, "FAIL")
    assert (rows["process_tracking"]["commits"], rows["process_tracking"]["most"]) == (70, 51)
    assert rows[QUIET_TABLE]["result"] == "info"  # 1 commit cannot pile files up
    assert results["summary"]["FAIL"] == len(BUSY_TABLES)
    line = next(text for text in lines(results, SMALL, LARGE) if "small files process_tracking" in text)
    assert line.startswith("FAIL ") and "51 files in its fullest partition (target <= 50)" in line


def test_finders_slower_on_small_files_are_information_only() -> None:
    results = evaluate(_results({}, {}, finders_files=3.0), SMALL, LARGE)

    assert {row["ratio"] for row in results["small_files_finders"]} == {3.0}
    assert results["summary"]["FAIL"] == 0


def test_small_files_without_file_counts_are_errors() -> None:
    results = _results({}, {})
    del results["small_files"]["tracked"]["after"]["process_tracking"]
    evaluate(results, SMALL, LARGE)

    assert _row(results["small_files_table"], "process_tracking", "table")["result"] == "ERROR"


@pytest.mark.parametrize(
    ("meta", "failed"),
    [
        ({"template": {"setup_s": 20.5, "setup_again_commits": 0}}, "setup of a new store"),
        ({"template": {"setup_s": 15.0, "setup_again_commits": 1}}, "setup on a current store"),
        ({"wall_s": 46 * 60.0}, "benchmark wall time"),
        ({"mode": "quick", "wall_s": 9 * 60.0}, "benchmark wall time"),
    ],
)
def test_setup_and_wall_time_targets(meta: dict[str, Any], failed: str) -> None:
    results = _results({}, {})
    results["meta"].update(meta)
    evaluate(results, SMALL, LARGE)

    verdicts = {row["what"]: row["result"] for row in results["setup_and_wall"]}
    assert verdicts.pop(failed) == "FAIL"
    assert set(verdicts.values()) == {"PASS"}
    assert results["summary"]["FAIL"] == 1


def test_a_tracked_job_only_run_has_no_wall_time_target_and_missing_setup_is_an_error() -> None:
    results = _results({}, {})
    results["meta"] = {"mode": "full, tracked job only", "wall_s": 99 * 60.0}
    evaluate(results, SMALL, LARGE)

    verdicts = {row["what"]: row["result"] for row in results["setup_and_wall"]}
    assert verdicts == {
        "setup of a new store": "ERROR",
        "setup on a current store": "ERROR",
        "benchmark wall time": "info",
    }
    assert "info  benchmark wall time" in "\n".join(lines(results, SMALL, LARGE))


def test_a_call_that_raised_is_an_error_not_a_pass() -> None:
    broken = {"median_s": None, "samples_s": [], "errors": ["boom"]}
    results = evaluate(_results({START: broken}, {START: broken}), SMALL, LARGE)

    row = _row(results["per_call"], START)
    assert (row["commit_result"], row["time_result"]) == ("ERROR", "ERROR")
    assert results["summary"]["ERROR"] >= 3  # commits, per call, growth


def _job(results: dict[str, Any], files: int) -> dict[str, Any]:
    return next(row for row in results["tracked_job"]["rows"] if row["files"] == files)


def test_the_tracked_job_is_judged_on_the_small_store_against_one_floor() -> None:
    results = evaluate(_results({}, {}), SMALL, LARGE)

    judged = results["tracked_job"]
    assert (judged["store"], judged["growth_result"]) == (SMALL, "PASS")
    for files in JOB_SIZES:
        row = _job(results, files)
        assert (row["total_commits"], row["commit_result"]) == (9, "PASS")
        assert (row["floor_s"], row["ratio"], row["time_result"]) == (1.0, 5.0, "PASS")
    text = tracked_job_lines(results)
    assert text[0].startswith("PASS  tracked job   4 extracts: 9 (extract_tracking:3, process:2")
    assert text[-1] == "PASS  tracked job commits do not grow with N: 9 (N=4) vs 9 (N=100)"


def test_one_floor_is_the_median_floor_of_the_tables_the_job_changes() -> None:
    results = _results({}, {})
    results["floors"][SMALL]["extract_tracking"]["median_s"] = 4.0
    results["floors"][SMALL]["process"]["median_s"] = 2.0
    evaluate(results, SMALL, LARGE)

    assert _job(results, 4)["floor_s"] == pytest.approx(2.0)
    assert _job(results, 4)["ratio"] == pytest.approx(2.5)


def test_the_job_time_target_is_ten_floors_for_4_extracts_and_fifteen_for_100() -> None:
    results = evaluate(
        _results(
            {job_name(4): _measured(11.0, JOB_COMMITS), job_name(100): _measured(14.0, JOB_COMMITS)}, {}
        ),
        SMALL,
        LARGE,
    )

    assert (_job(results, 4)["target_x"], _job(results, 4)["time_result"]) == (10.0, "FAIL")
    assert (_job(results, 100)["target_x"], _job(results, 100)["time_result"]) == (15.0, "PASS")
    assert results["summary"]["FAIL"] == 1


def test_job_commits_that_grow_with_the_batch_or_pass_twelve_fail() -> None:
    grown = {**JOB_COMMITS, "extract_process_tracking": 4}  # 13 commits, one table more for N=100
    results = evaluate(_results({job_name(100): _measured(5.0, grown)}, {}), SMALL, LARGE)

    assert results["tracked_job"]["growth_result"] == "FAIL"
    assert (_job(results, 100)["total_commits"], _job(results, 100)["commit_result"]) == (13, "FAIL")
    assert _job(results, 4)["commit_result"] == "PASS"
    assert results["summary"]["FAIL"] == 2


def test_a_tracked_job_that_did_not_run_is_an_error() -> None:
    broken = {"median_s": None, "samples_s": [], "errors": ["boom"]}
    results = evaluate(_results({job_name(4): broken}, {}), SMALL, LARGE)

    row = _job(results, 4)
    assert (row["commit_result"], row["time_result"]) == ("ERROR", "ERROR")
    assert results["tracked_job"]["growth_result"] == "ERROR"
    assert results["summary"]["ERROR"] == 3


def test_the_readme_section_between_the_markers_is_replaced(tmp_path: Path) -> None:
    results = evaluate(_results({}, {}), SMALL, LARGE)
    results["meta"] = {
        "date": "2026-11-26 10:00",
        "mode": "full",
        "wall_s": 60.0,
        "reps": 5,
        "finder_rounds": 3,
        "sizes": {
            SMALL: {"runs": 1, "extracts": 1},
            LARGE: {"runs": 100, "extracts": 100},
            "tracked_runs": 3,
        },
        "machine": {key: "?" for key in ("cpus", "platform", "python", "pyspark", "delta_spark")}
        | {"load_start": "?", "load_end": "?"},
    }
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- results:start -->\nold\n<!-- results:end -->\noutro\n", encoding="utf-8")

    assert update_readme(str(readme), markdown(results, SMALL, LARGE))
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("intro\n<!-- results:start -->\n") and text.endswith(
        "<!-- results:end -->\noutro\n"
    )
    assert "old" not in text and "each finder timed 3 times per repetition" in text
    assert "| tracked job, 100 extracts | 9 (extract_tracking:3, process:2, process_tracking:4) |" in text
    assert "| process_tracking | 70 | 2 | 3 | 2 | None | PASS |" in text
    assert "| setup on a current store | 0 commits | target <= 0 | PASS |" in text
    bare = tmp_path / "bare.md"
    bare.write_text("no markers\n", encoding="utf-8")
    assert not update_readme(str(bare), "section")
    assert bare.read_text(encoding="utf-8") == "no markers\n"


def test_the_plans_and_their_overrides() -> None:
    assert (FULL.reps, FULL.tracked_runs, FULL.finder_rounds) == (5, 64, 3)
    assert (QUICK.reps, QUICK.finder_rounds) == (3, 1)
    # each run commits at least once to every busy table: enough runs to pile files past the limit
    assert SMALL_FILES_JUDGED_AFTER > SMALL_FILES_PER_PARTITION
    assert min(FULL.tracked_runs, QUICK.tracked_runs) >= SMALL_FILES_JUDGED_AFTER
    plan = _plan(_arguments(["--quick", "--reps", "2", "--finder-rounds", "4", "--sizes", "1,2,3,4"]))
    assert (plan.mode, plan.reps, plan.finder_rounds) == ("quick", 2, 4)
    assert (plan.small.runs, plan.small.extracts, plan.large.runs, plan.large.extracts) == (1, 2, 3, 4)
    jobs = _plan(_arguments(["--quick", "--tracked-job-only"]))
    assert (jobs.mode, jobs.tracked_runs, jobs.reps) == ("quick, tracked job only", 0, 3)


def test_commit_and_file_counters_agree_with_delta(spark: SparkSession, tmp_path: Path) -> None:
    """The benchmark reads ``_delta_log`` directly; Delta's own history and detail must agree."""
    table = "counted"
    path = str(tmp_path / table)
    spark.range(3).selectExpr("id", "'a' AS v").write.format("delta").save(path)
    spark.range(3, 5).selectExpr("id", "'b' AS v").write.format("delta").mode("append").save(path)
    before = versions(str(tmp_path), [table])
    source = spark.createDataFrame([(1, "c")], "id long, v string")
    delta = DeltaTable.forPath(spark, path)
    delta.alias("t").merge(source.alias("s"), "t.id = s.id").whenMatchedUpdate(set={"v": "s.v"}).execute()
    delta.optimize().executeCompaction()
    after = versions(str(tmp_path), [table])

    commits = commits_between(str(tmp_path), before, after)
    history = [row["operation"] for row in delta.history().orderBy("version").collect()]
    assert history[-2:] == ["MERGE", "OPTIMIZE"]
    assert (commits.writes, commits.compactions) == ({table: 1}, {table: 1})
    assert after[table] - before[table] == 2
    assert data_files(str(tmp_path), table) == delta.detail().collect()[0]["numFiles"] == 1


def test_files_per_partition_agree_with_the_files_spark_reads(spark: SparkSession, tmp_path: Path) -> None:
    table = "partitioned"
    path = str(tmp_path / table)
    rows = spark.range(6).selectExpr("id", "CAST(id % 2 AS INT) AS bucket")
    rows.write.format("delta").partitionBy("bucket").save(path)
    rows.where("bucket = 1").write.format("delta").mode("append").save(path)
    read = spark.read.format("delta").load(path).inputFiles()

    counts = files_per_partition(str(tmp_path), table)
    expected = {f"bucket={b}": sum(f"/bucket={b}/" in file for file in read) for b in (0, 1)}
    assert counts == expected and counts["bucket=1"] > counts["bucket=0"]
    assert sum(counts.values()) == data_files(str(tmp_path), table) == len(read)
