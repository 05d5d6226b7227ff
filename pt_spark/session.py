"""The embedded default: a local, Delta-enabled SparkSession (SPEC §6).

``local_spark()`` never replaces a session the caller already has: on Databricks or EMR it simply
returns the active ``spark``. Only when no session is active does it build a local one, with the
Delta jars that ``make setup`` put in the repository's cache.
"""

from __future__ import annotations

import logging
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from pt_spark.errors import SessionError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

JARS_ENV = "PT_SPARK_DELTA_JARS"
_REPO_ROOT = Path(__file__).resolve().parent.parent
_DELTA_JAR_PREFIXES = ("delta-spark_", "delta-storage-")

_LOCAL_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.databricks.delta.snapshotPartitions": "1",
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "1",
    "spark.driver.memory": "2g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.catalogImplementation": "in-memory",
    # Tracking statements touch a handful of rows: their cost is planning and code generation,
    # not execution. Whole-stage code generation compiles every new plan shape with Janino, and
    # adaptive execution re-plans each statement in stages; both pay off on big data and only add
    # latency here (a tracked run of start, extract, count and completion took ~30% less time
    # without them on the 2-core reference machine). Pass them back to ``local_spark`` for a
    # local session that also does heavy data work.
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
}


def delta_jars_dir() -> Path:
    """Return the folder that holds the Delta jars for the installed pyspark/delta-spark pair."""
    if os.environ.get(JARS_ENV):
        return Path(os.environ[JARS_ENV])
    import pyspark

    spark_line = ".".join(pyspark.__version__.split(".")[:2])
    delta_version = metadata.version("delta-spark")
    return _REPO_ROOT / ".cache" / "delta-jars" / f"delta-{delta_version}_spark-{spark_line}"


def delta_jars() -> list[str]:
    """Return the Delta jar paths, or raise ``SessionError`` telling how to fetch them."""
    folder = delta_jars_dir()
    jars = sorted(str(p) for p in folder.glob("*.jar") if p.name.startswith(_DELTA_JAR_PREFIXES))
    if not any(Path(jar).name.startswith("delta-spark_") for jar in jars):
        raise SessionError(
            f"Delta Lake jars not found in {folder}. Run `make setup` (it fetches them from "
            f"Maven Central) or point {JARS_ENV} at a folder holding delta-spark and delta-storage."
        )
    return jars


#: PySpark's own Python loggers that print a caught SQL or DataFrame error as a JSON ERROR line
#: with the whole Java stack trace, although the same error is raised to the caller anyway.
_QUERY_CONTEXT_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")


def quiet_query_context_loggers() -> None:
    """Keep PySpark from logging every failed query that the caller is about to catch.

    These are Python loggers (``pyspark.logger.PySparkLogger``), not log4j ones, so the log4j2
    config cannot reach them; they are set to CRITICAL. Their errors are still raised.
    """
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # pyspark before 4.0 has no such loggers
        return
    for name in _QUERY_CONTEXT_LOGGERS:
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)


def _log4j_conf() -> str:
    return str(_REPO_ROOT / "conf" / "log4j2.properties")


def local_settings(**conf: str) -> dict[str, str]:
    """Return the settings ``local_spark`` builds a new session with; ``conf`` wins over ours.

    Only the warehouse folder is left out: ``local_spark`` makes a new temporary one per session.

    Example:
        >>> local_settings(**{"spark.sql.adaptive.enabled": "true"})["spark.sql.adaptive.enabled"]
        'true'
    """
    settings = dict(_LOCAL_CONF)
    settings["spark.jars"] = ",".join(delta_jars())
    settings["spark.driver.extraJavaOptions"] = (
        # A roomy JIT code cache: a long MERGE-heavy session otherwise fills the default one, and
        # the JVM then disables the compiler and runs interpreted.
        f"-XX:+UseSerialGC -XX:ReservedCodeCacheSize=512m -Dlog4j2.configurationFile=file:{_log4j_conf()}"
        f" -Dderby.system.home={tempfile.gettempdir()}"
    )
    settings.update(conf)
    return settings


def local_spark(app_name: str = "pt_spark", **conf: str) -> SparkSession:
    """Return the active SparkSession, or build a local Delta-enabled one.

    Args:
        app_name: Spark application name for a new session.
        **conf: Extra Spark settings for a new session, e.g. ``**{"spark.driver.memory": "4g"}``.

    Example:
        >>> spark = local_spark()  # doctest: +SKIP
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    quiet_query_context_loggers()
    settings = local_settings(**conf)
    if "spark.sql.warehouse.dir" not in settings:
        settings["spark.sql.warehouse.dir"] = tempfile.mkdtemp(prefix="pt_spark_warehouse_")
    builder = SparkSession.builder.master(settings.pop("spark.master", "local[2]")).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


__all__ = ["delta_jars", "delta_jars_dir", "local_settings", "local_spark", "quiet_query_context_loggers"]
