"""Platform run ids: which Databricks job task or EMR step a run belongs to.

A new run records them in ``process_tracking`` (``platform_*`` columns), so runs join with the
platform's own history: on Databricks with ``system.lakeflow.job_run_timeline`` and
``job_task_run_timeline`` (``job_id``, ``job_run_id``/``run_id``, ``task_key``), on EMR with the
cluster's steps. Elsewhere (a laptop, a plain ``spark-submit``) every column is NULL.

Where each value comes from, read once per store and session:

* **Databricks**: the session's conf, which a job run sets: ``spark.databricks.job.id``,
  ``spark.databricks.job.runId`` (the task run), ``spark.databricks.job.parentRunId`` (the job
  run of a multi-task job; without it the task run is the job run), ``spark.databricks.job.taskKey``
  and ``spark.databricks.clusterUsageTags.clusterId``. A key the platform refuses to read
  (serverless compute) counts as unset. An interactive notebook has only the cluster id.
* **EMR**: the cluster (job flow) id from the node's ``job-flow.json``, and the step id from the
  working folder EMR gives a step (``.../steps/s-...``) or the ``EMR_STEP_ID`` variable.

Detection never fails a run: anything unreadable is NULL.

Example:
    >>> conf = {"spark.databricks.job.id": "42", "spark.databricks.job.runId": "7"}
    >>> from_databricks_conf(conf.get)["platform_job_run_id"]
    '7'
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pt_spark.store.schema import PLATFORM_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

#: ``platform_*`` column -> the Databricks conf key it is read from.
DATABRICKS_CONF = {
    "platform_job_id": "spark.databricks.job.id",
    "platform_task_run_id": "spark.databricks.job.runId",
    "platform_job_run_id": "spark.databricks.job.parentRunId",
    "platform_task_key": "spark.databricks.job.taskKey",
    "platform_cluster_id": "spark.databricks.clusterUsageTags.clusterId",
}
#: Where an EMR node describes its cluster (the first file found is read).
EMR_JOB_FLOW_FILES = (
    Path("/mnt/var/lib/info/job-flow.json"),
    Path("/emr/instance-controller/lib/info/job-flow.json"),
)
_EMR_STEP_FOLDER = re.compile(r"/steps/(s-[A-Za-z0-9]+)(?:/|$)")
_MAX_LENGTH = 200

Lookup = Callable[[str], "str | None"]


def _clean(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text[:_MAX_LENGTH] if text else None


def from_databricks_conf(get: Lookup) -> dict[str, str]:
    """Return the Databricks run ids that ``get`` (a conf look-up) knows; empty off Databricks.

    The job run id is the parent run of a multi-task job, else the run itself.
    """
    found = {column: _clean(get(key)) for column, key in DATABRICKS_CONF.items()}
    ids = {column: value for column, value in found.items() if value is not None}
    if not ids:
        return {}
    if "platform_job_run_id" not in ids and "platform_task_run_id" in ids:
        ids["platform_job_run_id"] = ids["platform_task_run_id"]
    ordered = {"platform_name": "databricks"}
    ordered.update({column: ids[column] for column in PLATFORM_COLUMNS if column in ids})
    return ordered


def from_emr_node(
    job_flow_files: Iterable[Path] = EMR_JOB_FLOW_FILES,
    working_folder: str | None = None,
    environ: dict[str, str] | None = None,
) -> dict[str, str]:
    """Return the EMR cluster and step ids this process can see; empty off EMR.

    Args:
        job_flow_files: The node files that hold the cluster's ``jobFlowId``.
        working_folder: The process's working folder (default: the current one).
        environ: The environment (default: ``os.environ``).
    """
    cluster = next((_job_flow_id(path) for path in job_flow_files if path.is_file()), None)
    if cluster is None:
        return {}
    env = os.environ if environ is None else environ
    match = _EMR_STEP_FOLDER.search(working_folder if working_folder is not None else os.getcwd())
    step = _clean(env.get("EMR_STEP_ID")) or (match.group(1) if match else None)
    ids = {"platform_name": "emr"}
    if step is not None:
        ids["platform_job_run_id"] = step
    ids["platform_cluster_id"] = cluster
    return ids


def _job_flow_id(path: Path) -> str | None:
    try:
        return _clean(json.loads(path.read_text(encoding="utf-8")).get("jobFlowId"))
    except (OSError, ValueError, AttributeError) as error:
        log.debug("cannot read the EMR cluster id from %s: %s", path, error)
        return None


def _conf_lookup(spark: SparkSession) -> Lookup:
    def get(key: str) -> str | None:
        try:
            return spark.conf.get(key, None)
        except Exception as error:  # serverless compute refuses keys it does not know: unset
            log.debug("cannot read spark conf %s (taken as unset): %s", key, error)
            return None

    return get


def detect(spark: SparkSession) -> dict[str, str]:
    """Return the platform run ids of the run about to start (only the columns that are known)."""
    return from_databricks_conf(_conf_lookup(spark)) or from_emr_node()


__all__ = ["DATABRICKS_CONF", "EMR_JOB_FLOW_FILES", "detect", "from_databricks_conf", "from_emr_node"]
