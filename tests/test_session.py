"""The embedded default session (SPEC §6): reuse of the active session, Delta jars, no litter."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from pt_spark import ProcessTrackerError, SessionError
from pt_spark.session import JARS_ENV, delta_jars, delta_jars_dir, local_settings, local_spark

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
