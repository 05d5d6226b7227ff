"""Extract locations and file names: where extract files live and what their names tell.

Locations are the folders (local or any Hadoop-compatible URI) that hold extract files.

A location is identified by its path, stored in one spelling (``normalize_path``, after dropping a
trailing file name): no trailing separator, no repeated slashes, and local paths without a
``file:`` prefix, so ``/data/in/``, ``/data/in``, ``file:/data/in`` and ``file:///data//in/`` are one
location stored as ``/data/in``; ``s3://bucket/dir/`` is ``s3://bucket/dir``. Look-ups by path
normalise the same way, and also match the other spellings an older pt_spark stored verbatim
(``path_spellings``).

A location's type comes from the URI scheme (``LOCATION_TYPE_BY_SCHEME``), never from a
substring; ``s3``, ``gs``, ``abfss`` and ``wasbs`` paths also record their bucket (container)
name. When no name is given one is derived: ``local - <last folder>`` or ``<type> <bucket> - <last folder>``
(``s3 my-bucket - raw``), with `` - N`` appended when that name already belongs to another path.

File names give the file type (by extension: ``csv``, ``parquet``, ...) and compression
(``.gz``, ``.bz2``, ``.zip``, ``.zst``, ``.snappy``) when they are not given. File sizes are bytes,
or strings with a binary unit: ``1KB`` = 1024 bytes, ``2.5MB`` = 2.5 * 1024**2 bytes, rounded to
the nearest byte.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from pyspark.sql import functions as F

from pt_spark.entities import Entity
from pt_spark.errors import InvalidInput
from pt_spark.extracts.paths import normalize_path, path_spellings, scheme_of, split_authority
from pt_spark.store.defaults import LOCATION_TYPE_BY_SCHEME
from pt_spark.store.lookup import probe, probe_frame
from pt_spark.store.reads import create_missing
from pt_spark.store.writes import from_source, merge_update
from pt_spark.validation import MAX_BIGINT, clean_name

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Row

    from pt_spark.store.store import Store

log = logging.getLogger(__name__)

#: A last path segment that looks like a file name: ``name.ext`` with an extension starting with
#: a letter, so ``v1.2`` stays a folder. End a path with ``/`` to force a folder.
_FILE_NAME = re.compile(r"^[^.].*\.[A-Za-z][A-Za-z0-9]{0,9}$")
_BUCKET_TYPES = frozenset({"s3", "gs", "abfss", "wasbs"})
_COMPRESSION_BY_EXTENSION = {
    "gz": "gzip",
    "gzip": "gzip",
    "bz2": "bzip2",
    "zip": "zip",
    "zst": "zstd",
    "zstd": "zstd",
    "snappy": "snappy",
    "sz": "snappy",
}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)\s*([KMGTP]?)(I?B)?$", re.IGNORECASE)
_UNIT_POWER = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5}
_MAX_BYTES = MAX_BIGINT


def parse_file_size(value: Any, argument: str = "file_size") -> int | None:
    """Return a file size in bytes from an int or a string such as ``'1024'``, ``'10KB'``, ``'2.5MB'``.

    Units are binary (``KB`` = ``KiB`` = ``K`` = 1024 bytes; then ``MB``, ``GB``, ``TB``, ``PB``),
    case-insensitive; fractions are rounded to the nearest byte. None stays None.

    Raises:
        InvalidInput: not an int or a size string, negative, or too large for a BIGINT.

    Example:
        >>> parse_file_size("2.5MB")
        2621440
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInput(f"{argument}: expected bytes as an int or a string like '10KB' (got {value!r})")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(value.strip())
        if match is None:
            raise InvalidInput(f"{argument}: {value!r} is not a size like '1024', '10KB', '2.5MB' or '50GB'")
        number, prefix = Decimal(match.group(1)), match.group(2).upper()
        exact = number * 1024 ** _UNIT_POWER[prefix]
        size = int(exact.to_integral_value(rounding=ROUND_HALF_UP))
    if size < 0 or size > _MAX_BYTES:
        raise InvalidInput(f"{argument}: {value!r} is out of range (0 to {_MAX_BYTES} bytes)")
    return size


