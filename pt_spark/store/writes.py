"""Every write to the tracking tables: MERGE statements sourced from DataFrames.

User values travel as data, in a small source DataFrame typed by the table's ``TableSpec``; the
statements themselves are built from column names taken from the specs, never from user text.
Each helper is one Delta statement (one commit) and runs under the store's conflict retry, which
re-runs the whole statement: a statement that conflicted committed nothing, so a retry never
double-counts. The literal ``isin`` predicates on the target side let Delta skip files that cannot
match, so a call touches a bounded number of files however long the history is.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import reduce
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence, TypeVar

from delta.tables import DeltaMergeBuilder
from pyspark.sql import Column
from pyspark.sql import functions as F

from pt_spark.store.schema import spec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from pt_spark.store.store import Store

Row = Mapping[str, Any]
T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")
_MAX_PRUNE_VALUES = 5000


def source_frame(store: Store, table: str, rows: Sequence[Row], columns: Sequence[str]) -> DataFrame:
    """Return ``rows`` as a DataFrame with the spec types of ``columns``."""
    struct = spec(table).struct(tuple(columns))
    data = [tuple(row.get(name) for name in columns) for row in rows]
    return store.spark.createDataFrame(data, struct)


def _all(conditions: Iterable[Column]) -> Column:
    return reduce(lambda left, right: left & right, conditions)


def _match(columns: Sequence[str]) -> Column:
    return _all(F.col(f"t.{name}") == F.col(f"s.{name}") for name in columns)


def _prune(columns: Sequence[str], rows: Sequence[Row]) -> list[Column]:
    """Return literal target predicates (data skipping) for the key values in ``rows``."""
    predicates = []
    for name in columns:
        values = sorted({row[name] for row in rows if row.get(name) is not None}, key=str)
        if 0 < len(values) <= _MAX_PRUNE_VALUES:
            predicates.append(F.col(f"t.{name}").isin(values))
    return predicates


def _columns_of(rows: Sequence[Row]) -> list[str]:
    return list(dict.fromkeys(name for row in rows for name in row))


Clauses = Callable[[DeltaMergeBuilder, list[str]], DeltaMergeBuilder]
#: Narrows the source DataFrame inside the statement (see ``merge_rows``'s ``guard``).
Guard = Callable[["DataFrame"], "DataFrame"]


def _merge(
    store: Store,
    table: str,
    rows: Sequence[Row],
    condition: Column,
    clauses: Clauses,
    what: str,
    guard: Guard | None = None,
) -> None:
    """Run one MERGE of ``rows`` (as source ``s``) into ``table`` (``t``) under the conflict retry.

    Args:
        store: The tracking store.
        table: Target table.
        rows: Source rows; their keys are the source columns.
        condition: The match condition.
        clauses: Adds the WHEN clauses to the builder, given the source columns.
        what: A description for logs and the final error.
        guard: Applied to the source DataFrame each time the statement is (re)built.
    """
    if not rows:
        return
    columns = _columns_of(rows)

    def merge() -> None:
        source = source_frame(store, table, rows, columns)
        if guard is not None:
            source = guard(source)
        builder = store.delta(table).alias("t").merge(source.alias("s"), condition)
        clauses(builder, columns).execute()

    store.retry(merge, what)


def _on_key(columns: Sequence[str], rows: Sequence[Row]) -> Column:
    return _all([_match(columns), *_prune(columns, rows)])


def _from_source(columns: Iterable[str]) -> dict[str, Column | str]:
    return {name: F.col(f"s.{name}") for name in columns}


def insert_missing(store: Store, table: str, rows: Sequence[Row]) -> None:
    """Insert the rows whose natural key is not in ``table`` yet (get-or-create), one commit."""
    key = spec(table).key
    _merge(
        store,
        table,
        rows,
        _on_key(key, rows),
        lambda merge, columns: merge.whenNotMatchedInsert(values=_from_source(columns)),
        f"inserting into {table}",
    )


def insert_rows(store: Store, table: str, rows: Sequence[Row]) -> None:
    """Insert ``rows`` unconditionally (append-only tables such as ``error_tracking``)."""
    _merge(
        store,
        table,
        rows,
        F.lit(False),
        lambda merge, columns: merge.whenNotMatchedInsert(values=_from_source(columns)),
        f"inserting into {table}",
    )


def merge_update(
    store: Store,
    table: str,
    rows: Sequence[Row],
    on: Sequence[str],
    assignments: Mapping[str, Column | str],
    when: Column | None = None,
) -> None:
    """Update matching rows of ``table`` from ``rows`` in one MERGE.

    Args:
        store: The tracking store.
        table: Target table.
        rows: Source rows; they hold the ``on`` columns and any value the assignments read
            as ``s.<column>``.
        on: Columns that identify the target row(s).
        assignments: ``{column: expression}`` over ``t.`` (target) and ``s.`` (source).
        when: Optional extra condition for the update.
    """
    _merge(
        store,
        table,
        rows,
        _on_key(on, rows),
        lambda merge, _: merge.whenMatchedUpdate(condition=when, set=dict(assignments)),
        f"updating {table}",
    )


def upsert(store: Store, table: str, rows: Sequence[Row], update_columns: Sequence[str]) -> None:
    """Insert new rows and overwrite ``update_columns`` of existing ones (by natural key)."""
    key = spec(table).key
    _merge(
        store,
        table,
        rows,
        _on_key(key, rows),
        lambda merge, columns: merge.whenMatchedUpdate(set=_from_source(update_columns)).whenNotMatchedInsert(
            values=_from_source(columns)
        ),
        f"upserting into {table}",
    )


def merge_rows(
    store: Store,
    table: str,
    rows: Sequence[Row],
    on: Column,
    update_when: Column,
    assignments: Mapping[str, Column | str],
    insert_when: Column,
    prune: Sequence[str] = (),
    guard: Guard | None = None,
) -> None:
    """Update some rows and insert others in ONE MERGE (one Delta transaction).

    Args:
        store: The tracking store.
        table: Target table.
        rows: Source rows (``s``); each is meant either for an update or for an insert.
        on: Match condition between ``t`` and ``s``.
        update_when: Which matched source rows update their target (``assignments``).
        assignments: ``{column: expression}`` for the updates.
        insert_when: Which unmatched source rows are inserted (all their columns).
        prune: Columns whose values in ``rows`` bound the target files read.
        guard: Narrows the source inside the statement, for a rule that needs the table's
            current rows (e.g. drop every source row when a name is taken). It is rebuilt on
            each retry, so it sees the rows a conflicting writer committed.
    """
    _merge(
        store,
        table,
        rows,
        _all([on, *_prune(prune, rows)]),
        lambda merge, columns: merge.whenMatchedUpdate(
            condition=update_when, set=dict(assignments)
        ).whenNotMatchedInsert(condition=insert_when, values=_from_source(columns)),
        f"merging into {table}",
        guard,
    )


def delete_rows(store: Store, table: str, rows: Sequence[Row], on: Sequence[str]) -> None:
    """Delete the rows of ``table`` that match ``rows`` on ``on``, one commit."""
    key_rows = [{name: row[name] for name in on} for row in rows]
    _merge(
        store,
        table,
        key_rows,
        _on_key(on, key_rows),
        lambda merge, _: merge.whenMatchedDelete(),
        f"deleting rows of {table}",
    )


def in_parallel(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run independent writes (to different tables) at once; return their results in order.

    Separate Delta tables never conflict, and each write is still its own statement under the
    conflict retry, so running them side by side changes the wall time, not the outcome. Every
    call runs to its end; the first failure (in call order) is then raised.
    """
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(4, len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


def side_by_side(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """Run two independent statements at once (writes to different tables, or reads); return both."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        first_future, second_future = pool.submit(first), pool.submit(second)
        return first_future.result(), second_future.result()


__all__ = [
    "delete_rows",
    "in_parallel",
    "side_by_side",
    "insert_missing",
    "insert_rows",
    "merge_rows",
    "merge_update",
    "source_frame",
    "upsert",
]
