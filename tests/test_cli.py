"""The ``pt-spark`` CLI: click's CliRunner in-process (it reuses the test session), one real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import seed_attribute, seed_processes, seed_run, table, table_versions
from pyspark.sql import functions as F

from pt_spark import ProcessOnHold, ProcessTracker, TrackerConfig
from pt_spark.admin.topics import topic_names
from pt_spark.cli import format_table, main

COMMANDS = ("setup", "create", "update", "delete", "runs", "maintain")


def run(config: TrackerConfig, *args: str, env: dict[str, str] | None = None):
    """Invoke ``pt-spark <args>`` against the module's store."""
    store = ["--schema", config.schema_name, "--location", str(config.location)]
    return CliRunner().invoke(main, [*args, *store], env=env)


def names(spark, config, table_name, column):
    return {row[0] for row in table(spark, config, table_name).select(column).collect()}


def test_pt_spark_help_runs_as_an_installed_script():
    script = Path(sys.executable).with_name("pt-spark")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Usage: pt-spark" in done.stdout
    for command in COMMANDS:
        assert command in done.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "--schema" in result.stdout and "--location" in result.stdout and "--config" in result.stdout
    if command in ("create", "update", "delete"):
        assert "process dependency" in result.stdout and "--source-object" in result.stdout


def test_setup_twice_is_harmless(spark, config):
    for _ in range(2):
        result = run(config, "setup")
        assert result.exit_code == 0, result.output
        assert "Tracking store ready" in result.stdout
    statuses = table(spark, config, "process_status_lkup").groupBy("process_status_name").count()
    assert {(r[0], r[1]) for r in statuses.collect()} >= {("running", 1), ("on hold", 1), ("failed", 1)}
    assert statuses.where(F.col("count") > 1).count() == 0


def test_create_update_delete_a_lookup_with_any_topic_case(spark, config, unique):
    name, new_name = unique("Ann"), unique("Ann Lee")
    result = run(config, "create", "--topic", " CONTACT ", "--name", name, "--email", "ann@example.com")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Created contact {name!r}."
    again = run(config, "create", "-t", "contact", "-n", name)
    assert again.exit_code == 0 and "already exists; nothing changed" in again.stdout

    result = run(config, "update", "-t", "Contact", "-i", name, "-n", new_name, "--email", "lee@example.com")
    assert result.exit_code == 0, result.output
    [row] = table(spark, config, "contact_lkup").where(F.col("contact_name") == new_name).collect()
    assert row["contact_email"] == "lee@example.com"

    result = run(config, "delete", "--topic", "contact", "--name", new_name)
    assert result.exit_code == 0 and result.stdout.strip() == f"Deleted contact {new_name!r}."
    assert new_name not in names(spark, config, "contact_lkup", "contact_name")


def test_cluster_options_are_typed(spark, config, unique):
    cluster = unique("cluster")
    sizes = [
        "--max-memory",
        "64",
        "--memory-unit",
        "GB",
        "--max-processing",
        "8",
        "--processing-unit",
        "vCPU",
    ]
    result = run(config, "create", "-t", "cluster", "-n", cluster, *sizes)
    assert result.exit_code == 0, result.output
    [row] = table(spark, config, "cluster_tracking_lkup").where(F.col("cluster_name") == cluster).collect()
    assert (row["cluster_max_memory"], row["cluster_max_processing_unit"]) == (64, "vCPU")
    bad = run(config, "create", "-t", "cluster", "-n", cluster, "--max-memory", "lots")
    assert bad.exit_code == 2 and "--max-memory" in bad.stderr


def test_link_topics_from_the_command_line(spark, config, unique):
    parent, child, source = unique("parent"), unique("child"), unique("src")
    ids = seed_processes(spark, config, parent, child)
    seed_attribute(spark, config, source, "teams", "year")
    result = run(config, "create", "-t", "process dependency", "--parent", parent, "--child", child)
    assert result.exit_code == 0, result.output
    assert "Created process dependency (parent=" in result.stdout
    cycle = run(config, "create", "-t", "process dependency", "--parent", child, "--child", parent)
    assert cycle.exit_code == 1 and "cycle" in cycle.stderr

    where = ["--process", child, "--source", source, "--source-object", "teams", "--attribute", "year"]
    assert (
        run(
            config, "create", "-t", "process filter", *where, "--filter-type", "gte", "--value", "2020"
        ).exit_code
        == 0
    )
    assert (
        run(
            config, "create", "-t", "process filter", *where, "--filter-type", "lke", "--value", "19%"
        ).exit_code
        == 0
    )
    filters = table(spark, config, "process_filter").where(F.col("process_id") == ids[child])
    values = {(r["filter_value_numeric"], r["filter_value_string"]) for r in filters.collect()}
    assert values == {(Decimal(2020), None), (None, "19%")}

    result = run(config, "delete", "-t", "process dependency", "--parent", parent, "--child", child)
    assert result.exit_code == 0, result.output
    assert (
        table(spark, config, "process_dependency").where(F.col("child_process_id") == ids[child]).count() == 0
    )


