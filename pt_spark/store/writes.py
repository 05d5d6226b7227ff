"""Every write to the tracking tables: ``MERGE INTO`` or ``INSERT INTO`` SQL over a source view.

User values travel only as data: the rows become a small DataFrame typed by the table's
``TableSpec``, registered as a temp view under a name no other statement uses (threads sharing a
session never collide) and dropped afterwards. The SQL text holds only identifiers from the
specs, expressions the library wrote, and integers the library made or validated (ids and write
buckets, as literal predicates that let Delta skip files and narrow its conflict check to the
buckets a statement touches). The same text runs on Delta 3.x and 4.x, classic or Spark Connect.

Each helper is one Delta statement (at most one commit) under the store's conflict retry, which
re-runs the whole statement: a statement that conflicted committed nothing, so a retry never
double-counts. Rows that can only be new (errors, links of a row this call created) are blind
appends, which never conflict with other writers. A statement whose reply was lost (it may have
committed) is re-run only in an idempotent form: MERGEs insert by id or natural key and set
values (never add to them), and an append becomes an insert of the rows still missing.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence, TypeVar

from pt_spark.store.ids import new_ids
from pt_spark.store.schema import BIGINT_MAX, BUCKET_COLUMN, bucket_of, spec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from pt_spark.store.store import Store

Row = Mapping[str, Any]
T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")
_MAX_PRUNE_VALUES = 5000
#: Builds the statement's SQL from the source view's name and the source columns.
Statement = Callable[[str, list[str]], str]


@dataclass(frozen=True)
class Written:
    """What one statement changed (Delta's MERGE metrics; an append inserts every row)."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0


def with_new_ids(table: str, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Return ``rows`` with a new id in the table's id column where a row has none."""
    id_column = spec(table).id_column
    copies = [dict(row) for row in rows]
    if id_column is None:
        return copies
    lacking = [row for row in copies if row.get(id_column) is None]
    for row, new in zip(lacking, new_ids(len(lacking)), strict=True):
        row[id_column] = new
    return copies


def _with_buckets(table: str, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Return ``rows`` with their write bucket (bucketed tables need the ``bucket_by`` column)."""
    by = spec(table).bucket_by
    if by is None:
        return [dict(row) for row in rows]
    missing = [row for row in rows if row.get(by) is None]
    if missing:
        raise ValueError(f"a row of {table} needs {by} to find its write bucket: {missing[0]}")
    return [{**row, BUCKET_COLUMN: bucket_of(row[by])} for row in rows]


def source_frame(store: Store, table: str, rows: Sequence[Row], columns: Sequence[str]) -> DataFrame:
    """Return ``rows`` as a DataFrame with the spec types of ``columns``."""
    struct = spec(table).struct(tuple(columns))
    data = [tuple(row.get(name) for name in columns) for row in rows]
    return store.spark.createDataFrame(data, struct)


def _columns_of(rows: Sequence[Row]) -> list[str]:
    return list(dict.fromkeys(name for row in rows for name in row))


def int_literals(values: Iterable[Any]) -> str:
    """Return distinct integers as a SQL list: ``1, 5, 9``. Anything but an int is refused."""
    distinct = sorted(set(values))
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in distinct):
        raise TypeError(f"only integers go into SQL text, got {distinct!r}")
    return ", ".join(str(value) for value in distinct)


def _prune(table: str, columns: Sequence[str], rows: Sequence[Row], narrow: bool) -> list[str]:
    """Return literal target predicates: the buckets written (when ``narrow``), and integer values."""
    predicates = []
    names = list(columns)
    if narrow and spec(table).bucket_by is not None:
        names.append(BUCKET_COLUMN)
    for name in dict.fromkeys(names):
        values = {row[name] for row in rows if row.get(name) is not None}
        integral = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        if values and integral and len(values) <= _MAX_PRUNE_VALUES:
            predicates.append(f"t.`{name}` IN ({int_literals(values)})")
    return predicates


def _execute(store: Store, sql: str) -> list[Any]:
    """Run one statement and return its result rows (MERGE metrics; nothing for an INSERT)."""
    return store.spark.sql(sql).collect()


def _run(
    store: Store,
    table: str,
    rows: Sequence[Row],
    statement: Statement,
    what: str,
    idempotent: Statement | None = None,
) -> Written:
    """Register ``rows`` as a temp view, run ``statement`` over it under the conflict retry.

    ``idempotent`` is the statement's form that is safe to run again after it may have
    committed (a lost reply); default: ``statement`` itself, as every MERGE of the store is.
    """
    if not rows:
        return Written()
    columns = _columns_of(rows)
    view = f"pt_source_{uuid.uuid4().hex}"
    source_frame(store, table, rows, columns).createOrReplaceTempView(view)
    try:
        sql = statement(view, columns)
        again = sql if idempotent is None else idempotent(view, columns)
        with store.explained():
            result = store.retry(lambda: _execute(store, sql), what, lambda: _execute(store, again))
    finally:
        store.spark.catalog.dropTempView(view)
    if not result or "num_inserted_rows" not in result[0].asDict():
        return Written(inserted=len(rows))  # an INSERT INTO reports no metrics
    metrics = result[0].asDict()
    return Written(
        inserted=int(metrics.get("num_inserted_rows") or 0),
        updated=int(metrics.get("num_updated_rows") or 0),
        deleted=int(metrics.get("num_deleted_rows") or 0),
    )


def _merge(
    store: Store,
    table: str,
    rows: Sequence[Row],
    on: str,
    clauses: Callable[[list[str]], str],
    what: str,
    prune: Sequence[str] = (),
    guard: Callable[[str], str] | None = None,
    narrow: bool = True,
    source: Callable[[str], str] | None = None,
) -> Written:
    """Run one ``MERGE INTO table AS t USING <rows> AS s ON <on> <clauses>``.

    Args:
        store: The tracking store.
        table: Target table.
        rows: Source rows; their keys are the source columns.
        on: The match condition (SQL over ``t`` and ``s``).
        clauses: The WHEN clauses, given the source columns.
        what: A description for logs and the final error.
        prune: Columns whose integer values in ``rows`` bound the target files read (the write
            bucket always does, on bucketed tables).
        guard: A condition on the source view (given its name) that keeps source rows: it is
            evaluated when the statement runs, on each retry again.
        narrow: Name the write buckets of ``rows`` as literals, so that Delta checks conflicts
            only against writes to those buckets. False reads (and conflicts on) the whole table.
        source: Builds the source relation from the rows' view name (e.g. joins in values the
            statement reads when it runs); default: the view itself.
    """
    target = store.qualified(table)
    rows = _with_buckets(table, rows)
    bucketed = spec(table).bucket_by is not None
    predicates = [on, *(["t.bucket = s.bucket"] if bucketed else []), *_prune(table, prune, rows, narrow)]

    def statement(view: str, columns: list[str]) -> str:
        relation = view if source is None else source(view)
        if guard is not None:
            relation = f"(SELECT * FROM {relation} AS unguarded WHERE {guard(view)})"
        condition = " AND ".join(f"({predicate})" for predicate in predicates)
        return f"MERGE INTO {target} AS t USING {relation} AS s ON {condition} {clauses(columns)}"

    return _run(store, table, rows, statement, what)


def _on_key(columns: Sequence[str]) -> str:
    return " AND ".join(f"t.`{name}` = s.`{name}`" for name in columns)


def from_source(*columns: str) -> dict[str, str]:
    """Return assignments that copy ``columns`` from the source row."""
    return {column: f"s.`{column}`" for column in columns}


def _set(assignments: Mapping[str, str]) -> str:
    return ", ".join(f"t.`{column}` = {expression}" for column, expression in assignments.items())


def _insert(columns: Sequence[str]) -> str:
    names = ", ".join(f"`{name}`" for name in columns)
    values = ", ".join(f"s.`{name}`" for name in columns)
    return f"INSERT ({names}) VALUES ({values})"


def insert_missing(store: Store, table: str, rows: Sequence[Row]) -> Written:
    """Insert the rows whose natural key is not in ``table`` yet (get-or-create), one commit.

    Rows of a table with an id column must carry their id (see ``with_new_ids``); ``inserted``
    says how many of them won (a racing creator's row stays).
    """
    key = spec(table).key
    return _merge(
        store,
        table,
        rows,
        _on_key(key),
        lambda columns: f"WHEN NOT MATCHED THEN {_insert(columns)}",
        f"inserting into {table}",
        prune=key,
    )


def append_rows(store: Store, table: str, rows: Sequence[Row]) -> Written:
    """Append ``rows`` (a blind ``INSERT INTO``: it never conflicts with other writers).

    After a lost reply the rows are inserted by their id (or natural key) where still missing,
    so an append that did commit is not appended twice.
    """
    target = store.qualified(table)
    names = spec(table).column_names

    table_spec = spec(table)
    key = (table_spec.id_column,) if table_spec.id_column else table_spec.key

    def statement(view: str, columns: list[str]) -> str:
        listed = ", ".join(f"`{name}`" for name in names)
        values = ", ".join(f"`{name}`" if name in columns else "NULL" for name in names)
        return f"INSERT INTO {target} ({listed}) SELECT {values} FROM {view}"

    def missing_only(view: str, columns: list[str]) -> str:
        on = _on_key(key)
        return f"MERGE INTO {target} AS t USING {view} AS s ON {on} WHEN NOT MATCHED THEN {_insert(columns)}"

    _run(store, table, _with_buckets(table, rows), statement, f"appending to {table}", missing_only)
    return Written(inserted=len(rows))


def merge_update(
    store: Store,
    table: str,
    rows: Sequence[Row],
    on: Sequence[str],
    assignments: Mapping[str, str],
    when: str | None = None,
    source: Callable[[str], str] | None = None,
) -> Written:
    """Update matching rows of ``table`` from ``rows`` in one MERGE.

    Args:
        store: The tracking store.
        table: Target table.
        rows: Source rows; they hold the ``on`` columns (and, on a bucketed table, its
            ``bucket_by`` column) and any value the assignments read as ``s.<column>``.
        on: Columns that identify the target row(s).
        assignments: ``{column: SQL expression}`` over ``t.`` (target) and ``s.`` (source).
        when: Optional extra SQL condition for the update.
        source: See ``_merge``.
    """
    condition = "" if when is None else f" AND ({when})"
    return _merge(
        store,
        table,
        rows,
        _on_key(on),
        lambda _: f"WHEN MATCHED{condition} THEN UPDATE SET {_set(assignments)}",
        f"updating {table}",
        prune=on,
        source=source,
    )


def upsert(store: Store, table: str, rows: Sequence[Row], update_columns: Sequence[str]) -> Written:
    """Insert new rows and overwrite ``update_columns`` of existing ones (by natural key)."""
    key = spec(table).key
    return _merge(
        store,
        table,
        rows,
        _on_key(key),
        lambda columns: (
            f"WHEN MATCHED THEN UPDATE SET {_set(from_source(*update_columns))} "
            f"WHEN NOT MATCHED THEN {_insert(columns)}"
        ),
        f"upserting into {table}",
        prune=key,
    )


def merge_rows(
    store: Store,
    table: str,
    rows: Sequence[Row],
    on: str,
    update_when: str,
    assignments: Mapping[str, str],
    insert_when: str,
    prune: Sequence[str] = (),
    guard: Callable[[str], str] | None = None,
    narrow: bool = True,
    source: Callable[[str], str] | None = None,
) -> Written:
    """Update some rows and insert others in ONE MERGE (one Delta transaction).

    Args:
        store: The tracking store.
        table: Target table.
        rows: Source rows (``s``); each is meant either for an update or for an insert.
        on: Match condition between ``t`` and ``s`` (SQL).
        update_when: Which matched source rows update their target (``assignments``).
        assignments: ``{column: SQL expression}`` for the updates.
        insert_when: Which unmatched source rows are inserted (all their columns).
        prune: Columns whose integer values in ``rows`` bound the target files read.
        guard: Keeps source rows by a rule that needs the table's current rows (e.g. drop every
            source row when a name is taken); see ``_merge``.
        narrow: See ``_merge``.
        source: See ``_merge``.
    """
    return _merge(
        store,
        table,
        rows,
        on,
        lambda columns: (
            f"WHEN MATCHED AND ({update_when}) THEN UPDATE SET {_set(assignments)} "
            f"WHEN NOT MATCHED AND ({insert_when}) THEN {_insert(columns)}"
        ),
        f"merging into {table}",
        prune,
        guard,
        narrow,
        source,
    )


def delete_rows(store: Store, table: str, rows: Sequence[Row], on: Sequence[str]) -> Written:
    """Delete the rows of ``table`` that match ``rows`` on ``on``, one commit."""
    return _merge(
        store,
        table,
        rows,
        _on_key(on),
        lambda _: "WHEN MATCHED THEN DELETE",
        f"deleting rows of {table}",
        prune=on,
    )


def process_from_runs(store: Store, process_id: int, aggregates: Mapping[str, str]) -> Callable[[str], str]:
    """Return a MERGE source that adds process columns aggregated over the process's runs, now.

    ``aggregates`` maps a ``process`` column to a SQL aggregate over ``process_tracking`` written
    by the library (e.g. ``coalesce(sum(process_run_record_count), 0)``). The values are derived
    when the statement runs, so a summary that a failed or killed call left behind is repaired
    exactly by the next one.
    """
    runs = store.qualified("process_tracking")
    process = int_literals([int(process_id)])
    selected = ", ".join(f"{expression} AS `{column}`" for column, expression in aggregates.items())
    columns = ", ".join(f"derived.`{column}`" for column in aggregates)

    def source(view: str) -> str:
        derived = (
            f"SELECT process_id, {selected} FROM {runs} WHERE process_id = {process} GROUP BY process_id"
        )
        return (
            f"(SELECT v.*, {columns} FROM {view} AS v "
            f"JOIN ({derived}) AS derived ON derived.process_id = v.process_id)"
        )

    return source


#: The process total as an aggregate over its runs (``process_from_runs``): the sum of their counts.
TOTAL_FROM_RUNS = {"total_record_count": "coalesce(sum(process_run_record_count), 0)"}


def process_total_from_runs(store: Store, process_id: int) -> Callable[[str], str]:
    """Return a MERGE source that adds the process's total: the sum of its runs' counts, now."""
    return process_from_runs(store, process_id, TOTAL_FROM_RUNS)


def count_fits_total(store: Store, process_id: int, run_id: int) -> Callable[[str], str]:
    """Return a MERGE source that keeps a run's new count only if its process's total stays a BIGINT.

    The process's other runs' counts are summed as DECIMAL when the statement runs, so the check
    and the write are one statement (no read before it), and the total's MERGE cannot overflow.
    The source row is dropped (the MERGE updates nothing) when the sum would pass the maximum.
    """
    runs = store.qualified("process_tracking")
    process, this_run = int_literals([int(process_id)]), int_literals([int(run_id)])
    others = (
        f"SELECT coalesce(sum(CAST(process_run_record_count AS DECIMAL(38, 0))), 0) FROM {runs} "
        f"WHERE process_id = {process} AND process_tracking_id <> {this_run}"
    )

    def source(view: str) -> str:
        return (
            f"(SELECT v.* FROM {view} AS v WHERE ({others}) + "
            f"CAST(v.process_run_record_count AS DECIMAL(38, 0)) <= {BIGINT_MAX})"
        )

    return source


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
    "TOTAL_FROM_RUNS",
    "Written",
    "append_rows",
    "count_fits_total",
    "delete_rows",
    "from_source",
    "in_parallel",
    "insert_missing",
    "int_literals",
    "merge_rows",
    "merge_update",
    "process_from_runs",
    "process_total_from_runs",
    "side_by_side",
    "source_frame",
    "upsert",
    "with_new_ids",
]
