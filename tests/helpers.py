"""Test helpers that read the Delta tables directly (never through pt_spark's own readers)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from pt_spark import ProcessTracker, TrackerConfig
from pt_spark.store.schema import TABLES

#: The run every extract test module starts: an Extract process with one source and dataset type.
EXTRACT_RUN = {
    "process_type": "Extract",
    "actor_name": "tester",
    "tool_name": "Spark",
    "sources": "Unittests",
    "dataset_types": "Category 1",
}

#: The session conf a Databricks job sets for a task of a multi-task job run, and the platform
#: run ids a run started there records (``pt_spark.platform``).
DATABRICKS_JOB_TASK_CONF = {
    "spark.databricks.job.id": "1082",
    "spark.databricks.job.runId": "55501",
    "spark.databricks.job.parentRunId": "55500",
    "spark.databricks.job.taskKey": "load_teams",
    "spark.databricks.clusterUsageTags.clusterId": "0923-164208-abc123",
}
DATABRICKS_JOB_TASK_IDS = {
    "platform_name": "databricks",
    "platform_job_id": "1082",
    "platform_job_run_id": "55500",
    "platform_task_run_id": "55501",
    "platform_task_key": "load_teams",
    "platform_cluster_id": "0923-164208-abc123",
}


def extract_run(
    spark: SparkSession, config: TrackerConfig, process_name: str, **changes: Any
) -> ProcessTracker:
    """Start the shared extract test run (``EXTRACT_RUN``, with ``changes``) of ``process_name``."""
    return ProcessTracker(spark=spark, process_name=process_name, config=config, **{**EXTRACT_RUN, **changes})


def table(spark: SparkSession, config: TrackerConfig, name: str) -> DataFrame:
    """Return a tracking table by its SQL name, as an analyst would query it."""
    return spark.table(f"{config.schema_name}.{name}")


def _delta_log(config: TrackerConfig, name: str) -> Path:
    assert config.location is not None
    return Path(config.location) / name / "_delta_log"


def _latest_version(log: Path) -> int:
    return max(int(p.stem) for p in log.glob("*.json"))


def _actions(commit: Path) -> Iterator[dict[str, Any]]:
    """Yield the actions (one JSON object per line) of a Delta commit file."""
    for line in commit.read_text(encoding="utf-8").splitlines():
        yield json.loads(line)


def table_versions(config: TrackerConfig) -> dict[str, int]:
    """Return every table's latest Delta version, read from its ``_delta_log`` folder."""
    return {spec.name: _latest_version(_delta_log(config, spec.name)) for spec in TABLES}


def _is_compaction(commit: Path) -> bool:
    """Whether a commit is an OPTIMIZE (tracker calls never optimize; Delta's auto compaction does)."""
    for action in _actions(commit):
        info = action.get("commitInfo")
        if info is not None:
            return bool(info.get("operation") == "OPTIMIZE")
    return False


def _writes_since(before: dict[str, int], config: TrackerConfig, name: str) -> list[Path]:
    """Return the commit files of ``name`` after ``before``, Delta's automatic compactions left out."""
    log = _delta_log(config, name)
    commits = (log / f"{version:020d}.json" for version in range(before[name] + 1, _latest_version(log) + 1))
    return [commit for commit in commits if not _is_compaction(commit)]


def commits_since(before: dict[str, int], config: TrackerConfig) -> dict[str, int]:
    """Return ``{table: new write commits}`` for the tables that changed since ``before``.

    Delta's automatic compaction (an ``OPTIMIZE`` commit it adds after a write on the tables that
    have ``delta.autoOptimize.autoCompact``) is not a write of the call, so it is not counted.
    """
    counts = {spec.name: len(_writes_since(before, config, spec.name)) for spec in TABLES}
    return {name: count for name, count in counts.items() if count}


def partition_columns(config: TrackerConfig, name: str) -> list[str]:
    """Return a table's partition columns, from the newest ``metaData`` action of its Delta log."""
    columns: list[str] = []
    for commit in sorted(_delta_log(config, name).glob("*.json")):
        for action in _actions(commit):
            if "metaData" in action:
                columns = list(action["metaData"].get("partitionColumns") or [])
    return columns


def rewritten_partitions(before: dict[str, int], config: TrackerConfig, name: str) -> list[dict[str, str]]:
    """Return the partition values of every data file the writes since ``before`` rewrote in ``name``.

    Read from the ``remove`` actions of the table's commits (Delta's compactions left out): which
    files a MERGE had to rewrite, the cost that grows when a table keeps everything in one file.
    """
    return [
        dict(action["remove"].get("partitionValues") or {})
        for commit in _writes_since(before, config, name)
        for action in _actions(commit)
        if "remove" in action
    ]


# --- seeding: rows that ProcessTracker normally registers, written with the store's own writers ---


def seed_store(spark: SparkSession, config: TrackerConfig):  # -> pt_spark.store.Store
    """Return the ``Store`` of ``config`` for seeding rows with ``pt_spark.store.writes``."""
    from pt_spark.config import resolve_config
    from pt_spark.store.store import store_for

    return store_for(spark, resolve_config(spark, config))


def seed_processes(spark: SparkSession, config: TrackerConfig, *names: str) -> dict[str, int]:
    """Create processes (name only, as a bare ``process`` row); return ``{name: process_id}``."""
    from pt_spark.store.reads import ensure_rows

    rows = [{"process_name": name, "total_record_count": 0} for name in names]
    found = ensure_rows(seed_store(spark, config), {"process": rows})["process"]
    return {key[0]: int(value) for key, value in found.items()}


def seed_attribute(spark: SparkSession, config: TrackerConfig, source: str, obj: str, attribute: str) -> int:
    """Create source -> source object -> attribute (type Undefined, flags false); return the attribute id."""
    from pt_spark.store.reads import ensure_rows, find_keys

    store = seed_store(spark, config)
    type_id = find_keys(store, {"source_type_lkup": [("Undefined",)]})["source_type_lkup"][("Undefined",)]
    source_id = ensure_rows(store, {"source_lkup": [{"source_name": source, "source_type_id": type_id}]})
    sid = source_id["source_lkup"][(source,)]
    object_id = ensure_rows(store, {"source_object_lkup": [{"source_id": sid, "source_object_name": obj}]})
    oid = object_id["source_object_lkup"][(sid, obj)]
    flags = dict.fromkeys(("is_key", "is_filter", "is_partition", "is_pii"), False)
    row = {"source_object_id": oid, "source_object_attribute_name": attribute, **flags}
    found = ensure_rows(store, {"source_object_attribute_lkup": [row]})
    return int(found["source_object_attribute_lkup"][(oid, attribute)])


def seed_run(
    spark: SparkSession,
    config: TrackerConfig,
    process_id: int,
    status: str,
    run_id: int,
    latest: bool = True,
    **columns: object,
) -> None:
    """Insert a ``process_tracking`` row in ``status`` (a default status name)."""
    from pt_spark.store.reads import find_keys
    from pt_spark.store.writes import append_rows, with_new_ids

    store = seed_store(spark, config)
    status_id = find_keys(store, {"process_status_lkup": [(status,)]})["process_status_lkup"][(status,)]
    row = {
        "process_id": process_id,
        "process_status_id": status_id,
        "process_run_id": run_id,
        "is_latest_run": latest,
        **columns,
    }
    append_rows(store, "process_tracking", with_new_ids("process_tracking", [row]))