def test_unknown_topic_is_a_usage_error_listing_the_topics(config):
    before = table_versions(config)
    result = run(config, "create", "--topic", "widget", "--name", "x")
    assert result.exit_code == 2
    assert "unknown topic 'widget'" in result.stderr and ", ".join(topic_names()) in result.stderr
    update = run(config, "update", "--topic", "widget", "--name", "x")
    assert update.exit_code == 2 and "process run" in update.stderr
    assert run(config, "delete", "--topic", "process run", "--name", "x").exit_code == 2
    assert table_versions(config) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("delete", "-t", "process status", "-n", "running"), "cannot be deleted"),
        (("update", "-t", "error type", "-i", "Data Error", "-n", "Oops"), "cannot be renamed"),
        (("create", "-t", "process contact", "--process", "ghost", "--contact", "nobody"), "not found"),
        (("create", "-t", "contact", "-n", "x", "--parent", "p"), "unknown option(s) parent"),
        (("update", "-t", "process run", "-n", "ghost"), "Process 'ghost' not found"),
    ],
)
def test_pt_spark_errors_exit_1_with_a_message_and_no_traceback(config, args, message):
    before = table_versions(config)
    result = run(config, *args)
    assert result.exit_code == 1
    assert message in result.stderr and result.stdout == ""
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert table_versions(config) == before


def test_release_a_hold_from_the_command_line(spark, config, unique):
    process = unique("held")
    pid = seed_processes(spark, config, process)[process]
    seed_run(spark, config, pid, "on hold", 1, process_run_start_date_time=datetime(2020, 1, 1))
    result = run(config, "update", "--topic", "Process Run", "--name", process)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Released process {process!r}: run 1 is now completed."
    [row] = table(spark, config, "process_tracking").where(F.col("process_id") == pid).collect()
    status = table(spark, config, "process_status_lkup").where(
        F.col("process_status_id") == row["process_status_id"]
    )
    assert status.collect()[0]["process_status_name"] == "completed"

    before = table_versions(config)
    again = run(config, "update", "--topic", "process run", "--name", process)
    assert again.exit_code == 1 and f"Process {process} has no run on hold" in again.stderr
    assert table_versions(config) == before


def test_a_process_put_on_hold_by_failures_starts_again_after_release(spark, config, unique):
    process = unique("flaky")
    strict = config.model_copy(update={"max_concurrent_failures": 1})
    start = {"process_name": process, "process_type": "Load", "config": strict}
    ProcessTracker(spark=spark, **start).change_run_status("failed")
    with pytest.raises(ProcessOnHold):
        ProcessTracker(spark=spark, **start)

    result = run(config, "update", "-t", "process run", "-n", process)
    assert result.exit_code == 0, result.output
    assert "run 2 is now completed" in result.stdout
    assert ProcessTracker(spark=spark, **start).process_tracking_id is not None


def test_runs_lists_the_latest_runs_newest_first(spark, config, unique):
    process, other = unique("runs"), unique("runs")
    ids = seed_processes(spark, config, process, other)
    t = datetime(2031, 1, 1, 1)  # newer than every other run of this store
    done = {
        "process_run_start_date_time": t,
        "process_run_end_date_time": t + timedelta(seconds=3725),
        "process_run_record_count": 1500,
        "process_run_low_date_time": datetime(2019, 1, 1),
        "process_run_high_date_time": datetime(2019, 12, 31),
    }
    seed_run(spark, config, ids[process], "completed", 1, latest=False, **done)
    seed_run(spark, config, ids[process], "failed", 2, process_run_start_date_time=t + timedelta(hours=2))
    seed_run(spark, config, ids[other], "running", 1, process_run_start_date_time=t + timedelta(hours=3))

    result = run(config, "runs", "--limit", "3")
    assert result.exit_code == 0, result.output
    header, rule, *lines = result.stdout.splitlines()
    assert header.split() == ["PROCESS", "RUN", "TRACKING", "ID", "STATUS", "START", "END", "DURATION",
                              "RECORDS", "LOW", "DATE", "HIGH", "DATE", "ERRORS"]  # fmt: skip
    assert len(rule) == len(header) and set(rule) == {"-", " "}
    assert [line.split()[0] for line in lines] == [other, process, process]
    assert [line.split()[3] for line in lines] == ["running", "failed", "completed"]
    oldest = lines[2]
    assert "2031-01-01 01:00:00" in oldest and "1:02:05" in oldest and "1500" in oldest
    assert "2019-01-01 00:00:00" in oldest and "2019-12-31 00:00:00" in oldest
    assert header.index("ERRORS") + len("ERRORS") == len(lines[0])  # right-aligned numbers

    only = run(config, "runs", "--process", process)
    assert only.exit_code == 0 and len(only.stdout.splitlines()) == 4
    assert run(config, "runs", "--process", unique("idle")).exit_code == 1
    idle = unique("idle")
    seed_processes(spark, config, idle)
    empty = run(config, "runs", "-p", idle)
    assert empty.exit_code == 0 and "No runs recorded" in empty.stdout


