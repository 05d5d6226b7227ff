"""The embedded default: a local, Delta-enabled SparkSession (docs/SPEC.md §6).

``local_spark()`` never replaces a session the caller already has: on Databricks or EMR it simply
returns the active ``spark``. Only when no session is active does it build a local one, with the
Delta Lake jars found in this order (``delta_jar_source``):

1. the folder named by ``PT_SPARK_DELTA_JARS``;
2. the checkout's cache ``.cache/delta-jars/delta-<delta>_spark-<line>`` (``make setup`` fills it),
   when pt_spark runs from a source checkout and the folder holds the jars;
3. otherwise Spark resolves the Maven coordinates of the installed delta-spark/pyspark pair
   (``spark.jars.packages``) into a persistent Ivy cache, ``~/.cache/pt_spark/ivy`` (or
   ``PT_SPARK_IVY_DIR``): the first session downloads them, later ones reuse them.

A new local session also registers the tables of the configured store by name (the config is
resolved as ``ProcessTracker`` resolves it), so that SQL such as
``SELECT * FROM process_tracker.process_tracking`` works before any pt_spark call.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

from pt_spark.errors import ProcessTrackerError, SessionError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from pt_spark.config import TrackerConfig

JARS_ENV = "PT_SPARK_DELTA_JARS"
IVY_ENV = "PT_SPARK_IVY_DIR"
#: The source checkout pt_spark runs from, if it does (an installed wheel has no pyproject.toml here).
_SOURCE_ROOT = Path(__file__).resolve().parent.parent
_DELTA_JAR_PREFIXES = ("delta-spark_", "delta-storage-")
log = logging.getLogger(__name__)

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


def _source_checkout() -> Path | None:
    """Return the repository root when pt_spark is imported from a source checkout."""
    root = _SOURCE_ROOT
    return root if (root / "pyproject.toml").is_file() and (root / "conf").is_dir() else None


def _versions() -> tuple[str, str]:
    """Return the installed (pyspark, delta-spark) versions."""
    import pyspark

    return pyspark.__version__, metadata.version("delta-spark")


def _spark_line(spark_version: str) -> str:
    return ".".join(spark_version.split(".")[:2])


def delta_jars_dir() -> Path:
    """Return the folder to take the Delta jars from: ``PT_SPARK_DELTA_JARS``, else the checkout's cache.

    The cache folder is named after the installed pair, so each lane (virtualenv) has its own.
    """
    if os.environ.get(JARS_ENV):
        return Path(os.environ[JARS_ENV])
    spark_version, delta_version = _versions()
    folder = f"delta-{delta_version}_spark-{_spark_line(spark_version)}"
    return _SOURCE_ROOT / ".cache" / "delta-jars" / folder


def _jars_in(folder: Path) -> list[str]:
    jars = sorted(str(p) for p in folder.glob("*.jar") if p.name.startswith(_DELTA_JAR_PREFIXES))
    return jars if any(Path(jar).name.startswith("delta-spark_") for jar in jars) else []


def delta_jars() -> list[str]:
    """Return the Delta jars of ``delta_jars_dir()``, or raise ``SessionError`` telling how to get them."""
    folder = delta_jars_dir()
    jars = _jars_in(folder)
    if not jars:
        raise SessionError(
            f"Delta Lake jars not found in {folder}. Run `make setup` (it fetches them from "
            f"Maven Central) or point {JARS_ENV} at a folder holding delta-spark and delta-storage."
        )
    return jars


def _bundled_scala_version() -> str | None:
    """Return the Scala binary version of the installed pyspark, read from its scala-library jar."""
    import pyspark

    for jar in (Path(pyspark.__file__).parent / "jars").glob("scala-library-*.jar"):
        found = re.match(r"scala-library-(\d+\.\d+)\.", jar.name)
        if found:
            return found.group(1)
    return None


def delta_maven_coordinates(
    spark_version: str | None = None, delta_version: str | None = None, scala_version: str | None = None
) -> str:
    """Return the Maven coordinates of Delta's Spark connector for a pyspark/delta-spark pair.

    Delta 4.1 and later publish one connector per Spark line (``delta-spark_4.2_2.13``); Delta 3.x
    and 4.0 one per Scala version (``delta-spark_2.12``, ``delta-spark_2.13``); Delta before 3.0
    called it ``delta-core``. Without arguments: the installed pyspark (and its Scala) and
    delta-spark. The Scala version defaults to 2.12 for Spark 3 and 2.13 for Spark 4.

    Example:
        >>> delta_maven_coordinates("4.2.0", "4.4.0")
        'io.delta:delta-spark_4.2_2.13:4.4.0'
        >>> delta_maven_coordinates("3.5.9", "3.3.3")
        'io.delta:delta-spark_2.12:3.3.3'
    """
    if spark_version is None or delta_version is None:
        installed_spark, installed_delta = _versions()
        spark_version = spark_version or installed_spark
        delta_version = delta_version or installed_delta
        scala_version = scala_version or _bundled_scala_version()
    spark_major = int(spark_version.split(".")[0])
    scala = scala_version or ("2.12" if spark_major < 4 else "2.13")
    major, minor = (int(part) for part in re.findall(r"\d+", delta_version)[:2])
    if (major, minor) >= (4, 1):
        artifact = f"delta-spark_{_spark_line(spark_version)}_{scala}"
    elif major >= 3:
        artifact = f"delta-spark_{scala}"
    else:
        artifact = f"delta-core_{scala}"
    return f"io.delta:{artifact}:{delta_version}"


def ivy_dir() -> Path:
    """Return the persistent Ivy folder for ``spark.jars.packages`` (``PT_SPARK_IVY_DIR`` or a user cache)."""
    if os.environ.get(IVY_ENV):
        return Path(os.environ[IVY_ENV]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(cache).expanduser() / "pt_spark" / "ivy"


def delta_jar_source() -> dict[str, str]:
    """Return the Spark settings that put the Delta jars on a new session's classpath (module docstring).

    Raises:
        SessionError: ``PT_SPARK_DELTA_JARS`` names a folder without the Delta jars.
    """
    if os.environ.get(JARS_ENV):
        return {"spark.jars": ",".join(delta_jars())}
    if _source_checkout() is not None:
        jars = _jars_in(delta_jars_dir())
        if jars:
            return {"spark.jars": ",".join(jars)}
    return {"spark.jars.packages": delta_maven_coordinates(), "spark.jars.ivy": str(ivy_dir())}


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


def package_conf_file(name: str) -> Path:
    """Return a file of the package data ``pt_spark/conf/`` (in a checkout: its ``conf/``)."""
    packaged = resources.files("pt_spark").joinpath("conf", name)
    if packaged.is_file():
        return Path(str(packaged))
    return _SOURCE_ROOT / "conf" / name


def _log4j_conf() -> str:
    return str(package_conf_file("log4j2.properties"))


def local_settings(**conf: str) -> dict[str, str]:
    """Return the settings ``local_spark`` builds a new session with; ``conf`` wins over ours.

    Only the warehouse folder is left out: ``local_spark`` makes a new temporary one per session.
    A ``spark.jars.packages`` of the caller's is added to Delta's rather than replacing it.

    Example:
        >>> local_settings(**{"spark.sql.adaptive.enabled": "true"})["spark.sql.adaptive.enabled"]
        'true'
    """
    settings = dict(_LOCAL_CONF)
    settings.update(delta_jar_source())
    settings["spark.driver.extraJavaOptions"] = (
        # A roomy JIT code cache: a long MERGE-heavy session otherwise fills the default one, and
        # the JVM then disables the compiler and runs interpreted.
        f"-XX:+UseSerialGC -XX:ReservedCodeCacheSize=512m -Dlog4j2.configurationFile=file:{_log4j_conf()}"
        f" -Dderby.system.home={tempfile.gettempdir()}"
    )
    if "spark.jars.packages" in settings and conf.get("spark.jars.packages"):
        conf = {
            **conf,
            "spark.jars.packages": f"{settings['spark.jars.packages']},{conf['spark.jars.packages']}",
        }
    settings.update(conf)
    return settings


def register_store_tables(spark: SparkSession, config: TrackerConfig | None = None) -> bool:
    """Register the tables of the configured store by name, if that store exists; return whether it did.

    The config is resolved as ``ProcessTracker`` resolves it (``config`` fields first). A store on
    managed tables needs nothing; a missing, partial or misconfigured store is skipped silently
    (pt_spark's own calls report it). The registration is *provisional*: a store of another
    location that this session uses later under the same schema takes the schema over, rather
    than being refused as a conflicting configuration.
    """
    from pt_spark.config import resolve_config
    from pt_spark.store import store_for
    from pt_spark.store.store import mark_provisional

    try:
        cfg = resolve_config(spark, config)
        if cfg.location is None:
            return False
        store = store_for(spark, cfg)
        probe = store.path("system_lkup") or ""
        local = Path(probe.removeprefix("file:")) if "://" not in probe else None
        if local is not None and not (local / "_delta_log").is_dir():
            return False
        if local is None and not store.is_delta_folder(probe):
            return False
        mark_provisional(spark, cfg)  # before: a registration cut short is provisional too
        store.ensure_ready()
    except ProcessTrackerError as error:  # no usable configured store: pt_spark's calls will say so
        log.debug("tables of the configured store not registered: %s", error)
        return False
    except Exception as error:  # e.g. an unreadable table folder: the session is still usable
        log.warning("could not register the tables of the configured store by name: %s", error)
        return False
    return True


def local_spark(app_name: str = "pt_spark", register_tables: bool = True, **conf: str) -> SparkSession:
    """Return the active SparkSession, or build a local Delta-enabled one.

    Args:
        app_name: Spark application name for a new session.
        register_tables: For a new session, register the configured store's tables by name
            (``register_store_tables``) so that SQL can read them at once. It costs a few seconds
            when the store exists; pass False when the session is for another store.
        **conf: Extra Spark settings for a new session, e.g. ``**{"spark.driver.memory": "4g"}``.

    Example:
        >>> spark = local_spark()  # doctest: +SKIP
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    quiet_query_context_loggers()
    # Python workers run this interpreter, not whatever `python3` is on PATH: pyspark refuses a
    # worker of another minor version (pyspark 3.5 ships rows to workers to build a DataFrame).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings = local_settings(**conf)
    if "spark.sql.warehouse.dir" not in settings:
        settings["spark.sql.warehouse.dir"] = tempfile.mkdtemp(prefix="pt_spark_warehouse_")
    builder = SparkSession.builder.master(settings.pop("spark.master", "local[2]")).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if register_tables:
        register_store_tables(spark)
    return spark


__all__ = [
    "IVY_ENV",
    "JARS_ENV",
    "delta_jar_source",
    "delta_jars",
    "delta_jars_dir",
    "delta_maven_coordinates",
    "ivy_dir",
    "local_settings",
    "local_spark",
    "package_conf_file",
    "quiet_query_context_loggers",
    "register_store_tables",
]
