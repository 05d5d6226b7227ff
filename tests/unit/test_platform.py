"""``pt_spark.platform``: the Databricks and EMR run ids a new run records (no Spark)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import DATABRICKS_JOB_TASK_CONF, DATABRICKS_JOB_TASK_IDS

from pt_spark.platform import DATABRICKS_CONF, from_databricks_conf, from_emr_node
from pt_spark.store.schema import PLATFORM_COLUMNS, spec


def test_a_task_of_a_multi_task_job_records_the_job_run_and_the_task_run():
    assert from_databricks_conf(DATABRICKS_JOB_TASK_CONF.get) == DATABRICKS_JOB_TASK_IDS


def test_a_single_task_run_is_its_own_job_run():
    conf = {"spark.databricks.job.id": "7", "spark.databricks.job.runId": "99"}
    ids = from_databricks_conf(conf.get)
    assert ids["platform_job_run_id"] == ids["platform_task_run_id"] == "99"


def test_an_interactive_databricks_notebook_has_only_its_cluster():
    conf = {"spark.databricks.clusterUsageTags.clusterId": "c-1", "spark.databricks.job.id": "  "}
    assert from_databricks_conf(conf.get) == {"platform_name": "databricks", "platform_cluster_id": "c-1"}


def test_off_databricks_nothing_is_recorded():
    assert from_databricks_conf({}.get) == {}


def test_every_platform_value_has_a_column_of_process_tracking():
    columns = spec("process_tracking").column_names
    assert set(PLATFORM_COLUMNS) <= set(columns)
    assert set(DATABRICKS_CONF) < set(PLATFORM_COLUMNS)


def _job_flow(tmp_path: Path, body: object) -> Path:
    path = tmp_path / "job-flow.json"
    path.write_text(json.dumps(body) if not isinstance(body, str) else body, encoding="utf-8")
    return path


def test_an_emr_step_records_its_cluster_and_its_step_from_the_working_folder(tmp_path):
    files = [tmp_path / "absent.json", _job_flow(tmp_path, {"jobFlowId": "j-2AXXXXXXGAPLF"})]
    ids = from_emr_node(files, working_folder="/mnt/var/lib/hadoop/steps/s-1234ABCDEFGHI", environ={})
    assert ids == {
        "platform_name": "emr",
        "platform_job_run_id": "s-1234ABCDEFGHI",
        "platform_cluster_id": "j-2AXXXXXXGAPLF",
    }


def test_the_emr_step_variable_wins_and_a_notebook_on_emr_has_only_its_cluster(tmp_path):
    files = [_job_flow(tmp_path, {"jobFlowId": "j-1"})]
    assert from_emr_node(files, "/home/hadoop", {"EMR_STEP_ID": "s-9"})["platform_job_run_id"] == "s-9"
    assert from_emr_node(files, "/home/hadoop", {}) == {"platform_name": "emr", "platform_cluster_id": "j-1"}


def test_off_emr_or_with_an_unreadable_node_file_nothing_is_recorded(tmp_path):
    assert from_emr_node([tmp_path / "absent.json"], "/mnt/var/lib/hadoop/steps/s-1", {}) == {}
    assert from_emr_node([_job_flow(tmp_path, "{not json")], "/", {}) == {}
    assert from_emr_node([_job_flow(tmp_path, ["a list"])], "/", {}) == {}
