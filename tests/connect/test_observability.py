"""Over Spark Connect: the health views, the run report, platform run ids and OpenLineage events."""

from __future__ import annotations

import json

from pyspark.sql import functions as F

import pt_spark
from pt_spark import ProcessTracker
from pt_spark.platform import DATABRICKS_CONF
from pt_spark.store import store_for
from pt_spark.store.schema import PLATFORM_COLUMNS
from pt_spark.store.views import create_views
from tests.connect.helpers import table
from tests.helpers import DATABRICKS_JOB_TASK_CONF, DATABRICKS_JOB_TASK_IDS
from tests.lineage_schema import read_events, validate_event


def test_a_run_in_a_databricks_job_sends_lineage_and_shows_in_the_views_and_the_report(
    spark, config, unique, tmp_path
):
    events, name = tmp_path / "ol.jsonl", unique("observed")
    transport = json.dumps({"type": "file", "log_file_path": str(events), "append": True})
    observed = config.model_copy(update={"lineage_transport": transport})  # a store of its own
    for key, value in DATABRICKS_JOB_TASK_CONF.items():
        spark.conf.set(key, value)
    try:
        run = ProcessTracker(spark=spark, process_name=name, process_type="Load", config=observed)
        run.change_run_status("completed", num_records=7)
    finally:
        for key in DATABRICKS_CONF.values():
            spark.conf.unset(key)

    this_run = F.col("process_tracking_id") == run.process_tracking_id
    row = table(spark, config, "process_tracking").where(this_run).select(*PLATFORM_COLUMNS).first()
    assert row.asDict() == DATABRICKS_JOB_TASK_IDS
    sent = read_events(events)
    assert [event["eventType"] for event in sent] == ["START", "COMPLETE"]
    for event in sent:
        validate_event(event)

    create_views(store_for(spark, config), replace=True)  # what setup and ensure_ready run
    latest = spark.table(f"{config.schema_name}.v_latest_runs").where(F.col("process_name") == name)
    assert [(row.process_status_name, row.platform_job_run_id) for row in latest.collect()] == [
        ("completed", "55500")
    ]
    health = spark.table(f"{config.schema_name}.v_process_health").where(F.col("process_name") == name)
    assert [(row.failing_streak, row.is_on_hold) for row in health.collect()] == [(0, False)]

    page = pt_spark.report(spark, tmp_path / "report.html", process=name, config=config)
    html = page.read_text(encoding="utf-8")
    assert name in html and "plotly" in html
