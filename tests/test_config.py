"""Configuration resolution (docs/SPEC.md §7): precedence key by key, config files, validation.

Order, highest first: explicit ``config=`` > ``config_location`` file > ``PT_SPARK_*`` environment
> Spark conf ``spark.pt_spark.*`` > packaged ``conf/process_tracker_config.ini``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from pt_spark import ConfigError, InvalidInput, TrackerConfig
from pt_spark.config import CONFIG_FILENAME, resolve_config

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGED_FILE = REPO_ROOT / "conf" / "process_tracker_config.ini"
KEYS = ("max_concurrent_failures", "log_level", "catalog", "schema", "location", "stale_run_timeout")

#: Packaged defaults (conf/process_tracker_config.ini), as TrackerConfig attributes.
PACKAGED = {
    "max_concurrent_failures": 3,
    "log_level": "WARNING",
    "catalog": None,
    "schema": "process_tracker",
    "location": "pt_spark_store",  # relative: resolved against the working directory
    "stale_run_timeout": None,  # off
}

#: A distinct value per key and per layer, so a resolved value tells which layer won.
LAYER_VALUES = {
    "argument": {
        "max_concurrent_failures": 5,
        "log_level": "DEBUG",
        "catalog": "cat_arg",
        "schema": "schema_arg",
        "location": "/data/pt_arg",
        "stale_run_timeout": 100,
    },
    "file": {
        "max_concurrent_failures": 6,
        "log_level": "INFO",
        "catalog": "cat_file",
        "schema": "schema_file",
        "location": "/data/pt_file",
        "stale_run_timeout": 200,
    },
    "env": {
        "max_concurrent_failures": 7,
        "log_level": "ERROR",
        "catalog": "cat_env",
        "schema": "schema_env",
        "location": "/data/pt_env",
        "stale_run_timeout": 300,
    },
    "spark": {
        "max_concurrent_failures": 8,
        "log_level": "CRITICAL",
        "catalog": "cat_conf",
        "schema": "schema_conf",
        "location": "/data/pt_conf",
        "stale_run_timeout": 400,
    },
}
LAYERS = ("argument", "file", "env", "spark")


def _attr(key: str) -> str:
    return "schema_name" if key == "schema" else key


def _value(cfg: TrackerConfig, key: str):
    return getattr(cfg, _attr(key))


def _packaged(key: str):
    value = PACKAGED[key]
    return os.path.abspath(value) if key == "location" else value


def _write_ini(path: Path, values: dict[str, object]) -> Path:
    lines = ["[DEFAULT]", *(f"{key} = {value}" for key, value in values.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def spark_conf(spark: SparkSession) -> Iterator[Callable[[str, object], None]]:
    """Return a setter of ``spark.pt_spark.<key>`` on the shared session; every key is unset after."""

    def set_conf(key: str, value: object) -> None:
        spark.conf.set(f"spark.pt_spark.{key}", str(value))

    try:
        yield set_conf
    finally:
        for key in KEYS:
            spark.conf.unset(f"spark.pt_spark.{key}")


@pytest.fixture(autouse=True)
def _restore_logger_level() -> Iterator[None]:
    """resolve_config sets the ``pt_spark`` logger level; keep that from leaking across tests."""
    logger = logging.getLogger("pt_spark")
    level = logger.level
    yield
    logger.setLevel(level)


# --- precedence ---------------------------------------------------------------------------------


def test_packaged_default_file_holds_the_spec_defaults():
    text = PACKAGED_FILE.read_text(encoding="utf-8")
    assert "[DEFAULT]" in text
    assert "max_concurrent_failures = 3" in text


def test_packaged_defaults_apply_when_nothing_is_configured(spark):
    cfg = resolve_config(spark)
    assert {key: _value(cfg, key) for key in KEYS} == {key: _packaged(key) for key in KEYS}


def test_packaged_relative_location_resolves_against_the_working_directory(spark, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_config(spark).location == str(tmp_path / "pt_spark_store")


def test_resolves_without_a_spark_session():
    assert resolve_config(None).max_concurrent_failures == 3


@pytest.mark.parametrize("key", KEYS)
def test_precedence_key_by_key(spark, spark_conf, monkeypatch, tmp_path, key):
    """Every layer sets ``key``; removing the winning layer each time exposes the next one."""
    ini = _write_ini(tmp_path / "user.ini", {key: LAYER_VALUES["file"][key]})
    monkeypatch.setenv(f"PT_SPARK_{key.upper()}", str(LAYER_VALUES["env"][key]))
    spark_conf(key, LAYER_VALUES["spark"][key])
    argument = TrackerConfig(**{key: LAYER_VALUES["argument"][key]})

    assert _value(resolve_config(spark, argument, ini), key) == LAYER_VALUES["argument"][key]
    assert _value(resolve_config(spark, None, ini), key) == LAYER_VALUES["file"][key]
    assert _value(resolve_config(spark, None, None), key) == LAYER_VALUES["env"][key]
    monkeypatch.delenv(f"PT_SPARK_{key.upper()}")
    assert _value(resolve_config(spark, None, None), key) == LAYER_VALUES["spark"][key]
    spark.conf.unset(f"spark.pt_spark.{key}")
    assert _value(resolve_config(spark, None, None), key) == _packaged(key)


def test_each_key_comes_from_its_own_layer(spark, spark_conf, monkeypatch, tmp_path):
    """Layers merge per key: the file setting one key does not hide another key's env value."""
    ini = _write_ini(tmp_path / "user.ini", {"schema": "from_file"})
    monkeypatch.setenv("PT_SPARK_MAX_CONCURRENT_FAILURES", "7")
    monkeypatch.setenv("PT_SPARK_SCHEMA", "from_env")
    spark_conf("log_level", "ERROR")
    spark_conf("max_concurrent_failures", "8")

    cfg = resolve_config(spark, TrackerConfig(location="/data/from_arg"), ini)

    assert cfg.location == "/data/from_arg"
    assert cfg.schema_name == "from_file"
    assert cfg.max_concurrent_failures == 7
    assert cfg.log_level == "ERROR"
    assert cfg.catalog is None