def derive_types(filename: str) -> tuple[str | None, str | None]:
    """Return (file type code, compression name) derived from ``filename``'s extensions.

    Example:
        >>> derive_types("teams_2019.csv.gz")
        ('csv', 'gzip')
    """
    parts = filename.rsplit("/", 1)[-1].lower().split(".")[1:]
    compression = _COMPRESSION_BY_EXTENSION.get(parts[-1]) if parts else None
    if compression is not None:
        parts = parts[:-1]
    return (parts[-1] if parts else None), compression


@dataclass(frozen=True)
class LocationPath:
    """A location path taken apart: what is stored and what names are derived from.

    Attributes:
        path: The folder path as stored (``location_path``).
        location_type: The location type name (``local filesystem``, ``s3``, ...).
        bucket: Bucket or container name for object stores, else None.
        last_folder: The last folder name of the path (the bucket for a bucket root).
    """

    path: str
    location_type: str
    bucket: str | None
    last_folder: str

    @property
    def derived_name(self) -> str:
        """Return the name a location gets when none is given (before any `` - N`` suffix)."""
        prefix = "local" if self.location_type == "local filesystem" else self.location_type
        if self.bucket:
            prefix = f"{prefix} {self.bucket}"
        return f"{prefix} - {self.last_folder}"


def location_type_of(path: str) -> str:
    """Return the location type name for ``path``'s URI scheme.

    Raises:
        InvalidInput: the scheme is not one pt_spark knows.
    """
    scheme = scheme_of(path)
    if scheme not in LOCATION_TYPE_BY_SCHEME:
        known = ", ".join(sorted(s for s in LOCATION_TYPE_BY_SCHEME if s))
        raise InvalidInput(f"location_path: unsupported URI scheme {scheme!r} in {path!r} (known: {known})")
    return LOCATION_TYPE_BY_SCHEME[scheme]


def path_segments(text: str) -> list[str]:
    """Return the non-empty segments of a path (slash or backslash separated)."""
    return [part for part in re.split(r"[/\\]+", text) if part]


def split_file_name(path: str) -> tuple[str, str | None]:
    """Return (folder, file name) when ``path`` ends in a file name, else (path, None).

    A path ending with a separator is a folder; otherwise a last segment shaped like
    ``name.ext`` (hidden names such as ``.cache`` excluded) is taken as a file name.
    """
    if path.endswith(("/", "\\")):
        return path, None
    authority, rest = split_authority(path)
    segments = path_segments(rest)
    if not segments or not _FILE_NAME.match(segments[-1]):
        return path, None
    name = segments[-1]
    folder = path[: len(path) - len(name)].rstrip("/\\")
    if not folder or folder.endswith(":") or (authority and folder.endswith("//" + authority)):
        folder = path[: len(path) - len(name)]
    return folder, name


def parse_location_path(value: Any, argument: str = "location_path", folder: bool = False) -> LocationPath:
    """Validate a location path and derive its type, bucket and last folder name.

    Args:
        value: The path or URI.
        argument: Argument name for error messages.
        folder: The path is known to be a folder (keep a last segment that looks like a file).

    Raises:
        InvalidInput: not a non-empty string, or an unknown URI scheme.
    """
    path = clean_name(value, argument)
    if not folder:
        path, _ = split_file_name(path)
    path = normalize_path(path) or path  # a bare "file:" stays as given (and is refused below)
    location_type = location_type_of(path)
    authority, rest = split_authority(path)
    bucket = None
    if location_type in _BUCKET_TYPES and authority:
        bucket = authority.split("@", 1)[0]
    segments = path_segments(rest)
    last_folder = segments[-1] if segments else (bucket or authority or path)
    return LocationPath(path, location_type, bucket, last_folder)


def join_path(folder: str, filename: str) -> str:
    """Return ``folder`` and ``filename`` joined with exactly one separator."""
    if folder.endswith(("/", "\\")):
        return folder + filename.lstrip("/\\")
    return f"{folder}/{filename.lstrip('/')}"


