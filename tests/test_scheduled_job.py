"""``notebooks/scheduled_job.py`` under a real ``spark-submit``: the README's scheduled-job recipe.

Each job is its own driver JVM started by pyspark's ``bin/spark-submit``. The test session's JVM
is only asked for (``request.getfixturevalue``) after the job has ended, so the two never run at
once when these tests run alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from helpers import table
from pyspark.sql import functions as F

from pt_spark import TrackerConfig
from pt_spark.session import delta_jars
from pt_spark.store import store_for

REPO_ROOT = Path(__file__).resolve().parent.parent
JOB = REPO_ROOT / "notebooks" / "scheduled_job.py"
SUBMIT = Path(sys.executable).with_name("spark-submit")
PROCESS = "Scheduled Teams Load"
TEAMS = {"teams_2023.csv": "team,wins\nBOS,78\nNYY,82\n", "teams_2024.csv": "team,wins\nBOS,81\n"}


def _submit(tmp_path: Path, schema: str, *options: str) -> subprocess.CompletedProcess[str]:
    """Run the job with ``spark-submit <options>`` on a store, landing folder and output in ``tmp_path``."""
    landing = tmp_path / "landing"
    landing.mkdir(exist_ok=True)
    for name, text in TEAMS.items():
        (landing / name).write_text(text, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PT_SPARK_")}
    env.update(PYSPARK_PYTHON=sys.executable, PYTHONPATH=str(REPO_ROOT))
    arguments = ["--store", str(tmp_path / "store"), "--schema", schema, "--landing", str(landing)]
    command = [str(SUBMIT), "--master", "local[1]", "--conf", "spark.ui.enabled=false", *options, str(JOB)]
    return subprocess.run(
        [*command, *arguments, "--output", str(tmp_path / "teams")],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
        cwd=tmp_path,  # Spark's default warehouse and metastore folders land here
        env=env,
    )


@pytest.mark.jobs
def test_the_scheduled_job_runs_under_spark_submit_and_completes_its_run(tmp_path, request):
    schema = f"pt_job_{uuid.uuid4().hex[:8]}"
    done = _submit(tmp_path, schema, "--jars", ",".join(delta_jars()))

    assert done.returncode == 0, done.stderr[-3000:]
    assert "completed, 3 rows loaded" in done.stdout

    spark = request.getfixturevalue("spark")  # only now: one JVM at a time
    config = TrackerConfig(schema=schema, location=str(tmp_path / "store"))
    store_for(spark, config).ensure_ready()
    process = table(spark, config, "process").where(F.col("process_name") == PROCESS).collect()
    assert [row.total_record_count for row in process] == [3]
    runs = (
        table(spark, config, "process_tracking")
        .where(F.col("process_id") == process[0].process_id)
        .join(table(spark, config, "process_status_lkup"), "process_status_id")
        .collect()
    )
    assert [(run.process_status_name, run.process_run_record_count, run.is_latest_run) for run in runs] == [
        ("completed", 3, True)
    ]
    assert runs[0].process_run_end_date_time is not None
    extracts = table(spark, config, "extract_tracking").join(
        table(spark, config, "extract_status_lkup"), "extract_status_id"
    )
    assert sorted((row.extract_filename, row.extract_status_name) for row in extracts.collect()) == [
        ("teams_2023.csv", "loaded"),
        ("teams_2024.csv", "loaded"),
    ]
    assert spark.read.format("delta").load(str(tmp_path / "teams")).count() == 3


@pytest.mark.jobs
def test_a_submit_without_the_delta_jars_stops_with_a_one_line_session_error(tmp_path):
    """Issue 22.6: it died in Delta or Spark internals, not with pt_spark's SessionError."""
    done = _submit(tmp_path, f"pt_job_{uuid.uuid4().hex[:8]}")

    assert done.returncode == 1, done.stderr[-3000:]
    # spark-submit's PythonRunner merges the Python driver's stderr into its stdout
    errors = [line for line in done.stdout.splitlines() if line.startswith("scheduled_job: ")]
    assert len(errors) == 1, done.stdout[-3000:]
    assert errors[0].startswith("scheduled_job: SessionError: The SparkSession has no Delta Lake")
    assert "--jars" in errors[0] and "spark.sql.extensions" in errors[0]
    assert "Traceback" not in done.stdout + done.stderr and "JavaPackage" not in done.stdout
    assert not (tmp_path / "store").exists()  # nothing was written
