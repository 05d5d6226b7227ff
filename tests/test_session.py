"""The embedded default session (docs/SPEC.md §6): reuse of the active session, Delta jars, no litter."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from pt_spark import ConfigError, ProcessTrackerError, SessionError, TrackerConfig
from pt_spark.session import (
    IVY_ENV,
    JARS_ENV,
    delta_jars,
    delta_jars_dir,
    delta_maven_coordinates,
    ivy_dir,
    local_settings,
    local_spark,
    package_conf_file,
    register_store_tables,
)
from pt_spark.store import store_for

REPO_ROOT = Path(__file__).resolve().parent.parent
LITTER = ("metastore_db", "derby.log", "spark-warehouse")


def test_local_spark_returns_the_active_session(spark):
    assert local_spark() is spark
    assert local_spark("another_name") is spark
    assert SparkSession.getActiveSession() is spark


def test_local_spark_never_reconfigures_the_active_session(spark):
    before = spark.conf.get("spark.sql.shuffle.partitions")
    assert local_spark(**{"spark.sql.shuffle.partitions": "17"}) is spark
    assert spark.conf.get("spark.sql.shuffle.partitions") == before


def test_the_local_session_is_tuned_for_small_statements(spark):
    assert spark.conf.get("spark.sql.codegen.wholeStage") == "false"
    assert spark.conf.get("spark.sql.adaptive.enabled") == "false"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "1"


def test_a_callers_settings_win_over_the_local_defaults():
    settings = local_settings(**{"spark.sql.adaptive.enabled": "true", "spark.driver.memory": "4g"})
    assert settings["spark.sql.adaptive.enabled"] == "true"
    assert settings["spark.driver.memory"] == "4g"
    assert settings["spark.sql.codegen.wholeStage"] == "false"


def test_the_session_is_delta_enabled(spark):
    assert "io.delta.sql.DeltaSparkSessionExtension" in spark.conf.get("spark.sql.extensions")
    assert spark.conf.get("spark.sql.catalog.spark_catalog") == (
        "org.apache.spark.sql.delta.catalog.DeltaCatalog"
    )


def test_the_session_keeps_its_warehouse_out_of_the_working_directory(spark):
    warehouse = spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:")
    assert not Path(warehouse).resolve().is_relative_to(Path.cwd().resolve())
    assert not Path(warehouse).resolve().is_relative_to(REPO_ROOT)


def test_delta_jars_are_found_in_the_project_cache():
    jars = [Path(jar) for jar in delta_jars()]
    names = [jar.name for jar in jars]
    assert any(name.startswith("delta-spark_") for name in names)
    assert any(name.startswith("delta-storage-") for name in names)
    assert all(jar.is_file() for jar in jars)
    assert delta_jars_dir().resolve().is_relative_to(REPO_ROOT / ".cache")


def test_missing_delta_jars_raise_session_error_telling_to_run_make_setup(monkeypatch, tmp_path):
    empty = tmp_path / "no_jars"
    empty.mkdir()
    monkeypatch.setenv(JARS_ENV, str(empty))
    assert delta_jars_dir() == empty
    with pytest.raises(SessionError) as caught:
        delta_jars()
    assert "make setup" in str(caught.value)
    assert str(empty) in str(caught.value)
    assert JARS_ENV in str(caught.value)
    assert isinstance(caught.value, ProcessTrackerError)


def test_a_folder_without_delta_spark_is_not_enough(monkeypatch, tmp_path):
    """delta-storage alone (or unrelated jars) does not count as the Delta jars."""
    (tmp_path / "delta-storage-4.4.0.jar").write_bytes(b"")
    (tmp_path / "something-else.jar").write_bytes(b"")
    monkeypatch.setenv(JARS_ENV, str(tmp_path))
    with pytest.raises(SessionError, match="make setup"):
        delta_jars()


def test_jars_env_selects_the_folder(monkeypatch, tmp_path):
    for name in ("delta-spark_4.2_2.13-4.4.0.jar", "delta-storage-4.4.0.jar", "unrelated.jar"):
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setenv(JARS_ENV, str(tmp_path))
    assert [Path(jar).name for jar in delta_jars()] == [
        "delta-spark_4.2_2.13-4.4.0.jar",
        "delta-storage-4.4.0.jar",
    ]


def test_no_metastore_or_warehouse_litter_in_the_working_directory(spark, tmp_path):
    """After the session started and wrote through the catalog: a managed table (warehouse dir)
    and an external Delta table in a new schema."""
    database = f"pt_litter_{uuid.uuid4().hex[:8]}"
    spark.sql(f"CREATE SCHEMA {database}")
    try:
        spark.sql(f"CREATE TABLE {database}.managed (a INT) USING delta")
        spark.sql(f"INSERT INTO {database}.managed VALUES (1)")
        spark.sql(f"CREATE TABLE {database}.external (a INT) USING delta LOCATION '{tmp_path / 'ext'}'")
        assert spark.table(f"{database}.managed").count() == 1
    finally:
        spark.sql(f"DROP SCHEMA {database} CASCADE")
    for folder in {Path(os.getcwd()).resolve(), REPO_ROOT}:
        present = [name for name in LITTER if (folder / name).exists()]
        assert present == [], f"created in {folder}"


# --- jars outside a checkout, package data ------------------------------------------------------


@pytest.mark.parametrize(
    ("spark_version", "delta_version", "expected"),
    [
        ("4.2.0", "4.4.0", "io.delta:delta-spark_4.2_2.13:4.4.0"),
        ("4.1.1", "4.1.0", "io.delta:delta-spark_4.1_2.13:4.1.0"),
        ("4.0.1", "4.0.1", "io.delta:delta-spark_2.13:4.0.1"),
        ("3.5.9", "3.3.3", "io.delta:delta-spark_2.12:3.3.3"),
        ("3.3.4", "2.3.0", "io.delta:delta-core_2.12:2.3.0"),
    ],
)
def test_delta_maven_coordinates_follow_deltas_naming(spark_version, delta_version, expected):
    assert delta_maven_coordinates(spark_version, delta_version) == expected


def test_the_installed_pairs_coordinates_name_the_jar_in_the_cache():
    """The Makefile fetches the artifact the library would ask Maven for (one lane's pair)."""
    group, artifact, version = delta_maven_coordinates().split(":")
    assert group == "io.delta"
    assert any(Path(jar).name == f"{artifact}-{version}.jar" for jar in delta_jars())


def test_outside_a_checkout_the_jars_come_from_maven_into_a_persistent_ivy_cache(monkeypatch, tmp_path):
    monkeypatch.setattr("pt_spark.session._SOURCE_ROOT", tmp_path / "site-packages")
    monkeypatch.setenv(IVY_ENV, str(tmp_path / "ivy"))
    settings = local_settings()
    assert "spark.jars" not in settings
    assert settings["spark.jars.packages"] == delta_maven_coordinates()
    assert settings["spark.jars.ivy"] == str(tmp_path / "ivy")
    both = local_settings(**{"spark.jars.packages": "org.example:extra:1.0"})["spark.jars.packages"]
    assert both == f"{delta_maven_coordinates()},org.example:extra:1.0"


def test_the_default_ivy_cache_is_per_user(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert ivy_dir() == tmp_path / "pt_spark" / "ivy"


def test_the_log4j_config_is_package_data(spark):
    options = spark.conf.get("spark.driver.extraJavaOptions")
    path = Path(options.split("-Dlog4j2.configurationFile=file:")[1].split()[0])
    assert path == package_conf_file("log4j2.properties")
    assert path.is_file()


# --- SQL by name in a new session (the embedded default) ----------------------------------------


def test_a_new_local_session_reads_the_configured_store_by_name(config, tmp_path):
    """As after `make demo`: a new session, SQL by name before any pt_spark call."""
    script = textwrap.dedent(
        """
        import json
        from pt_spark.session import local_spark

        spark = local_spark("pt_spark_sql_by_name")
        rows = spark.sql("SELECT process_status_name FROM {schema}.process_status_lkup").collect()
        tracking = spark.sql("SELECT * FROM {schema}.process_tracking").count()
        print("RESULT " + json.dumps({{"statuses": sorted(r[0] for r in rows), "tracking": tracking}}))
        spark.stop()
        """
    ).format(schema=config.schema_name)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PT_SPARK_")}
    env.update(PT_SPARK_SCHEMA=config.schema_name, PT_SPARK_LOCATION=config.location, HOME=str(tmp_path))
    env["PYTHONPATH"] = str(REPO_ROOT)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    assert json.loads(line[7:]) == {
        "statuses": ["abandoned", "completed", "failed", "on hold", "running"],
        "tracking": 0,
    }


def test_no_store_at_the_configured_location_is_skipped_silently(spark, tmp_path):
    cfg = TrackerConfig(schema=f"pt_none_{uuid.uuid4().hex[:8]}", location=str(tmp_path / "nothing"))
    assert register_store_tables(spark, cfg) is False
    assert not spark.catalog.databaseExists(cfg.schema_name)


def test_a_configured_store_takes_over_a_provisionally_registered_schema(spark, template_store, tmp_path):
    """The default store's registration yields to a store the caller configures for that schema."""
    schema = f"pt_prov_{uuid.uuid4().hex[:8]}"
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(template_store, first)
    shutil.copytree(template_store, second)
    default = TrackerConfig(schema=schema, location=str(first))
    assert register_store_tables(spark, default) is True
    assert spark.table(f"{schema}.process_status_lkup").count() == 5
    mine = TrackerConfig(schema=schema, location=str(second))
    store_for(spark, mine).ensure_ready()  # no ConfigError: the provisional tables make way
    detail = spark.sql(f"DESCRIBE DETAIL {schema}.process_status_lkup").first()
    assert str(detail["location"]).rstrip("/").endswith(str(second / "process_status_lkup"))
    assert (first / "process_status_lkup" / "_delta_log").is_dir()  # dropping a name kept the data
    with pytest.raises(ConfigError):  # a store actually registered is still protected
        store_for(spark, default).ensure_ready()
    spark.sql(f"DROP SCHEMA {schema} CASCADE")
