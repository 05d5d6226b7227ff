"""``store.faults``: which kind of Spark/Delta error is which, from its class or its text (no Spark)."""

from __future__ import annotations

import pytest
from delta.exceptions import ConcurrentAppendException, MetadataChangedException

from pt_spark.store.faults import MARKERS, Fault, fault_line, is_conflict, is_fault, is_unknown_outcome


class SparkConnectGrpcException(Exception):
    """Stands in for pyspark's Connect error by class name only (that is all ``is_fault`` reads)."""


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("[DELTA_CONCURRENT_APPEND] Files were added to partition [bucket=3]", Fault.CONFLICT),
        ("[DELTA_METADATA_CHANGED] The metadata of the Delta table has been changed", Fault.CONFLICT),
        ("[DELTA_TABLE_NOT_FOUND] Delta table `pt`.`process` doesn't exist.", Fault.MISSING),
        ("java.io.FileNotFoundException: File file:/store/process/_delta_log does not exist", Fault.MISSING),
        ("[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column `last_heartbeat_date_time` cannot be", Fault.OUTDATED),
        ("java.nio.file.AccessDeniedException: /store/process", Fault.NO_ACCESS),
        ("Mkdirs failed to create file:/ro/store", Fault.NO_ACCESS),
        ("[DELTA_MISSING_DELTA_TABLE] `/tmp/empty` is not a Delta table.", Fault.NOT_DELTA),
        ("[PATH_NOT_FOUND] Path does not exist: file:/nowhere.", Fault.NOT_DELTA),
        ("[PARSE_SYNTAX_ERROR] Syntax error at or near 'HISTORY'.", Fault.NO_DELTA_SESSION),
        ("[TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create table", Fault.ALREADY_EXISTS),
        ("Table default.process already exists", Fault.ALREADY_EXISTS),  # spelled out
        ("[DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION] Cannot create table", Fault.NON_EMPTY_LOCATION),
        ("[PATH_NOT_FOUND] Path does not exist: file:/landing.", Fault.NO_SUCH_PATH),
        ("java.net.URISyntaxException: Relative path in absolute URI: :{", Fault.BAD_URI),
    ],
)
def test_each_fault_is_recognised_by_its_text(text, fault):
    assert is_fault(RuntimeError(text), fault)


@pytest.mark.parametrize("fault", [f for f in Fault if f is not Fault.LOST_REPLY])
def test_an_unrelated_error_is_no_fault(fault):
    assert not is_fault(ValueError("division by zero"), fault)


def test_every_fault_has_markers():
    assert set(MARKERS) == set(Fault) and all(MARKERS.values())


def test_delta_conflict_classes_are_conflicts_whatever_their_text():
    assert is_conflict(ConcurrentAppendException("no error class in this text"))
    assert is_conflict(MetadataChangedException("x"))
    assert not is_conflict(RuntimeError("[DELTA_TABLE_NOT_FOUND] gone"))


def test_a_lost_reply_is_told_by_class_or_by_connect_text_only():
    assert is_unknown_outcome(ConnectionResetError("peer reset"))
    assert is_unknown_outcome(SparkConnectGrpcException("<_MultiThreadedRendezvous StatusCode.UNAVAILABLE>"))
    # On classic Spark the same words in an error's text are no proof the reply was lost.
    assert not is_unknown_outcome(RuntimeError("StatusCode.UNAVAILABLE"))
    assert not is_unknown_outcome(SparkConnectGrpcException("[DELTA_CONCURRENT_APPEND] lost a race"))


def test_fault_line_returns_the_line_that_carries_the_marker():
    text = "An error occurred while calling o42.sql.\n: [PARSE_SYNTAX_ERROR] near 'HISTORY'\n\tat x"
    error = RuntimeError(text)
    assert fault_line(error, Fault.NO_DELTA_SESSION) == "[PARSE_SYNTAX_ERROR] near 'HISTORY'"
    assert fault_line(error, Fault.MISSING) is None