def test_explicit_value_equal_to_the_default_still_wins(spark, monkeypatch):
    """An argument set explicitly to the default value is still an explicit argument."""
    monkeypatch.setenv("PT_SPARK_MAX_CONCURRENT_FAILURES", "9")
    monkeypatch.setenv("PT_SPARK_SCHEMA", "from_env")
    cfg = resolve_config(spark, TrackerConfig(max_concurrent_failures=3, schema="process_tracker"))
    assert (cfg.max_concurrent_failures, cfg.schema_name) == (3, "process_tracker")


def test_unset_fields_of_an_argument_fall_through(spark, monkeypatch):
    monkeypatch.setenv("PT_SPARK_MAX_CONCURRENT_FAILURES", "9")
    cfg = resolve_config(spark, TrackerConfig(schema="only_schema"))
    assert (cfg.schema_name, cfg.max_concurrent_failures) == ("only_schema", 9)


def test_log_level_is_applied_to_the_pt_spark_logger(spark, monkeypatch):
    monkeypatch.setenv("PT_SPARK_LOG_LEVEL", "debug")
    assert resolve_config(spark).log_level == "DEBUG"
    assert logging.getLogger("pt_spark").level == logging.DEBUG


# --- config_location ----------------------------------------------------------------------------


def test_config_location_as_a_file_with_any_name(spark, tmp_path):
    ini = _write_ini(tmp_path / "custom-name.ini", {"schema": "via_file", "max_concurrent_failures": 4})
    cfg = resolve_config(spark, config_location=ini)
    assert (cfg.schema_name, cfg.max_concurrent_failures) == ("via_file", 4)
    assert resolve_config(spark, config_location=str(ini)).schema_name == "via_file"


def test_config_location_as_a_folder(spark, tmp_path):
    _write_ini(tmp_path / CONFIG_FILENAME, {"schema": "via_folder", "log_level": "INFO"})
    cfg = resolve_config(spark, config_location=tmp_path)
    assert (cfg.schema_name, cfg.log_level) == ("via_folder", "INFO")
    assert resolve_config(spark, config_location=str(tmp_path)).schema_name == "via_folder"


