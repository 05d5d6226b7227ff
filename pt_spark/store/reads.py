"""Key look-ups that batch many tables into one Spark job, and get-or-create on top of them.

Looking up a dozen lookup values one query at a time costs a dozen Spark jobs; ``find_keys`` asks
for all of them in one ``UNION ALL`` and one ``collect``. ``ensure_rows`` adds the missing rows
(one MERGE per table that lacks something) and returns every id, so steady-state callers that
re-register existing lookups only read.
"""

from __future__ import annotations

from functools import partial, reduce
from typing import TYPE_CHECKING, Any, Collection, Mapping, Sequence

from pyspark.sql import functions as F

from pt_spark.store.schema import spec
from pt_spark.store.writes import in_parallel, insert_missing, side_by_side

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
    id_column = F.col(table_spec.identity) if table_spec.identity else F.lit(None)
    return (
        store.read(table)
        .where(_key_filter(table_spec.key, keys))
        .select(
            F.lit(table).alias("table_name"),
            F.array(*[F.col(name).cast("string") for name in table_spec.key]).alias("key"),
            id_column.cast("long").alias("id"),
        )
    )


def find_keys(store: Store, wanted: Mapping[str, Sequence[Key]]) -> Found:
    """Return, per table, the ids of the wanted natural keys that exist (one Spark job)."""
    frames = [_lookup_frame(store, table, keys) for table, keys in wanted.items() if keys]
    found: Found = {table: {} for table in wanted}
    if not frames:
        return found
    by_text: dict[str, dict[tuple[str | None, ...], Any]] = {table: {} for table in wanted}
    for row in reduce(lambda a, b: a.unionByName(b), frames).collect():
        by_text[row["table_name"]][tuple(row["key"])] = row["id"]
    for table, keys in wanted.items():
        for key in keys:
            text = _text_key(key)
            if text in by_text[table]:
                found[table][key] = by_text[table][text]
    return found


def ensure_rows(
    store: Store, wanted: Mapping[str, Sequence[Mapping[str, Any]]], new: Collection[str] = ()
) -> Found:
    """Get-or-create rows by natural key in several tables; return their ids.

    Reads every table in one job; writes one MERGE per table that lacks rows (side by side), then
    reads back the ids Delta assigned to the created rows (a concurrent creator's row is found the
    same way). Link tables have no id column, so their created rows are not read back.

    Args:
        store: The tracking store.
        wanted: ``{table: rows}``; each row holds at least the table's natural key.
        new: Link tables whose rows name a row this call has just created, so none of them can
            exist yet: they are inserted at once, beside the look-up of the other tables (the
            insert-if-missing MERGE still skips a row a racing caller wrote first).
    """
    fresh = {table: rows for table, rows in wanted.items() if table in new and rows}
    if any(spec(table).identity for table in fresh):
        raise ValueError("only link tables (no id column) can be inserted without a look-up")
    others = {table: rows for table, rows in wanted.items() if table not in fresh}
    if not fresh:
        return _get_or_create(store, others)
    inserts = [partial(insert_missing, store, table, list(rows)) for table, rows in fresh.items()]
    found, _ = side_by_side(partial(_get_or_create, store, others), partial(in_parallel, inserts))
    for table, rows in fresh.items():
        found[table] = dict.fromkeys(key_of(table, row) for row in rows)
    return found


def _get_or_create(store: Store, wanted: Mapping[str, Sequence[Mapping[str, Any]]]) -> Found:
    keys = {table: list(dict.fromkeys(key_of(table, row) for row in rows)) for table, rows in wanted.items()}
    found = find_keys(store, keys)
    new_rows: dict[str, dict[Key, Mapping[str, Any]]] = {}
    for table, rows in wanted.items():
        absent = {key_of(table, row): row for row in rows if key_of(table, row) not in found[table]}
        if absent:
            new_rows[table] = absent
    in_parallel(
        [partial(insert_missing, store, table, list(absent.values())) for table, absent in new_rows.items()]
    )
    with_ids = {table: list(absent) for table, absent in new_rows.items() if spec(table).identity}
    for table, ids in find_keys(store, with_ids).items():
        found[table].update(ids)
    for table, absent in new_rows.items():
        if not spec(table).identity:
            found[table].update(dict.fromkeys(absent))
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


__all__ = ["Found", "Key", "ensure_names", "ensure_rows", "find_keys", "key_of", "lookup_id", "system_ids"]
