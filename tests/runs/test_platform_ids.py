"""Platform run ids: a run started inside a Databricks job records its job, run and task, so it
joins with ``system.lakeflow`` tables; elsewhere the columns are NULL.

A Databricks job run is reproduced by setting the conf keys a job run sets on the session.
"""

from __future__ import annotations

import pytest
from helpers import DATABRICKS_JOB_TASK_CONF, DATABRICKS_JOB_TASK_IDS, table

from pt_spark import ProcessTracker, TrackerConfig
from pt_spark.platform import DATABRICKS_CONF
from pt_spark.store.schema import PLATFORM_COLUMNS


@pytest.fixture
def databricks_job_conf(spark):
    """The session's conf as a Databricks job task sets it (removed again afterwards)."""
    for key, value in DATABRICKS_JOB_TASK_CONF.items():
        spark.conf.set(key, value)
    yield
    for key in DATABRICKS_CONF.values():
        spark.conf.unset(key)


def _platform_of(spark, config, run: ProcessTracker) -> dict[str, str | None]:
    row = table(spark, config, "process_tracking").where(f"process_tracking_id = {run.process_tracking_id}")
    return row.select(*PLATFORM_COLUMNS).first().asDict()


def test_a_local_run_records_no_platform(spark, config):
    run = ProcessTracker(spark=spark, process_name="local run", process_type="Load", config=config)
    assert set(_platform_of(spark, config, run).values()) == {None}


def test_a_run_in_a_databricks_job_task_records_the_job_run_and_the_task(spark, config, databricks_job_conf):
    own = TrackerConfig(schema=config.schema_name, location=config.location, retry_attempts=9)  # a new store
    first = ProcessTracker(spark=spark, process_name="job task", process_type="Load", config=own)
    first.change_run_status("completed")
    # The same arguments again in this session: the one-MERGE start (runs.start.start_after).
    second = ProcessTracker(spark=spark, process_name="job task", process_type="Load", config=own)
    assert _platform_of(spark, own, first) == DATABRICKS_JOB_TASK_IDS
    assert _platform_of(spark, own, second) == DATABRICKS_JOB_TASK_IDS
    joined = spark.sql(  # how a run joins with the job's run: by job id and job run id
        f"SELECT process_run_id FROM {own.schema_name}.v_latest_runs "
        "WHERE platform_job_id = '1082' AND platform_job_run_id = '55500' AND process_name = 'job task'"
    ).collect()
    assert [row.process_run_id for row in joined] == [2]
