"""``pt-spark --remote sc://...``: the installed CLI as real subprocesses, each its own Connect client.

Each subprocess gets ``SPARK_HOME`` and ``JAVA_HOME`` pointing nowhere, so a command that tried to
start a local classic JVM instead of using the remote server would fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pyspark.sql import functions as F

from pt_spark import ProcessTracker, TrackerConfig
from tests.connect.helpers import dicts, table

NO_JVM = {"SPARK_HOME": "/nonexistent/spark", "JAVA_HOME": "/nonexistent/java"}


def cli(url: str, config: TrackerConfig, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``pt-spark <args> --remote <url>`` against the module's store."""
    script = Path(sys.executable).with_name("pt-spark")
    store = ["--schema", config.schema_name, "--location", str(config.location), "--remote", url]
    env = {key: value for key, value in os.environ.items() if not key.startswith("PT_SPARK_")}
    return subprocess.run(
        [str(script), *args, *store],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**env, **NO_JVM},
    )


def contacts(spark, config: TrackerConfig, name: str) -> list[dict]:
    return dicts(table(spark, config, "contact_lkup").where(F.col("contact_name") == name))


def test_setup_create_update_delete_over_connect(spark, config, connect_url, unique):
    done = cli(connect_url, config, "setup")  # on the existing store: idempotent
    assert done.returncode == 0, done.stderr
    assert f"Tracking store ready at {config.location}" in done.stdout

    name, new_name = unique("cli contact"), unique("cli contact")
    done = cli(connect_url, config, "create", "-t", "contact", "-n", name, "--email", "c@example.com")
    assert done.returncode == 0, done.stderr
    assert [row["contact_email"] for row in contacts(spark, config, name)] == ["c@example.com"]

    done = cli(connect_url, config, "update", "-t", "contact", "-i", name, "-n", new_name)
    assert done.returncode == 0, done.stderr
    assert (contacts(spark, config, name), len(contacts(spark, config, new_name))) == ([], 1)

    done = cli(connect_url, config, "delete", "-t", "contact", "-n", new_name)
    assert done.returncode == 0, done.stderr
    assert contacts(spark, config, new_name) == []

    done = cli(connect_url, config, "delete", "-t", "contact", "-n", new_name)  # gone: a pt_spark error
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and len(done.stderr.strip().splitlines()) == 1


def test_runs_lists_a_run_started_in_another_connect_session(spark, config, connect_url, unique):
    name = unique("cli listed")
    run = ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config)
    run.set_process_run_record_count(7)
    done = cli(connect_url, config, "runs", "--process", name)
    assert done.returncode == 0, done.stderr
    header, _, line = done.stdout.splitlines()
    assert header.split()[:3] == ["PROCESS", "RUN", "TRACKING"]
    assert name in line and str(run.process_tracking_id) in line and "running" in line


def test_a_remote_that_is_not_a_connect_url_is_a_usage_error(config):
    done = cli("http://localhost:15002", config, "runs")
    assert done.returncode == 2
    assert "--remote" in done.stderr and "sc://" in done.stderr


def test_a_store_that_does_not_exist_is_one_line_on_stderr(connect_url, tmp_path, unique):
    """The server's refusals that pt_spark handles print no JSON stack trace in the CLI."""
    empty = TrackerConfig(schema=unique("pt_none").replace("-", "_"), location=str(tmp_path / "none"))
    done = cli(connect_url, empty, "runs")
    assert done.returncode == 1
    assert done.stderr.startswith("Error: The tracking store at"), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