def test_default_config_location_is_read_when_present(spark, tmp_path, monkeypatch):
    user_dir = tmp_path / "home_process_tracker"
    user_dir.mkdir()
    _write_ini(user_dir / CONFIG_FILENAME, {"schema": "from_home", "max_concurrent_failures": 2})
    monkeypatch.setattr("pt_spark.config.DEFAULT_CONFIG_DIR", user_dir)
    monkeypatch.setenv("PT_SPARK_SCHEMA", "from_env")
    cfg = resolve_config(spark)
    assert (cfg.schema_name, cfg.max_concurrent_failures) == ("from_home", 2)


def test_default_config_location_absent_is_not_an_error(spark):
    # conftest points DEFAULT_CONFIG_DIR at a folder that does not exist
    assert resolve_config(spark).schema_name == "process_tracker"


def test_unknown_keys_and_other_sections_are_ignored(spark, tmp_path):
    ini = tmp_path / "extra.ini"
    ini.write_text(
        "[DEFAULT]\nschema = known\nunknown_key = whatever\n[other]\nschema = not_this_one\n",
        encoding="utf-8",
    )
    assert resolve_config(spark, config_location=ini).schema_name == "known"


@pytest.mark.parametrize("where", ["missing.ini", "empty_folder"])
def test_missing_config_file_names_config_location(spark, tmp_path, where):
    (tmp_path / "empty_folder").mkdir()
    with pytest.raises(ConfigError) as caught:
        resolve_config(spark, config_location=tmp_path / where)
    assert caught.value.key == "config_location"
    assert "config_location" in str(caught.value)
    assert isinstance(caught.value, InvalidInput)


def test_unreadable_config_file_names_config_location(spark, tmp_path):
    ini = tmp_path / "broken.ini"
    ini.write_text("this is not an ini file\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="config_location"):
        resolve_config(spark, config_location=ini)


def test_config_argument_must_be_a_tracker_config(spark):
    with pytest.raises(ConfigError, match="config"):
        resolve_config(spark, config={"schema": "x"})  # type: ignore[arg-type]


# --- invalid values -----------------------------------------------------------------------------

BAD_VALUES = [
    ("max_concurrent_failures", "0"),
    ("max_concurrent_failures", "-1"),
    ("max_concurrent_failures", "abc"),
    ("schema", "bad-name;"),
    ("schema", "x'); DROP TABLE process;--"),
    ("catalog", "bad catalog"),
    ("log_level", "LOUD"),
    ("stale_run_timeout", "0"),
    ("stale_run_timeout", "soon"),
    ("schema", "a-b"),
]


@pytest.mark.parametrize(("key", "value"), BAD_VALUES)
def test_bad_value_in_a_file_names_the_key(spark, tmp_path, key, value):
    ini = _write_ini(tmp_path / "bad.ini", {key: value})
    with pytest.raises(ConfigError) as caught:
        resolve_config(spark, config_location=ini)
    assert caught.value.key == key
    assert key in str(caught.value)


@pytest.mark.parametrize(("key", "value"), BAD_VALUES)
def test_bad_value_in_the_environment_names_the_key(spark, monkeypatch, key, value):
    monkeypatch.setenv(f"PT_SPARK_{key.upper()}", value)
    with pytest.raises(ConfigError) as caught:
        resolve_config(spark)
    assert caught.value.key == key
    assert key in str(caught.value)


@pytest.mark.parametrize(("key", "value"), BAD_VALUES[:4] + BAD_VALUES[-4:])
def test_bad_value_in_spark_conf_names_the_key(spark, spark_conf, key, value):
    spark_conf(key, value)
    with pytest.raises(ConfigError) as caught:
        resolve_config(spark)
    assert caught.value.key == key
    assert key in str(caught.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_concurrent_failures", 0),
        ("max_concurrent_failures", "abc"),
        ("max_concurrent_failures", True),
        ("schema", "bad-name;"),
        ("schema", ""),
        ("schema", "x; DROP"),
        ("schema", "a-b"),
        ("log_level", "LOUD"),
        ("stale_run_timeout", 0),
        ("stale_run_timeout", "soon"),
        ("no_such_key", "x"),
    ],
)
def test_bad_argument_is_a_config_error_naming_the_key(key, value):
    """TrackerConfig(...) raises ConfigError (an InvalidInput and a ValueError), not pydantic's error."""
    with pytest.raises(ConfigError) as caught:
        TrackerConfig(**{key: value})
    assert caught.value.key == key and f"'{key}'" in str(caught.value)
    assert isinstance(caught.value, InvalidInput) and isinstance(caught.value, ValueError)
    assert type(caught.value) is ConfigError  # not a pydantic ValidationError


