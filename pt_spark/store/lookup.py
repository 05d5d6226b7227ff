"""The batched look-up: many small reads, each tagged with a name, answered by ONE Spark job.

A tracker call usually needs a handful of rows from several tables (a process, its actor, some
lookup ids, a run) before it writes. Asked one query at a time they cost a Spark job each; here
the frames are tagged, unioned by column name (a column one frame lacks reads as None) and
collected once. Every reader that needs more than one small read goes through ``probe``:
``reads.find_keys``, the run start's state, the admin topics' name chains and the extract
writers' checks.
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING, Any, Mapping

from pyspark.sql import functions as F

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, Row

#: The column that carries each row's look-up name through the union.
TAG = "probe"


def probe(frames: Mapping[str, DataFrame]) -> dict[str, list[Row]]:
    """Run several small look-ups in ONE Spark job; return each look-up's rows by name.

    The frames may have different columns (missing ones read as None); a column present in
    several frames must have the same type in each. Every row also holds its name in ``TAG``.
    """
    result: dict[str, list[Row]] = {name: [] for name in frames}
    tagged = [frame.withColumn(TAG, F.lit(name)) for name, frame in frames.items()]
    if not tagged:
        return result
    union = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), tagged)
    for row in union.collect():
        result[row[TAG]].append(row)
    return result


def probe_rows(frames: Mapping[str, DataFrame]) -> list[dict[str, Any]]:
    """Return every row of ``probe(frames)`` as a dict without the tag, in one Spark job."""
    return [
        {name: value for name, value in row.asDict().items() if name != TAG}
        for rows in probe(frames).values()
        for row in rows
    ]


def probe_frame(frame: DataFrame, id_column: Column, key: Column, info: Column | None = None) -> DataFrame:
    """Shape ``frame`` for ``probe`` as ``id`` (long), ``key`` and ``info`` (strings)."""
    return frame.select(
        id_column.cast("long").alias("id"),
        key.cast("string").alias("key"),
        (info if info is not None else F.lit(None)).cast("string").alias("info"),
    )


__all__ = ["TAG", "probe", "probe_frame", "probe_rows"]
