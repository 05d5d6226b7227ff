"""Delta write conflicts over Spark Connect: recognised, and retried without double counting.

Over Connect a conflict reaches Python as a Connect exception, not as a ``delta.exceptions`` class
(pt_spark does not import ``delta.connect``, whose import would map them); ``is_conflict`` knows
it by Delta's error class in the message. The conflicts here are real: two threads of the one
remote session MERGE into one unpartitioned Delta table at the same moment.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from pt_spark.store.retry import conflicts_retried, is_conflict, with_conflict_retry


@pytest.fixture
def counters(spark, tmp_path: Path) -> str:
    """A tiny Delta table ``(k INT, n BIGINT)`` with rows k = 0 and 1, by path."""
    path = str(tmp_path / f"counters_{uuid.uuid4().hex[:8]}")
    name = f"delta.`{path}`"
    spark.sql(f"CREATE TABLE {name} (k INT, n BIGINT) USING delta").collect()
    spark.sql(f"INSERT INTO {name} VALUES (0, 0), (1, 0)").collect()
    return name


def bump(spark, name: str, k: int) -> Callable[[], object]:
    """One MERGE that adds 1 to row ``k`` (it rewrites the table's one file: racing bumps conflict)."""
    return lambda: spark.sql(
        f"MERGE INTO {name} AS t USING (SELECT {k} AS k) AS s ON t.k = s.k "
        "WHEN MATCHED THEN UPDATE SET t.n = t.n + 1"
    ).collect()


def side_by_side(calls: list[Callable[[], object]]) -> list[BaseException]:
    """Run ``calls`` in threads released together; return the errors they raised."""
    barrier, errors = threading.Barrier(len(calls)), []

    def go(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
        except Exception as error:  # collected for the test to judge
            errors.append(error)

    threads = [threading.Thread(target=go, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_a_real_conflict_over_connect_is_recognised(spark, counters):
    errors: list[BaseException] = []
    for _ in range(10):  # two MERGEs at once into one file conflict almost always at once
        errors = side_by_side([bump(spark, counters, 0), bump(spark, counters, 1)])
        if errors:
            break
    assert errors, "no Delta conflict in 10 rounds of racing MERGEs"
    for error in errors:
        assert type(error).__module__.startswith("pyspark.errors.exceptions.connect"), type(error)
        assert is_conflict(error), str(error)[:300]


def test_racing_merges_under_the_retry_each_count_once(spark, counters):
    before = conflicts_retried()
    per_thread = 3

    def worker(k: int) -> Callable[[], object]:
        def run() -> None:
            for _ in range(per_thread):
                with_conflict_retry(bump(spark, counters, k), attempts=10, what="bump")

        return run

    assert side_by_side([worker(0), worker(1)]) == []
    totals = {row["k"]: row["n"] for row in spark.sql(f"SELECT k, n FROM {counters}").collect()}
    assert totals == {0: per_thread, 1: per_thread}
    assert conflicts_retried() > before  # the race did conflict, and the retry absorbed it