def test_format_table_aligns_columns():
    text = format_table(["NAME", "N"], [["a", "10"], ["bbb", "2"]], [False, True])
    assert text.splitlines() == ["NAME   N", "----  --", "a     10", "bbb    2"]


def test_unset_options_leave_the_environment_and_config_file_in_charge(spark, config, unique, tmp_path):
    env = {"PT_SPARK_SCHEMA": config.schema_name, "PT_SPARK_LOCATION": str(config.location)}
    by_env = unique("actor")
    result = CliRunner().invoke(main, ["create", "-t", "actor", "-n", by_env], env=env)
    assert result.exit_code == 0, result.output

    (tmp_path / "process_tracker_config.ini").write_text(
        f"[DEFAULT]\nschema = {config.schema_name}\nlocation = {config.location}\n", encoding="utf-8"
    )
    by_file = unique("actor")
    result = CliRunner().invoke(main, ["create", "-t", "actor", "-n", by_file, "--config", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert {by_env, by_file} <= names(spark, config, "actor_lkup", "actor_name")

    bad = CliRunner().invoke(main, ["runs", "--schema", "no such schema"])
    assert bad.exit_code == 2 and "--schema" in bad.stderr


def test_maintain_compacts_a_table_written_call_by_call(spark, config, unique):
    for _ in range(3):
        run(config, "create", "--topic", "actor", "--name", unique("maintained-actor"))
    files = lambda: table(spark, config, "actor_lkup").inputFiles()  # noqa: E731
    assert len(files()) > 1
    rows_before = sorted(r.actor_name for r in table(spark, config, "actor_lkup").collect())

    result = run(config, "maintain", "--no-vacuum")

    assert result.exit_code == 0, result.output
    assert "actor_lkup:" in result.stdout and "Maintained 46 tables" in result.stdout
    assert len(files()) == 1
    assert sorted(r.actor_name for r in table(spark, config, "actor_lkup").collect()) == rows_before


@pytest.mark.jobs
def test_maintain_in_its_own_process_prints_no_vacuum_lines(tmp_path):
    """Issue 22.3: ``pt-spark maintain`` printed Delta's "Deleted 0 files and directories ..." 46 times.

    The line is a JVM ``println``, which only a real process's stdout shows (not CliRunner). Both
    commands run as real processes, one after the other, on a store of their own.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("PT_SPARK_")}
    store = ["--schema", f"pt_cli_{uuid.uuid4().hex[:8]}", "--location", str(tmp_path / "store")]
    cli = [sys.executable, "-c", "from pt_spark.cli import main; main()"]

    def pt_spark(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args, *store], capture_output=True, text=True, timeout=900, env=env)

    set_up = pt_spark("setup")
    assert set_up.returncode == 0, set_up.stderr[-3000:]
    done = pt_spark("maintain")

    assert done.returncode == 0, done.stderr[-3000:]
    assert "Maintained 46 tables" in done.stdout
    assert [line for line in done.stdout.splitlines() if "files and directories" in line] == []


@pytest.mark.parametrize(
    "args",
    [
        ("setup", "--catalog", "nosuchcatalog", "--schema", "pt_cli_nowhere"),  # Spark AnalysisException
        ("runs", "--catalog", "nosuchcatalog", "--schema", "pt_cli_nowhere"),
    ],
)
def test_an_error_that_is_not_pt_sparks_is_one_line_without_a_traceback(args):
    """A Spark, Py4J or other error is one line on stderr and exit code 1, as the README promises."""
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    [line] = result.stderr.splitlines()
    assert line.startswith(("pt-spark: error: ", "Error: ")) and "nosuchcatalog" in line
    assert "Traceback" not in result.output and "at org.apache" not in result.output
    assert result.stdout == ""


def test_a_spark_error_is_reported_as_pt_spark_error_with_its_first_line():
    result = CliRunner().invoke(main, ["setup", "--catalog", "nosuchcatalog", "--schema", "pt_cli_nowhere"])
    assert result.stderr.startswith("pt-spark: error: [")  # the Spark error class, e.g. [CATALOG_NOT_FOUND]
