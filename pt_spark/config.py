"""Tracker configuration and where each value comes from (SPEC §7).

Resolution, first match wins for each key:

1. explicit arguments: the fields set on the ``config=`` passed to an API;
2. the ``config_location`` file (a file, or a folder holding ``process_tracker_config.ini``;
   default ``~/.process_tracker/``);
3. environment variables ``PT_SPARK_<KEY>``;
4. Spark conf ``spark.pt_spark.<key>``;
5. the packaged default, ``conf/process_tracker_config.ini``.

Config files are read, never written.
"""

from __future__ import annotations

import configparser
import logging
import os
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pt_spark.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

CONFIG_FILENAME = "process_tracker_config.ini"
CONFIG_KEYS = ("max_concurrent_failures", "log_level", "catalog", "schema", "location")
ENV_PREFIX = "PT_SPARK_"
SPARK_CONF_PREFIX = "spark.pt_spark."
DEFAULT_CONFIG_DIR = Path("~/.process_tracker")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class TrackerConfig(BaseModel):
    """Where the tracking store lives and how the tracker behaves.

    Example:
        >>> TrackerConfig(schema="process_tracker", location="/data/pt").schema_name
        'process_tracker'
    """

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="forbid")

    catalog: str | None = None
    schema_name: str = Field(default="process_tracker", alias="schema")
    location: str | None = None
    max_concurrent_failures: int = Field(default=3, ge=1)
    log_level: str = "WARNING"
    retry_attempts: int = Field(default=10, ge=1)

    @field_validator("catalog", "location", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("catalog", "schema_name")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is not None and not _IDENTIFIER.match(value):
            raise ValueError(f"{value!r} is not a plain identifier (letters, digits, '_')")
        return value

    @field_validator("location")
    @classmethod
    def _absolute_location(cls, value: str | None) -> str | None:
        if value is None or "://" in value or value.startswith(("dbfs:", "file:")):
            return value
        return os.path.abspath(os.path.expanduser(value))

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        level = str(value).strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"{value!r} is not one of {', '.join(_LOG_LEVELS)}")
        return level

    @property
    def namespace(self) -> str:
        """Return the quoted ``catalog.schema`` (or ``schema``) that holds the tables."""
        parts = [self.catalog, self.schema_name] if self.catalog else [self.schema_name]
        return ".".join(f"`{part}`" for part in parts)

    def table(self, name: str) -> str:
        """Return the quoted, fully qualified name of tracking table ``name``."""
        return f"{self.namespace}.`{name}`"


def _packaged_default_file() -> Path:
    packaged = resources.files("pt_spark").joinpath("conf", CONFIG_FILENAME)
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "conf" / CONFIG_FILENAME


def read_config_file(path: Path) -> dict[str, str]:
    """Return the known keys of an INI file's ``[DEFAULT]`` section."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, configparser.Error) as error:
        raise ConfigError("config_location", f"cannot read {path}: {error}") from error
    return {key: value for key, value in parser.defaults().items() if key in CONFIG_KEYS}


def _user_file_values(config_location: str | os.PathLike[str] | None) -> dict[str, str]:
    if config_location is None:
        candidate = DEFAULT_CONFIG_DIR.expanduser() / CONFIG_FILENAME
        return read_config_file(candidate) if candidate.is_file() else {}
    path = Path(config_location).expanduser()
    if path.is_dir():
        path = path / CONFIG_FILENAME
    if not path.is_file():
        raise ConfigError("config_location", f"no config file at {path}")
    return read_config_file(path)


def _env_values() -> dict[str, str]:
    found = {key: os.environ.get(ENV_PREFIX + key.upper()) for key in CONFIG_KEYS}
    return {key: value for key, value in found.items() if value is not None}


def _spark_conf_values(spark: SparkSession | None) -> dict[str, str]:
    if spark is None:
        return {}
    found = {key: spark.conf.get(SPARK_CONF_PREFIX + key, None) for key in CONFIG_KEYS}
    return {key: value for key, value in found.items() if value is not None}


def _explicit_values(config: TrackerConfig | None) -> dict[str, Any]:
    if config is None:
        return {}
    if not isinstance(config, TrackerConfig):
        raise ConfigError("config", f"expected a TrackerConfig, got {type(config).__name__}")
    values = config.model_dump(include=config.model_fields_set)
    if "schema_name" in values:
        values["schema"] = values.pop("schema_name")
    return values


def resolve_config(
    spark: SparkSession | None = None,
    config: TrackerConfig | None = None,
    config_location: str | os.PathLike[str] | None = None,
) -> TrackerConfig:
    """Resolve the effective configuration in the documented order (module docstring)."""
    merged: dict[str, Any] = {}
    merged.update(read_config_file(_packaged_default_file()))  # 5.
    merged.update(_spark_conf_values(spark))  # 4.
    merged.update(_env_values())  # 3.
    merged.update(_user_file_values(config_location))  # 2.
    merged.update(_explicit_values(config))  # 1.
    try:
        resolved = TrackerConfig.model_validate(merged)
    except ValidationError as error:
        first = error.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else "config"
        key = "schema" if key == "schema_name" else key
        raise ConfigError(key, first["msg"]) from error
    logging.getLogger("pt_spark").setLevel(resolved.log_level)
    return resolved


__all__ = ["CONFIG_FILENAME", "TrackerConfig", "read_config_file", "resolve_config"]
