"""The lane's checks read the Delta tables themselves over Connect, never through pt_spark's readers.

Tables are read by path (``delta.`<location>/<table>```), so a check does not depend on pt_spark
having registered the table by name. Values are compared with Column expressions: parameterized
``spark.sql(..., args=...)`` is not used here (over this Connect server every named or positional
parameter came back UNBOUND_SQL_PARAMETER).
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pt_spark import TrackerConfig


def table(spark: SparkSession, config: TrackerConfig, name: str) -> DataFrame:
    """The Delta table ``name`` of the store, read from its folder."""
    assert config.location is not None
    return spark.read.format("delta").load(f"{config.location}/{name}")


def dicts(frame: DataFrame) -> list[dict[str, Any]]:
    """Collect ``frame`` as plain dicts."""
    return [row.asDict() for row in frame.collect()]


def run_row(spark: SparkSession, config: TrackerConfig, tracking_id: int) -> dict[str, Any]:
    """The run's ``process_tracking`` row with its status name."""
    runs = table(spark, config, "process_tracking").where(F.col("process_tracking_id") == tracking_id)
    [row] = dicts(runs.join(table(spark, config, "process_status_lkup"), "process_status_id"))
    return row


def process_row(spark: SparkSession, config: TrackerConfig, name: str) -> dict[str, Any]:
    """The ``process`` row named ``name``."""
    [row] = dicts(table(spark, config, "process").where(F.col("process_name") == name))
    return row


def run_statuses(spark: SparkSession, config: TrackerConfig, name: str) -> list[str]:
    """The statuses of every run of process ``name``, oldest first."""
    runs = (
        table(spark, config, "process_tracking")
        .join(table(spark, config, "process").where(F.col("process_name") == name), "process_id")
        .join(table(spark, config, "process_status_lkup"), "process_status_id")
        .orderBy("process_run_id")
    )
    return [row["process_status_name"] for row in runs.collect()]
