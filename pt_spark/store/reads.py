"""Key look-ups that batch many tables into one Spark job, and get-or-create on top of them.

Looking up a dozen lookup values one query at a time costs a dozen Spark jobs; ``find_keys`` asks
for all of them in one ``UNION ALL`` and one ``collect``. ``ensure_rows`` adds the missing rows
(one MERGE per table that lacks something, with ids made before the write) and returns every id,
so steady-state callers that re-register existing lookups only read, and a creator reads back
only the keys a racing creator inserted first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial, reduce
from typing import TYPE_CHECKING, Any, Collection, Mapping, Sequence

from pyspark.sql import functions as F

from pt_spark.store.lookup import probe
from pt_spark.store.schema import spec
from pt_spark.store.writes import append_rows, in_parallel, insert_missing, side_by_side, with_new_ids

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from pt_spark.store.store import Store

Key = tuple[Any, ...]
#: table -> {natural key: id (None for link tables without an id)}
Found = dict[str, dict[Key, Any]]


def key_of(table: str, row: Mapping[str, Any]) -> Key:
    """Return the natural key of ``row`` in ``table``."""
    return tuple(row[name] for name in spec(table).key)


def _text_key(key: Sequence[Any]) -> tuple[str | None, ...]:
    return tuple(None if value is None else str(value) for value in key)


def _key_filter(columns: Sequence[str], keys: Sequence[Key]) -> Column:
    conditions = [F.col(name).isin(sorted({k[i] for k in keys}, key=str)) for i, name in enumerate(columns)]
    return reduce(lambda left, right: left & right, conditions)


def _lookup_frame(store: Store, table: str, keys: Sequence[Key]) -> DataFrame:
    table_spec = spec(table)
    id_column = F.col(table_spec.id_column) if table_spec.id_column else F.lit(None)
    return (
        store.read(table)
        .where(_key_filter(table_spec.key, keys))
        .select(
            F.array(*[F.col(name).cast("string") for name in table_spec.key]).alias("key"),
            id_column.cast("long").alias("id"),
        )
    )


def find_keys(store: Store, wanted: Mapping[str, Sequence[Key]]) -> Found:
    """Return, per table, the ids of the wanted natural keys that exist (one Spark job)."""
    frames = {table: _lookup_frame(store, table, keys) for table, keys in wanted.items() if keys}
    found: Found = {table: {} for table in wanted}
    if not frames:
        return found
    by_text: dict[str, dict[tuple[str | None, ...], Any]] = {table: {} for table in wanted}
    for table, rows in probe(frames).items():
        by_text[table] = {tuple(row["key"]): row["id"] for row in rows}
    for table, keys in wanted.items():
        for key in keys:
            text = _text_key(key)
            if text in by_text[table]:
                found[table][key] = by_text[table][text]
    return found


@dataclass(frozen=True)
class Created:
    """The outcome of ``create_missing``: every row's id, and the keys this caller inserted."""

    ids: dict[Key, Any]
    won: frozenset[Key]


def create_missing(store: Store, table: str, rows: Sequence[Mapping[str, Any]]) -> Created:
    """Insert rows (with new ids) whose natural key is absent; return every row's id.

    One MERGE. When it inserts every row, the ids are the ones made here and nothing is read;
    when a racing creator inserted some keys first, those keys' ids are read back (one job).
    """
    id_column = spec(table).id_column
    rows = with_new_ids(table, rows)
    written = insert_missing(store, table, rows)
    mine = {key_of(table, row): (row[id_column] if id_column else None) for row in rows}
    if written.inserted == len(rows):
        return Created(mine, frozenset(mine))
    found = find_keys(store, {table: list(mine)})[table] if id_column else dict.fromkeys(mine)
    won = frozenset(key for key, value in mine.items() if found.get(key) == value and id_column)
    return Created({key: found.get(key) for key in mine}, won)


def ensure_rows(
    store: Store, wanted: Mapping[str, Sequence[Mapping[str, Any]]], new: Collection[str] = ()
) -> Found:
    """Get-or-create rows by natural key in several tables; return their ids.

    Reads every table in one job; writes one MERGE per table that lacks rows (side by side).

    Args:
        store: The tracking store.
        wanted: ``{table: rows}``; each row holds at least the table's natural key.
        new: Link tables whose rows name a row this caller has just created (and won), so
            none of them can exist yet: they are appended blindly, beside the look-up of the
            other tables.
    """
    fresh = {table: rows for table, rows in wanted.items() if table in new and rows}
    if any(spec(table).id_column for table in fresh):
        raise ValueError("only link tables (no id column) can be inserted without a look-up")
    others = {table: rows for table, rows in wanted.items() if table not in fresh}
    if not fresh:
        return _get_or_create(store, others)
    appends = [partial(append_rows, store, table, list(rows)) for table, rows in fresh.items()]
    found, _ = side_by_side(partial(_get_or_create, store, others), partial(in_parallel, appends))
    for table, rows in fresh.items():
        found[table] = dict.fromkeys(key_of(table, row) for row in rows)
    return found


def _get_or_create(store: Store, wanted: Mapping[str, Sequence[Mapping[str, Any]]]) -> Found:
    keys = {table: list(dict.fromkeys(key_of(table, row) for row in rows)) for table, rows in wanted.items()}
    found = find_keys(store, keys)
    absent: dict[str, list[Mapping[str, Any]]] = {}
    for table, rows in wanted.items():
        by_key = {key_of(table, row): row for row in rows if key_of(table, row) not in found[table]}
        if by_key:
            absent[table] = list(by_key.values())
    created = in_parallel([partial(create_missing, store, table, rows) for table, rows in absent.items()])
    for table, outcome in zip(absent, created, strict=True):
        found[table].update(outcome.ids)
    return found


def ensure_names(store: Store, table: str, names: Sequence[str]) -> dict[str, int]:
    """Get-or-create single-column lookup values (e.g. actor names); return ``{name: id}``."""
    column = spec(table).key[0]
    found = ensure_rows(store, {table: [{column: name} for name in names]})[table]
    return {key[0]: int(value) for key, value in found.items()}


def system_ids(store: Store, table: str, names: Sequence[str]) -> dict[str, int]:
    """Return ids of default (system) lookup rows, read once per store and then remembered."""
    missing = [name for name in names if (table, name) not in store.system_ids]
    if missing:
        for name, row_id in ensure_names(store, table, missing).items():
            store.system_ids[(table, name)] = row_id
    return {name: store.system_ids[(table, name)] for name in names}


def lookup_id(store: Store, table: str, name: str, create: bool) -> int | None:
    """Return the id of a single-name lookup value: remembered for default rows, else read.

    Args:
        store: The tracking store.
        table: A lookup table keyed on one name column.
        name: The value.
        create: Create the value when it is missing (otherwise return None).
    """
    from pt_spark.store.defaults import is_system_row

    if is_system_row(table, name):
        return system_ids(store, table, [name])[name]
    if create:
        return ensure_names(store, table, [name])[name]
    found = find_keys(store, {table: [(name,)]})[table]
    return None if (name,) not in found else int(found[(name,)])


__all__ = [
    "Created",
    "Found",
    "Key",
    "create_missing",
    "ensure_names",
    "ensure_rows",
    "find_keys",
    "key_of",
    "lookup_id",
    "system_ids",
]
