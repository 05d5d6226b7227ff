"""The floor: a bare one-row MERGE (update one row by key) into a Delta table of the same size.

For each tracking table a call changes, the benchmark keeps a plain Delta table (no write
buckets, no table properties) holding a copy of that tracking table's rows, written the way the
history was (one write, key order), right after the history is loaded. The floor statement is what
any Delta user would write to change one row: ``MERGE ... ON t.key = s.key WHEN MATCHED UPDATE``,
updating the newest row (the rows a tracker changes are the newest ones), with no extra predicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from delta.tables import DeltaTable
from pyspark.sql import functions as F

from pt_spark.store.schema import spec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from pt_spark.store.store import Store


@dataclass(frozen=True)
class Floor:
    """A floor table and the row its MERGE updates.

    Attributes:
        table: The tracking table it stands for.
        path: Folder of the floor Delta table.
        key: Key columns of the MERGE condition.
        value: The column the MERGE sets.
        row: Values of ``key`` and ``value`` in the updated row.
        rows: Row count of the floor table.
    """

    table: str
    path: str
    key: tuple[str, ...]
    value: str
    row: dict[str, Any]
    rows: int


def _key_and_value(table: str) -> tuple[tuple[str, ...], str]:
    table_spec = spec(table)
    key = (table_spec.id_column,) if table_spec.id_column else table_spec.key
    others = [name for name in table_spec.column_names if name not in key]
    return key, (others[0] if others else key[-1])


def make_floor(store: Store, table: str, folder: str) -> Floor:
    """Copy ``table`` into a plain Delta table under ``folder``; return its floor description."""
    spark = store.spark
    path = f"{folder.rstrip('/')}/{table}"
    source = store.read(table)
    source.coalesce(1).write.format("delta").mode("overwrite").save(path)
    key, value = _key_and_value(table)
    copy = spark.read.format("delta").load(path)
    newest = copy.orderBy(*[F.col(name).desc() for name in key]).limit(1).select(*key, value).collect()
    rows = copy.count()
    if not newest:
        raise RuntimeError(f"cannot build the floor of {table}: the table is empty")
    return Floor(table, path, key, value, newest[0].asDict(), rows)


def run_floor(spark: SparkSession, floor: Floor) -> None:
    """The floor statement: update one row by key in one MERGE (one commit)."""
    columns = (*floor.key, floor.value) if floor.value not in floor.key else floor.key
    source = spark.createDataFrame([tuple(floor.row[c] for c in columns)], spec(floor.table).struct(columns))
    condition = " AND ".join(f"t.`{name}` = s.`{name}`" for name in floor.key)
    (
        DeltaTable.forPath(spark, floor.path)
        .alias("t")
        .merge(source.alias("s"), condition)
        .whenMatchedUpdate(set={floor.value: f"s.`{floor.value}`"})
        .execute()
    )


__all__ = ["Floor", "make_floor", "run_floor"]
