"""Bulk-load synthetic tracking history, with DataFrame writes (fast set-up).

``load_shared`` puts what every history size shares (look-ups, processes, locations) into the
template store once; ``load_history`` puts the runs and extracts of one size into a copy of it.
The rows go straight into the real tracking tables of a store made by ``pt_spark.setup``: one
``append`` per table, which gives each row a consecutive block of ids above a fresh library id and
its write bucket, as the tracker's own writes would. The history looks like a store that
has been in use and compacted: old runs are ``completed``/``failed``, old extracts ``loaded`` or
``archived``, each table (each partition of a partitioned one) one file written in key order
(what OPTIMIZE leaves behind).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pyspark.sql import Window
from pyspark.sql import functions as F

from pt_spark.store.ids import new_id
from pt_spark.store.reads import ensure_rows, find_keys
from pt_spark.store.schema import BUCKET_COLUMN, bucket_sql, spec
from pt_spark.store.writes import from_source, merge_update

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from pt_spark.store.store import Store

HISTORY_PROCESS_PREFIX = "history-process-"
HISTORY_LOCATION_PREFIX = "/history/loc-"
_BASE = datetime(2020, 1, 1)


@dataclass(frozen=True)
class HistorySize:
    """How much history to load.

    Attributes:
        runs: Rows of ``process_tracking`` (spread evenly over ``processes``).
        extracts: Rows of ``extract_tracking`` (spread over ``locations``); each also gets a run
            link, a dataset-type link and a source-object link.
        processes: History processes.
        locations: History locations.
        named: Names given to history processes in the middle of the id range (instead of
            ``history-process-NNNNN``): a benchmark process named here has its share of the
            history, and an id that data skipping on ``process_id`` ranges cannot single out.
    """

    runs: int
    extracts: int
    processes: int = 100
    locations: int = 100
    named: tuple[str, ...] = ()

    def process_name(self, index: Column) -> Column:
        """The name of history process number ``index``."""
        name = F.format_string(f"{HISTORY_PROCESS_PREFIX}%05d", index)
        middle = self.processes // 2
        for offset, given in enumerate(self.named):
            name = F.when(index == F.lit(middle + offset), F.lit(given)).otherwise(name)
        return name


def _ts(seconds: Column) -> Column:
    return F.timestamp_seconds(F.lit(int(_BASE.timestamp())) + seconds)


def append(store: Store, table: str, frame: DataFrame) -> None:
    """Append ``frame`` to ``table`` (one commit), cast to the table's types, with ids and buckets.

    Rows without an id get consecutive ids above a fresh library id, in the frame's order.
    """
    table_spec = spec(table)
    if table_spec.id_column and table_spec.id_column not in frame.columns:
        order = Window.orderBy(F.monotonically_increasing_id())
        frame = frame.withColumn(table_spec.id_column, F.lit(new_id()) + F.row_number().over(order))
    if table_spec.bucket_by is not None:
        data_type = table_spec.column(table_spec.bucket_by).data_type
        frame = frame.withColumn(BUCKET_COLUMN, F.expr(bucket_sql(table_spec.bucket_by, data_type)))
    struct = table_spec.struct(tuple(frame.columns))
    typed = frame.select(*[F.col(field.name).cast(field.dataType).alias(field.name) for field in struct])
    typed.coalesce(1).write.format("delta").mode("append").saveAsTable(store.qualified(table))


def _names(column: str, *names: str) -> list[dict[str, str]]:
    return [{column: name} for name in names]


def _ids(store: Store) -> dict[str, Any]:
    """Ids of the lookup rows the history refers to (created when missing), in three batched rounds."""
    found = ensure_rows(
        store,
        {
            "process_status_lkup": _names("process_status_name", "completed", "failed"),
            "extract_status_lkup": _names("extract_status_name", "loaded", "archived"),
            "process_type_lkup": _names("process_type_name", "Extract"),
            "schedule_frequency_lkup": _names("schedule_frequency_name", "daily", "unscheduled"),
            "error_type_lkup": _names("error_type_name", "Data Error"),
            "location_type_lkup": _names("location_type_name", "local filesystem"),
            "source_type_lkup": _names("source_type_name", "Undefined"),
            "actor_lkup": _names("actor_name", "history-actor"),
            "tool_lkup": _names("tool_name", "history-tool"),
            "dataset_type_lkup": _names("dataset_type", "history-dataset"),
        },
    )
    ids: dict[str, Any] = {key[0]: int(value) for rows in found.values() for key, value in rows.items()}
    ids.update(
        actor=ids["history-actor"],
        tool=ids["history-tool"],
        dataset=ids["history-dataset"],
        local=ids["local filesystem"],
    )
    csv = find_keys(store, {"extract_filetype_lkup": [("Comma Separated Values",)]})["extract_filetype_lkup"]
    ids["csv"] = int(csv[("Comma Separated Values",)])
    source = {"source_name": "history-source", "source_type_id": ids["Undefined"]}
    source_id = int(ensure_rows(store, {"source_lkup": [source]})["source_lkup"][("history-source",)])
    obj = {"source_id": source_id, "source_object_name": "history-object"}
    ids["object"] = int(
        ensure_rows(store, {"source_object_lkup": [obj]})["source_object_lkup"][(source_id, "history-object")]
    )
    return ids


def _processes(store: Store, size: HistorySize, ids: dict[str, Any]) -> None:
    rows = store.spark.range(size.processes).select(
        size.process_name(F.col("id")).alias("process_name"),
        (F.col("id") * 100).alias("total_record_count"),
        F.lit(ids["Extract"]).alias("process_type_id"),
        F.lit(ids["tool"]).alias("process_tool_id"),
        F.when(F.col("id") % 4 == 0, F.lit(ids["daily"]))
        .otherwise(F.lit(ids["unscheduled"]))
        .alias("schedule_frequency_id"),
        _ts(F.lit(86400 * 365)).alias("last_completed_run_date_time"),
    )
    append(store, "process", rows)


def _runs(store: Store, size: HistorySize, ids: dict[str, Any], seed_runs: int) -> int:
    """Append the runs; a named process's history follows the ``seed_runs`` runs it already has."""
    per_process = max(1, size.runs // size.processes)
    history_names = F.col("process_name").startswith(HISTORY_PROCESS_PREFIX)
    if size.named:
        history_names = history_names | F.col("process_name").isin(list(size.named))
    processes = store.read("process").where(history_names).select("process_id", "process_name")
    run = F.col("id") % per_process + 1
    offset = F.lit(0)
    if size.named and seed_runs:
        offset = F.when(F.col("process_name").isin(list(size.named)), F.lit(seed_runs)).otherwise(0)
    rows = (
        store.spark.range(per_process * size.processes)
        .select(
            "id",
            size.process_name((F.col("id") / per_process).cast("long")).alias("process_name"),
        )
        .join(F.broadcast(processes), "process_name")
        .select(
            "id",
            "process_id",
            F.when(run % 7 == 0, F.lit(ids["failed"]))
            .otherwise(F.lit(ids["completed"]))
            .alias("process_status_id"),
            (run + offset).alias("process_run_id"),
            _ts(F.col("id") * 3600).alias("process_run_low_date_time"),
            _ts(F.col("id") * 3600 + 3000).alias("process_run_high_date_time"),
            _ts(F.col("id") * 60).alias("process_run_start_date_time"),
            _ts(F.col("id") * 60 + 50).alias("process_run_end_date_time"),
            (F.col("id") % 1000).alias("process_run_record_count"),
            (F.col("id") % 1000).alias("process_run_insert_count"),
            F.lit(0).alias("process_run_update_count"),
            F.lit(ids["actor"]).alias("process_run_actor_id"),
            (run == per_process).alias("is_latest_run"),
        )
        .orderBy("process_id", "process_run_id")
        .drop("id")
    )
    append(store, "process_tracking", rows)
    if size.named and seed_runs:
        _unflag_seed_runs(store, size, seed_runs)
    return per_process * size.processes


def _unflag_seed_runs(store: Store, size: HistorySize, seed_runs: int) -> None:
    """The history runs of a named process came after its seed runs: they are no longer latest."""
    named = store.read("process").where(F.col("process_name").isin(list(size.named)))
    keys = [
        {"process_id": int(row["process_id"]), "process_run_id": run, "is_latest_run": False}
        for row in named.select("process_id").collect()
        for run in range(1, seed_runs + 1)
    ]
    merge_update(
        store,
        "process_tracking",
        keys,
        on=["process_id", "process_run_id"],
        assignments=from_source("is_latest_run"),
    )


def _errors(store: Store, ids: dict[str, Any]) -> None:
    rows = (
        store.read("process_tracking")
        .where(F.col("process_tracking_id") % 10 == 0)
        .select(
            F.lit(ids["Data Error"]).alias("error_type_id"),
            "process_tracking_id",
            F.lit("history error").alias("error_description"),
            F.col("process_run_end_date_time").alias("error_occurrence_date_time"),
        )
        .orderBy("process_tracking_id")
    )
    append(store, "error_tracking", rows)


def _locations(store: Store, size: HistorySize, ids: dict[str, Any]) -> None:
    per_location = max(1, size.extracts // size.locations)
    rows = store.spark.range(size.locations).select(
        F.format_string("history - loc-%04d", "id").alias("location_name"),
        F.format_string(f"{HISTORY_LOCATION_PREFIX}%04d", "id").alias("location_path"),
        F.lit(ids["local"]).alias("location_type_id"),
        F.lit(per_location).alias("location_file_count"),
    )
    append(store, "location_lkup", rows)


def _extracts(store: Store, size: HistorySize, ids: dict[str, Any]) -> None:
    per_location = max(1, size.extracts // size.locations)
    locations = (
        store.read("location_lkup")
        .where(F.col("location_path").startswith(HISTORY_LOCATION_PREFIX))
        .select(F.col("location_id").alias("extract_location_id"), "location_path")
    )
    rows = (
        store.spark.range(size.extracts)
        .select(
            "id",
            F.format_string(
                f"{HISTORY_LOCATION_PREFIX}%04d",
                F.least((F.col("id") / per_location).cast("long"), F.lit(size.locations - 1)),
            ).alias("location_path"),
        )
        .join(F.broadcast(locations), "location_path")
        .select(
            "id",
            F.format_string("history_%08d.csv", "id").alias("extract_filename"),
            "extract_location_id",
            F.when(F.col("id") % 3 == 0, F.lit(ids["archived"]))
            .otherwise(F.lit(ids["loaded"]))
            .alias("extract_status_id"),
            _ts(F.col("id") * 30).alias("extract_registration_date_time"),
            _ts(F.col("id") * 30 - 3600).alias("extract_write_low_date_time"),
            _ts(F.col("id") * 30 - 60).alias("extract_write_high_date_time"),
            (F.col("id") % 5000).alias("extract_write_record_count"),
            _ts(F.col("id") * 30 - 3600).alias("extract_load_low_date_time"),
            _ts(F.col("id") * 30 - 60).alias("extract_load_high_date_time"),
            (F.col("id") % 5000).alias("extract_load_record_count"),
            F.lit(ids["csv"]).alias("extract_filetype_id"),
            (F.col("id") % 100000 + 1024).alias("extract_filesize"),
        )
        .orderBy("id")
        .drop("id")
    )
    append(store, "extract_tracking", rows)


def _extract_links(store: Store, runs: int, ids: dict[str, Any]) -> None:
    extracts = store.read("extract_tracking").select(
        "extract_id", "extract_status_id", "extract_registration_date_time"
    )
    first_row = store.read("process_tracking").agg(F.min("process_tracking_id")).first()
    assert first_row is not None  # an aggregate always returns one row
    first_run = first_row[0]
    run_links = extracts.select(
        F.col("extract_id").alias("extract_tracking_id"),
        (F.lit(int(first_run)) + F.col("extract_id") % runs).alias("process_tracking_id"),
        F.col("extract_status_id").alias("extract_process_status_id"),
        F.col("extract_registration_date_time").alias("extract_process_event_date_time"),
    ).orderBy("extract_tracking_id")
    append(store, "extract_process_tracking", run_links)
    datasets = extracts.select("extract_id", F.lit(ids["dataset"]).alias("dataset_type_id")).orderBy(
        "extract_id"
    )
    append(store, "extract_dataset_type", datasets)
    objects = extracts.select("extract_id", F.lit(ids["object"]).alias("source_object_id")).orderBy(
        "extract_id"
    )
    append(store, "extract_source_object", objects)


class _Steps:
    """Runs named set-up steps and keeps the seconds each took."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str, action: Any) -> Any:
        start = time.perf_counter()
        result = action()
        self.seconds[name] = round(time.perf_counter() - start, 2)
        return result


def load_shared(store: Store, size: HistorySize) -> tuple[dict[str, Any], dict[str, float]]:
    """Load what every history size shares (look-ups, processes, locations) into the template.

    Returns the ids of the look-up rows (the same in every copy of the template) and the seconds
    per step.
    """
    step = _Steps()
    ids = step("lookups", lambda: _ids(store))
    step("process", lambda: _processes(store, size, ids))
    step("location_lkup", lambda: _locations(store, size, ids))
    return ids, step.seconds


def load_history(store: Store, size: HistorySize, ids: dict[str, Any], seed_runs: int = 0) -> dict[str, Any]:
    """Load the runs and extracts of ``size`` into a copy of the template; return counts and seconds.

    Args:
        store: A copy of the template store (``load_shared`` ran on the template).
        size: The history size (its processes and locations are the template's).
        ids: The look-up ids ``load_shared`` returned.
        seed_runs: Runs the named processes already have (their history runs come after).
    """
    step = _Steps()
    runs = step("process_tracking", lambda: _runs(store, size, ids, seed_runs))
    step("error_tracking", lambda: _errors(store, ids))
    step("extract_tracking", lambda: _extracts(store, size, ids))
    step("extract_links", lambda: _extract_links(store, runs, ids))
    return {"runs": runs, "extracts": size.extracts, "processes": size.processes, "seconds": step.seconds}


__all__ = [
    "HISTORY_LOCATION_PREFIX",
    "HISTORY_PROCESS_PREFIX",
    "HistorySize",
    "append",
    "load_history",
    "load_shared",
]