def test_blank_schema_in_a_file_names_the_key(spark, tmp_path):
    ini = _write_ini(tmp_path / "blank.ini", {"schema": ""})
    with pytest.raises(ConfigError) as caught:
        resolve_config(spark, config_location=ini)
    assert caught.value.key == "schema"


def test_schema_attribute_is_the_schema_name():
    cfg = TrackerConfig(schema="ops_tracking")
    assert cfg.schema == "ops_tracking" == cfg.schema_name
    assert TrackerConfig(schema_name="by_field").schema == "by_field"
    assert TrackerConfig().schema == "process_tracker"


def test_table_is_the_quoted_fully_qualified_name():
    assert TrackerConfig(catalog="cat", schema="process_tracker").table("process") == (
        "`cat`.`process_tracker`.`process`"
    )
    assert TrackerConfig(schema="process_tracker").table("process") == "`process_tracker`.`process`"
    with pytest.raises(InvalidInput, match="name"):
        TrackerConfig().table("process`; DROP TABLE x")


def test_stale_run_timeout_is_off_by_default_and_read_from_every_layer(spark, monkeypatch, tmp_path):
    assert TrackerConfig().stale_run_timeout is None
    assert resolve_config(spark).stale_run_timeout is None
    assert TrackerConfig(stale_run_timeout="90").stale_run_timeout == 90
    ini = _write_ini(tmp_path / "stale.ini", {"stale_run_timeout": 3600})
    assert resolve_config(spark, config_location=ini).stale_run_timeout == 3600


class _RefusingConf:
    """The Spark conf of a platform that refuses to read keys it does not know (serverless)."""

    def get(self, key: str, default: object = None) -> object:
        raise RuntimeError(f"[CONFIG_NOT_AVAILABLE] Configuration {key} is not available.")


class _RestrictedSession:
    conf = _RefusingConf()


def test_a_spark_conf_that_refuses_reads_is_skipped(monkeypatch):
    monkeypatch.setenv("PT_SPARK_SCHEMA", "from_env")
    cfg = resolve_config(_RestrictedSession())  # type: ignore[arg-type]
    assert cfg.schema_name == "from_env"
    assert cfg.max_concurrent_failures == 3


def test_bad_value_in_a_lower_layer_does_not_matter_when_overridden(spark, monkeypatch):
    monkeypatch.setenv("PT_SPARK_MAX_CONCURRENT_FAILURES", "abc")
    assert resolve_config(spark, TrackerConfig(max_concurrent_failures=4)).max_concurrent_failures == 4


# --- files are read, never written --------------------------------------------------------------


def _snapshot(path: Path) -> tuple[int, bytes]:
    return path.stat().st_mtime_ns, path.read_bytes()


def test_config_files_are_never_written(spark, tmp_path, monkeypatch):
    """Resolving through a file, a folder and the default location leaves every file untouched."""
    ini = _write_ini(tmp_path / CONFIG_FILENAME, {"schema": "from_file", "log_level": "warning"})
    old = 1_000_000_000_000_000_000  # a fixed, old mtime: any write would change it
    os.utime(ini, ns=(old, old))
    user_dir = tmp_path / "home"
    user_dir.mkdir()
    home_ini = _write_ini(user_dir / CONFIG_FILENAME, {"max_concurrent_failures": 4})
    os.utime(home_ini, ns=(old, old))
    monkeypatch.setattr("pt_spark.config.DEFAULT_CONFIG_DIR", user_dir)
    before = {path: _snapshot(path) for path in (ini, home_ini, PACKAGED_FILE)}

    assert resolve_config(spark, config_location=ini).schema_name == "from_file"
    assert resolve_config(spark, config_location=tmp_path).schema_name == "from_file"
    assert resolve_config(spark).max_concurrent_failures == 4
    assert resolve_config(spark, TrackerConfig(schema="arg"), ini).schema_name == "arg"

    assert {path: _snapshot(path) for path in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([CONFIG_FILENAME, "home"])
    assert sorted(p.name for p in user_dir.iterdir()) == [CONFIG_FILENAME]