def location_frames(store: Store, parsed: LocationPath, name: str | None = None) -> dict[str, DataFrame]:
    """Return ``probe`` frames for ``resolve_location``: the rows at or near this location.

    ``location`` holds the row at the path and any row whose name starts with the wanted name
    (to find a free derived name); ``location_type`` holds the type id.
    """
    base = name or parsed.derived_name
    locations = store.read("location_lkup").where(
        F.col("location_path").isin(path_spellings(parsed.path))
        | F.col("location_name").startswith(F.lit(base))
    )
    location = locations.select(
        F.col("location_id").alias("id"),
        F.col("location_path").alias("key"),
        F.col("location_name").alias("info"),
        "location_file_count",
        "location_bucket_name",
    )
    types = store.read("location_type_lkup").where(F.col("location_type_name") == F.lit(parsed.location_type))
    return {
        "location": location,
        "location_type": probe_frame(types, F.col("location_type_id"), F.col("location_type_name")),
    }


def _free_name(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    suffix = 1
    while f"{base} - {suffix}" in taken:
        suffix += 1
    return f"{base} - {suffix}"


def _entity(row: Row | Mapping[str, Any], parsed: LocationPath, type_id: Any) -> Entity:
    return Entity(
        "location_lkup",
        {
            "location_id": int(row["id"]),
            "location_name": row["info"],
            "location_path": row["key"],
            "location_type_id": type_id,
            "location_type": parsed.location_type,
            "location_file_count": row["location_file_count"],
            "location_bucket_name": row["location_bucket_name"],
        },
    )


def _at_path(rows: Sequence[Row], path: str) -> Any:
    """Return the probed location row at ``path`` (its stored spelling first), else None."""
    spellings = path_spellings(path)
    at_path = sorted((r for r in rows if r["key"] in spellings), key=lambda r: spellings.index(r["key"]))
    return at_path[0] if at_path else None


def resolve_location(
    store: Store,
    parsed: LocationPath,
    name: str | None,
    probed: Mapping[str, Sequence[Row]],
    file_count: int | None = None,
) -> Entity:
    """Return the location at ``parsed.path``, creating it (one commit) when it is missing.

    An existing location keeps its name: ``name`` is used only when creating.

    Args:
        store: The tracking store.
        parsed: The validated location path.
        name: Name for a new location; derived from the path when None.
        probed: The ``probe`` result of ``location_frames``.
        file_count: ``location_file_count`` of a new location.

    Raises:
        InvalidInput: the given name already belongs to another path.
    """
    type_id = probed["location_type"][0]["id"] if probed["location_type"] else None
    at_path = _at_path(probed["location"], parsed.path)
    if at_path is not None:
        return _entity(at_path, parsed, type_id)
    taken = {r["info"] for r in probed["location"]}
    if name is not None and name in taken:
        raise InvalidInput(f"location_name: {name!r} already names another location path")
    if type_id is None:
        raise InvalidInput(f"location type {parsed.location_type!r} is missing from location_type_lkup")
    row = {
        "location_name": name or _free_name(parsed.derived_name, taken),
        "location_path": parsed.path,
        "location_type_id": type_id,
        "location_bucket_name": parsed.bucket,
        "location_file_count": file_count,
    }
    created = create_missing(store, "location_lkup", [row])
    if (parsed.path,) not in created.won:  # a racing run created it first: take its row
        probed = probe(location_frames(store, parsed, row["location_name"]))
        return _entity(_at_path(probed["location"], parsed.path), parsed, type_id)
    log.info("registered location %r at %s", row["location_name"], parsed.path)
    mine = {"id": created.ids[(parsed.path,)], "key": parsed.path, "info": row["location_name"]}
    return _entity(
        {**mine, "location_file_count": file_count, "location_bucket_name": parsed.bucket}, parsed, type_id
    )


def set_file_count(store: Store, location: Entity, file_count: int) -> None:
    """Set ``location_file_count`` (one commit; none when it already has that value)."""
    if location.location_file_count == file_count:
        return
    merge_update(
        store,
        "location_lkup",
        [{"location_id": location.location_id, "location_file_count": file_count}],
        on=["location_id"],
        assignments=from_source("location_file_count"),
    )


__all__ = [
    "LocationPath",
    "derive_types",
    "join_path",
    "location_frames",
    "location_type_of",
    "normalize_path",
    "parse_file_size",
    "parse_location_path",
    "path_segments",
    "path_spellings",
    "resolve_location",
    "scheme_of",
    "set_file_count",
    "split_authority",
    "split_file_name",
]
