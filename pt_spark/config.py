"""Tracker configuration and where each value comes from (docs/SPEC.md §7).

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

from pt_spark.errors import ConfigError, InvalidInput
from pt_spark.lineage.events import parse_parent, parse_transport

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

CONFIG_FILENAME = "process_tracker_config.ini"
CONFIG_KEYS = (
    "max_concurrent_failures",
    "log_level",
    "catalog",
    "schema",
    "location",
    "stale_run_timeout",
    "lineage_transport",
    "lineage_namespace",
    "lineage_parent",
)
ENV_PREFIX = "PT_SPARK_"
SPARK_CONF_PREFIX = "spark.pt_spark."
DEFAULT_CONFIG_DIR = Path("~/.process_tracker")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
#: Largest count setting: it becomes a Spark ``limit`` (a Java int) or a number of seconds.
_MAX_SETTING = 2**31 - 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Keys whose values may hold credentials (an http transport's API key): never quoted in errors.
_SECRET_KEYS = ("lineage_transport",)
log = logging.getLogger(__name__)


def _config_error(error: ValidationError) -> ConfigError:
    """Return the first problem of a pydantic ``ValidationError`` as a ``ConfigError`` naming its key."""
    first = error.errors()[0]
    wrapped = first.get("ctx", {}).get("error")
    if isinstance(wrapped, ConfigError):  # model_validate() runs __init__, which raised it
        return wrapped
    key = str(first["loc"][0]) if first["loc"] else "config"
    key = "schema" if key == "schema_name" else key
    if first["type"] == "extra_forbidden":
        known = (field.alias or name for name, field in TrackerConfig.model_fields.items())
        return ConfigError(key, f"unknown key (known keys: {', '.join(sorted(known))})")
    message = first["msg"].removeprefix("Value error, ")
    return ConfigError(key, f"{message} (got {first.get('input')!r})")


class TrackerConfig(BaseModel):
    """Where the tracking store lives and how the tracker behaves.

    An invalid value or an unknown key raises ``ConfigError`` naming the key, here as when a value
    comes from a config file, the environment or the Spark conf.

    Example:
        >>> TrackerConfig(schema="process_tracker", location="/data/pt").schema
        'process_tracker'
        >>> TrackerConfig(catalog="main").table("process")
        '`main`.`process_tracker`.`process`'
    """

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="forbid")

    catalog: str | None = None
    schema_name: str = Field(default="process_tracker", alias="schema")
    location: str | None = None
    max_concurrent_failures: int = Field(default=3, ge=1, le=_MAX_SETTING)
    log_level: str = "WARNING"
    retry_attempts: int = Field(default=10, ge=1, le=_MAX_SETTING)
    stale_run_timeout: int | None = Field(default=None, ge=1, le=_MAX_SETTING)
    #: OpenLineage (README, "OpenLineage"): off while unset. Not in the repr: an http transport's
    #: JSON may hold an API key.
    lineage_transport: str | None = Field(default=None, repr=False)
    lineage_namespace: str | None = None
    lineage_parent: str | None = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            converted = _config_error(error)
            # pydantic's error quotes the value: keep a transport's secrets out of the traceback
            raise converted from (None if converted.key in _SECRET_KEYS else error)

    @field_validator(
        "catalog",
        "location",
        "stale_run_timeout",
        "lineage_transport",
        "lineage_namespace",
        "lineage_parent",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("max_concurrent_failures", "retry_attempts", "stale_run_timeout", mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("expected a whole number, not True/False")
        return value

    @field_validator("catalog", "schema_name")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is not None and not _IDENTIFIER.match(value):
            raise ValueError(f"{value!r} is not a plain identifier (letters, digits, '_')")
        return value

    @field_validator("location")
    @classmethod
    def _absolute_location(cls, value: str | None) -> str | None:
        if value is not None and _CONTROL.search(value):
            raise ValueError("contains control characters")
        if value is not None and not value.encode("utf-8", "replace").decode("utf-8") == value:
            raise ValueError("is not valid unicode text (it holds a lone surrogate)")
        if value is None or "://" in value or value.startswith(("dbfs:", "file:")):
            return value
        return os.path.abspath(os.path.expanduser(value))

    @field_validator("lineage_transport")
    @classmethod
    def _lineage_transport(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_transport(value)
            except ValueError as error:  # the value itself is not echoed: it may hold a secret
                raise ConfigError("lineage_transport", str(error)) from None
        return value

    @field_validator("lineage_namespace", "lineage_parent")
    @classmethod
    def _lineage_text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if _CONTROL.search(value) or len(value) > 1000:
            raise ValueError("expected up to 1000 characters without control characters")
        if value.encode("utf-8", "replace").decode("utf-8") != value:
            raise ValueError("is not valid unicode text (it holds a lone surrogate)")
        return value.strip()

    @field_validator("lineage_parent")
    @classmethod
    def _lineage_parent(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_parent(value)
            except ValueError as error:
                raise ConfigError("lineage_parent", f"{error} (got {value!r})") from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        level = str(value).strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"{value!r} is not one of {', '.join(_LOG_LEVELS)}")
        return level

    @property
    def schema(self) -> str:  # type: ignore[override]  # shadows pydantic's deprecated BaseModel.schema()
        """Return the schema (database) name; the same as ``schema_name``."""
        return self.schema_name

    @property
    def namespace(self) -> str:
        """Return the quoted ``catalog.schema`` (or ``schema``) that holds the tables."""
        parts = [self.catalog, self.schema_name] if self.catalog else [self.schema_name]
        return ".".join(f"`{part}`" for part in parts)

    def table(self, name: str) -> str:
        """Return the quoted, fully qualified name of the table ``name``.

        Example:
            >>> TrackerConfig(schema="pt").table("process")
            '`pt`.`process`'

        Raises:
            InvalidInput: ``name`` is not a plain identifier.
        """
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise InvalidInput(f"name: expected a plain table name (letters, digits, '_') (got {name!r})")
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
    if not isinstance(config_location, (str, os.PathLike)):
        raise ConfigError("config_location", f"expected a path, not {type(config_location).__name__}")
    path = Path(config_location).expanduser()
    if path.is_dir():
        path = path / CONFIG_FILENAME
    if not path.is_file():
        raise ConfigError("config_location", f"no config file at {path}")
    return read_config_file(path)


def _env_values() -> dict[str, str]:
    found = {key: os.environ.get(ENV_PREFIX + key.upper()) for key in CONFIG_KEYS}
    return {key: value for key, value in found.items() if value is not None}


def _spark_conf_value(spark: SparkSession, key: str) -> str | None:
    """Return ``spark.pt_spark.<key>``, or None when unset or when the platform refuses to read it."""
    try:
        return spark.conf.get(SPARK_CONF_PREFIX + key, None)
    except Exception as error:  # serverless compute refuses keys it does not know; skip that layer
        log.debug("cannot read spark conf %s%s (skipped): %s", SPARK_CONF_PREFIX, key, error)
        return None


def _spark_conf_values(spark: SparkSession | None) -> dict[str, str]:
    if spark is None:
        return {}
    found = {key: _spark_conf_value(spark, key) for key in CONFIG_KEYS}
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
    resolved = TrackerConfig(**merged)  # raises ConfigError naming the key
    logging.getLogger("pt_spark").setLevel(resolved.log_level)
    return resolved


__all__ = ["CONFIG_FILENAME", "TrackerConfig", "read_config_file", "resolve_config"]
