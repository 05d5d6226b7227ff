"""The default (system) rows that ``setup`` seeds exactly once (docs/SPEC.md §3).

System rows are protected: the admin API and CLI refuse to rename or delete them.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

from pt_spark.statuses import ExtractStatus, RunStatus
from pt_spark.store.schema import SCHEMA_VERSION

#: URI scheme -> location type name; a path without a scheme is on the local filesystem.
LOCATION_TYPE_BY_SCHEME: Mapping[str, str] = MappingProxyType(
    {
        "": "local filesystem",
        "file": "local filesystem",
        "s3": "s3",
        "s3a": "s3",
        "s3n": "s3",
        "abfss": "abfss",
        "abfs": "abfss",
        "wasbs": "wasbs",
        "wasb": "wasbs",
        "gs": "gs",
        "dbfs": "dbfs",
        "hdfs": "hdfs",
    }
)

_FILETYPES = (
    ("csv", "Comma Separated Values", ",", '"', "\\"),
    ("tsv", "Tab Separated Values", "\t", '"', "\\"),
    ("json", "JavaScript Object Notation", None, None, None),
    ("parquet", "Apache Parquet", None, None, None),
    ("avro", "Apache Avro", None, None, None),
    ("orc", "Apache ORC", None, None, None),
    ("txt", "Text File", None, None, None),
    ("xml", "Extensible Markup Language", None, None, None),
)

_FILTER_TYPES = (
    ("eq", "equal to"),
    ("lt", "less than"),
    ("gt", "greater than"),
    ("lte", "less than or equal to"),
    ("gte", "greater than or equal to"),
    ("not", "not equal"),
    ("lke", "like"),
    ("in", "in set"),
)


def _names(column: str, *names: str) -> tuple[dict[str, Any], ...]:
    return tuple({column: name} for name in names)


DEFAULT_ROWS: Mapping[str, tuple[dict[str, Any], ...]] = MappingProxyType(
    {
        "process_status_lkup": _names("process_status_name", *RunStatus.names()),
        "extract_status_lkup": _names("extract_status_name", *ExtractStatus.names()),
        "error_type_lkup": _names("error_type_name", "File Error", "Data Error", "Process Error"),
        "process_type_lkup": _names("process_type_name", "Extract", "Load"),
        "schedule_frequency_lkup": _names(
            "schedule_frequency_name",
            "unscheduled",
            "hourly",
            "daily",
            "weekly",
            "monthly",
            "quarterly",
            "annually",
        ),
        "filter_type_lkup": tuple(
            {"filter_type_code": code, "filter_type_name": name} for code, name in _FILTER_TYPES
        ),
        "source_type_lkup": _names("source_type_name", "Undefined", "Database", "Internal", "External"),
        "dependency_type_lkup": _names("dependency_type_name", "Undefined", "Hard", "Soft"),
        "location_type_lkup": _names("location_type_name", *dict.fromkeys(LOCATION_TYPE_BY_SCHEME.values())),
        "extract_compression_type_lkup": _names(
            "extract_compression_type", "zip", "gzip", "bzip2", "snappy", "zstd"
        ),
        "extract_filetype_lkup": tuple(
            {
                "extract_filetype_code": code,
                "extract_filetype": name,
                "delimiter_char": delimiter,
                "quote_char": quote,
                "escape_char": escape,
            }
            for code, name, delimiter, quote, escape in _FILETYPES
        ),
        "system_lkup": ({"system_key": "schema_version", "system_value": SCHEMA_VERSION},),
    }
)


def is_system_row(table: str, key_value: object) -> bool:
    """Return True when ``key_value`` is the natural key of a default row of ``table``."""
    from pt_spark.store.schema import spec

    key_column = spec(table).key[0]
    return any(row.get(key_column) == key_value for row in DEFAULT_ROWS.get(table, ()))


__all__ = ["DEFAULT_ROWS", "LOCATION_TYPE_BY_SCHEME", "is_system_row"]
