"""Test helpers that read the Delta tables directly (never through pt_spark's own readers)."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from pt_spark import TrackerConfig
from pt_spark.store.schema import TABLES


def table(spark: SparkSession, config: TrackerConfig, name: str) -> DataFrame:
    """Return a tracking table by its SQL name, as an analyst would query it."""
    return spark.table(f"{config.schema_name}.{name}")


def table_versions(config: TrackerConfig) -> dict[str, int]:
    """Return every table's latest Delta version, read from its ``_delta_log`` folder."""
    assert config.location is not None
    versions = {}
    for spec in TABLES:
        log = Path(config.location) / spec.name / "_delta_log"
        versions[spec.name] = max(int(p.stem) for p in log.glob("*.json"))
    return versions


def commits_since(before: dict[str, int], config: TrackerConfig) -> dict[str, int]:
    """Return ``{table: new commits}`` for the tables that changed since ``before``."""
    after = table_versions(config)
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}
